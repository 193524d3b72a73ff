"""Read many record files on every core, with exactly the results of reading them in turn.

Only the part of loading that looks at one file alone (``loader.read_one``: read, hash,
parse, validate its own fields) and, for records checked one at a time, that record's
cross-checks run in worker processes. The workers are forked after the records the checks
read are loaded, so they see the same repository a serial run would. Everything that
depends on more than one file - filing by id, duplicate ids, the cache - stays in this
process and happens in file order, which is what makes a parallel run's output identical
to a serial one.

Workers are forked (no re-import, no pickling of the repository), so this runs in
parallel only where fork is safe; elsewhere it runs serially.
"""

from __future__ import annotations

import collections
import itertools
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from promoctl.base.errors import Problem
from promoctl.base.repofiles import relative
from promoctl.records.loader import Read, Repository, read_one, unread
from promoctl.records.parsing import Source

Check = Callable[[Source], list[Problem]]
# Fewer files than this to parse are not worth starting processes for.
MIN_FILES = 200
# Files handed to the workers at a time (see _in_order).
WINDOW = 2_000

# What the forked workers read: set just before the pool starts, inherited by fork.
_STATE: Any = None


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    # macOS's system libraries are not fork-safe; Windows has no fork.
    return sys.platform != "darwin" and "fork" in multiprocessing.get_all_start_methods()


def read_all(repo: Repository, items: Iterable[tuple[Path, str | None]], *,
             jobs: int | None = None, check: Check | None = None
             ) -> Iterator[tuple[Path, Read, list[Problem] | None, dict[str, Any] | None]]:
    """``read_one`` for each (path, known key), in order; with ``check``, the checks of
    each record that reads cleanly too, with its cache entry as the checks left it.

    Sources come back without their parsed positions (reloaded if a problem must be
    located), and without their record when they were checked here.
    """
    results = _in_order(items, lambda item: not _cheap(repo, *item), jobs, repo,
                        (repo, check), lambda item: _work(item, repo, check),
                        _read_in_worker)
    for (path, _key), (read, found, entry) in results:
        source = read.source
        if source is not None and source.path is None:
            source.path = path  # this process's own path: a copy would cost as much again
        yield path, read, found, entry


def check_each(repo: Repository, sources: Iterable[Source], check: Check, *,
               jobs: int | None = None
               ) -> Iterator[tuple[Source, list[Problem], dict[str, Any] | None]]:
    """``check`` each source (which loads its record from its file), in order, then
    release it; each with its cache entry as the check left it when it ran elsewhere."""

    def here(src: Source) -> tuple[list[Problem], dict[str, Any] | None]:
        found = check(src)
        src.release()
        return found, None

    results = _in_order(sources, lambda src: not _checked(repo, src), jobs, repo,
                        (repo, check), here, _check_in_worker, send=_stub)
    for src, (found, entry) in results:
        yield src, found, entry


T = TypeVar("T")


def _in_order(items: Iterable[T], elsewhere: Callable[[T], bool], jobs: int | None,
              repo: Repository, state: Any, here: Callable[[T], Any],
              there: Callable[[Any], Any], send: Callable[[T], Any] = lambda item: item
              ) -> Iterator[tuple[T, Any]]:
    """(item, ``here(item)``) for each item, in order, except that items ``elsewhere``
    says are worth it run as ``there(send(item))`` in forked workers, when there are
    enough of them.

    Items are taken a window at a time, and two windows are handed to the workers at
    once (so they never wait for this process): all of them at once would hold every
    item, and every result this process has not reached yet, in memory.
    """
    workers = default_jobs() if jobs is None else jobs
    stream = iter(items)
    first = [(item, elsewhere(item)) for item in itertools.islice(stream, WINDOW)]
    remote = sum(flag for _item, flag in first)
    if workers < 2 or not can_fork() or \
            (len(first) < WINDOW and remote < (2 if jobs else MIN_FILES)):
        for item, _flag in first:
            yield item, here(item)
        for item in stream:
            yield item, here(item)
        return
    global _STATE
    _STATE = state
    # So that the workers read what this process learnt, through connections of their
    # own (no SQLite connection may cross a fork).
    if repo.cache is not None:
        repo.cache.store.release()
    if repo.spill is not None:
        repo.spill.release()
    pool = multiprocessing.get_context("fork").Pool(workers)
    try:
        def ask(window: list[tuple[T, bool]]) -> tuple[list[tuple[T, bool]], Iterator[Any]]:
            todo = [send(item) for item, flag in window if flag]
            chunk = max(1, min(64, len(todo) // (workers * 8)))
            return window, pool.imap(there, todo, chunksize=chunk)

        def windows() -> Iterator[list[tuple[T, bool]]]:
            yield first
            while True:
                window = [(item, elsewhere(item)) for item in itertools.islice(stream, WINDOW)]
                if not window:
                    return
                yield window

        pending = windows()
        asked = collections.deque(ask(window) for window in itertools.islice(pending, 2))
        while asked:
            window, results = asked.popleft()
            for item, flag in window:
                yield item, next(results) if flag else here(item)
            asked.extend(ask(window) for window in itertools.islice(pending, 1))
        pool.close()
    finally:
        _STATE = None
        pool.terminate()
        pool.join()


def _cheap(repo: Repository, path: Path, key: str | None) -> bool:
    """Whether the cache knows the file, so reading it here likely costs next to nothing
    (its stat is checked when it is read: a changed file is then parsed here)."""
    cache = repo.cache
    if cache is None:
        return False
    if key is not None:
        return key in cache.entries
    display = relative(path, repo.root)
    row = cache.files.get(display)
    return row is not None and unread(repo, display, row[4], row[5], row[6])


def _read_in_worker(item: tuple[Path, str | None]
                    ) -> tuple[Read, list[Problem] | None, dict[str, Any] | None]:
    assert _STATE is not None
    repo, check = _STATE
    read, problems, entry = _work(item, repo, check)
    if read.source is not None:  # positions are big and cheap to find again
        source = read.source
        record = source._record if problems is None else None
        read = replace(read, source=Source(source.display, None, record, None,
                                           source.kind, source.record_id, source.meta))
    return read, problems, entry


def _stub(src: Source) -> tuple[Any, ...]:
    """What a worker needs to check a source: it loads the record from the file."""
    return src.display, src.path, src.kind, src.record_id, src.meta


def _check_in_worker(stub: tuple[Any, ...]) -> tuple[list[Problem], dict[str, Any] | None]:
    assert _STATE is not None
    repo, check = _STATE
    display, path, kind, record_id, meta = stub
    found = check(Source(display, None, None, path, kind, record_id, meta))
    key = repo.keys.get(display)
    cache = repo.cache
    return found, cache.entries.get(key) if cache is not None and key is not None else None


def _checked(repo: Repository, src: Source) -> bool:
    """Whether the source's checks were clean before (so running them here is cheap:
    they are reused if nothing they read changed, and run here if it did)."""
    key = repo.keys.get(src.display)
    return repo.cache is not None and key is not None \
        and "checks" in (repo.cache.entries.get(key) or {})


def _work(task: tuple[Path, str | None], repo: Repository, check: Check | None
          ) -> tuple[Read, list[Problem] | None, dict[str, Any] | None]:
    path, key = task
    read = read_one(repo, path, key)
    if check is None or read.source is None:
        return read, None, None
    cache = repo.cache
    if cache is None or read.key is None:
        return read, check(read.source), None
    # The checks find the record's cache entry by its display path, as after filing.
    repo.keys[read.display] = read.key
    if read.entry is not None:
        cache.entries[read.key] = read.entry
    return read, check(read.source), cache.entries.get(read.key)
