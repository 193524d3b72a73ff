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

import itertools
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from promoctl.errors import Problem
from promoctl.loader import Read, Repository, read_one, unread
from promoctl.records import Source
from promoctl.repofiles import relative

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


def read_all(repo: Repository, items: Sequence[tuple[Path, str | None]], *,
             jobs: int | None = None, check: Check | None = None
             ) -> Iterator[tuple[Path, Read, list[Problem] | None, dict[str, Any] | None]]:
    """``read_one`` for each (path, known key), in order; with ``check``, the checks of
    each record that reads cleanly too, with its cache entry as the checks left it.

    Sources come back without their parsed positions (reloaded if a problem must be
    located), and without their record when they were checked here.
    """
    todo = [i for i, (path, key) in enumerate(items) if not _cheap(repo, path, key)]
    results = _in_order(len(items), todo, jobs, repo, (repo, check, items),
                        lambda i: _work(items[i], repo, check), _read_in_worker)
    for (path, _key), result in zip(items, results, strict=True):
        source = result[0].source
        if source is not None and source.path is None:
            source.path = path  # this process's own path: a copy would cost as much again
        yield path, *result


def check_each(repo: Repository, sources: Sequence[Source], check: Check, *,
               jobs: int | None = None
               ) -> Iterator[tuple[Source, list[Problem], dict[str, Any] | None]]:
    """``check`` each source (which loads its record from its file), in order, then
    release it; each with its cache entry as the check left it when it ran elsewhere."""

    def here(i: int) -> tuple[list[Problem], dict[str, Any] | None]:
        found = check(sources[i])
        sources[i].release()
        return found, None

    todo = [i for i, src in enumerate(sources) if not _checked(repo, src)]
    results = _in_order(len(sources), todo, jobs, repo, (repo, check, sources), here,
                        _check_in_worker)
    for src, (found, entry) in zip(sources, results, strict=True):
        yield src, found, entry


def _in_order(count: int, todo: Sequence[int], jobs: int | None, repo: Repository,
              state: Any, here: Callable[[int], Any], there: Callable[[int], Any]
              ) -> Iterator[Any]:
    """``here(i)`` for i in range(count), except that the ``todo`` ones run as
    ``there(i)`` in forked workers when there are enough of them; results in order."""
    workers = default_jobs() if jobs is None else jobs
    if workers < 2 or not can_fork() or len(todo) < (2 if jobs else MIN_FILES):
        yield from (here(i) for i in range(count))
        return
    global _STATE
    _STATE = state
    if repo.cache is not None:
        repo.cache.store.flush()  # so that the workers read what this process learnt
    pool = multiprocessing.get_context("fork").Pool(workers)
    try:
        chunk = max(1, min(64, len(todo) // (workers * 8)))
        # The pool hands results over as fast as the workers make them: asked for all at
        # once, those this process has not reached yet would pile up in memory. Two
        # windows are asked for at a time, so the workers never wait.
        windows = iter([todo[n:n + WINDOW] for n in range(0, len(todo), WINDOW)])
        asked = [pool.imap(there, window, chunksize=chunk) for window in
                 itertools.islice(windows, 2)]
        pending = set(todo)
        done_in_window = 0
        for i in range(count):
            if i not in pending:
                yield here(i)
                continue
            yield next(asked[0])
            done_in_window += 1
            if done_in_window == WINDOW:
                done_in_window = 0
                asked.pop(0)
                asked.extend(pool.imap(there, window, chunksize=chunk)
                             for window in itertools.islice(windows, 1))
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


def _read_in_worker(i: int) -> tuple[Read, list[Problem] | None, dict[str, Any] | None]:
    assert _STATE is not None
    repo, check, items = _STATE
    read, problems, entry = _work(items[i], repo, check)
    if read.source is not None:  # positions are big and cheap to find again
        source = read.source
        record = source._record if problems is None else None
        read = replace(read, source=Source(source.display, None, record, None,
                                           source.kind, source.record_id, source.meta))
    return read, problems, entry


def _check_in_worker(i: int) -> tuple[list[Problem], dict[str, Any] | None]:
    assert _STATE is not None
    repo, check, sources = _STATE
    src = sources[i]
    found = check(src)
    src.release()
    key = repo.keys.get(src.display)
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
