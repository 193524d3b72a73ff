"""The validation cache's SQLite file: locked, unwritable, foreign and forked."""

from __future__ import annotations

import contextlib
import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from promoctl.records import validation
from promoctl.store import cache, cachedb


@pytest.fixture
def repo(examples: Path) -> Path:
    (examples / ".git").mkdir()  # the cache lives in the git directory
    return examples


def _break_a_reference(repo: Path) -> str:
    packet = repo / "packets" / "professional" / "elena-rossi-2026-h2.yaml"
    packet.write_text(packet.read_text().replace("candidate: elena-rossi",
                                                 "candidate: elena"))
    return "unknown person 'elena'"


def _stamp(path: Path) -> list[tuple[int, str]]:
    with contextlib.closing(sqlite3.connect(path)) as con:
        return [(con.execute("PRAGMA user_version").fetchone()[0], code)
                for (code,) in con.execute("SELECT code FROM stamp")]


def test_an_unwritable_cache_folder_still_validates(repo: Path) -> None:
    expected = _break_a_reference(repo)
    (repo / ".git" / "promoctl").write_text("not a folder")  # nothing can be made there
    for _ in range(2):
        problems = validation.validate(repo)
        assert [p.message for p in problems if expected in p.message]
    assert (repo / ".git" / "promoctl").read_text() == "not a folder"


def test_a_locked_cache_neither_blocks_nor_changes_the_answer(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cachedb, "BUSY_SECONDS", 0.05)
    assert validation.validate(repo) == []
    expected = _break_a_reference(repo)
    with contextlib.closing(sqlite3.connect(cache.location(repo),
                                            isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")  # another run in the middle of writing
        assert [p for p in validation.validate(repo) if expected in p.message]
        other.execute("ROLLBACK")
    assert [p for p in validation.validate(repo) if expected in p.message]
    assert _stamp(cache.location(repo)) == [(cachedb.SCHEMA, cache.code_fingerprint())]


def test_another_programs_database_is_replaced(repo: Path) -> None:
    path = cache.location(repo)
    path.parent.mkdir(parents=True)
    with contextlib.closing(sqlite3.connect(path)) as con:
        con.execute("CREATE TABLE stamp (something TEXT)")
        con.execute("CREATE TABLE entries (a, b, c)")
        con.commit()
    assert validation.validate(repo) == []
    assert _stamp(path) == [(cachedb.SCHEMA, cache.code_fingerprint())]
    assert validation.validate(repo) == []


def _child_writes(store: cachedb.Store) -> None:
    assert store.entry("from-the-parent") == {"kind": None}  # reads first, then
    store.put_entry("from-the-child", {"kind": None})
    store.put_file("child.yaml", [1, 2, 3])
    store.flush()
    store.release()


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                    reason="needs fork")
def test_a_forked_worker_reads_but_never_writes(tmp_path: Path) -> None:
    store = cachedb.Store(tmp_path / "c.sqlite", 1, "code")
    store.put_entry("from-the-parent", {"kind": None})
    store.flush()
    child = multiprocessing.get_context("fork").Process(target=_child_writes, args=(store,))
    child.start()
    child.join()
    assert child.exitcode == 0
    assert store.entry("from-the-parent") == {"kind": None}
    assert store.entry("from-the-child") is None and store.file_row("child.yaml") is None
    store.put_entry("after", {"kind": None})  # the parent's connection still works
    store.release()
    assert cachedb.Store(tmp_path / "c.sqlite", 1, "code").entry("after") == {"kind": None}


def test_rows_wait_in_memory_only_up_to_a_batch(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cachedb, "BATCH", 3)
    store = cachedb.Store(tmp_path / "c.sqlite", 1, "code")
    for n in range(10):
        store.put_entry(f"k{n}", {"n": n})
        assert len(store.entries) <= 3
    assert [store.entry(f"k{n}") for n in range(10)] == [{"n": n} for n in range(10)]
    other = cachedb.Store(tmp_path / "c.sqlite", 1, "code")
    assert other.entry("k0") == {"n": 0}  # written while the first store still runs


def test_a_file_name_that_is_not_utf8_is_kept(tmp_path: Path) -> None:
    name = b"people/caf\xe9.yaml".decode("utf-8", "surrogateescape")
    store = cachedb.Store(tmp_path / "c.sqlite", 1, "code")
    store.put_file(name, [1])
    store.release()
    assert cachedb.Store(tmp_path / "c.sqlite", 1, "code").file_row(name) == [1]


def test_a_run_of_other_code_neither_writes_nor_reads_the_rebuilt_tables(
        tmp_path: Path) -> None:
    """An older promoctl still running when a new one rebuilt the store for its code:
    the old run's later rows must not become the new code's answers, nor the new
    code's rows the old run's."""
    path = tmp_path / "c.sqlite"
    old = cachedb.Store(path, cachedb.SCHEMA, "old code")
    old.put_entry("seen", {"kind": None})
    old.flush()
    assert old.entry("seen") == {"kind": None}
    new = cachedb.Store(path, cachedb.SCHEMA, "new code")  # rebuilds for its code
    new.put_entry("fresh", {"kind": "person"})
    new.flush()
    old.put_entry("late", {"kind": None})
    old.flush()
    assert old.entry("fresh") is None
    again = cachedb.Store(path, cachedb.SCHEMA, "new code")
    assert again.entry("late") is None and again.entry("fresh") == {"kind": "person"}


def test_a_table_another_run_dropped_is_a_miss_not_damage(tmp_path: Path) -> None:
    """SQLite's generic error once the file is open (here: a table gone) is not taken
    for damage: removing the file would pull it from under every run using it."""
    path = tmp_path / "c.sqlite"
    store = cachedb.Store(path, cachedb.SCHEMA, "code")
    store.put_entry("kept", {"kind": None})
    store.release()
    with contextlib.closing(sqlite3.connect(path)) as con:
        con.execute("DROP TABLE files")
        con.commit()
    assert store.file_row("people/a.yaml") is None
    assert path.exists() and store.entry("kept") == {"kind": None}
