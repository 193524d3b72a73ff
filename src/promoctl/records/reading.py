"""Read and check many record files on every core, with exactly the results of reading them in turn.

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

import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from promoctl.base.errors import Problem
from promoctl.base.repofiles import relative
from promoctl.records.loader import Read, Repository, file_one, read_one, unread
from promoctl.records.parsing import Source
from promoctl.store import parallel
from promoctl.store.cache import Cache
from promoctl.store.spill import Spill

Check = Callable[[Source], list[Problem]]


def _release(repo: Repository) -> Callable[[], None]:
    def release() -> None:
        # The workers read what this process learnt through connections of their own.
        if repo.cache is not None:
            repo.cache.store.release()
        if repo.spill is not None:
            repo.spill.release()
    return release
def read_all(repo: Repository, items: Iterable[tuple[Path, str | None]], *,
             jobs: int | None = None, check: Check | None = None
             ) -> Iterator[tuple[Path, Read, list[Problem] | None, dict[str, Any] | None]]:
    """``read_one`` for each (path, known key), in order; with ``check``, the checks of
    each record that reads cleanly too, with its cache entry as the checks left it.

    Sources come back without their parsed positions (reloaded if a problem must be
    located), and without their record when they were checked here.
    """
    results = parallel.in_order(items, lambda item: not _cheap(repo, *item), jobs, _release(repo),
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

    results = parallel.in_order(sources, lambda src: not _checked(repo, src), jobs, _release(repo),
                        (repo, check), here, _check_in_worker, send=_stub)
    for src, (found, entry) in results:
        yield src, found, entry


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
    repo, check = parallel.state()
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
    repo, check = parallel.state()
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


def load(root: Path, files: Sequence[Path] | Iterable[Path],
         progress: Callable[[int, int], None] | None = None,
         skip: Callable[[str, str | None], bool] | None = None,
         cache: Cache | None = None,
         index_only: Callable[[str, str | None], bool] | None = None,
         jobs: int | None = None, spill: Spill | None = None,
         count: int | None = None) -> Repository:
    """Load ``files``; ``skip(display, peeked_kind)`` leaves files out before parsing.

    With a ``cache``, a file whose content was seen before is not parsed: its record
    loads lazily if a check needs it. ``index_only(display, peeked_kind)`` files are
    never parsed up front either: they are filed by the kind and id their top-level
    lines name, and parsed only if a check reads them. Files are parsed by ``jobs``
    processes (default: one per CPU) when there are many. With a ``spill``, the tables
    of records are kept on disk (``count``: how many ``files`` there are, for progress).
    """
    options: dict[str, Any] = {"skip": skip, "cache": cache, "index_only": index_only}
    repo = Repository(root, **options) if spill is None \
        else Repository.spilled(root, spill, **options)
    total = count if count is not None else len(files) if isinstance(files, Sequence) else 0
    with gc_paused():
        reads = read_all(repo, ((path, None) for path in files), jobs=jobs)
        for n, (path, read, _, _) in enumerate(reads, 1):
            file_one(repo, path, read)
            if progress:
                progress(n, total)
    return repo


@contextmanager
def gc_paused() -> Iterator[None]:
    """Loading builds many objects and frees few: the cyclic garbage collector would
    rescan the growing heap again and again (half the run time at 10,000 packets)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
