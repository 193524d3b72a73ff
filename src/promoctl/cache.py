"""The validation cache: what promoctl learnt about each file, keyed by its content.

An entry is found by the sha256 of a file's bytes together with a fingerprint of
promoctl's own code, so a changed byte or a new promoctl version is simply a miss. It
holds the file's own problems, its kind and id, what it refers to, and the result of
its cross-record checks together with the dependency key they were computed under
(the content hashes of every record they read): when a framework changes, the key of
every record that reads it changes, and those records are checked again.

The cache is one JSON file (never pickle: nothing in it can run code) inside the
repository's git directory, or in the user's cache directory outside git. It is
written atomically; concurrent runs each write a consistent file and the last one wins.
A corrupt or truncated cache is ignored and rebuilt.

So that a warm run need not read and hash every file, the cache also remembers each
file's size, times and inode next to its content hash, as git's index does: a file whose
stat is unchanged has the content it had. Only files unchanged for a while before they
were read are remembered, so a write in the same timestamp tick as the read is never
missed; the change time (which no user command can set back) is part of the stat.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from functools import cache as memoize
from pathlib import Path
from typing import Any

from promoctl import __version__
from promoctl.fsutil import write_atomic

CACHE_FORMAT = 2
# A file changed less than this long before it was read may change again within the same
# timestamp tick without its stat changing: such a file is read and hashed every time.
RACY_NS = 2_000_000_000
# The modules whose behaviour decides what an entry says.
_CODE = ("models.py", "yamlio.py", "records.py", "checks.py", "loader.py")


@memoize
def code_fingerprint() -> str:
    digest = hashlib.sha256(f"{__version__}/{CACHE_FORMAT}".encode())
    here = Path(__file__).parent
    for name in _CODE:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:16]


def location(root: Path) -> Path:
    """Inside .git when there is one (never committed, removed with the clone)."""
    for folder in (root.resolve(), *root.resolve().parents):
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return dot_git / "promoctl" / "validate-cache.json"
        if dot_git.is_file():  # a worktree: ".git" names the real git directory
            text = dot_git.read_text(encoding="utf-8", errors="replace").strip()
            if text.startswith("gitdir:"):
                git_dir = (folder / text.removeprefix("gitdir:").strip()).resolve()
                return git_dir / "promoctl" / "validate-cache.json"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    tag = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return base / "promoctl" / tag / "validate-cache.json"


class Cache:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}
        # display path -> [size, mtime_ns, ctime_ns, inode, content key, peeked kind]
        self.files: dict[str, list[Any]] = {}
        self.used: set[str] = set()
        self.seen: set[str] = set()
        self.changed = False
        self.hits = 0
        self.misses = 0
        self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_bytes())
        except (OSError, ValueError):
            return  # missing, truncated or corrupt: start afresh
        if isinstance(data, dict) and data.get("code") == code_fingerprint() \
                and isinstance(data.get("entries"), dict):
            self.entries = {k: v for k, v in data["entries"].items() if isinstance(v, dict)}
            files = data.get("files")
            if isinstance(files, dict):
                self.files = {k: v for k, v in files.items()
                              if isinstance(v, list) and len(v) == 6}

    @staticmethod
    def key(raw: bytes) -> str:
        return hashlib.sha256(raw).hexdigest()

    def get(self, key: str) -> dict[str, Any] | None:
        entry = self.entries.get(key)
        if entry is None or not _well_formed(entry):
            self.misses += 1
            return None
        self.hits += 1
        self.used.add(key)
        return entry

    def known(self, display: str, stat: os.stat_result) -> tuple[str, str | None] | None:
        """The content key and peeked kind of a file whose stat is as remembered and
        whose entry is at hand, without reading it."""
        row = self.files.get(display)
        if row is None or row[0] != stat.st_size or row[1] != stat.st_mtime_ns \
                or row[2] != stat.st_ctime_ns or row[3] != stat.st_ino:
            return None
        key, kind = row[4], row[5]
        if not isinstance(key, str) or key not in self.entries:
            return None
        return key, kind

    @staticmethod
    def stat_row(stat: os.stat_result, key: str, kind: str | None) -> list[Any] | None:
        """What ``remember`` keeps of a file read just now, or None if it changed too
        recently to be trusted by its stat alone."""
        if max(stat.st_mtime_ns, stat.st_ctime_ns) > time.time_ns() - RACY_NS:
            return None
        return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, key, kind]

    def remember(self, display: str, row: list[Any] | None) -> None:
        self.seen.add(display)
        if row is not None and self.files.get(display) != row:
            self.files[display] = row
            self.changed = True

    def put(self, key: str, entry: dict[str, Any]) -> None:
        self.entries[key] = entry
        self.used.add(key)
        self.changed = True

    def save(self, *, prune: bool) -> None:
        """Write if anything changed; ``prune`` keeps only entries used in this run."""
        if prune and set(self.entries) != self.used:
            self.entries = {k: v for k, v in self.entries.items() if k in self.used}
            self.changed = True
        if prune and set(self.files) - self.seen:
            self.files = {k: v for k, v in self.files.items() if k in self.seen}
            self.changed = True
        if not self.changed:
            return
        data = {"format": CACHE_FORMAT, "code": code_fingerprint(), "entries": self.entries,
                "files": self.files}
        # A read-only checkout still validates; it just does not remember.
        with contextlib.suppress(OSError):
            write_atomic(self.path, json.dumps(data, separators=(",", ":")).encode(),
                         overwrite=True)


def _well_formed(entry: dict[str, Any]) -> bool:
    return isinstance(entry.get("own"), list) and "kind" in entry and "id" in entry \
        and isinstance(entry.get("refs", []), list)
