"""The benchmark's generator makes a git repository whose decisions and reviews are real:
validate finds nothing, audit replays every decision, and the measuring code runs, for one
version of promoctl or for a baseline and the working tree side by side."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from promoctl.decisions import panel
from promoctl.engine import evaluations
from promoctl.engine.evaluate import NOT_READY, READY
from promoctl.history import audit
from promoctl.records import validation
from promoctl.records.parsing import parse_record


@pytest.fixture(scope="module")
def tiny(bench: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """A tiny repository, shared by the tests of this module (generating is the slow part)."""
    root = tmp_path_factory.mktemp("bench") / "repo"
    size = bench.Size(people=60, packets=30, decisions=30, reviews=20, commits=40)
    assert bench.ensure_repo(root, size) is False  # generated
    return root, size


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                          check=True).stdout


def test_repository_validates_and_audits_clean(tiny: tuple[Path, Any]) -> None:
    root, _size = tiny
    assert len(list((root / "packets").rglob("*.yaml"))) == 30
    assert len(list((root / "people").rglob("*.yaml"))) == 60
    decision_files = sorted((root / "decisions").rglob("*.yaml"))
    assert len(decision_files) == 30
    assert len(list((root / "reviews").rglob("*.yaml"))) == 20
    assert _git(root, "status", "--porcelain") == ""  # everything committed

    problems = validation.validate(root)
    assert problems == [], "\n".join(str(p) for p in problems[:10])
    result = audit.audit(root)
    assert result.decisions == 30 and result.replayed == 30
    assert [f for f in result.findings if f.severity == audit.FAIL] == []

    # Each record is byte for byte what decide writes for it.
    for path in decision_files:
        raw = path.read_bytes()
        source, problems = parse_record(raw, path.name)
        assert source is not None and not problems
        assert panel.to_yaml(source.record) == raw.decode()


def test_history_reads_like_decide_made_it(tiny: tuple[Path, Any]) -> None:
    root, size = tiny
    assert int(_git(root, "rev-list", "--count", "HEAD")) >= size.commits
    log = _git(root, "log", "--format=%ad %an%n%B", "--date=short")
    assert "Promoctl-Inputs-Commit: " in log and "Promoctl-Review: " in log
    assert "Promoctl-Inputs-Commit: ffffffff" not in log  # no placeholder left behind
    years = {line[:4] for line in log.splitlines() if line[:2] == "20" and line[4:5] == "-"}
    assert len(years) >= 4  # spread over years
    # Some approvals reached the person records (HR commits), so the level changed.
    assert "level: senior-" in "".join(p.read_text() for p in (root / "people").rglob("*.yaml"))


def test_verdicts_vary(tiny: tuple[Path, Any]) -> None:
    root, _size = tiny
    outcomes, problems = evaluations.evaluate_fresh(root, [root / "packets"], None)
    assert problems == []
    assert all(o.evaluation is not None for o in outcomes)
    assert {o.evaluation.verdict for o in outcomes if o.evaluation} == {READY, NOT_READY}
    ladders = {o.evaluation.ladder.id for o in outcomes if o.evaluation is not None}
    assert ladders == {"support-work", "consulting"}


def test_generation_is_deterministic_and_reused(bench: ModuleType, tmp_path: Path) -> None:
    size = bench.Size(people=16, packets=6, decisions=5, reviews=3, commits=8)
    a, b = tmp_path / "a", tmp_path / "b"
    bench.generate(a, size)
    bench.generate(b, size)
    assert _git(a, "rev-parse", "HEAD") == _git(b, "rev-parse", "HEAD")

    assert bench.ensure_repo(a, size) is True  # same size: reused
    bigger = bench.Size(people=16, packets=7, decisions=5, reviews=3, commits=8)
    assert bench.ensure_repo(a, bigger) is False  # other size: regenerated
    assert len(list((a / "packets").rglob("*.yaml"))) == 7


def test_refuses_to_replace_a_folder_it_did_not_make(bench: ModuleType,
                                                      tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("kind: person\n")
    with pytest.raises(SystemExit):
        bench.ensure_repo(tmp_path, bench.Size(12, 5, 5, 2, 5))
    assert (tmp_path / "mine.yaml").is_file()


@pytest.fixture(scope="module")
def versions(tiny: tuple[Path, Any], tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The working tree and a baseline (HEAD) of promoctl, each on a copy of ``tiny``."""
    from benchmarks.versions import prepare

    root, _size = tiny
    return prepare(root, tmp_path_factory.mktemp("versions") / "work", "HEAD")


def test_versions_each_measure_their_own_copy(tiny: tuple[Path, Any], versions: Any) -> None:
    from benchmarks.processes import run
    from benchmarks.versions import BASELINE, CURRENT, entry_point

    root, _size = tiny
    assert [v.label for v in versions] == [BASELINE, CURRENT]
    baseline, current = versions.items
    assert baseline.root != current.root and baseline.cache_home != current.cache_home
    assert (baseline.src / "promoctl" / "__init__.py").is_file()
    for version in versions:  # each imports its own src/, ahead of the installed one
        found = run([sys.executable, "-c", "import promoctl; print(promoctl.__file__)"],
                    version.root, version.env())
        assert Path(found.out.strip()).is_relative_to(version.src), found.err
    for version in versions:  # each from its own pyproject.toml
        assert version.entry == entry_point(version.src.parent / "pyproject.toml")
    # Each version's cache is written in its own copy; the source repository is only read.
    done = run([*baseline.cmd(), "validate"], baseline.root, baseline.env())
    assert done.code == 0, done.err
    assert (baseline.root / ".git" / "promoctl").exists()
    assert not (current.root / ".git" / "promoctl").exists()
    assert _git(current.root, "status", "--porcelain") == ""
    assert _git(root, "status", "--porcelain") == ""
    # The order alternates from one call to the next.
    assert versions.each() != versions.each()


def test_measuring_pieces_run_on_the_tiny_repository(tiny: tuple[Path, Any],
                                                     versions: Any) -> None:
    """The parts of the measurements that start processes or read git (the whole of it runs
    in ``python -m benchmarks --quick``; here, only what keeps this test fast)."""
    from benchmarks.context import record_files
    from benchmarks.probes import memory_probe
    from benchmarks.processes import cache_files, clear_caches
    from benchmarks.references import audit_reference, c_reference
    from benchmarks.sizes import MANIFEST

    current = versions.current
    root = current.root
    probe = memory_probe(current)
    assert probe["code"] == 0 and probe["peak"] > 0
    # On a repository that is not a copy of ours (--big-dir), only promoctl's caches go.
    source = tiny[0]
    (source / "notes.txt").write_text("someone's notes\n")
    try:
        assert memory_probe(current, source)["code"] == 0
        assert (source / "notes.txt").is_file()
    finally:
        (source / "notes.txt").unlink()

    (root / "stray-cache").mkdir()
    (root / "stray-cache" / "x.bin").write_bytes(b"x")
    (current.cache_home / "x.bin").write_bytes(b"x")
    found = cache_files(root, current.cache_home)
    assert {"stray-cache/x.bin", "$XDG_CACHE_HOME/x.bin"} <= set(found)
    clear_caches(current)  # what cold runs start from: no untracked files, manifest kept
    assert not (root / "stray-cache").exists() and (root / MANIFEST).is_file()
    assert not [p for p in (root / ".git").iterdir() if p.name.startswith("promoctl")]
    assert not list(current.cache_home.iterdir())

    files = record_files(root)
    assert files == sorted(p.relative_to(root).as_posix() for p in root.rglob("*.yaml"))
    assert c_reference([root / f for f in files], root).code == 0
    reference = audit_reference(root)
    assert reference["decisions"] == 30 and reference["missing"] == 0
    assert reference["reads"] == 30 * 2 + 30 * 4


def test_table_marks_what_got_worse() -> None:
    from benchmarks.table import HIGHER, SAME, Row, at_most, regressions, row, secs, table
    from benchmarks.versions import BASELINE, CURRENT

    slower = row("a figure", {BASELINE: 1.0, CURRENT: 1.2}, secs, target=at_most(2.0, 1.3))
    assert (slower.before, slower.value, slower.change) == ("1.00 s", "1.20 s", "+20.0% WORSE")
    within = row("another", {BASELINE: 1.0, CURRENT: 1.09}, secs)
    assert within.change == "+9.0%" and not within.worse
    fewer = row("a rate", {BASELINE: 100, CURRENT: 80}, str, better=HIGHER)
    assert fewer.worse
    assert row("a count", {BASELINE: 3, CURRENT: 4}, str, better=SAME).change == "DIFFERS"
    printed = table([slower, within, fewer])
    assert "before" in printed.splitlines()[0] and "NOT MET" in printed.splitlines()[2]
    assert regressions([slower, within]) == \
        "1 figure(s) more than 10% worse than the baseline: a figure (+20.0%)"
    alone = row("a figure", {CURRENT: 1.0}, secs)
    assert alone.before == "" and "before" not in table([alone, Row("x", "1")])
    assert regressions([alone]) == ""


def test_only_names_figures() -> None:
    from benchmarks.measure import FIGURES, chosen

    assert chosen(None) == list(FIGURES)
    assert chosen("precommit, jsonschema") == ["validate", "jsonschema", "precommit"]
    with pytest.raises(ValueError, match=r"unknown figure.*nope"):
        chosen("evaluate,nope")


def test_precommit_edit_changes_a_value_and_is_undone(tiny: tuple[Path, Any],
                                                      versions: Any) -> None:
    from benchmarks.context import Context
    from benchmarks.measure_startup import after_edits, edited

    text = "kind: ladder\ntitle: Support Work\nlevels: []\n"
    assert edited(text, 3) == "kind: ladder\ntitle: Support Work (edited for the benchmark, " \
        "3)\nlevels: []\n"
    assert edited("kind: x\n", 1) == "kind: x\n# edited for the benchmark (1)\n"

    ctx = Context(versions, tiny[0], 1, 1, lambda _text: None)
    ladder = "ladders/support-work.yaml"
    before = {v.label: (v.root / ladder).read_bytes() for v in versions}
    times = after_edits(ctx, ladder)
    for v in versions:
        seconds, first = times[v.label]
        assert seconds > 0 and first.code == 0, first.err
        assert (v.root / ladder).read_bytes() == before[v.label]
        assert _git(v.root, "status", "--porcelain") == ""


def test_main_compares_a_baseline(tiny: tuple[Path, Any],
                                  capsys: pytest.CaptureFixture[str]) -> None:
    """``python -m benchmarks --baseline REV --only ...`` end to end; the repository given
    with --dir is only read."""
    from benchmarks.__main__ import main

    root, _size = tiny
    head = _git(root, "rev-parse", "HEAD")
    cached = sorted((p.name, p.stat().st_mtime) for p in (root / ".git").iterdir()
                    if p.name.startswith("promoctl"))
    assert main(["--dir", str(root), "--baseline", "HEAD", "--only", "precommit",
                 "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("figure"))
    assert header.split()[:4] == ["figure", "before", "after", "vs"]
    assert "a pre-commit run), a packet" in out and "a pre-commit run), a ladder" in out
    assert "<= 0.3 s and <= 4x" in out
    assert "than the baseline" in out.splitlines()[-1]
    assert _git(root, "rev-parse", "HEAD") == head
    assert _git(root, "status", "--porcelain") == ""
    assert sorted((p.name, p.stat().st_mtime) for p in (root / ".git").iterdir()
                  if p.name.startswith("promoctl")) == cached


def test_a_repository_given_alone_is_never_regenerated(tiny: tuple[Path, Any],
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    """--dir DIR alone reuses DIR whatever its size, and only warns when an older generator
    made it: others may be using it."""
    from benchmarks.__main__ import main
    from benchmarks.sizes import MANIFEST

    root, _size = tiny
    manifest = (root / MANIFEST).read_text()
    try:
        (root / MANIFEST).write_text(json.dumps({**json.loads(manifest), "generator": 1}))
        assert main(["--dir", str(root), "--generate-only"]) == 0
    finally:
        (root / MANIFEST).write_text(manifest)
    out = capsys.readouterr().out
    assert "(reused as it is)" in out
    assert f"WARNING: {root} was made by generator 1" in out
    assert len(list((root / "packets").rglob("*.yaml"))) == 30


def test_scaling_measures_decide_and_audit(tiny: tuple[Path, Any], versions: Any) -> None:
    """Issue 14's figures run end to end (in clones: the repository itself is untouched)."""
    from benchmarks.scaling import scaling
    from benchmarks.versions import Versions

    root, _size = tiny
    head = _git(root, "rev-parse", "HEAD")
    rows = scaling(Versions([versions.current]), root, lambda _text: None, runs=1)
    assert [r.figure.split(",")[0] for r in rows] == ["audit peak memory", "decide"]
    assert all(r.ratio.endswith("x") for r in rows)
    assert _git(root, "rev-parse", "HEAD") == head
    assert _git(root, "status", "--porcelain") == ""
