"""Parallel parsing: any number of processes gives the serial run's output, byte for byte."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
from pathlib import Path
from types import ModuleType

import pytest

from promoctl.records import loader, validation
from promoctl.records.dependents import dependents
from promoctl.records.loader import discover
from promoctl.records.reading import load
from promoctl.store import cache, cachedb, parallel
from tests.conftest import Cli

pytestmark = pytest.mark.skipif(not parallel.can_fork(), reason="parallel runs need fork")


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


@pytest.fixture(scope="module")
def messy(bench: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A realistic repository with problems of every sort, some far apart in file order
    so that a parallel run reads them in different processes."""
    root = tmp_path_factory.mktemp("parallel") / "repo"
    bench.ensure_repo(root, bench.Size(people=80, packets=60, decisions=40, reviews=30,
                                       commits=50))
    packets = sorted((root / "packets").rglob("*.yaml"))
    decisions = sorted((root / "decisions").rglob("*.yaml"))
    reviews = sorted((root / "reviews").rglob("*.yaml"))
    people = sorted((root / "people").rglob("*.yaml"))
    # Duplicate ids, the copy last in file order and the original first.
    shutil.copy(packets[0], root / "packets" / "zz-copy.yaml")
    shutil.copy(decisions[0], root / "decisions" / "zz-copy.yaml")
    shutil.copy(people[1], root / "people" / "zz-copy.yaml")
    # Cross-record problems.
    text = packets[5].read_text()
    candidate = re.search(r"^candidate: (\S+)$", text, re.MULTILINE)
    assert candidate is not None
    _edit(packets[5], f"candidate: {candidate.group(1)}", "candidate: nobody-here")
    _edit(reviews[3], "\ndecision: ", "\ndecision: no-such-decision-")
    # A file's own problems: bad YAML, an unknown field, an impossible date.
    packets[9].write_text(packets[9].read_text() + "  - [unclosed\n")
    _edit(decisions[7], "\noutcome: ", "\noutcom: ")
    _edit(people[4], "start_date: ", "start_date: 2023-02-30\nnotes_: ")
    return root


def _fresh(root: Path) -> None:
    for path in cachedb.paths(cache.location(root)):
        path.unlink(missing_ok=True)


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_any_number_of_jobs_reports_the_same(cli: Cli, messy: Path, warm: bool) -> None:
    outputs = {}
    for jobs in ("1", "2", "3"):
        for fmt in ("text", "json"):
            if warm:
                cli("validate", "--repo", messy, "--jobs", jobs)
            else:
                _fresh(messy)
            result = cli("validate", "--repo", messy, "--format", fmt, "--jobs", jobs)
            assert result.code == 3
            outputs[jobs, fmt] = (result.out, result.err)
    for fmt in ("text", "json"):
        assert outputs["1", fmt] == outputs["2", fmt] == outputs["3", fmt]
    text = outputs["1", "text"][0]
    for expected in ("duplicate packet id", "duplicate decision id", "duplicate person id",
                     "unknown person 'nobody-here'", "unknown decision 'no-such-decision-",
                     "invalid YAML", "unknown field 'outcom'", "is not a real date"):
        assert expected in text, expected


def test_files_are_parsed_in_other_processes(messy: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    _fresh(messy)
    serial = validation.validate(messy, jobs=1)
    pids = tmp_path / "pids"
    real = loader.parse_record

    def spy(raw: bytes, display: str, path: Path | None = None):  # type: ignore[no-untyped-def]
        with pids.open("a") as out:
            out.write(f"{os.getpid()}\n")
        return real(raw, display, path)

    monkeypatch.setattr(loader, "parse_record", spy)
    _fresh(messy)
    assert validation.validate(messy, jobs=2) == serial
    seen = set(pids.read_text().split())
    assert str(os.getpid()) not in seen and len(seen) >= 2


def test_loading_in_parallel_gives_the_same_repository(messy: Path) -> None:
    files = discover([messy])
    serial, parallel_ = (load(messy, files, jobs=jobs) for jobs in (1, 2))
    assert sorted(serial.problems) == sorted(parallel_.problems)
    assert serial.broken == parallel_.broken and serial.broken_ids == parallel_.broken_ids
    for kind in ("framework", "ladder", "person", "packet", "decision", "review"):
        mine, theirs = serial.table(kind), parallel_.table(kind)
        assert list(mine) == list(theirs)
        assert all(mine[i].record == theirs[i].record for i in mine)
        assert [s.display for s in mine.values()] == [s.display for s in theirs.values()]


def test_few_files_never_start_processes(examples: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    def no_fork(*_args: object) -> None:
        raise AssertionError("started processes for a handful of files")

    monkeypatch.setattr(parallel.multiprocessing, "get_context", no_fork)
    assert validation.validate(examples) == []


def test_validating_files_reports_what_the_whole_run_reports_for_them(messy: Path) -> None:
    # So a pre-commit hook may answer from the last whole run when nothing changed.
    _fresh(messy)
    whole = validation.validate(messy)
    files = sorted({p.path for p in whole})
    files += [d for d in [loader.relative(p, messy) for p in discover([messy])][::25]
              if d not in files]
    repo = load(messy, discover([messy]))
    for display in files:
        _fresh(messy)
        alone = validation.validate(messy, [messy / display])
        # the file's problems, and those of the records that refer to it
        checked = {display} | dependents(repo, {display})
        assert alone == [p for p in whole if p.path in checked], display


@pytest.mark.parametrize("jobs", [1, 2])
def test_records_without_a_plain_kind_line_are_checked_too(examples: Path, jobs: int) -> None:
    # Such files are loaded with frameworks and ladders, not streamed with their kind.
    person = examples / "people" / "ben-hughes.yaml"
    text = person.read_text().replace("manager: noor-said", "manager: nobody")
    person.write_text("{" + ", ".join(line for line in text.splitlines()
                                      if line and not line.startswith("#")) + "}\n")
    packet = examples / "packets" / "community" / "dev-patel-2026-10.yaml"
    packet.write_text(packet.read_text().replace("kind: packet", "'kind': packet"))
    _edit(packet, "candidate: dev-patel", "candidate: dev")
    found = {(p.path, p.message.split(" (")[0]) for p in validation.validate(examples, jobs=jobs)}
    assert found == {("people/ben-hughes.yaml", "unknown person 'nobody'"),
                     ("packets/community/dev-patel-2026-10.yaml", "unknown person 'dev'")}


# --------------------------------------------- records whose 'kind:' line misleads


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_duplicate_is_reported_on_the_later_file_whatever_its_kind_line(
        examples: Path, jobs: int) -> None:
    # A byte-order mark hides the kind line from the quick look that picks the stream.
    copy = examples / "people" / "zz-copy.yaml"
    copy.write_bytes(b"\xef\xbb\xbf" + (examples / "people" / "ben-hughes.yaml").read_bytes())
    whole = validation.validate(examples, jobs=jobs)
    assert [(p.path, p.message.split(":")[0]) for p in whole] == [
        ("people/zz-copy.yaml", "duplicate person id 'ben-hughes'")]
    _fresh(examples)
    assert validation.validate(examples, [copy]) == whole


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_kind_line_inside_quoted_text_misleads_nothing(examples: Path, jobs: int) -> None:
    framework = examples / "frameworks" / "community-services.yaml"
    _edit(framework, "title: Community Services Practice Framework",
          'title: "Community Services\nkind: person framework"')
    assert validation.validate(examples, jobs=jobs) == []


def test_streaming_finds_what_loading_everything_finds(messy: Path) -> None:
    # The plain way is what validate falls back to, and what load_valid checks.
    from promoctl.records import validation
    from promoctl.store.cache import Cache
    from promoctl.store.spill import Spill

    files = discover([messy])
    _fresh(messy)
    with Spill() as spill:
        listing = validation._Listing(spill, [str(f) for f in files], messy)
        _repo, streamed = validation._streamed(messy, Cache(cache.location(messy)), listing,
                                               None, 2, spill)
    _fresh(messy)
    _repo, whole = validation._whole(messy, Cache(cache.location(messy)), files, 1)
    assert sorted(set(streamed)) == sorted(set(whole))


def test_tiny_spill_batches_and_pages_report_the_same(messy: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # Every table on disk crosses its batch, page and recent-memory boundaries.
    from promoctl.store import spill

    _fresh(messy)
    expected = validation.validate(messy, jobs=2)
    for name, value in (("BATCH", 3), ("PAGE", 2), ("RECENT", 2)):
        monkeypatch.setattr(spill, name, value)
    monkeypatch.setattr(parallel, "WINDOW", 7)
    for jobs in (1, 2):
        _fresh(messy)
        assert validation.validate(messy, jobs=jobs) == expected
    assert not list(cache.location(messy).parent.glob("promoctl-run-*"))
    with contextlib.closing(sqlite3.connect(cache.location(messy))) as con:
        assert not con.execute("SELECT name FROM sqlite_master WHERE name LIKE 'run%'"
                               ).fetchall()
