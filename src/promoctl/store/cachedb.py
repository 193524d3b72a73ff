"""promoctl's one database, ``promoctl.sqlite``: read and written a row at a time.

It holds every table of the store (see ``_TABLES``); a run's spill tables (``spill``)
live in it too, beside them. One schema version (SQLite's ``user_version``) and one
fingerprint of promoctl's code (``stamp``) say whose rows these are: any other, and
every table is dropped and made afresh.

A run holds in memory only the rows it is working on, so memory does not grow with the
repository; a warm run reads only the rows of the files it looks at. Rows are written in
batches, each in its own short transaction, so concurrent runs wait for each other only
a moment (and a run that cannot get the lock drops its batch: the cache only saves
work, it never decides an answer). Every row is content-addressed or checked against
the file it describes, so rows written by two runs never make a stale answer.

A database that cannot be opened, is corrupt, or was written by other code is removed
and rebuilt; when it cannot be written at all (a read-only checkout), the run keeps its
rows in a private temporary database, on disk, and forgets them when it ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

# Rows kept in memory before they are written.
BATCH = 2_000
# How long a run waits for another run's batch (each takes milliseconds).
BUSY_SECONDS = 10.0

# The schema, PRAGMA user_version: a change to any table below is a new number.
SCHEMA = 10
# Rows are JSON text, never pickle: nothing in them can run code.
_TABLES = (
    "CREATE TABLE stamp (code TEXT NOT NULL)",
    # The validation cache (``cache``): entries by content key, stat rows by file name,
    # and what the last run over the whole repository found.
    "CREATE TABLE entries (key TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE files (name BLOB PRIMARY KEY, row TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE last (body TEXT NOT NULL)",
    # Computed results (``results``): evaluations, what each packet content names, and
    # reports' JSON; the newest rows have the highest rowid.
    "CREATE TABLE evaluations (key TEXT PRIMARY KEY, path BLOB NOT NULL, as_of TEXT NOT NULL,"
    " packet TEXT NOT NULL, ready INTEGER NOT NULL, text TEXT NOT NULL, extras TEXT NOT NULL)",
    "CREATE INDEX evaluations_path ON evaluations (path, as_of)",
    "CREATE TABLE names (packet TEXT PRIMARY KEY, candidate TEXT NOT NULL, ladder TEXT NOT NULL)",
    "CREATE TABLE reports (key TEXT PRIMARY KEY, body TEXT NOT NULL)",
    # What each ladder content names (its framework), and every person's approvals key
    # with the digest of the decisions it comes from: a warm evaluate's keys, unloaded.
    "CREATE TABLE frameworks (ladder TEXT PRIMARY KEY, framework TEXT NOT NULL)",
    "CREATE TABLE approvals (decisions TEXT NOT NULL, body TEXT NOT NULL)",
    # What recent validate runs found (``memo``), by the state of the work tree.
    "CREATE TABLE memo (state TEXT NOT NULL, scope TEXT, body TEXT NOT NULL)",
    # The reference index (``index``): each record of the last whole run by kind and id,
    # what it names, and the state of the work tree it stands for.
    "CREATE TABLE records (name BLOB PRIMARY KEY, kind TEXT NOT NULL, id TEXT NOT NULL,"
    " key TEXT NOT NULL, named TEXT NOT NULL) WITHOUT ROWID",
    "CREATE INDEX records_id ON records (id)",
    "CREATE INDEX records_kind ON records (kind)",  # the few ladders among thousands
    # Each (kind, id) a record names, by the id: ``of`` is the naming record's kind.
    "CREATE TABLE links (id TEXT NOT NULL, kind TEXT NOT NULL, of TEXT NOT NULL,"
    " name BLOB NOT NULL, PRIMARY KEY (id, kind, of, name)) WITHOUT ROWID",
    "CREATE TABLE basis (body TEXT NOT NULL)",
    # What recent ``evaluate`` runs over the whole repository answered (``results``),
    # by the state of the work tree and the as-of date: their evaluations' keys.
    "CREATE TABLE answers (state TEXT NOT NULL, scope TEXT NOT NULL, body TEXT NOT NULL)",
)
# Tables a rebuild leaves alone: the spill tables of runs going on (``spill``).
RUN_TABLES = "run\\_%"


# SQLite's primary result codes that mean the file is damaged, not a database, or of
# another schema; any other error (busy, locked, read-only, full...) leaves it alone.
_DAMAGE = (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB
# While opening, SQLite's generic error too: once the file is open and stamped, it is
# more likely another run's doing (a table it dropped) than damage, and removing the
# file would pull it from under every run using it.
_DAMAGE_OPENING = (1, *_DAMAGE)
# Connections a forked worker inherited: kept, never closed there (closing one would
# act on its parent's locks).
_INHERITED: list[Any] = []


def keep_inherited(con: sqlite3.Connection | None) -> None:
    """Keep a connection a forked worker inherited from its parent, so it is never
    closed in the worker."""
    _INHERITED.append(con)


def finish(con: sqlite3.Connection) -> None:
    """Commit what the connection read or wrote, and close it."""
    with contextlib.suppress(sqlite3.Error):
        if con.in_transaction:
            con.execute("COMMIT")
        con.close()


# The database files this process has checked whole, as they were then.
_CHECKED: set[tuple[str, int, int, int]] = set()


def _identity(path: Path) -> tuple[str, int, int, int]:
    stat = path.stat()
    return str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns


def stamped(con: sqlite3.Connection, stamp: tuple[int, str]) -> bool:
    """Whether the database holds this schema and this code's rows."""
    if con.execute("PRAGMA user_version").fetchone()[0] != stamp[0]:
        return False
    try:
        return con.execute("SELECT code FROM stamp").fetchall() == [(stamp[1],)]
    except sqlite3.OperationalError:  # no such table: an empty or foreign file
        return False


def _rebuild(con: sqlite3.Connection, stamp: tuple[int, str]) -> None:
    """Every table dropped (but the spill tables of runs going on) and made afresh."""
    found = con.execute(
        "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view') "
        "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE ? ESCAPE '\\' "
        "ORDER BY type DESC", (RUN_TABLES,)).fetchall()
    for kind, name in found:
        drop(con, name, kind)
    for sql in _TABLES:
        con.execute(sql)
    con.execute(f"PRAGMA user_version = {int(stamp[0])}")
    con.execute("INSERT INTO stamp VALUES (?)", (stamp[1],))


def drop(con: sqlite3.Connection, name: str, kind: str = "table") -> None:
    quoted = name.replace('"', '""')
    con.execute(f'DROP {kind.upper()} IF EXISTS "{quoted}"')


def peek(path: Path, stamp: tuple[int, str], sql: str, args: tuple[Any, ...]) -> list[Any]:
    """Rows read without opening the store (no checks, no writes, no wait): nothing
    when the file is missing, busy, damaged, or holds another code's rows."""
    if not path.is_file():
        return []
    try:
        with contextlib.closing(sqlite3.connect(str(path), timeout=0.1)) as con:
            return con.execute(sql, args).fetchall() if stamped(con, stamp) else []
    except sqlite3.Error:
        return []


def _damage(exc: BaseException, codes: tuple[int, ...] = _DAMAGE) -> bool:
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:  # raised here (a failed check) or by an older Python
        return not isinstance(exc, sqlite3.OperationalError)
    return code & 0xFF in codes


def _plain(name: str) -> sqlite3.Connection:
    con = sqlite3.connect(name, timeout=BUSY_SECONDS, isolation_level=None,
                          check_same_thread=False)
    con.execute("PRAGMA synchronous=NORMAL")
    return con


def _reader(path: Path) -> sqlite3.Connection | None:
    """A connection to a database already opened and checked in this run."""
    try:
        return _plain(str(path))
    except sqlite3.Error:
        return None


def paths(path: Path) -> list[Path]:
    """The database and the files SQLite keeps beside it (remove all or none)."""
    return [path, *(path.with_name(path.name + suffix)
                    for suffix in ("-wal", "-shm", "-journal"))]


def as_bytes(text: str) -> bytes:
    # A file name that is not UTF-8 is kept by Python as surrogates, which SQLite's text
    # cannot hold: names are stored as their bytes.
    return text.encode("utf-8", "surrogateescape")


def from_bytes(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _data(text: str) -> Any:
    """JSON data, or None when the text is not JSON (a hand edit, a bad disk)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


loads = _data  # for the store's other modules


def json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))  # ASCII: surrogates survive


class Store:
    """Cache entries by content key, stat rows by file, and the last whole run."""

    def __init__(self, path: Path, format_: int, code: str, check: bool = True) -> None:
        self.path = path
        # Whether opening reads every page for damage: a run that reads a few rows
        # finds damage in them when it reads them (``_broken``).
        self.check = check
        self.stamp = (format_, code)
        self.superseded = False
        self.owner = os.getpid()  # the process that writes; forked workers only read
        self.entries: dict[str, Any] = {}  # not yet written
        self.files: dict[bytes, Any] = {}
        self.private = False  # the file could not be used: a private database instead
        self.released = False
        self.con_pid = self.owner  # the process self.con belongs to
        self.con = self._open()

    # ------------------------------------------------------------------ opening

    def _open(self) -> sqlite3.Connection | None:
        for attempt in range(2):
            try:
                return self._connect(self.path)
            except (sqlite3.Error, OSError) as exc:
                if attempt == 1 or not _damage(exc, _DAMAGE_OPENING):
                    break  # locked by another run, or not writable: do not remove it
                self._remove()  # corrupt, not a database, or another schema: afresh
        self.private = True
        try:
            return self._connect(None)
        except sqlite3.Error:
            return None

    def _connect(self, path: Path | None) -> sqlite3.Connection:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        # "" is a private database on disk, removed when it is closed.
        con = _plain("" if path is None else str(path))
        try:
            if path is not None:
                con.execute("PRAGMA journal_mode=WAL")  # readers never wait for a writer
            if not stamped(con, self.stamp):
                with transaction(con):
                    if not stamped(con, self.stamp):  # another run may have just done it
                        _rebuild(con, self.stamp)
            # A whole check reads every page: once a process is enough while the file
            # is as it was (a page damaged later is found when it is read, see _broken).
            seen = None if path is None else _identity(path)
            if self.check and (seen is None or seen not in _CHECKED):
                if con.execute("PRAGMA quick_check(1)").fetchall() != [("ok",)]:
                    raise sqlite3.DatabaseError("damaged")
                if seen is not None:
                    _CHECKED.add(seen)
        except BaseException:
            con.close()
            raise
        return con

    def _remove(self) -> None:
        for path in paths(self.path):
            with contextlib.suppress(OSError):
                path.unlink()

    def owned(self) -> bool:
        """Whether this process opened the store (a forked worker only reads it)."""
        return os.getpid() == self.owner

    def _db(self) -> sqlite3.Connection | None:
        """The connection: opened again after ``release``, and by a forked worker for
        itself (a connection is never used by two processes; see ``release``)."""
        if self.superseded:
            return None
        if os.getpid() != self.con_pid:
            self.con_pid = os.getpid()
            self.entries, self.files = {}, {}
            keep_inherited(self.con)  # never closed here: it is the parent's
            self.released = False
            self.con = None if self.private else _reader(self.path)
        elif self.released:
            self.released = False
            self.con = _reader(self.path)
        return self.con

    def release(self) -> None:
        """Write what is kept in memory and close the file's connection, before workers
        are forked or when a command is done with the cache: SQLite's locks must not be
        carried across a fork. Used again, it opens again (without the checks of the
        first opening). A private database stays open: closing would lose it."""
        self.flush()
        if self.con is None or not self.owned() or self.private:
            return
        finish(self.con)
        self.con = None
        self.released = True

    def _query(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        con = self._db()
        if con is None:
            return []
        try:
            if not con.in_transaction:
                # Reads share one snapshot until the next write: a lookup then costs a
                # third of one in a transaction of its own (writers are not blocked).
                con.execute("BEGIN")
                if not stamped(con, self.stamp):
                    return self._superseded(con)
            return con.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            if _damage(exc):
                self._broken()
            return []  # damaged, or locked for too long: a miss

    def _superseded(self, con: sqlite3.Connection) -> list[Any]:
        """Another promoctl (a new version, or an older one) rebuilt the tables for its
        code while this run had them open: its rows are not this code's, so the rest of
        this run neither reads nor writes them (every lookup a miss)."""
        with contextlib.suppress(sqlite3.Error):
            con.rollback()
        self.superseded = True
        return []

    def _broken(self) -> None:
        """Found damaged while a command runs: it is removed, and the rest of the run
        goes on with a fresh database (every row a miss until it is written again)."""
        if not self.owned():
            self.con = None  # a worker leaves the file to the process that started it
            return
        if self.con is not None:
            with contextlib.suppress(sqlite3.Error):
                self.con.close()
        self._remove()
        self.private = False
        self.con = self._open()

    # --------------------------------------------------------------------- rows

    def rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        """The rows a query finds; none when the database is damaged or busy too long."""
        return self._query(sql, args)

    def change(self, change: Callable[[sqlite3.Connection], Any]) -> None:
        """Run ``change`` in one write transaction (not in a forked worker; given up
        when the database is locked too long or read-only: the store only saves work)."""
        self._write(change)

    def entry(self, key: str) -> Any:
        """An entry as JSON data (not yet checked), or None."""
        if key in self.entries:
            return self.entries[key]
        found = self._query("SELECT body FROM entries WHERE key = ?", (key,))
        return _data(found[0][0]) if found else None

    def put_entry(self, key: str, entry: Any) -> None:
        self._make_room(self.entries)
        self.entries[key] = entry

    def file_row(self, display: str) -> Any:
        """A file's stat row as JSON data (not yet checked), or None."""
        name = as_bytes(display)
        if name in self.files:
            return self.files[name]
        found = self._query("SELECT row FROM files WHERE name = ?", (name,))
        return _data(found[0][0]) if found else None

    def put_file(self, display: str, row: Any) -> None:
        self._make_room(self.files)
        self.files[as_bytes(display)] = row

    def all_entries(self) -> Iterator[tuple[str, Any]]:
        """Every entry written (as JSON data, not yet checked)."""
        for key, body in self._query("SELECT key, body FROM entries", ()):
            yield key, _data(body)

    def all_files(self) -> Iterator[tuple[str, Any]]:
        for name, row in self._query("SELECT name, row FROM files", ()):
            yield from_bytes(name), _data(row)

    def last(self) -> Any:
        found = self._query("SELECT body FROM last", ())
        return _data(found[0][0]) if found else None

    def set_last(self, last: Any) -> None:
        self._write(lambda con: (con.execute("DELETE FROM last"),
                                 last is not None and con.execute(
                                     "INSERT INTO last VALUES (?)", (json_text(last),))))

    def _make_room(self, pending: dict[Any, Any]) -> None:
        if len(pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        """Write the rows kept in memory. A forked worker only forgets them: what it
        learnt goes back to the process that started it, which writes it."""
        entries, files = self.entries, self.files
        self.entries, self.files = {}, {}
        if not self.owned() or not (entries or files):
            return
        self._write(lambda con: (
            con.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?)",
                            ((k, json_text(v)) for k, v in entries.items())),
            con.executemany("INSERT OR REPLACE INTO files VALUES (?, ?)",
                            ((k, json_text(v)) for k, v in files.items()))))

    def prune(self, keys: Iterable[str], displays: Iterable[str]) -> None:
        """Keep only the entries of ``keys`` and the rows of ``displays``. What to keep is
        gathered first, in temporary tables of this connection, so that other runs wait
        for the cache only while the rest is deleted."""
        self.flush()
        con = self._db()
        if con is None or not self.owned():
            return
        try:
            if con.in_transaction:
                con.execute("COMMIT")
            for table, column in (("keep_keys", "key TEXT"), ("keep_names", "name BLOB")):
                con.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} ({column} PRIMARY KEY)")
                con.execute(f"DELETE FROM {table}")
            con.executemany("INSERT OR IGNORE INTO keep_keys VALUES (?)", ((k,) for k in keys))
            con.executemany("INSERT OR IGNORE INTO keep_names VALUES (?)",
                            ((as_bytes(d),) for d in displays))
        except sqlite3.Error:
            return
        self._write(lambda con: (
            con.execute("DELETE FROM entries WHERE key NOT IN (SELECT key FROM keep_keys)"),
            con.execute("DELETE FROM files WHERE name NOT IN (SELECT name FROM keep_names)")))
        with contextlib.suppress(sqlite3.Error):
            con.execute("DELETE FROM keep_keys")
            con.execute("DELETE FROM keep_names")

    def _write(self, change: Callable[[sqlite3.Connection], Any]) -> None:
        con = self._db()
        if con is None or not self.owned():
            return
        try:
            with transaction(con):
                if not stamped(con, self.stamp):
                    raise _Superseded
                change(con)
        except _Superseded:
            self._superseded(con)
        except sqlite3.Error as exc:
            if _damage(exc):
                self._broken()
            # else locked by another run for too long, or read-only: not remembered

class _Superseded(Exception):
    """The database holds another code's rows (see ``Store._superseded``)."""


@contextlib.contextmanager
def transaction(con: sqlite3.Connection) -> Iterator[None]:
    """A write transaction: it ends the reads' snapshot, and rolls back on failure."""
    if con.in_transaction:
        con.execute("COMMIT")  # the reads' snapshot
    con.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
