"""Spill: a run's per-file tables on disk behave as the dicts, sets and lists they stand
for, in one process and in forked workers, and leave nothing behind."""

from __future__ import annotations

import multiprocessing
import os
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
    with Spill(tmp_path) as spill:
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
    with Spill(tmp_path) as spill:
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
    with Spill(tmp_path) as spill:
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


def test_the_file_is_removed_when_the_run_ends(tmp_path: Path) -> None:
    with Spill(tmp_path) as spill:
        spill.map("t")["k"] = 1
        assert Path(spill.path).parent == tmp_path and Path(spill.path).exists()
    assert not list(tmp_path.iterdir())


def test_what_a_killed_run_left_is_removed_a_day_later(tmp_path: Path) -> None:
    old, recent = tmp_path / "promoctl-run-old.sqlite", tmp_path / "promoctl-run-new.sqlite"
    for path in (old, recent):
        path.write_bytes(b"")
    day = time.time() - spill_.ABANDONED_SECONDS - 60
    os.utime(old, (day, day))
    with Spill(tmp_path):
        pass
    assert not old.exists() and recent.exists()  # another run may be using it


def test_an_unwritable_folder_falls_back_to_the_temporary_folder(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    with Spill(blocked / "promoctl") as spill:
        assert not Path(spill.path).is_relative_to(tmp_path)
        spill.map("t")["k"] = 1
        assert spill.map("u").get("k") is None
    assert not Path(spill.path).exists()
