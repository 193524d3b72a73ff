"""The validation cache: what promoctl learnt about each file, keyed by its content.

An entry is found by the sha256 of a file's bytes together with a fingerprint of
promoctl's own code, so a changed byte or a new promoctl version is simply a miss. It
holds the file's own problems, its kind and id, what it refers to, and the result of
its cross-record checks together with the dependency key they were computed under
(the content hashes of every record they read): when a framework changes, the key of
every record that reads it changes, and those records are checked again.

So that a warm run need not read and hash every file, a stat row per file remembers its
size, times and inode with its content hash, as git's index does: a file whose stat is
unchanged has the content it had. Only files unchanged for a while before they were
read are remembered, so a write in the same timestamp tick as the read is never missed;
the change time (which no user command can set back) is part of the stat. The cache
also keeps what the last run over the whole repository found, under a digest of every
file's content hash (and the stat of every artifact it hashed): when nothing changed,
that is the answer, and no entry is even read.

All of it lives in tables of promoctl's one database (``cachedb``) inside the
repository's git directory, or in the user's cache directory outside git. A run holds
only the rows it is working on, so memory does not grow with the repository.
Concurrent runs each write consistent rows; a corrupt or truncated file is removed and
rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache as memoize
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from promoctl import __version__
from promoctl.store.recent import MISSING, Recent

if TYPE_CHECKING:  # sqlite3 is imported only by a run that opens the store
    from promoctl.store.cachedb import Store
    from promoctl.store.spill import Spill, SpillSet

T = TypeVar("T")
# A file changed less than this long before it was read may change again within the same
# timestamp tick without its stat changing: such a file is read and hashed every time.
RACY_NS = 2_000_000_000
@memoize
def code_fingerprint() -> str:
    """promoctl's version and every module of its core (the command line excepted: what
    decides an entry, an evaluation or a report is spread over models, parsing, checks,
    evaluation and statistics), with the versions of what it builds on (a new pydantic
    may word an error differently). Any change to any of them empties the store."""
    versions = [sys.version, *(_installed(module, dist) for module, dist in _BUILDS_ON)]
    digest = hashlib.sha256(f"{__version__}/{'/'.join(versions)}".encode())
    here = os.path.dirname(os.path.dirname(__file__))
    for relative, path in sorted(_modules(here, "")):
        with open(path, "rb") as handle:
            digest.update(relative.encode() + b"\0" + handle.read() + b"\0")
    return digest.hexdigest()[:16]


def _modules(folder: str, relative: str) -> list[tuple[str, str]]:
    """(name relative to the package, path) of every module under ``folder`` but the
    command line's (os.scandir: a third of what pathlib's glob costs)."""
    found = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.endswith(".py"):
                found.append((relative + entry.name, entry.path))
            elif entry.is_dir() and entry.name not in ("cli", "__pycache__"):
                found += _modules(entry.path, f"{relative}{entry.name}/")
    return found


# Modules validate's results depend on, with the name their distribution is installed as.
_BUILDS_ON = (("pydantic", "pydantic"), ("pydantic_core", "pydantic_core"), ("yaml", "PyYAML"))


def _installed(module: str, dist: str) -> str:
    """The installed distribution's metadata folder, which names its version: found
    without importing the module or importlib.metadata (a run that finds nothing
    changed should cost little more than starting Python)."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return f"{module}:?"
    site = Path(spec.origin).parent.parent
    wanted = dist.lower().replace("_", "-")
    found = sorted(p.name for p in site.glob("*.dist-info")  # names are not case-stable
                   if p.name.split("-")[0].lower().replace("_", "-") == wanted)
    return ",".join(found) or f"{module}:?"


NAME = "promoctl.sqlite"
# What earlier versions kept beside it: removed when found (a spill file only once no
# run can be using it any more).
_EARLIER = ("validate-cache.json", "validate-index.json", "validate-cache.sqlite",
            "validate-cache.sqlite-wal", "validate-cache.sqlite-shm", "validate-memo.json",
            "evaluate-cache.json", "report-cache.json")
_EARLIER_RUNS = "promoctl-run-"
_EARLIER_RUN_SECONDS = 3600


def location(root: Path) -> Path:
    """Inside .git when there is one (never committed, removed with the clone)."""
    for folder in (root.resolve(), *root.resolve().parents):
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return dot_git / "promoctl" / NAME
        if dot_git.is_file():  # a worktree: ".git" names the real git directory
            text = dot_git.read_text(encoding="utf-8", errors="replace").strip()
            if text.startswith("gitdir:"):
                git_dir = (folder / text.removeprefix("gitdir:").strip()).resolve()
                return git_dir / "promoctl" / NAME
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    tag = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return base / "promoctl" / tag / NAME


class _Rows(Generic[T]):
    """Rows of one table of the store, checked as this code writes them (anything else,
    a hand edit or a bad disk, is a miss, never a crash further on). The latest few are
    kept in memory, misses too: a run asks about one file several times in a row."""

    def __init__(self, store: Store, read: Callable[[str], Any],
                 write: Callable[[str, Any], None], well_formed: Callable[[Any], bool]
                 ) -> None:
        self.store = store
        self._read, self._write, self._well_formed = read, write, well_formed
        self.recent = Recent()
        self.everything: dict[str, Any] | None = None  # see Cache.preload

    def preload(self, rows: Iterable[tuple[str, Any]]) -> None:
        """Keep every row in memory, as read (each is checked when first asked for)."""
        self.everything = dict(rows)
        self.checked: set[str] = set()

    def get(self, name: str | None) -> T | None:
        if name is None:
            return None
        if self.everything is not None:
            found = self.everything.get(name)
            if found is not None and name not in self.checked:
                if not self._well_formed(found):
                    self.everything[name] = found = None
                self.checked.add(name)
            return found
        found = self.recent.get(name)
        if found is MISSING:
            found = self._read(name)
            found = found if self._well_formed(found) else None
            self.recent.put(name, found)
        return found

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __getitem__(self, name: str) -> T:
        found = self.get(name)
        if found is None:
            raise KeyError(name)
        return found

    def __setitem__(self, name: str, value: Any) -> None:
        self.recent.put(name, value)
        if self.everything is not None:
            self.everything[name] = value
            self.checked.add(name)
        if self.store.owned():  # a worker's rows go back to its parent, which writes them
            self._write(name, value)


class Cache:
    """Entries by content key and each file's stat row, in one SQLite file
    (``cachedb``), with what the last run of the whole repository found. Rows are read
    as a run needs them: a run that finds no file changed reads one row a file."""

    def __init__(self, path: Path, check: bool = True) -> None:
        self.path = path
        self.store = open_store(path, check)
        _remove_earlier(path.parent)
        self.entries = _Rows[dict[str, Any]](self.store, self.store.entry,
                                             self.store.put_entry, _well_formed)
        # display -> [size, mtime_ns, ctime_ns, inode, content key, peeked kind, peeked id]
        self.files = _Rows[list[Any]](self.store, self.store.file_row, self.store.put_file,
                                      _row)
        self.last: dict[str, Any] | None = None  # the last whole run: digest and problems
        self.used: set[str] | SpillSet = set()  # the keys of the entries this run used
        self.seen: set[str] | SpillSet = set()  # the files it saw
        self.index_changed = False  # the last whole run
        self.hits = 0
        self.misses = 0
        self.started = time.time_ns()
        last = self.store.last()
        if isinstance(last, dict) and isinstance(last.get("digest"), str) \
                and isinstance(last.get("artifacts"), dict) \
                and well_formed_problems(last.get("problems")):
            self.last = last

    def preload(self) -> None:
        """Read every entry and stat row at once: for commands that load the whole
        repository into memory anyway, this costs a third of reading them one by one."""
        self.store.flush()
        self.entries.preload(self.store.all_entries())
        self.files.preload(self.store.all_files())

    def spill_to(self, spill: Spill) -> None:
        """Keep what this run used and saw on disk (a run over the whole repository)."""
        self.used, self.seen = spill.set("used"), spill.set("seen")

    @staticmethod
    def key(raw: bytes) -> str:
        return hashlib.sha256(raw).hexdigest()

    def get(self, key: str) -> dict[str, Any] | None:
        entry = self.entries.get(key)  # only well-formed entries are loaded
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        self.used.add(key)
        return entry

    def by_stat(self, display: str, stat: os.stat_result
                ) -> tuple[str, str | None, str | None] | None:
        """The content key, and the kind and id its top-level lines name, of a file whose
        stat is as remembered, without reading it."""
        row = self.files.get(display)
        if row is None or row[0] != stat.st_size or row[1] != stat.st_mtime_ns \
                or row[2] != stat.st_ctime_ns or row[3] != stat.st_ino \
                or not isinstance(row[4], str):
            return None
        return row[4], row[5], row[6]

    @staticmethod
    def stat_row(stat: os.stat_result, key: str, kind: str | None, record_id: str | None,
                 now: int) -> list[Any] | None:
        """What ``remember`` keeps of a file read just after ``stat`` was taken at
        ``now``, or None if it had changed too recently to be trusted by its stat."""
        if max(stat.st_mtime_ns, stat.st_ctime_ns) > now - RACY_NS:
            return None
        return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, key, kind,
                record_id]

    def remember(self, display: str, row: list[Any] | None) -> None:
        self.seen.add(display)
        if row is not None:
            self.files[display] = row

    def put(self, key: str, entry: dict[str, Any]) -> None:
        self.entries[key] = entry
        self.used.add(key)

    # ------------------------------------------------------------- the last whole run

    def unchanged(self, displays: Iterable[tuple[str, str]], root: Path
                  ) -> list[tuple[str, int, int, str]] | None:
        """What the last whole run found, if these are the files it read, with the same
        content (by their stat), and no artifact it hashed changed; else None."""
        if self.last is None:
            return None
        digest = hashlib.sha256(code_fingerprint().encode())
        for path, display in displays:
            try:
                found = self.by_stat(display, os.stat(path))
            except OSError:
                return None
            if found is None:
                return None
            digest.update(f"{display}\0{found[0]}\n".encode(errors="surrogateescape"))
        if digest.hexdigest() != self.last["digest"]:
            return None
        for relative, row in self.last["artifacts"].items():
            if artifact_row(root / relative, self.started) != row:
                return None
        return [tuple(p) for p in self.last["problems"]]

    def still(self, displays: Iterable[tuple[str, str]]) -> bool:
        """Whether every file has the stat remembered when this run read it: none
        changed (and changed back) while the run went on."""
        for path, display in displays:
            try:
                if self.by_stat(display, os.stat(path)) is None:
                    return False
            except OSError:
                return False
        return True

    def artifact_rows(self, keys: Iterable[str], root: Path
                      ) -> dict[str, list[int] | None] | None:
        """The stat of every artifact the entries of ``keys`` hashed; None if an entry is
        gone or an artifact changed too close to this run to be trusted."""
        artifacts: set[str] = set()
        for key in keys:  # one at a time: all of them would not fit in memory
            entry = self.entries.get(key)
            if entry is None:
                return None
            artifacts.update(entry.get("artifacts", []))
        rows: dict[str, list[int] | None] = {}
        for relative in sorted(artifacts):
            stat = artifact_row(root / relative, self.started)
            if isinstance(stat, str):
                return None
            rows[relative] = stat
        return rows

    def remember_run(self, displays: Iterable[str], keys: Mapping[str, str], root: Path,
                     problems: Sequence[Any]) -> None:
        """Remember a whole run's problems for ``unchanged``: ``keys`` are the content
        keys of the ``displays`` it read. Not when some file it read or artifact it
        hashed may have changed while it ran, or an entry it filed is gone (another run
        replaced the entries: the artifacts it hashed are not known)."""
        rows = self.artifact_rows(keys.values(), root)
        if rows is None:
            self._forget_run()
            return
        digest = hashlib.sha256(code_fingerprint().encode())
        for display in displays:
            key = keys.get(display)
            row = self.files.get(display)
            if key is None or row is None or row[4] != key:
                self._forget_run()
                return
            digest.update(f"{display}\0{key}\n".encode(errors="surrogateescape"))
        last = {"digest": digest.hexdigest(), "artifacts": rows,
                "problems": [list(p) for p in problems]}
        if last != self.last:
            self.last = last
            self.index_changed = True

    def _forget_run(self) -> None:
        if self.last is not None:
            self.last = None
            self.index_changed = True

    def save(self, *, prune: bool) -> None:
        """Write what is not written yet; ``prune`` keeps only the entries and files of
        this run."""
        self.store.flush()
        if prune:
            self.store.prune(self.used, self.seen)
        if self.index_changed:
            self.store.set_last(self.last)
            self.index_changed = False
        self.store.release()


def open_store(path: Path, check: bool = True) -> Store:
    """The database at ``path``, for this schema and this code (``check``: read every
    page for damage first, as a run that reads most of it does)."""
    from promoctl.store.cachedb import SCHEMA, Store

    return Store(path, SCHEMA, code_fingerprint(), check)


def _remove_earlier(folder: Path) -> None:
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        old = time.time() - _EARLIER_RUN_SECONDS
        for entry in entries:
            with contextlib.suppress(OSError):
                if entry.name in _EARLIER or (entry.name.startswith(_EARLIER_RUNS)
                                              and entry.stat().st_mtime < old):
                    os.unlink(entry.path)


def well_formed_problems(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(p, list) and len(p) in (4, 5) and isinstance(p[0], str)
        and isinstance(p[3], str) and isinstance(p[1], int) and isinstance(p[2], int)
        and (len(p) == 4 or p[4] in ("error", "warning")) for p in value)


def artifact_row(path: Path, started: int) -> list[int] | str | None:
    """An artifact's stat; "racy" if it changed too close to the run to trust it."""
    try:
        stat = os.stat(path)
    except (OSError, ValueError):  # ValueError: a NUL in the path (a problem of its own)
        return None
    if max(stat.st_mtime_ns, stat.st_ctime_ns) > started - RACY_NS:
        return "racy"
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]


def _texts(value: Any, size: int | None = None) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value) \
        and (size is None or len(value) == size)


def _well_formed(entry: Any) -> bool:
    """An entry as this code writes it: anything else (a hand edit, a bad disk) is a
    miss, never a crash further on."""
    if not isinstance(entry, dict):
        return False
    kind, record_id, own = entry.get("kind"), entry.get("id"), entry.get("own")
    refs, artifacts = entry.get("refs", []), entry.get("artifacts", [])
    return isinstance(kind, (str, type(None))) and isinstance(record_id, (str, type(None))) \
        and isinstance(own, list) and all(
            isinstance(p, list) and len(p) == 3 and isinstance(p[0], int)
            and isinstance(p[1], int) and isinstance(p[2], str) for p in own) \
        and (bool(own) or kind == "repository" or (kind is not None and record_id is not None)) \
        and isinstance(refs, list) and all(_texts(r, 2) for r in refs) \
        and _texts(artifacts) and isinstance(entry.get("meta") or {}, dict) \
        and isinstance(entry.get("checks", {}), dict)


def _row(row: Any) -> bool:
    return isinstance(row, list) and len(row) == 7 \
        and all(isinstance(v, int) and not isinstance(v, bool) for v in row[:4]) \
        and isinstance(row[4], str) and all(isinstance(v, (str, type(None))) for v in row[5:])
