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
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from functools import cache as memoize
from pathlib import Path
from typing import Any

from promoctl import __version__
from promoctl.fsutil import write_atomic

CACHE_FORMAT = 1
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
        self.used: set[str] = set()
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

    def put(self, key: str, entry: dict[str, Any]) -> None:
        self.entries[key] = entry
        self.used.add(key)
        self.changed = True

    def save(self, *, prune: bool) -> None:
        """Write if anything changed; ``prune`` keeps only entries used in this run."""
        if prune and set(self.entries) != self.used:
            self.entries = {k: v for k, v in self.entries.items() if k in self.used}
            self.changed = True
        if not self.changed:
            return
        data = {"format": CACHE_FORMAT, "code": code_fingerprint(), "entries": self.entries}
        # A read-only checkout still validates; it just does not remember.
        with contextlib.suppress(OSError):
            write_atomic(self.path, json.dumps(data, separators=(",", ":")).encode(),
                         overwrite=True)


def _well_formed(entry: dict[str, Any]) -> bool:
    return isinstance(entry.get("own"), list) and "kind" in entry and "id" in entry \
        and isinstance(entry.get("refs", []), list)
