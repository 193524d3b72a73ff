"""Spill: the tables one run keeps per file, on disk instead of in memory.

A whole-repository ``validate`` must know, across its passes, every file's name and
content key and every record's id (to find duplicates and resolve references). Held in
Python objects that costs about 2 KB a file, so memory grows with the repository; here
the tables live on disk, and only a batch of rows and a few recently used ones are in
memory at a time.

The tables are made in the store's database (``cachedb``), named for the run
(``run_<pid>_<start>_...``), and dropped when the run ends; those of a run that was
killed are dropped by a later run (its process is gone, or it began a day ago). When
the database cannot be written (a read-only checkout), a private file in the temporary
folder holds them, removed when the run ends. Forked worker processes read the tables
through connections of their own (a connection is never shared between processes);
what a worker writes stays in its own memory, and only the latest batch of it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any, TypeVar

from promoctl.store.cachedb import (
    RUN_TABLES,
    as_bytes,
    drop,
    finish,
    from_bytes,
    json_text,
    keep_inherited,
    paths,
    transaction,
)
from promoctl.store.recent import MISSING, Recent

V = TypeVar("V")

BATCH = 2_000  # rows kept in memory before they are written
PREFIX = "promoctl-run-"  # a private file's name
ABANDONED_NS = 24 * 3600 * 10**9  # no run takes that long
PAGE = 500  # rows read at a time when a table is read in order
RECENT = 4_096  # rows read lately, kept in memory (see recent)
_UNKNOWN = object()
_ABSENT = object()  # what Recent keeps for a key the table does not have


class Spill:
    """The tables of one run, in the store's database or a private file."""

    def __init__(self, database: Path | None = None) -> None:
        self.owner = os.getpid()  # the process that writes; forked workers only read
        self.pid = self.owner  # the process self._con belongs to
        self.tables: list[SpillMap[Any] | SpillList] = []
        self._con: sqlite3.Connection | None = None
        self.prefix = f"run_{self.owner}_{time.time_ns()}_"
        self.path, self.private = str(database), False
        try:
            if database is None:
                raise sqlite3.OperationalError("no database")
            self.write(_forget_abandoned)  # which also shows the database can be written
        except sqlite3.Error:
            self._close()
            handle, self.path = tempfile.mkstemp(prefix=PREFIX, suffix=".sqlite")
            os.close(handle)
            self.private = True

    @property
    def con(self) -> sqlite3.Connection:
        if os.getpid() != self.pid:
            # A forked worker opens its own. The parent closes its connection before it
            # forks (see release): SQLite's locks must not be carried across a fork.
            self.pid = os.getpid()
            keep_inherited(self._con)
            self._con = None
        if self._con is None:
            self._con = sqlite3.connect(self.path, isolation_level=None,
                                        check_same_thread=False, timeout=60)
            self._con.execute("PRAGMA journal_mode=WAL")  # workers read while it writes
            # Nothing here outlives the run; a database the system's crash damaged is
            # rebuilt (cachedb).
            self._con.execute("PRAGMA synchronous=OFF")
        return self._con

    def release(self) -> None:
        """Write every table's pending rows and close the connection (it opens again
        when used): done before workers are forked, so that they see every row and
        no connection crosses the fork."""
        for table in self.tables:
            table.flush()
        if self._con is not None and self.owned():
            finish(self._con)
            self._con = None

    def owned(self) -> bool:
        return os.getpid() == self.owner

    def read(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        """Rows, read in one snapshot until the next write (a lookup in a transaction of
        its own costs three times as much). A worker keeps the snapshot it began with:
        everything its checks read was written before it was forked."""
        con = self.con
        if not con.in_transaction:
            con.execute("BEGIN")
        return con.execute(sql, args).fetchall()

    def write(self, change: Callable[[sqlite3.Connection], Any]) -> None:
        con = self.con
        with transaction(con):
            change(con)

    def map(self, name: str, encode: Callable[[Any], str | bytes] | None = None,
            decode: Callable[[Any], Any] | None = None) -> SpillMap[Any]:
        """A table of values kept as the text ``encode`` makes (JSON by default)."""
        table = SpillMap[Any](self, f"{self.prefix}{name}_{len(self.tables)}",
                              encode or json_text,
                              decode or json.loads)
        self.tables.append(table)
        return table

    def texts(self, name: str) -> SpillMap[str]:
        """A table whose values are texts (kept as they are)."""
        return self.map(name, as_bytes, from_bytes)

    def set(self, name: str) -> SpillSet:
        return SpillSet(self.texts(name))

    def list(self, name: str, *, texts: bool = False) -> SpillList:
        """A list of JSON values, or of texts kept as they are."""
        table = SpillList(self, f"{self.prefix}{name}_{len(self.tables)}", texts)
        self.tables.append(table)
        return table

    def close(self) -> None:
        """Drop the run's tables (or remove its private file)."""
        if not self.owned():
            return
        tables, self.tables = self.tables, []
        if not self.private:
            with contextlib.suppress(sqlite3.Error):
                self.write(lambda con: _drop_all(con, tables))
        self._close()
        for path in paths(Path(self.path)) if self.private else ():
            path.unlink(missing_ok=True)

    def _close(self) -> None:
        if self._con is not None:
            with contextlib.suppress(sqlite3.Error):
                self._con.close()
            self._con = None

    def __enter__(self) -> Spill:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _forget_abandoned(con: sqlite3.Connection) -> None:
    """Drop the tables of runs that were killed (a run drops its own)."""
    found = con.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                        "AND name LIKE ? ESCAPE '\\'", (RUN_TABLES,)).fetchall()
    for name in (str(row[0]) for row in found):
        _run, pid, started, *_rest = [*name.split("_"), "", ""]
        if not (pid.isdigit() and started.isdigit() and _alive(int(pid))
                and int(started) > time.time_ns() - ABANDONED_NS):
            drop(con, name)


def _drop_all(con: sqlite3.Connection, tables: list[SpillMap[Any] | SpillList]) -> None:
    for table in tables:
        drop(con, table.name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's: it exists
        return True
    return True


class SpillMap(MutableMapping[str, V]):
    """A dict from text to values, in insertion order, on disk."""

    def __init__(self, spill: Spill, name: str, encode: Callable[[V], str | bytes],
                 decode: Callable[[Any], V]) -> None:
        self.spill, self.name = spill, name
        self.encode, self.decode = encode, decode
        self.pending: dict[str, V] = {}
        self.recent = Recent(RECENT)
        self.listed: list[str] | None = None
        spill.write(lambda con: con.execute(f"CREATE TABLE {name} (seq INTEGER PRIMARY KEY, "
                                            "k BLOB NOT NULL UNIQUE, v TEXT NOT NULL)"))

    def __setitem__(self, key: str, value: V) -> None:
        if len(self.pending) >= BATCH:
            self.flush()
        if key not in self.pending:
            self.listed = None
        self.pending[key] = value
        self.recent.forget(key)

    def names(self) -> list[str]:
        """Every key, as a list kept until the table changes: "did you mean"
        suggestions for many unknown references need not read the table each time."""
        if self.listed is None:
            self.listed = list(self)
        return self.listed

    def flush(self) -> None:
        pending, self.pending = self.pending, {}
        if not pending or not self.spill.owned():
            return  # a worker's rows were only for the task at hand
        self.spill.write(lambda con: con.executemany(
            f"INSERT INTO {self.name} (k, v) VALUES (?, ?) "
            "ON CONFLICT (k) DO UPDATE SET v = excluded.v",
            ((as_bytes(k), self.encode(v)) for k, v in pending.items())))

    def get(self, key: str, default: Any = None) -> Any:
        if key in self.pending:
            return self.pending[key]
        found = self.recent.get(key)
        if found is MISSING:
            rows = self.spill.read(f"SELECT v FROM {self.name} WHERE k = ?", (as_bytes(key),))
            found = self.decode(rows[0][0]) if rows else _ABSENT
            self.recent.put(key, found)
        return default if found is _ABSENT else found

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        self.pending.pop(key, None)
        self.recent.forget(key)
        self.listed = None
        if self.spill.owned():
            self.spill.write(lambda con: con.execute(f"DELETE FROM {self.name} WHERE k = ?",
                                                     (as_bytes(key),)))

    def __getitem__(self, key: str) -> V:
        found = self.get(key, _UNKNOWN)
        if found is _UNKNOWN:
            raise KeyError(key)
        return found  # type: ignore[no-any-return]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key, _UNKNOWN) is not _UNKNOWN

    def _rows(self, what: str) -> Iterator[tuple[Any, ...]]:
        """Rows in insertion order, a page at a time (no statement stays open)."""
        if self.spill.owned():
            self.flush()
        seq = 0
        while True:
            page = self.spill.read(
                f"SELECT seq, {what} FROM {self.name} WHERE seq > ? ORDER BY seq LIMIT {PAGE}",
                (seq,))
            if not page:
                break
            seq = page[-1][0]
            yield from (row[1:] for row in page)
        if not self.spill.owned():  # a worker: what it holds itself comes last
            yield from ((as_bytes(k), self.encode(v)) for k, v in self.pending.items())

    def __iter__(self) -> Iterator[str]:
        return (from_bytes(k) for k, _v in self._rows("k, v"))

    def values(self) -> Iterator[V]:  # type: ignore[override]
        """The values in order, each read once (the mapping's own would look each up)."""
        return (self.decode(v) for (v,) in self._rows("v"))

    def encoded(self) -> Iterator[Any]:
        """The values in order as kept, not decoded."""
        return (v for (v,) in self._rows("v"))

    def items(self) -> Iterator[tuple[str, V]]:  # type: ignore[override]
        return ((from_bytes(k), self.decode(v)) for k, v in self._rows("k, v"))

    def __len__(self) -> int:
        if not self.spill.owned():
            return sum(1 for _key in self)  # what it holds itself counts too
        self.flush()
        (count,), = self.spill.read(f"SELECT count(*) FROM {self.name}")
        return int(count)

    def __bool__(self) -> bool:
        return len(self) > 0


class SpillList:
    """A list of JSON values that is only appended to and read in order."""

    def __init__(self, spill: Spill, name: str, texts: bool) -> None:
        self.spill, self.name = spill, name
        self.encode: Callable[[Any], str | bytes] = as_bytes if texts else json_text
        self.decode: Callable[[Any], Any] = from_bytes if texts else json.loads
        self.pending: list[str | bytes] = []
        spill.write(lambda con: con.execute(
            f"CREATE TABLE {name} (seq INTEGER PRIMARY KEY, v TEXT NOT NULL)"))

    def append(self, value: Any) -> None:
        if len(self.pending) >= BATCH:
            self.flush()
        self.pending.append(self.encode(value))

    def flush(self) -> None:
        pending, self.pending = self.pending, []
        if not pending or not self.spill.owned():
            return
        self.spill.write(lambda con: con.executemany(
            f"INSERT INTO {self.name} (v) VALUES (?)", ((v,) for v in pending)))

    def __iter__(self) -> Iterator[Any]:
        if self.spill.owned():
            self.flush()
        seq = 0
        while True:
            page = self.spill.read(
                f"SELECT seq, v FROM {self.name} WHERE seq > ? ORDER BY seq LIMIT {PAGE}", (seq,))
            if not page:
                return
            seq = page[-1][0]
            yield from (self.decode(v) for _seq, v in page)

    def __len__(self) -> int:
        self.flush()
        (count,), = self.spill.read(f"SELECT count(*) FROM {self.name}")
        return int(count)


class SpillSet:
    """A set of texts on disk."""

    def __init__(self, table: SpillMap[str]) -> None:
        self.table = table

    def add(self, item: str) -> None:
        self.table[item] = ""  # written again if there: cheaper than asking first

    def __contains__(self, item: object) -> bool:
        return item in self.table

    def __iter__(self) -> Iterator[str]:
        return iter(self.table)

    def __len__(self) -> int:
        return len(self.table)
