"""Opening a repository: its records loaded and checked, through the store.

This is the one door from the domain to what the store remembers of records: a record
seen before (the same bytes, the same code) is not parsed again, and a repository
unchanged since a valid whole run is answered from its content keys alone. Callers get
records and problems; whether they came from the files or the store is decided here.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from promoctl.base.errors import (
    InvalidRecords,
    Problem,
    UserError,
    display_path,
    errors_only,
    shown,
    summary,
)
from promoctl.base.fsutil import Unreadable
from promoctl.base.repofiles import SKIP_DIRS, record_files, relative
from promoctl.records import checking
from promoctl.records.loader import Repository, discover, peek_kind, read_file
from promoctl.records.reading import load
from promoctl.store import worktree
from promoctl.store.cache import Cache
from promoctl.store.cache import location as cache_location

Progress = Callable[[int, int], None]


def load_valid(root: Path, *, packets: bool = True, progress: Progress | None = None
               ) -> Repository:
    """The whole repository, through the validation cache; refused if anything in it is
    invalid. ``packets=False`` leaves packets out (most commands never read them)."""
    cache = Cache(cache_location(root))
    cache.preload()
    files = discover([root])
    repo = load(root, files, progress, cache=cache,
                skip=None if packets else lambda _d, kind: kind == "packet")
    found = sorted(set(repo.problems + checking.check_repository(repo)))
    problems = errors_only(found)
    if packets:  # it checked what validate checks: remember it as validate does
        cache.remember_run([relative(p, root) for p in files], repo.keys, root, found)
    cache.save(prune=False)
    if problems:
        raise InvalidRecords(problems, f"{summary(problems)} of the repository; this command "
                             "answers only when every record is valid, so it printed nothing "
                             "else (fix these first):")
    return repo


def load_packets(root: Path, paths: Sequence[Path], progress: Progress | None = None,
                 *, cache: Cache | None = None) -> tuple[Repository, list[str], list[Problem]]:
    """The repository with only the packets under ``paths``, the packets to report on,
    and every problem in it; through ``cache`` when given.

    Files named directly must be packets; files found in folders are taken if they are.
    """
    everything = discover([root])
    selected = _selected(root, paths, everything)
    # Other packets are never needed to evaluate these: skip them before parsing.
    repo = load(root, everything, progress, cache=cache,
                skip=lambda d, kind: kind == "packet" and d not in selected)
    found = sorted(set(repo.problems + checking.check_repository(repo)))
    if cache is not None and not repo.skipped:  # a whole run: remembered as validate does
        cache.remember_run([relative(p, root) for p in everything], repo.keys, root, found)
    problems = errors_only(found)
    named = {display_path(p, root) for p in paths if p.is_file()}
    wanted = [d for d in sorted(selected) if d in repo.packets or d in named
              or (d in repo.broken and repo.broken[d] in ("packet", None))]
    return repo, wanted, problems


def load_packets_cached(root: Path, paths: Sequence[Path], progress: Progress | None = None
                        ) -> tuple[Repository, list[str], list[Problem]]:
    """``load_packets`` through the validation cache (a record seen before is not parsed
    again), refusing a file named directly that is not a packet."""
    cache = Cache(cache_location(root))
    cache.preload()
    loaded = load_packets(root, paths, progress, cache=cache)
    cache.save(prune=False)
    refuse_non_packets(loaded[0], paths)
    return loaded


def refuse_non_packets(repo: Repository, paths: Sequence[Path]) -> None:
    """A file named directly that is a valid record of another kind is refused, saying
    what it is (a broken file is not refused: its problems say what is wrong)."""
    for path in paths:
        if not path.is_file():
            continue
        display = display_path(path, repo.root)
        if display in repo.packets or display in repo.broken:
            continue
        try:
            kind = peek_kind(read_file(path, repo.root))
        except Unreadable:
            continue  # the loader reported it
        what = f"a {kind} record" if kind else "not a record"
        raise UserError(f"{shown(display)}: is {what}, not a packet; give packet files "
                        "(kind: packet), folders of them, or --all")


def _selected(root: Path, paths: Sequence[Path], everything: Sequence[Path]) -> set[str]:
    """Display paths of the record files under ``paths``; refused if one is outside the
    repository. When each path is plainly inside the repository (``plain_selection``),
    its files are taken from ``everything`` (``discover([root])``), a folder's thousands
    of files without resolving each; otherwise each path is walked on its own."""
    prefix = os.path.join(str(root), "")
    # Files under root: their display is their tail.
    displays = [str(f)[len(prefix):].replace(os.sep, "/") for f in everything]
    plain = plain_selection(root, paths, displays)
    if plain is not None:
        return set(plain[0])
    base = root.resolve()
    selected: set[str] = set()
    for path in paths:
        folder = Path(os.path.realpath(path)) if path.is_dir() else None
        if folder is not None and folder.is_relative_to(base):
            found = [((folder / f.relative_to(path)).relative_to(base).as_posix(), f)
                     for f in discover([path])]
        else:
            found = [("", f) for f in discover([path])]
        for display, file in found:
            # A file found in a folder inside the repository is inside, unless it is a
            # symbolic link (os.walk descends into no linked folder).
            if display and not file.is_symlink():
                selected.add(display)
            elif Path(os.path.realpath(file)).is_relative_to(base):  # a loop: its name
                selected.add(display_path(file, root))
            else:
                raise UserError(f"{file}: packet is outside the repository {root}")
    return selected


def unchanged_keys(root: Path) -> dict[str, str] | None:
    """Every record file's content key, when no record changed since a whole run
    (validate, or a command that loads and checks everything) found the repository
    valid: then each key is known from its file's stat and nothing need be read. None
    when something changed, was never checked, or was invalid (loading reports it)."""
    found = unchanged_records(root)
    if found is None or found[1]:
        return None
    return {display: row[0] for display, row in found[0].items()}


Rows = dict[str, tuple[str, str | None, str | None]]


def unchanged_records(root: Path) -> tuple[Rows, list[Problem]] | None:
    """When no record changed since the last whole run: every record file's content key
    and the kind and id its top-level lines name, and the problems that run found
    (errors and warnings). None when something changed or none was remembered."""
    found = _unchanged(root, None)
    return None if found is None else found[:2]


def _unchanged(root: Path, folders: list[str] | None
               ) -> tuple[Rows, list[Problem], Cache, list[tuple[str, str]]] | None:
    """``unchanged_records``, with the cache it read (released) and the record files as
    (name, display) pairs; the folders walked are added to ``folders``."""
    cache = Cache(cache_location(root))
    try:
        cache.files.preload(cache.store.all_files())
        displays = [(name, relative(name, root)) for name in record_files(root, folders)]
        last = cache.unchanged(displays, root)
    finally:
        cache.store.release()
    if last is None:
        return None
    rows = cache.files.everything or {}  # every one checked by ``unchanged``
    return ({display: (row[4], row[5], row[6])
             for display, row in ((d, rows[d]) for _name, d in displays)},
            sorted({Problem(*p) for p in last}), cache, displays)


def whole(root: Path, paths: Sequence[Path]) -> bool:
    """Whether ``paths`` are the whole repository (``--all``)."""
    return len(paths) == 1 and os.path.realpath(paths[0]) == os.path.realpath(root)


def tree_state(root: Path) -> str | None:
    """The state of the work tree as git tells it (``worktree.state``); None when it
    cannot be told (no git, or an index written too recently to trust)."""
    return worktree.state(root, time.time_ns())


class Snapshot(NamedTuple):
    """The work tree's state (``tree_state``), the stat of every path that state does
    not cover but a whole run depends on (untracked record files, folders, artifacts),
    and the content key of every record file: an answer computed from those keys holds
    in that state for as long as those paths keep their stat (``unchanged_snapshot``)."""

    state: str
    stats: dict[str, list[int] | None]
    keys: dict[str, str]


def snapshot(root: Path) -> Snapshot | None:
    """The ``Snapshot`` of the repository now. None when it cannot be told: git cannot
    say, a file changed since the last whole run or too recently to trust, or git is
    told to take some file as unchanged. Costs what ``unchanged_records`` does, and
    git's answers."""
    state = tree_state(root)
    found = unchanged_in(root, state) if state is not None else None
    return None if found is None else found[2]


def unchanged_in(root: Path, state: str | None
                 ) -> tuple[Rows, list[Problem], Snapshot | None] | None:
    """``unchanged_records``, with the ``Snapshot`` in ``state`` (``tree_state``, taken
    before) when there is one."""
    # After git's state: a tracked file changed since shows in its stat, which
    # ``_unchanged`` compares with the row of what the last whole run read.
    started = time.time_ns()
    folders: list[str] = []
    found = _unchanged(root, folders)
    if found is None:
        return None
    rows, problems, cache, displays = found
    if state is None or cache.last is None:
        return rows, problems, None
    stats = worktree.untracked_stats(root, displays, folders, started, {})
    if stats is None or tree_state(root) != state:
        return rows, problems, None
    return rows, problems, Snapshot(state, {**cache.last["artifacts"], **stats},
                                    {d: row[0] for d, row in rows.items()})


def unchanged_snapshot(stats: dict[str, list[int] | None], root: Path) -> bool:
    """Whether every path of a ``snapshot``'s stats is as it was."""
    return worktree.unchanged_stats(root, stats, time.time_ns())


def plain_selection(root: Path, paths: Sequence[Path], displays: Iterable[str]
                    ) -> tuple[list[str], set[str]] | None:
    """What ``load_packets`` selects under ``paths``, from the record files' display
    paths alone, and which of them were named as files; None when a path is not plainly
    inside the repository (a symbolic link on the way, a skipped or missing folder), for
    which the loading path decides."""
    base = os.path.realpath(root)
    prefixes: list[str] = []
    named: set[str] = set()
    for path in paths:
        real = os.path.realpath(path)
        if real != os.path.abspath(path) or not (real == base or real.startswith(base + os.sep)):
            return None
        inside = os.path.relpath(real, base).replace(os.sep, "/")
        parts = [] if inside == "." else inside.split("/")
        if path.is_file():
            named.add(inside)
        elif not path.is_dir() or any(p.startswith(".") or p in SKIP_DIRS for p in parts):
            return None
        else:
            prefixes.append("/".join(parts) + "/" if parts else "")
    everything = set(displays)
    if not named <= everything:
        return None
    selected = sorted({d for d in everything if d in named
                       or any(d.startswith(prefix) for prefix in prefixes)})
    return selected, named
