"""validate: every problem in a repository, or in some of its files.

The heavy modules (the models, pydantic, the checks) are imported only when something
must be checked. When git says nothing changed since a run that covered the same files,
its answer comes from the memo (``memo``, ``worktree``); otherwise, when no file's stat
changed since the last whole run, from the store's file rows. Either costs little more than
starting Python.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promoctl.base.errors import Problem, display_path, errors_only
from promoctl.base.fsutil import Unreadable, read_regular
from promoctl.base.repofiles import (
    BULK_KINDS,
    MARKER,
    discover,
    is_record,
    peek_kind,
    record_files,
    relative,
)
from promoctl.base.repofiles import root_for as root_for
from promoctl.store import worktree
from promoctl.store.cache import Cache
from promoctl.store.cache import location as cache_location
from promoctl.store.memo import Memo

if TYPE_CHECKING:
    from promoctl.records.loader import Repository
    from promoctl.records.parsing import Source
    from promoctl.store.spill import Spill, SpillList

Progress = Callable[[int, int], None]


def validate(root: Path, paths: Sequence[Path] = (),
             progress: Progress | None = None, jobs: int | None = None) -> list[Problem]:
    """Every problem in the repository, or only those in ``paths`` when given.

    ``jobs`` processes parse files (default: one per CPU, when there are many to parse);
    the result is the same whatever their number.
    """
    wanted = _wanted(root, paths)
    probe = worktree.Probe(str(root))
    state = probe.state(time.time_ns())
    if state is not None:
        found = Memo.of(root).answer(state, wanted, root)
        if found is not None:
            return found
    from promoctl.store.spill import Spill

    cache = Cache(cache_location(root), check=wanted is None)
    if wanted is not None:
        asked = Asked(root, wanted if _nearby_fits(wanted) else None, probe.listed is None,
                      cache)
        try:
            found = asked.answer(probe.listed)
        finally:
            asked.close()
        if found is not None:
            return found
    with Spill(None if cache.store.private else cache.path) as spill:
        folders: list[str] = []
        # Only a whole run keeps the list on disk; a run over some files holds the
        # whole cache anyway.
        displays = _Listing(spill if wanted is None else None, record_files(root, folders),
                            root)
        problems, artifacts, token = _validate(root, cache, displays, wanted, progress, jobs,
                                               spill)
        if artifacts is None or (wanted is not None and not all(map(is_record, wanted))):
            return problems
        listed = probe.listed
        if state is None and probe.too_recent:
            # git's index was written a moment before the run (a pre-commit hook runs
            # just after `git add`): the state may be told now. What the run read is
            # the work tree's if every file still has the stat it was read with.
            again = worktree.Probe(str(root))
            state, listed = again.state(time.time_ns()), again.listed
        if state is None:
            return problems
        # What git status listed for that state: the basis's, if the state still holds
        # after the check below (git status is not run a third time).
        changes = worktree.Asking(root, status=False).changes(listed) \
            if token is not None and listed is not None else None
        if cache.still(displays) \
                and worktree.state(root, time.time_ns()) == state:
            stats = _untracked(root, displays, folders, cache.started, spill)
            if stats is not None:
                Memo.of(root).remember(cache.store, state, wanted, problems,
                                       {**artifacts, **stats})
                if token is not None and changes is not None:
                    _set_basis(root, cache, token, changes, folders, stats)
    return problems


# validate FILE with at most this many files tries the reference index first (``nearby``).
NEARBY_AT_MOST = 20


def _set_basis(root: Path, cache: Cache, token: str, changes: worktree.Changes,
               folders: Sequence[str], stats: dict[str, list[int] | None]) -> None:
    """Say what the work tree was when the index was written: git's view of the
    tracked files, and the stat of every folder walked and every other file read."""
    from promoctl.store import index

    walked = {relative(f, root) if f != str(root) else "." for f in folders}
    index.set_basis(cache.store, token, {
        "tree": changes.tree, "listed": sorted(changes.listed),
        "folders": {k: v for k, v in stats.items() if k in walked},
        "untracked": {k: v for k, v in stats.items() if k not in walked}})
    cache.store.release()


class _Listing:
    """The record files of a run as (name, display) pairs, kept on disk: read again by
    each pass over them."""

    def __init__(self, spill: Spill | None, names: list[str], root: Path) -> None:
        self.names: list[str] | SpillList = names
        if spill is not None:
            self.names = spill.list("names", texts=True)
            for name in names:
                self.names.append(name)
        self.root = root

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return ((name, relative(name, self.root)) for name in self.names)

    def paths(self) -> Iterator[Path]:
        return (Path(name) for name in self.names)

    def __len__(self) -> int:
        return len(self.names)


def remembered(root: Path, paths: Sequence[Path] = (),
               probe: worktree.Probe | None = None) -> list[Problem] | None:
    """``validate``'s answer when nothing changed since a run that covered ``paths``;
    None when it must do the work. ``probe``: git already started, in some folder (used
    only if that is ``root``)."""
    if probe is not None and Path(probe.root) != root:
        probe.close()
        probe = None
    probe = probe or worktree.Probe(str(root))
    try:
        wanted = _wanted(root, paths)
        if wanted is not None and not all(map(is_record, wanted)):
            return None
        state = probe.state(time.time_ns())
    finally:
        probe.close()
    if state is None:
        return None
    return Memo.of(root).answer(state, wanted, root)


def from_index(root: Path, paths: Sequence[Path], listed: bytes | None = None
               ) -> list[Problem] | None:
    """``validate``'s answer for a few files from the reference index (``nearby``),
    when it can tell it; None when it must do the work. ``listed``: what git status
    listed in ``root`` a moment ago (``worktree.Probe.listed``)."""
    asked = Asked(root, few_records(root, paths), listed is None)
    try:
        return asked.answer(listed)
    finally:
        asked.close()


def few_records(root: Path, paths: Sequence[Path]) -> set[str] | None:
    """The files ``from_index`` may answer for (shown relative to ``root``): ``paths``
    when they are at most NEARBY_AT_MOST record files; else None (no folder is walked)."""
    if not 0 < len(paths) <= NEARBY_AT_MOST or any(path.is_dir() for path in paths):
        return None
    wanted = _wanted(root, paths)
    return wanted if wanted is not None and _nearby_fits(wanted) else None


class Asked:
    """What ``from_index`` needs before it imports the checks, for the ``wanted`` files
    (``few_records``): the index's basis read (the store is not opened), and git asked
    what changed since (``status``: git status too; else ``answer`` is given what a
    probe's git status listed). Made while that git status runs, it costs a run the
    memo answers next to nothing."""

    def __init__(self, root: Path, wanted: set[str] | None, status: bool = True,
                 cache: Cache | None = None) -> None:
        self.root, self.cache = root, cache
        self.asked: tuple[set[str], dict[str, Any], worktree.Asking] | None = None
        if not wanted or not all(_of_bulk_kind(root / name) for name in wanted):
            return
        from promoctl.store import index

        basis = index.peeked_basis(cache_location(root))
        if basis is not None:
            self.asked = (wanted, basis, worktree.Asking(root, basis["tree"], status))

    def answer(self, listed: bytes | None) -> list[Problem] | None:
        if self.asked is None:
            return None
        from promoctl.records import nearby

        cache = self.cache or Cache(cache_location(self.root), check=False)
        return nearby.check(self.root, cache, *self.asked, listed)

    def close(self) -> None:
        if self.asked is not None:
            self.asked[2].close()


def _of_bulk_kind(path: Path) -> bool:
    """Whether a given file's ``kind:`` line names a kind the index answers for: a
    ladder or framework (thousands of records refer to it) goes to the full run
    without git being asked anything. The index checks what the file really is."""
    try:
        return peek_kind(read_regular(path, None, _PEEK_AT_MOST)) in BULK_KINDS
    except Unreadable:
        return True  # the index's read reports it, as the full run would


# Larger than any record of a bulk kind may be (the index reads it properly).
_PEEK_AT_MOST = 1 << 20


def _nearby_fits(wanted: set[str]) -> bool:
    return 0 < len(wanted) <= NEARBY_AT_MOST and all(map(is_record, wanted))


def _wanted(root: Path, paths: Sequence[Path]) -> set[str] | None:
    return {display_path(p, root) for p in discover(paths)} if paths else None


def _untracked(root: Path, displays: Iterable[tuple[str, str]], folders: Sequence[str],
               started: int, spill: Spill) -> dict[str, list[int] | None] | None:
    """``worktree.untracked_stats``, what git tracks kept on disk."""
    return worktree.untracked_stats(root, displays, folders, started, spill.map("tracked"))


def _validate(root: Path, cache: Cache, displays: _Listing, wanted: set[str] | None,
              progress: Progress | None, jobs: int | None, spill: Spill
              ) -> tuple[list[Problem], dict[str, list[int] | None] | None, str | None]:
    """The problems, the stat of the artifacts they were found with (None if one
    changed too close to the run to trust its stat), and the token of the reference
    index a whole run that found no error wrote (``store.index``)."""
    if wanted is not None:
        # A few files (a pre-commit run): every row read one by one costs more than all
        # read at once. Memory is then the whole cache's, as for evaluate and report.
        cache.preload()
    # The given files first: when one was just edited (a pre-commit run), that is seen
    # without statting the rest.
    given = [pair for pair in displays if wanted is not None and pair[1] in wanted]
    last = cache.unchanged(displays, root) if cache.still(given) else None
    if last is not None and (wanted is None or (wanted <= {d for _p, d in displays}
                                                and all(p[0] in wanted for p in last))):
        # Nothing changed since the last whole run: that is the answer (the problems of
        # given files are the whole run's problems in them; a test holds this true). Not
        # when it found problems in other files: some may be in records that refer to
        # the given ones, which a run over files reports too (see ``dependents``).
        assert cache.last is not None
        return [Problem(*p) for p in last], cache.last["artifacts"], None
    checked: set[str] | None = None
    if wanted is not None:
        files = list(displays.paths())
        problems, checked = _validate_files(root, cache, files, wanted)
        if problems is not None:
            # Files only indexed (never parsed, so no entry) hashed no artifact.
            return problems, cache.artifact_rows(
                [k for k in cache.used if k in cache.entries], root), None
        # Much of the repository refers to the given files (a framework): the whole
        # run, which streams and reuses every check the cache holds, costs less.
    cache.spill_to(spill)
    try:
        repo, problems = _streamed(root, cache, displays, progress, jobs, spill)
    except _Misrouted:
        # A record whose top-level 'kind:' line is missing or misleading (inside a
        # quoted text, say) would be checked out of turn: check it the plain way.
        repo, problems = _whole(root, cache, list(displays.paths()), jobs)
    problems = sorted(set(problems))
    cache.remember_run((d for _p, d in displays), repo.keys, root, problems)
    token = _index(repo, cache, displays) if not errors_only(problems) else None
    cache.save(prune=True)
    if checked is not None:
        problems = [p for p in problems if p.path in checked]
    return problems, cache.last["artifacts"] if cache.last is not None else None, token


def _index(repo: Repository, cache: Cache, displays: _Listing) -> str | None:
    """Write the reference index of a whole run; its token, when it holds every record
    the run read (the repository file is not a record)."""
    from promoctl.records import nearby
    from promoctl.store import index

    cache.store.flush()
    if repo.spill is not None:
        repo.spill.release()  # its batch written: the index is written beside it
    token = index.write(cache.store, nearby.index_rows(repo), nearby.ASKED)
    records = sum(1 for _path, display in displays if display != MARKER)
    return token if token is not None and index.count(cache.store) == records else None


# Above this many files to check (and a tenth of the repository), validate FILE runs the
# whole check and keeps the problems of those files: checking one by one what refers to
# a framework costs more than the whole run's streamed, cached checks.
WHOLE_RUN_FROM = 200


class _Misrouted(Exception):
    """A record's kind is not the one its 'kind:' line showed."""


def _streamed(root: Path, cache: Cache, displays: _Listing, progress: Progress | None,
              jobs: int | None, spill: Spill) -> tuple[Repository, list[Problem]]:
    """Every problem, holding few records at a time.

    People, packets, decisions and reviews are the bulk: load the rest (frameworks,
    ladders), then stream those through their checks and let each record go; their
    tables (ids, files, content keys) are kept on disk, in ``spill``, so memory does not
    grow with their number. People are filed before any is checked (a manager may be
    anyone); decisions go before packets (packets' checks need to know which packets
    were decided); reviews may name any decision or review, so they too are all filed
    before any is checked. Streams are chosen by each file's 'kind:' line; a record of
    another kind raises ``_Misrouted``.
    """
    from promoctl.records import checking, levels
    from promoctl.records.accounts import check_accounts
    from promoctl.records.loader import file_one
    from promoctl.records.mapping import check_lms_mappings
    from promoctl.records.reading import check_each, gc_paused, load, read_all

    streamed = ("person", "decision", "review", "packet")
    repo = load(root, displays.paths(), cache=cache, skip=lambda _d, kind: kind in streamed,
                jobs=jobs, spill=spill, count=len(displays))
    if repo.packets or any(repo.table(kind) for kind in streamed):
        raise _Misrouted
    problems = [p for src in (*repo.frameworks.values(), *repo.ladders.values())
                for p in checking.check_one(repo, src)]
    repo.skip = None
    done, total = 0, len(repo.skipped)

    def later(kind: str) -> Iterator[tuple[Path, str | None]]:
        """The files of ``kind`` the first pass left for later, with their content key."""
        return ((Path(path), key) for path, k, key in repo.skipped if k == kind)

    def keep(entry: dict[str, Any] | None, key: str | None) -> None:
        """A cache entry as a check in another process left it."""
        if entry is not None and key:
            cache.entries[key] = entry

    def stream(kind: str, check: Callable[[Source], list[Problem]] | None) -> None:
        """File the records of ``kind``, each checked by ``check`` where it was read."""
        nonlocal done
        for path, read, found, entry in read_all(repo, later(kind), jobs=jobs, check=check):
            if read.source is not None and read.source.kind != kind:
                raise _Misrouted
            if file_one(repo, path, read) is not None:
                problems.extend(found or ())
                keep(entry, read.key)
            done += 1
            if progress:
                progress(done, total)

    def check_one(source: Source) -> list[Problem]:
        found = checking.check_one(repo, source)
        source.release()
        return found

    def check_all(table: Iterable[Source]) -> None:
        """Check the records filed in ``table`` (each loads again from its file)."""
        for source, found, entry in check_each(repo, table, check_one, jobs=jobs):
            problems.extend(found)
            keep(entry, repo.keys.get(source.display))

    with gc_paused():
        stream("person", lambda _source: [])  # filed only: records let go
        check_all(repo.people.values())
        stream("decision", check_one)
        # A review is checked as it is read unless it supersedes another, which may
        # come later: those few are checked once every review is filed.
        stream("review", lambda source: check_one(source)
               if source.meta.get("supersedes") is None else [])
        check_all(src for src in repo.reviews.values()
                  if src.meta.get("supersedes") is not None)
        problems.extend(checking.check_supersession(repo) + check_lms_mappings(repo)
                        + check_accounts(repo.people.values()))
        decided = checking.decided_packets(repo)
        held = levels.Index(repo)
        problems.extend(checking.check_level_history(repo, held))
        stream("packet", lambda source: checking.check_packets(repo, [source], release=True,
                                                             decided=decided, held=held))
    from promoctl.records.rawchecks import check_broken_packets

    return repo, problems + repo.problems + check_broken_packets(repo)


def _whole(root: Path, cache: Cache, files: list[Path], jobs: int | None
           ) -> tuple[Repository, list[Problem]]:
    """Every problem, with every record loaded at once, in file order."""
    from promoctl.records import checking
    from promoctl.records.reading import load

    repo = load(root, files, cache=cache, jobs=jobs)
    return repo, repo.problems + checking.check_repository(repo)


def _validate_files(root: Path, cache: Cache, files: list[Path], wanted: set[str]
                    ) -> tuple[list[Problem] | None, set[str]]:
    """Only the given files and the records that refer to them (``dependents``), and
    only the records their checks read; no problems (None) when those are so many that
    a whole run is cheaper. The files checked come back too.

    Everything else is indexed by the kind and id its top-level lines name (or its cache
    entry) and parsed only if a check of a given file reads it; frameworks, ladders and
    decisions are few enough, and needed often enough, to load outright.
    """
    from promoctl.records import checking
    from promoctl.records.reading import load

    always = ("framework", "ladder", "decision", "review")
    from promoctl.records.dependents import dependents

    repo = load(root, files, cache=cache,
                index_only=lambda display, kind: display not in wanted
                and kind not in always)
    # The records that refer to the given ones are checked too: a change to a framework
    # can break a ladder and packets that are not in the commit.
    checked = wanted | dependents(repo, wanted)
    if len(checked) > max(WHOLE_RUN_FROM, len(files) // 10):
        return None, checked
    loaded = {src.display for kind in always for src in repo.table(kind).values()}
    if checked - wanted - loaded:  # load those as given files are: parsed, problems seen
        repo = load(root, files, cache=cache,
                    index_only=lambda display, kind: display not in checked
                    and kind not in always)
    problems = [p for p in repo.problems if p.path in checked]
    problems += checking.check_only(repo, checked)
    from promoctl.records.rawchecks import check_broken_packets

    problems += check_broken_packets(repo, checked)
    cache.save(prune=False)
    return sorted(set(problems)), checked

