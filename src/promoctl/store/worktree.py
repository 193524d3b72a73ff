"""What git knows of the tracked files, as one digest: "nothing changed" without statting
every record file in Python.

``git status`` compares every tracked file with git's index (by stat, and by content
for a file written in the same second as the index) and lists those that differ. The
index's own checksum stands for the content of every tracked file, and the stat of each
listed one for its content. Statting 45,000 files from Python costs 0.14 s; git does it
in C, on every core, in less than half of that. Files git does not track (untracked or
ignored) are the caller's: it keeps their stat, and the stat of every folder validate
walks, whose change time moves when a file is added, removed or renamed in it.

No digest (None) outside git, when git is missing, or when the index or a listed file
changed too recently for its stat to be trusted: the caller then does the work.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing and pathlib are imported while git runs (see Probe)
if TYPE_CHECKING:
    import subprocess
    from collections.abc import Iterable, Iterator, MutableMapping, Sequence
    from pathlib import Path
    from typing import Any

# git compares a file's times with those in its index to the second: a file written in
# the second its stat was taken may change without git seeing it. Each entry's stat is
# older than the index, so an index this much older than now leaves no such second.
INDEX_RACY_NS = 2_000_000_000
# The index ends with a checksum of its content (20 bytes, or 32 in a SHA-256 repository).
_TRAILER = 32
_ASKS = (("rev-parse", "--show-toplevel", "--git-path", "index"),
         ("--no-optional-locks", "status", "--porcelain=v1", "-z", "--untracked-files=no",
          "--", "."),
         ("config", "--list", "-z"))
_ENV = {"GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}


class Probe:
    """The git commands that tell the state, started: ``promoctl validate`` starts them
    first thing, so git works while Python imports the rest (on another core). Read it
    with ``state`` or let it go with ``close``."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.listed: bytes | None = None  # what git status listed, once ``state`` read it
        # ``state`` told nothing only because git's index or a listed file changed too
        # recently (a hook a moment after `git add`): asked again later, it may tell.
        self.too_recent = False
        env = {**os.environ, **_ENV}
        self.running: list[_Git] | None = []
        try:
            for ask in _ASKS:
                self.running.append(_Git(root, ask, env))
        except OSError:  # no git here (or no room to start it)
            self.close()
            self.running = None

    def state(self, now: int) -> str | None:
        """A digest of the content of every tracked file under the root as git saw it,
        with the stat of its listed files at ``now`` (``time.time_ns()``); None when it
        cannot be told."""
        from pathlib import Path

        if self.running is None:
            return None
        try:
            found, listed, config = (process.output() for process in self.running)
        finally:
            self.close()
        if found is None or listed is None or config is None or not trusted(config):
            return None
        lines = os.fsdecode(found).splitlines()
        if len(lines) != 2:
            return None
        self.listed = listed
        root = Path(self.root)
        try:
            return _digest(root, Path(lines[0]), root / lines[1], listed, now)
        except _TooRecent:
            self.too_recent = True
            return None

    def close(self) -> None:
        """Stop and reap what ``state`` did not read."""
        for process in self.running or ():
            process.close()


class _Git:
    """One git command, its output read from a pipe. Started with ``posix_spawn`` where
    there is one: importing ``subprocess`` costs a tenth of the quick answer, before git
    could even start."""

    def __init__(self, root: str, args: tuple[str, ...], env: dict[str, str]) -> None:
        command = ["git", "-C", root, *args]
        self.process: subprocess.Popen[bytes] | None = None
        self.pid, self.reader = 0, -1
        if not hasattr(os, "posix_spawnp"):  # Windows
            import subprocess

            self.process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL,
                                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            return
        reader, writer = os.pipe()  # neither is inherited (PEP 446); dup2 makes fd 1
        null = -1
        try:
            null = os.open(os.devnull, os.O_RDWR)
            self.pid = os.posix_spawnp("git", command, env, file_actions=[
                (os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, writer, 1),
                (os.POSIX_SPAWN_DUP2, null, 2)])
        except OSError:
            os.close(reader)
            raise
        finally:
            os.close(writer)
            if null >= 0:
                os.close(null)
        self.reader = reader

    def output(self) -> bytes | None:
        """What git printed, or None if it failed (or its exit status is unknown)."""
        if self.process is not None:
            out, _err = self.process.communicate()
            return out if self.process.returncode == 0 else None
        with os.fdopen(self.reader, "rb") as pipe:
            self.reader = -1
            out = pipe.read()
        return out if self._reap() == 0 else None

    def close(self) -> None:
        if self.process is not None:
            if self.process.returncode is None:
                self.process.kill()
                self.process.communicate()
            return
        if self.reader >= 0:
            os.close(self.reader)
            self.reader = -1
        if self.pid:
            # Imported here: nothing that can wait is imported before git starts.
            import contextlib
            import signal

            with contextlib.suppress(OSError):  # it has ended already
                os.kill(self.pid, signal.SIGKILL)
            self._reap()

    def _reap(self) -> int | None:
        """Wait for git to end: its exit code, or None when the system reaped it (a
        parent that ignores SIGCHLD, as some service managers start programs)."""
        pid, self.pid = self.pid, 0
        try:
            _pid, status = os.waitpid(pid, 0)
        except ChildProcessError:
            return None
        return os.waitstatus_to_exitcode(status)


def state(root: Path, now: int) -> str | None:
    """A digest of the content of every tracked file under ``root`` as git sees it at
    ``now``, or None when it cannot be told."""
    return Probe(str(root)).state(now)


class Tracked:
    """The files under a folder git tracks, relative to it, each with whether it is a
    symbolic link (git knows a link's text, not what it points at), read from git a
    piece at a time. ``refused`` once read: git is told to take some file as unchanged
    (assume-unchanged, or skip-worktree in a sparse checkout), which ``git status`` does
    not look at, or git failed; then what was read must not be trusted."""

    def __init__(self, process: Any) -> None:
        self.process = process
        self.refused = False

    def __iter__(self) -> Iterator[tuple[str, bool]]:
        rest = b""
        with self.process as process:
            for piece in iter(lambda: process.stdout.read(1 << 16), b""):
                *lines, rest = (rest + piece).split(b"\0")
                for line in lines:
                    found = self._entry(line)
                    if found is None:
                        continue
                    if self.refused:
                        process.kill()
                        return
                    yield found
            self.refused = self.refused or process.wait() != 0

    def _entry(self, line: bytes) -> tuple[str, bool] | None:
        meta, _tab, name = line.partition(b"\t")
        if not name:
            return None
        tag, mode = meta[:1], meta[2:8]
        if tag.islower() or tag == b"S":
            self.refused = True
        return os.fsdecode(name), mode == b"120000"


def tracked(root: Path) -> Tracked | None:
    """What git tracks under ``root`` (see ``Tracked``); None outside git."""
    import subprocess

    try:
        process = subprocess.Popen(["git", "ls-files", "-s", "-v", "-z", "--", "."],
                                   cwd=root, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, env={**os.environ, **_ENV})
    except OSError:
        return None
    return Tracked(process)


def untracked_stats(root: Path, files: Iterable[tuple[str, str]], folders: Sequence[str],
                    started: int, tracked_files: MutableMapping[str, bool]
                    ) -> dict[str, list[int] | None] | None:
    """The stat (``cache.artifact_row``) of what ``state`` does not cover: every folder
    walked, the record ``files`` ((name, display) pairs) git does not track, and what
    tracked links point at; keyed by their path relative to ``root`` ("." for itself).
    None if one changed after ``started`` (or too close before it to trust its stat), or
    git cannot say (or is told to take some file as unchanged). ``tracked_files`` holds
    what git tracks while this works (a spill's map, for a big repository)."""
    from pathlib import Path

    from promoctl.base.repofiles import relative
    from promoctl.store.cache import artifact_row

    listed = tracked(root)
    if listed is None:
        return None
    for name, link in listed:
        tracked_files[name] = link
    if listed.refused:
        return None
    stats: dict[str, list[int] | None] = {}
    for name in [*folders, *(path for path, display in files
                             if tracked_files.get(display, True))]:
        row = artifact_row(Path(name), started)  # a link's is its target's
        if isinstance(row, str):
            return None
        stats[relative(name, root) if name != str(root) else "."] = row
    return stats


def unchanged_stats(root: Path, stats: dict[str, list[int] | None], now: int) -> bool:
    """Whether every path of ``stats`` (``untracked_stats``, with any other path a run
    depended on) has the stat it had."""
    from promoctl.store.cache import artifact_row

    return all(artifact_row(root / relative, now) == row for relative, row in stats.items())


class _TooRecent(Exception):
    """A file changed too close to ``now`` for its stat to be trusted."""


def _digest(root: Path, top: Path, index: Path, listed: bytes, now: int) -> str | None:
    # Imported here, not above: these are what git's run overlaps.
    import hashlib

    from promoctl.base.repofiles import is_record, relative
    from promoctl.store.cache import artifact_row

    digest = hashlib.sha256(f"{root}\0".encode(errors="surrogateescape"))
    try:
        with index.open("rb") as handle:
            stat = os.fstat(handle.fileno())
            if stat.st_mtime_ns > now - INDEX_RACY_NS:
                raise _TooRecent
            handle.seek(max(0, stat.st_size - _TRAILER))
            trailer = handle.read()
            if trailer[-20:] == bytes(20):
                # No checksum (index.skipHash, which feature.manyFiles turns on): the
                # content itself, a few milliseconds for tens of thousands of files.
                handle.seek(0)
                trailer = handle.read()
            digest.update(trailer)
    except FileNotFoundError:  # a repository with nothing added yet
        digest.update(b"no index")
    except OSError:
        return None
    for code, path in _differing(listed):
        display = relative(top / path, root)
        if not is_record(display):
            continue  # validate never reads it (artifacts are the caller's)
        row = artifact_row(root / display, now)
        if row == "racy":
            raise _TooRecent
        digest.update(f"{code}\0{display}\0{row}\n".encode(errors="surrogateescape"))
    return digest.hexdigest()


def _differing(listed: bytes) -> list[tuple[str, str]]:
    """The tracked paths (from the top of the work tree) whose content in the work tree
    is not the index's, with their status code."""
    return [(code, path) for code, path, _source in _entries(listed) if code[1:] != " "]


def _entries(listed: bytes) -> list[tuple[str, str, str | None]]:
    """``git status --porcelain -z``'s entries: status code, path, and the path a rename
    or copy came from."""
    entries: list[tuple[str, str, str | None]] = []
    fields = listed.split(b"\0")
    i = 0
    while i < len(fields):
        field = fields[i]
        i += 1
        if len(field) < 4:
            continue
        source = None
        if field[:1] in (b"R", b"C") and i < len(fields):
            source = os.fsdecode(fields[i])  # the next field
            i += 1
        entries.append((field[:2].decode("ascii", "replace"), os.fsdecode(field[3:]), source))
    return entries


class Changes:
    """What git says may differ from a basis: the tree of HEAD, the tracked files under
    the root whose index or work-tree content is not HEAD's (``listed``), and those whose
    content in HEAD is not the basis tree's (``committed``); names relative to the root."""

    def __init__(self, tree: str, listed: set[str], committed: set[str]) -> None:
        self.tree, self.listed, self.committed = tree, listed, committed


class Asking:
    """The git commands that tell ``Changes`` since the tree ``since``, started (so they
    run while Python imports the rest); read with ``changes``. Without ``status``, git
    status is not asked: what it listed (``Probe.listed``) is given to ``changes``."""

    def __init__(self, root: Path, since: str | None = None, status: bool = True) -> None:
        self.root = root
        asks: list[tuple[str, ...]] = [
            ("rev-parse", "--show-toplevel", "HEAD^{tree}"), ("ls-files", "-v", "-z"),
            ("diff-tree", "-r", "-z", "--name-only", "--no-renames", since or "HEAD",
             "HEAD"), _ASKS[2]]
        if status:
            asks.append(_ASKS[1])
        env = {**os.environ, **_ENV}
        self.running: list[_Git] | None = []
        try:
            for ask in asks:
                self.running.append(_Git(str(root), ask, env))
        except OSError:
            self.close()
            self.running = None

    def changes(self, listed: bytes | None = None) -> Changes | None:
        """None outside git, with no commit yet, or when git is told to take some file
        as unchanged (assume-unchanged, skip-worktree): ``git status`` would not look
        at it. ``listed``: what git status listed, when this did not ask it."""
        from promoctl.base.repofiles import relative

        if self.running is None:
            return None
        try:
            outs = [process.output() for process in self.running]
        finally:
            self.close()
        found, flags, committed, config, *listing = outs
        if listed is None:
            listed = next(iter(listing), None)
        if found is None or flags is None or committed is None or listed is None \
                or config is None or not trusted(config):
            return None
        lines = os.fsdecode(found).splitlines()
        if len(lines) != 2 or _flagged(flags):
            return None
        top = lines[0]

        def names(paths: Iterable[str]) -> set[str]:
            return {relative(os.path.join(top, path), self.root) for path in paths}

        return Changes(lines[1], names(_all_listed(listed)),
                       names(os.fsdecode(p) for p in committed.split(b"\0") if p))

    def close(self) -> None:
        for process in self.running or ():
            process.close()


def trusted(config: bytes) -> bool:
    """Whether ``git status`` sees every edit under this configuration (``git config
    --list -z``): not when it compares a file through a clean filter (an edit the filter
    drops is not listed), or by less than its whole stat (``core.checkStat=minimal``,
    ``core.trustctime=false``, ``core.ignoreStat``)."""
    false = (b"false", b"no", b"off", b"0", b"")
    for entry in config.split(b"\0"):
        key, newline, value = entry.partition(b"\n")
        key, value = key.lower(), value.strip().lower()
        if key.startswith(b"filter.") and key.endswith((b".clean", b".process")):
            return False
        if key == b"core.checkstat" and value == b"minimal":
            return False
        if key == b"core.trustctime" and newline and value in false:
            return False
        if key == b"core.ignorestat" and (not newline or value not in false):
            return False
    return True


def _flagged(listed: bytes) -> bool:
    """Whether ``git ls-files -v -z`` shows a file git takes as unchanged (its tag in
    lower case) or skips (S). Counted, not searched: 45,000 entries in a millisecond."""
    entries = listed.count(b"\0")
    cached = listed.count(b"\0H ") + listed.startswith(b"H ")
    if cached == entries:
        return False
    import re

    return re.search(rb"(?:^|\0)[a-zS] ", listed) is not None


def _all_listed(listed: bytes) -> list[str]:
    """Every path ``git status --porcelain -z`` names, renamed-from paths too."""
    return [path for _code, *paths in _entries(listed) for path in paths if path is not None]
