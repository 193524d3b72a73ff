"""The validation cache: hits, misses, staleness, corruption and concurrent runs."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from promoctl.base import fsutil
from promoctl.base.errors import Problem
from promoctl.records import loader, parsing, validation
from promoctl.store import cache, cachedb
from tests.conftest import Cli


def cache_file(repo: Path) -> Path:
    return cache.location(repo)


def _db(repo: Path) -> sqlite3.Connection:
    return sqlite3.connect(cache_file(repo), isolation_level=None)


def stored(repo: Path, table: str) -> dict[Any, Any]:
    """A table of the cache's database: entries by key, stat rows by file name."""
    column = {"entries": "key, body", "files": "name, row"}[table]
    with contextlib.closing(_db(repo)) as con:
        return {k.decode() if isinstance(k, bytes) else k: json.loads(v)
                for k, v in con.execute(f"SELECT {column} FROM {table}")}


def last_run(repo: Path) -> Any:
    with contextlib.closing(_db(repo)) as con:
        rows = con.execute("SELECT body FROM last").fetchall()
    return json.loads(rows[0][0]) if rows else None


def stamp(repo: Path) -> tuple[int, str]:
    with contextlib.closing(_db(repo)) as con:
        rows = [(con.execute("PRAGMA user_version").fetchone()[0], code)
                for (code,) in con.execute("SELECT code FROM stamp")]
    assert len(rows) == 1
    return rows[0]


def rewrite(repo: Path, sql: str, *args: Any) -> None:
    with contextlib.closing(_db(repo)) as con:
        con.execute(sql, args)


def forget(repo: Path) -> None:
    for path in cachedb.paths(cache_file(repo)):
        path.unlink(missing_ok=True)


def run(repo: Path) -> tuple[list[Problem], cache.Cache]:
    problems = validation.validate(repo)
    return problems, cache.Cache(cache_file(repo))


@pytest.fixture
def repo(examples: Path) -> Path:
    (examples / ".git").mkdir()  # the cache lives in the git directory
    return examples


def test_cache_is_kept_in_the_git_directory(repo: Path) -> None:
    assert cache_file(repo) == repo / ".git" / "promoctl" / "promoctl.sqlite"
    assert validation.validate(repo) == []
    assert stamp(repo) == (cachedb.SCHEMA, cache.code_fingerprint())
    assert len(stored(repo, "entries")) == len(list(repo.rglob("*.yaml")))


def test_outside_git_the_user_cache_directory(examples: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    where = cache.location(examples)
    assert where.is_relative_to(tmp_path / "xdg" / "promoctl")
    assert validation.validate(examples) == []
    assert where.is_file()


def test_second_run_parses_nothing(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert validation.validate(repo) == []
    calls: list[str] = []
    import promoctl.records.loader as loader

    real = loader.parse_record
    monkeypatch.setattr(loader, "parse_record",
                        lambda raw, display, path=None: calls.append(display)
                        or real(raw, display, path))
    assert validation.validate(repo) == []
    assert calls == []


def test_a_changed_byte_is_validated_again(repo: Path) -> None:
    assert validation.validate(repo) == []
    person = repo / "people" / "ben-hughes.yaml"
    person.write_text(person.read_text().replace("start_date: 2023-01-09",
                                                 "start_date: 2023-02-30"))
    problems = validation.validate(repo)
    assert [str(p) for p in problems] == [
        "people/ben-hughes.yaml:12:13: start_date: '2023-02-30' is not a real date "
        "(day is out of range for month)"]
    # The broken person is cached with its problem, and served from the cache again.
    assert [str(p) for p in validation.validate(repo)] == [str(p) for p in problems]


def test_a_changed_framework_rechecks_the_records_that_read_it(repo: Path) -> None:
    assert validation.validate(repo) == []
    fw = repo / "frameworks" / "professional-services.yaml"
    fw.write_text(fw.read_text().replace("  - id: leadership\n", "  - id: leading\n"))
    problems = {p.path for p in validation.validate(repo)}
    # Neither the ladder nor the packets changed, but they name a competency that is gone.
    assert problems == {
        "ladders/consulting.yaml",
        "packets/professional/elena-rossi-2026-h2.yaml",
        "packets/professional/farid-haddad-2026-h2.yaml",
        "packets/professional/grace-liu-2026-h2.yaml",
        "packets/professional/hiro-tanaka-2026-h2.yaml",
        "lms/academy-mapping.yaml",
    }
    fw.write_text(fw.read_text().replace("  - id: leading\n", "  - id: leadership\n"))
    assert validation.validate(repo) == []


def test_a_removed_person_rechecks_their_packet(repo: Path) -> None:
    assert validation.validate(repo) == []
    (repo / "people" / "hiro-tanaka.yaml").unlink()
    problems = [str(p) for p in validation.validate(repo)]
    assert any(p.startswith("packets/professional/hiro-tanaka-2026-h2.yaml:") and
               "unknown person 'hiro-tanaka'" in p for p in problems)


def test_a_changed_artifact_is_noticed(repo: Path) -> None:
    assert validation.validate(repo) == []
    artifact = repo / "artifacts" / "professional" / "grace-liu-dashboard.md"
    artifact.write_text(artifact.read_text() + "edited\n")
    problems = [str(p) for p in validation.validate(repo)]
    assert len(problems) == 1 and "grace-liu-dashboard.md' has sha256" in problems[0]


@pytest.mark.parametrize("damage", [
    lambda raw: raw[: len(raw) // 2],  # truncated
    lambda raw: raw[:100],
    lambda raw: raw[:4096] + b"\xff" * 4096 + raw[8192:],  # a damaged page
    lambda raw: b"\x00\xff garbage",
    lambda raw: b"",
    lambda raw: b"[]",
])
def test_a_corrupt_cache_is_ignored_and_rebuilt(repo: Path, damage: object) -> None:
    assert validation.validate(repo) == []
    path = cache_file(repo)
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    assert validation.validate(repo) == []
    assert validation.validate(repo) == []
    assert stamp(repo) == (cachedb.SCHEMA, cache.code_fingerprint())
    assert stored(repo, "entries")


def test_a_cache_of_other_code_is_emptied(repo: Path) -> None:
    assert validation.validate(repo) == []
    rewrite(repo, "UPDATE stamp SET code = 'old'")
    rewrite(repo, "INSERT OR REPLACE INTO entries VALUES ('stale', '{}')")
    assert validation.validate(repo) == []
    assert stamp(repo) == (cachedb.SCHEMA, cache.code_fingerprint())
    assert "stale" not in stored(repo, "entries")


@pytest.mark.parametrize("damage", [
    lambda raw: raw[: len(raw) // 2],
    lambda raw: "garbage",
    lambda raw: raw.replace('"digest":"', '"digest":"0'),
    lambda raw: raw.replace('"problems":[[', '"problems":[7,['),
    lambda raw: raw.replace('"problems":[', '"problems":{"a":'),
    lambda raw: "[]",
])
def test_a_corrupt_last_run_is_ignored_and_rebuilt(repo: Path, trusting: None,
                                                   damage: object) -> None:
    person = repo / "people" / "ben-hughes.yaml"
    person.write_text(person.read_text().replace("start_date: 2023-01-09",
                                                 "start_date: 2023-01-39"))
    expected = validation.validate(repo)
    assert [p.path for p in expected] == ["people/ben-hughes.yaml"]
    body = json.dumps(last_run(repo), separators=(",", ":"))
    assert last_run(repo)["problems"]
    rewrite(repo, "UPDATE last SET body = ?", damage(body))  # type: ignore[operator]
    assert validation.validate(repo) == expected
    assert validation.validate(repo) == expected
    assert last_run(repo)["problems"] and len(stored(repo, "files")) > 10


def test_a_corrupt_cache_never_hides_a_problem(repo: Path) -> None:
    assert validation.validate(repo) == []
    packet = repo / "packets" / "professional" / "elena-rossi-2026-h2.yaml"
    packet.write_text(packet.read_text().replace("candidate: elena-rossi",
                                                 "candidate: elena"))
    path = cache_file(repo)
    path.write_bytes(path.read_bytes()[:100])
    assert any("unknown person 'elena'" in p.message for p in validation.validate(repo))


def test_cached_and_uncached_runs_report_the_same(repo: Path) -> None:
    packet = repo / "packets" / "community" / "dev-patel-2026-10.yaml"
    packet.write_text(packet.read_text().replace("type: observation", "type: observaton", 1))
    first = validation.validate(repo)
    assert first
    assert validation.validate(repo) == first
    forget(repo)
    assert validation.validate(repo) == first


def test_concurrent_runs(repo: Path) -> None:
    procs = [subprocess.Popen([sys.executable, "-m", "promoctl", "validate"], cwd=repo,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    for proc in procs:
        _out, err = proc.communicate()
        assert proc.returncode == 0, err
    assert stamp(repo) == (cachedb.SCHEMA, cache.code_fingerprint())
    assert len(stored(repo, "entries")) == len(list(repo.rglob("*.yaml")))
    assert not list(cache_file(repo).parent.glob("*.tmp"))  # no stray temp files


def test_validate_cli_uses_the_cache(cli: Cli, repo: Path) -> None:
    assert cli("validate", cwd=repo).code == 0
    assert cache_file(repo).is_file()
    assert cli("validate", cwd=repo).code == 0


def test_validate_files_reads_only_what_their_checks_need(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import promoctl.records.loader as loader

    broken = repo / "packets" / "community" / "ben-hughes-2026-10.yaml"
    broken.write_text(broken.read_text().replace("kind: packet", "kind: packet\nbogus: 1"))
    target = repo / "packets" / "professional" / "hiro-tanaka-2026-h2.yaml"
    target.write_text(target.read_text().replace("supervisor: maria-gomez",
                                                 "supervisor: maria"))
    parsed: list[str] = []
    real = parsing.parse_record
    monkeypatch.setattr(loader, "parse_record", lambda raw, display, path=None:
                        parsed.append(display) or real(raw, display, path))
    problems = [str(p) for p in validation.validate(repo, [target])]
    assert problems == ["packets/professional/hiro-tanaka-2026-h2.yaml:10:13: unknown person "
                        "'maria' (did you mean 'maria-gomez'?)"]
    # The other packets and people are indexed, not parsed (no cache yet: a cold run).
    assert not any(d.startswith(("packets/community", "people/")) for d in parsed)
    assert "packets/professional/hiro-tanaka-2026-h2.yaml" in parsed


def test_validate_files_with_a_broken_dependency(repo: Path) -> None:
    person = repo / "people" / "hiro-tanaka.yaml"
    person.write_text(person.read_text().replace("name: Hiro Tanaka", "nmae: Hiro Tanaka"))
    target = repo / "packets" / "professional" / "hiro-tanaka-2026-h2.yaml"
    assert validation.validate(repo, [target]) == []  # the person's problem is its own
    assert [p.path for p in validation.validate(repo, [person])] == [
        "people/hiro-tanaka.yaml", "people/hiro-tanaka.yaml"]


# ------------------------------------------------------------------------ the stat index


@pytest.fixture
def trusting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remember files however recently they changed (tests write them just before)."""
    monkeypatch.setattr(cache, "RACY_NS", -10**18)


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reads: list[str] = []
    real = fsutil.read_regular

    def counting(path: Path | str, *args: Any, **kwargs: Any) -> bytes:
        reads.append(Path(path).name)
        return real(path, *args, **kwargs)

    # Record files are read through fsutil's reader only (see loader.read_file).
    monkeypatch.setattr(loader, "read_regular", counting)
    monkeypatch.setattr(parsing, "read_regular", counting)
    return reads


def test_unchanged_files_are_not_read_again(repo: Path, trusting: None,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    assert validation.validate(repo) == []
    reads = _reads(monkeypatch)
    assert validation.validate(repo) == []
    # Only what an uncached check reads (the LMS mapping, and the framework it maps to).
    records = {p.name for folder in ("people", "packets", "ladders")
               for p in (repo / folder).rglob("*.yaml")}
    assert records and not records & set(reads)


def test_files_changed_just_now_are_always_read(repo: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    assert validation.validate(repo) == []  # every file was written a moment ago
    assert stored(repo, "files") == {}
    reads = _reads(monkeypatch)
    assert validation.validate(repo) == []
    assert "ben-hughes.yaml" in reads


def test_a_change_that_keeps_size_and_mtime_is_seen(repo: Path, trusting: None) -> None:
    assert validation.validate(repo) == []
    person = repo / "people" / "ben-hughes.yaml"
    before = person.stat()
    person.write_text(person.read_text().replace("start_date: 2023-01-09",
                                                 "start_date: 2023-01-39"))
    os.utime(person, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert person.stat().st_size == before.st_size
    assert [p.path for p in validation.validate(repo)] == ["people/ben-hughes.yaml"]


def test_a_renamed_file_is_filed_under_its_new_name(repo: Path, trusting: None) -> None:
    assert validation.validate(repo) == []
    person = repo / "people" / "ben-hughes.yaml"
    person.rename(repo / "people" / "ben.yaml")
    (repo / "people" / "ben-hughes.yaml").write_bytes((repo / "people" / "noor-said.yaml")
                                                      .read_bytes())
    problems = validation.validate(repo)
    assert {p.path for p in problems} == {"people/noor-said.yaml"}  # the duplicate id
    assert "also defined at people/ben-hughes.yaml" in problems[0].message


# ------------------------------------------------------------- the last whole run


def test_nothing_changed_answers_from_the_index(repo: Path, trusting: None,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    packet = repo / "packets" / "community" / "dev-patel-2026-10.yaml"
    packet.write_text(packet.read_text().replace("type: observation", "type: observaton", 1))
    first = validation.validate(repo)
    assert first
    reads = _reads(monkeypatch)
    entries: list[str] = []
    real = cachedb.Store.entry
    monkeypatch.setattr(cachedb.Store, "entry",
                        lambda self, key: entries.append(key) or real(self, key))
    assert validation.validate(repo) == first
    assert not [name for name in reads if name.endswith(".yaml")]
    assert entries == []  # no entry is even read
    assert validation.validate(repo, [packet]) == first  # and for the files given
    assert not [name for name in reads if name.endswith(".yaml")]
    assert entries == []
    # The packet refers to Dev, one of the people: its problem is theirs to see too,
    # which the whole run's answer cannot tell apart from others, so a run works it out.
    assert validation.validate(repo, [repo / "people"]) == first


@pytest.mark.parametrize("change", ["edit", "add", "remove", "artifact"])
def test_any_change_is_validated_again(repo: Path, trusting: None, change: str) -> None:
    assert validation.validate(repo) == []
    assert validation.validate(repo) == []  # from the index
    person = repo / "people" / "ben-hughes.yaml"
    if change == "edit":
        person.write_text(person.read_text().replace("manager: noor-said", "manager: noor"))
        expected = "unknown person 'noor'"
    elif change == "add":
        (repo / "people" / "ben-again.yaml").write_bytes(person.read_bytes())
        expected = "duplicate person id 'ben-hughes'"
    elif change == "remove":
        (repo / "people" / "noor-said.yaml").unlink()
        expected = "unknown person 'noor-said'"
    else:
        artifact = repo / "artifacts" / "professional" / "grace-liu-dashboard.md"
        artifact.write_text(artifact.read_text() + "edited\n")
        expected = "grace-liu-dashboard.md' has sha256"
    assert any(expected in p.message for p in validation.validate(repo)), expected


def test_validate_files_twice_reads_only_those_files(repo: Path, trusting: None,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    target = repo / "packets" / "professional" / "hiro-tanaka-2026-h2.yaml"
    assert validation.validate(repo, [target]) == []
    reads = _reads(monkeypatch)
    assert validation.validate(repo, [target]) == []
    people = {p.name for p in (repo / "people").glob("*.yaml")}
    assert not people & set(reads)  # indexed by the kind and id remembered with their stat
    # An id changed in place is seen: the file's stat changed.
    person = repo / "people" / "maria-gomez.yaml"
    person.write_text(person.read_text().replace("id: maria-gomez", "id: maria-g"))
    problems = [p.message for p in validation.validate(repo, [target])]
    assert problems == ["unknown person 'maria-gomez' (did you mean 'maria-g'?)"]


# ------------------------------------------------------- what the review found


def test_an_artifact_path_with_a_nul_is_a_problem_not_a_crash(repo: Path, trusting: None,
                                                             cli: Cli) -> None:
    packet = repo / "packets" / "professional" / "grace-liu-2026-h2.yaml"
    packet.write_text(packet.read_text().replace(
        "path: artifacts/professional/grace-liu-dashboard.md",
        'path: "artifacts/professional/grace\\0liu.md"'))
    for _ in range(2):
        result = cli("validate", cwd=repo)
        assert result.code == 3 and "NUL" in result.out


@pytest.mark.parametrize("damage", [
    lambda entry: {"kind": entry["kind"]},
    lambda entry: {**entry, "artifacts": 7},
    lambda entry: {**entry, "refs": [["person"]]},
    lambda entry: {**entry, "own": [[1, 2]]},
    lambda entry: {**entry, "meta": [1]},
    lambda entry: {**entry, "id": None},
])
def test_a_hand_edited_entry_is_a_miss(repo: Path, trusting: None, damage: object) -> None:
    assert validation.validate(repo) == []
    for key, entry in stored(repo, "entries").items():
        rewrite(repo, "UPDATE entries SET body = ? WHERE key = ?",
                json.dumps(damage(entry)), key)  # type: ignore[operator]
    person = repo / "people" / "ben-hughes.yaml"  # so the last whole run cannot answer
    person.write_text(person.read_text() + "\n")
    assert validation.validate(repo) == []


@pytest.mark.parametrize("damage", [
    lambda row: [*row[:5], ["x"], row[6]],
    lambda row: [*row[:6], 7],
    lambda row: ["1", *row[1:]],
    lambda row: row[:6],
])
def test_a_hand_edited_index_row_is_ignored(repo: Path, trusting: None, damage: object) -> None:
    target = repo / "packets" / "professional" / "hiro-tanaka-2026-h2.yaml"
    assert validation.validate(repo, [target]) == []
    for name, row in stored(repo, "files").items():
        rewrite(repo, "UPDATE files SET row = ? WHERE name = ?",
                json.dumps(damage(row)), name.encode())  # type: ignore[operator]
    assert validation.validate(repo, [target]) == []
    assert validation.validate(repo) == []


def test_a_run_over_an_edited_file_keeps_what_the_whole_run_learnt(
        repo: Path, trusting: None, monkeypatch: pytest.MonkeyPatch) -> None:
    assert validation.validate(repo) == []
    files = stored(repo, "files")
    edited = repo / "people" / "noor-said.yaml"
    edited.write_text(edited.read_text().replace("start_date: ", "start_date: 2023-02-30\nx_: "))
    problems = validation.validate(repo, [edited])
    assert {p.path for p in problems} == {"people/noor-said.yaml"}
    after = stored(repo, "files")
    assert after.keys() == files.keys()  # nothing forgotten
    assert [k for k in files if after[k] != files[k]] == ["people/noor-said.yaml"]
    reads = _reads(monkeypatch)
    assert validation.validate(repo, [edited]) == problems  # learnt: not read again
    assert validation.validate(repo) == sorted(problems)
    assert "noor-said.yaml" not in reads


def test_the_files_of_earlier_versions_are_removed(repo: Path) -> None:
    folder = cache_file(repo).parent
    folder.mkdir(parents=True)
    earlier = ["validate-cache.json", "validate-index.json", "validate-cache.sqlite",
               "validate-cache.sqlite-wal", "validate-memo.json", "evaluate-cache.json",
               "report-cache.json", "promoctl-run-abc.sqlite"]
    for name in [*earlier, "promoctl-run-now.sqlite"]:
        (folder / name).write_text("{}")
    hour_ago = time.time() - 3700
    os.utime(folder / "promoctl-run-abc.sqlite", (hour_ago, hour_ago))
    assert validation.validate(repo) == []
    left = {path.name for path in folder.iterdir()}
    assert not left & set(earlier)
    assert "promoctl-run-now.sqlite" in left  # an earlier version's run may be going on
