"""Reading git history fast: one ``git log`` pass, blobs through one ``cat-file --batch``.

GitPython's per-file history costs a git process per file (~12 ms each); auditing tens of
thousands of decisions needs one pass over the log and one long-lived blob reader.
Historical versions are read from git objects, never by checking anything out.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from promoctl.base.errors import UserError

_SEP = "\x1e"  # record separator: cannot appear in git's formatted fields we ask for


@dataclass(frozen=True)
class Change:
    status: str  # A, M, D, R (rename), C (copy), T (type change)
    path: str
    old_path: str | None = None


@dataclass(frozen=True)
class Commit:
    sha: str
    author: str
    email: str
    date: str  # author date, ISO 8601 with offset
    subject: str
    body: str
    changes: tuple[Change, ...] = field(default=())

    def trailer(self, key: str) -> str | None:
        prefix = f"{key}: "
        for line in self.body.splitlines():
            if line.startswith(prefix):
                return line[len(prefix):].strip()
        return None


def run(top: Path, *args: str, input_text: str | None = None, ok: tuple[int, ...] = (0,)
        ) -> subprocess.CompletedProcess[str]:
    """``git -C top ARGS``; an exit code not in ``ok`` is refused with git's message."""
    proc = subprocess.run(["git", "-C", str(top), *args], capture_output=True, text=True,
                          input=input_text, check=False)
    if proc.returncode not in ok:
        raise UserError(f"git {args[0]} failed: {proc.stderr.strip()}")
    return proc


def _git(top: Path, *args: str, input_text: str | None = None) -> str:
    return run(top, *args, input_text=input_text).stdout


def prefix(root: Path, top: Path) -> str:
    """The repository's folder inside the work tree at ``top``, as a path prefix ("" at
    the top, else "folder/"): git names files from the top."""
    rel = root.resolve().relative_to(top.resolve()).as_posix()
    return "" if rel == "." else rel + "/"


def toplevel(start: Path) -> Path:
    proc = subprocess.run(["git", "-C", str(start), "rev-parse", "--show-toplevel"],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise UserError(f"{start}: not inside a git repository; the audit trail is git's "
                        "history")
    return Path(proc.stdout.strip())


def log(top: Path, paths: Iterable[str] = (), rev: str = "HEAD") -> list[Commit]:
    """Every commit reachable from ``rev`` touching ``paths``, oldest first, in one pass."""
    fmt = _SEP + "%H%x00%an%x00%ae%x00%aI%x00%s%x00%b%x00"
    out = _git(top, "log", "--reverse", "--no-renames", "--name-status", "-z",
               f"--format={fmt}", rev, "--", *paths)
    commits = []
    for chunk in out.split(_SEP)[1:]:
        parts = chunk.split("\x00")
        sha, author, email, date, subject, body = parts[:6]
        rest = [p.strip("\n") for p in parts[6:]]
        rest = [p for p in rest if p]
        changes = []
        i = 0
        while i + 1 < len(rest):
            status = rest[i]
            changes.append(Change(status[0], rest[i + 1]))
            i += 2
        commits.append(Commit(sha, author, email, date, subject, body.strip(),
                              tuple(changes)))
    return commits


def resolve(top: Path, rev: str) -> str:
    proc = subprocess.run(["git", "-C", str(top), "rev-parse", "--verify", "--quiet",
                           "--end-of-options", f"{rev}^{{commit}}"],
                          capture_output=True, text=True, check=False)
    if rev.startswith("-") or proc.returncode != 0:
        raise UserError(f"{rev!r} is not a commit, branch or tag in this repository")
    return proc.stdout.strip()


class BlobReader:
    """A persistent ``git cat-file --batch``: many ``rev:path`` reads, one process."""

    def __init__(self, top: Path) -> None:
        self._proc = subprocess.Popen(
            ["git", "-C", str(top), "cat-file", "--batch"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._cache: dict[str, bytes | None] = {}

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, *exc: object | TracebackType) -> None:
        self.close()

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        self._proc.wait()

    def forget(self) -> None:
        """Drop what was read, so a long run's memory does not grow with it."""
        self._cache.clear()

    def read(self, rev: str, path: str) -> bytes | None:
        """The content of ``path`` at ``rev``, or None when it did not exist there."""
        return self.read_many([(rev, path)])[f"{rev}:{path}"]

    def read_many(self, wanted: Iterable[tuple[str, str]]) -> dict[str, bytes | None]:
        """Batched: all requests are written before any answer is read."""
        keys = [f"{rev}:{path}" for rev, path in wanted]
        todo = [k for k in dict.fromkeys(keys) if k not in self._cache]
        assert self._proc.stdin is not None and self._proc.stdout is not None
        for batch in _chunks(todo, 512):  # bounded so neither pipe buffer fills up
            self._proc.stdin.write("".join(f"{k}\n" for k in batch).encode())
            self._proc.stdin.flush()
            for key in batch:
                header = self._proc.stdout.readline().decode().split()
                if len(header) == 3 and header[1] == "blob":
                    data = self._proc.stdout.read(int(header[2]))
                    self._proc.stdout.read(1)  # the newline after the content
                    self._cache[key] = data
                elif len(header) == 3:  # a tree or other object: skip its content
                    self._proc.stdout.read(int(header[2]) + 1)
                    self._cache[key] = None
                else:  # "<key> missing" / "ambiguous"
                    self._cache[key] = None
        return {k: self._cache[k] for k in keys}


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def files_at(top: Path, rev: str, pattern: str) -> list[str]:
    """Paths at ``rev`` whose content matches the extended regex ``pattern`` (git grep)."""
    proc = subprocess.run(["git", "-C", str(top), "grep", "-l", "-z", "-E", "-e", pattern,
                           rev, "--"], capture_output=True, text=True, check=False)
    if proc.returncode not in (0, 1):
        raise UserError(f"git grep failed: {proc.stderr.strip()}")
    prefix = f"{rev}:"
    return sorted(p.removeprefix(prefix) for p in proc.stdout.split("\0") if p)
