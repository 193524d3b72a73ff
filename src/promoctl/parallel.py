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

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from promoctl.errors import Problem
from promoctl.loader import Read, Repository, read_one
from promoctl.records import Source
from promoctl.repofiles import relative

Check = Callable[[Source], list[Problem]]
# Fewer files than this to parse are not worth starting processes for.
MIN_FILES = 200

# What the forked workers read: set just before the pool starts, inherited by fork.
_STATE: tuple[Repository, Check | None] | None = None


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
    workers = default_jobs() if jobs is None else jobs
    todo = [i for i, (path, key) in enumerate(items) if not _cheap(repo, path, key)]
    if workers < 2 or not can_fork() or len(todo) < (2 if jobs else MIN_FILES):
        for path, key in items:
            yield path, *_work((path, key), repo, check)
        return
    global _STATE
    _STATE = (repo, check)
    pool = multiprocessing.get_context("fork").Pool(workers)
    try:
        tasks = [items[i] for i in todo]
        chunk = max(1, min(64, len(tasks) // (workers * 8)))
        results = pool.imap(_work_in_worker, tasks, chunksize=chunk)
        pending = set(todo)
        for i, (path, key) in enumerate(items):
            if i in pending:
                yield path, *next(results)
            else:
                yield path, *_work((path, key), repo, check)
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
    row = cache.files.get(relative(path, repo.root))
    return row is not None and row[4] in cache.entries


def _work_in_worker(task: tuple[Path, str | None]
                    ) -> tuple[Read, list[Problem] | None, dict[str, Any] | None]:
    assert _STATE is not None
    repo, check = _STATE
    read, problems, entry = _work(task, repo, check)
    if read.source is not None:  # positions are big and cheap to find again
        source = read.source
        record = source._record if problems is None else None
        read = replace(read, source=Source(source.display, None, record, source.path,
                                           source.kind, source.record_id, source.meta))
    return read, problems, entry


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
