"""Run work on every core, with exactly the results of running it in turn.

Items are handed to forked workers (no re-import, no pickling of what they read: they
inherit it) and their results come back in the items' order, so a parallel run's
output is identical to a serial one. Only where fork is safe; elsewhere, and for
little work, everything runs in this process.
"""

from __future__ import annotations

import collections
import itertools
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

# Fewer files than this to parse are not worth starting processes for.
MIN_FILES = 200
# Files handed to the workers at a time (see _in_order).
WINDOW = 2_000

# What the forked workers read: set just before the pool starts, inherited by fork.
_STATE: Any = None


def state() -> Any:
    """What ``in_order``'s caller gave the workers (in a worker only)."""
    assert _STATE is not None
    return _STATE


def _plain_signals() -> None:
    # A worker must die when the pool terminates it: a SIGTERM handler the parent set
    # (a program embedding promoctl, a test run) would leave it blocked on the pool's
    # queue, and the parent waiting for it for ever.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    # macOS's system libraries are not fork-safe; Windows has no fork.
    return sys.platform != "darwin" and "fork" in multiprocessing.get_all_start_methods()


T = TypeVar("T")


def in_order(items: Iterable[T], elsewhere: Callable[[T], bool], jobs: int | None,
             before_fork: Callable[[], None], state: Any, here: Callable[[T], Any],
             there: Callable[[Any], Any], send: Callable[[T], Any] = lambda item: item
             ) -> Iterator[tuple[T, Any]]:
    """(item, ``here(item)``) for each item, in order, except that items ``elsewhere``
    says are worth it run as ``there(send(item))`` in forked workers, when there are
    enough of them; the workers find ``state`` with ``state()``.

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
    # e.g. close database connections: no SQLite connection may cross a fork.
    before_fork()
    pool = multiprocessing.get_context("fork").Pool(workers, initializer=_plain_signals)
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


