"""Spill: a run's per-file tables on disk behave as the dicts, sets and lists they stand
for, in one process and in forked workers, and leave nothing behind."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from promoctl.store import spill as spill_
from promoctl.store.spill import Spill


@pytest.fixture
def small(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiny batches, pages and recent memory: every boundary is crossed."""
    monkeypatch.setattr(spill_, "BATCH", 3)
    monkeypatch.setattr(spill_, "PAGE", 2)
    monkeypatch.setattr(spill_, "RECENT", 2)


def test_a_map_is_a_dict_in_insertion_order(tmp_path: Path, small: None) -> None:
    with Spill(tmp_path / "db.sqlite") as spill:
        table = spill.map("t")
        expected: dict[str, object] = {}
        for n in range(11):
            table[f"k{n}"] = {"n": n}
            expected[f"k{n}"] = {"n": n}
        table["k3"] = ["changed"]  # keeps its place, as in a dict
        expected["k3"] = ["changed"]
        del table["k5"]
        del expected["k5"]
        assert list(table) == list(expected)
        assert list(table.values()) == list(expected.values())
        assert list(table.items()) == list(expected.items())
        assert len(table) == len(expected) and bool(table)
        assert table["k3"] == ["changed"] and table.get("nope") is None
        assert "k5" not in table and "k10" in table and 7 not in table
        with pytest.raises(KeyError):
            table["nope"]
        assert not spill.map("empty")
        nothing = spill.map("none")
        nothing["n"] = None  # a value like any other, written or not
        assert "n" in nothing and nothing["n"] is None
        nothing.flush()
        assert "n" in nothing and nothing["n"] is None and nothing.get("m", 7) == 7


def test_texts_sets_and_lists_keep_names_that_are_not_utf8(tmp_path: Path,
                                                           small: None) -> None:
    name = b"people/caf\xe9.yaml".decode("utf-8", "surrogateescape")
    with Spill(tmp_path / "db.sqlite") as spill:
        texts, names, rows = spill.texts("t"), spill.list("n", texts=True), spill.list("j")
        seen = spill.set("s")
        for n in range(7):
            texts[f"{name}{n}"] = f"{name}!"
            names.append(f"{name}{n}")
            rows.append([f"{name}{n}", None, n])
            seen.add(name)
        assert texts[f"{name}6"] == f"{name}!"
        assert list(names) == [f"{name}{n}" for n in range(7)] and len(names) == 7
        assert list(rows) == [[f"{name}{n}", None, n] for n in range(7)]
        assert name in seen and list(seen) == [name] and len(seen) == 1


def _in_a_worker(spill: Spill, table: spill_.SpillMap[object], out: Path) -> None:
    seen = [table.get("before"), table.get("after")]
    for n in range(10):  # more than a batch: a worker never writes
        table[f"w{n}"] = n
    seen.append(table.get("w9"))
    out.write_text(repr(seen))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                    reason="needs fork")
def test_a_forked_worker_reads_the_table_and_writes_nothing(tmp_path: Path,
                                                             small: None) -> None:
    with Spill(tmp_path / "db.sqlite") as spill:
        table = spill.map("t")
        table["before"] = 1
        spill.release()
        out = tmp_path / "seen"
        child = multiprocessing.get_context("fork").Process(
            target=_in_a_worker, args=(spill, table, out))
        child.start()
        child.join()
        assert child.exitcode == 0
        assert out.read_text() == "[1, None, 9]"
        assert "w0" not in table and "w9" not in table
        table["after"] = 2  # the parent's connection still works
        assert list(table) == ["before", "after"]


def _run_tables(database: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(database)) as con:
        return sorted(name for (name,) in con.execute(
            "SELECT name FROM sqlite_master WHERE name LIKE 'run%'"))


def test_the_tables_are_dropped_when_the_run_ends(tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite"
    with Spill(database) as spill:
        spill.map("t")["k"] = 1
        spill.list("l").append(1)
        assert spill.path == str(database) and len(_run_tables(database)) == 2
    assert _run_tables(database) == []
    assert {path.name for path in tmp_path.iterdir()} <= {"db.sqlite", "db.sqlite-wal",
                                                          "db.sqlite-shm"}


def test_what_a_killed_run_left_is_dropped(tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite"
    gone = subprocess.run(["true"], check=True)  # a process that has ended
    dead = multiprocessing.get_context("spawn").Process(target=time.sleep, args=(0,))
    dead.start()
    dead.join()
    now, day_ago = time.time_ns(), time.time_ns() - spill_.ABANDONED_NS - 10**9
    left = [f"run_{dead.pid}_{now}_t_0", f"run_{os.getpid()}_{day_ago}_t_0",
            f"run_{os.getpid()}_{now}_t_0", "run_junk"]
    with contextlib.closing(sqlite3.connect(database)) as con:
        for name in left:
            con.execute(f"CREATE TABLE {name} (x)")
        con.commit()
    with Spill(database):
        pass
    assert gone.returncode == 0
    assert _run_tables(database) == [left[2]]  # another run of this process, going on


def test_an_unwritable_folder_falls_back_to_the_temporary_folder(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    with Spill(blocked / "promoctl" / "db.sqlite") as spill:
        assert not Path(spill.path).is_relative_to(tmp_path)
        spill.map("t")["k"] = 1
        assert spill.map("u").get("k") is None
    assert not Path(spill.path).exists()
