"""The benchmark's generator makes a git repository whose decisions and reviews are real:
validate finds nothing, audit replays every decision, and the measuring code runs."""

from __future__ import annotations

import subprocess
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


def test_measuring_pieces_run_on_the_tiny_repository(bench: ModuleType,
                                                     tiny: tuple[Path, Any]) -> None:
    """The parts of ``measure`` that start processes or read git (the whole of it runs in
    ``bench.py --quick``; here, only what keeps this test fast)."""
    root, _size = tiny
    probe = bench.memory_probe(root)
    assert probe["code"] == 0 and probe["peak"] > 0

    (root / "stray-cache").mkdir()
    (root / "stray-cache" / "x.bin").write_bytes(b"x")
    found = bench.cache_files(root, root / "stray-cache")
    assert {"stray-cache/x.bin", "$XDG_CACHE_HOME/x.bin"} <= set(found)
    bench.clear_caches(root)  # what cold runs start from: no untracked files, manifest kept
    assert not (root / "stray-cache").exists() and (root / bench.MANIFEST).is_file()
    assert not [p for p in (root / ".git").iterdir() if p.name.startswith("promoctl")]

    files = sorted(root.rglob("*.yaml"))
    assert bench.c_reference(files, root).code == 0
    reference = bench.audit_reference(root)
    assert reference["decisions"] == 30 and reference["missing"] == 0
    assert reference["reads"] == 30 * 2 + 30 * 4

    rows = [bench.Row("a figure", "1.00 s", "reference: 0.50 s", "2.0x",
                      bench._at_most(2.0, 1.3), "a note")]
    assert "NOT MET" in bench.table(rows).splitlines()[-1]


def test_scaling_measures_decide_and_audit(bench: ModuleType, tiny: tuple[Path, Any]) -> None:
    """Issue 14's figures run end to end (in a clone: the repository itself is untouched)."""
    root, _size = tiny
    head = _git(root, "rev-parse", "HEAD")
    rows = bench.scaling(root, lambda _text: None, runs=1)
    assert [r.figure.split(",")[0] for r in rows] == ["audit peak memory", "decide"]
    assert all(r.ratio.endswith("x") for r in rows)
    assert _git(root, "rev-parse", "HEAD") == head
    assert _git(root, "status", "--porcelain") == ""
