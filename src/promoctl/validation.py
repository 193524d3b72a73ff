"""validate: every problem in a repository, or in some of its files.

The heavy modules (the models, pydantic, the checks) are imported only when something
must be checked. When git says nothing changed since a run that covered the same files,
its answer comes from the memo (``memo``, ``worktree``); otherwise, when no file's stat
changed since the last whole run, from the cache's index. Either costs little more than
starting Python.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promoctl import worktree
from promoctl.cache import Cache, artifact_row
from promoctl.cache import location as cache_location
from promoctl.errors import Problem, display_path
from promoctl.memo import Memo
from promoctl.repofiles import discover, is_record, record_files, relative
from promoctl.repofiles import root_for as root_for

if TYPE_CHECKING:
    from promoctl.loader import Repository
    from promoctl.records import Source

Progress = Callable[[int, int], None]


def validate(root: Path, paths: Sequence[Path] = (),
             progress: Progress | None = None, jobs: int | None = None) -> list[Problem]:
    """Every problem in the repository, or only those in ``paths`` when given.

    ``jobs`` processes parse files (default: one per CPU, when there are many to parse);
    the result is the same whatever their number.
    """
    wanted = _wanted(root, paths)
    state = worktree.state(root, time.time_ns())
    memo = Memo.of(root) if state is not None else None
    if memo is not None and state is not None:
        found = memo.answer(state, wanted, root)
        if found is not None:
            return found
    cache = Cache(cache_location(root))
    folders: list[str] = []
    names = record_files(root, folders)
    displays = [(name, relative(name, root)) for name in names]
    problems, artifacts = _validate(root, cache, displays, wanted, progress, jobs)
    if memo is not None and state is not None and artifacts is not None \
            and (wanted is None or all(map(is_record, wanted))) and cache.still(displays) \
            and worktree.state(root, time.time_ns()) == state:
        stats = _untracked(root, displays, folders, cache.started)
        if stats is not None:
            memo.remember(state, wanted, problems, {**artifacts, **stats})
    return problems


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


def _wanted(root: Path, paths: Sequence[Path]) -> set[str] | None:
    return {display_path(p, root) for p in discover(paths)} if paths else None


def _untracked(root: Path, displays: Sequence[tuple[str, str]], folders: Sequence[str],
               started: int) -> dict[str, list[int] | None] | None:
    """The stat of what git's state does not cover: every folder walked, the record
    files git does not track, and what tracked links point at. None if one changed after
    ``started`` (or too close before it to trust its stat), or git cannot say."""
    found = worktree.tracked(root)
    if found is None:
        return None
    tracked, links = found
    stats: dict[str, list[int] | None] = {}
    for name in [*folders, *(path for path, display in displays
                             if display not in tracked or display in links)]:
        row = artifact_row(Path(name), started)  # a link's is its target's
        if isinstance(row, str):
            return None
        stats[relative(name, root) if name != str(root) else "."] = row
    return stats


def _validate(root: Path, cache: Cache, displays: list[tuple[str, str]],
              wanted: set[str] | None, progress: Progress | None, jobs: int | None
              ) -> tuple[list[Problem], dict[str, list[int] | None] | None]:
    """The problems, and the stat of the artifacts they were found with (None if one
    changed too close to the run to trust its stat)."""
    # The given files first: when one was just edited (a pre-commit run), that is seen
    # without statting the rest.
    given = [pair for pair in displays if wanted is not None and pair[1] in wanted]
    last = cache.unchanged(displays, root) if cache.still(given) else None
    if last is not None and (wanted is None or wanted <= {d for _p, d in displays}):
        # Nothing changed since the last whole run: that is the answer (the problems of
        # given files are the whole run's problems in them; a test holds this true).
        assert cache.last is not None
        return ([Problem(*p) for p in last if wanted is None or p[0] in wanted],
                cache.last["artifacts"])
    files = [Path(name) for name, _display in displays]
    if wanted is not None:
        problems = _validate_files(root, cache, files, wanted)
        # Files only indexed (never parsed, so no entry) hashed no artifact.
        return problems, cache.artifact_rows(
            [k for k in cache.used if k in cache.entries], root)
    try:
        repo, problems = _streamed(root, cache, files, progress, jobs)
    except _Misrouted:
        # A record whose top-level 'kind:' line is missing or misleading (inside a
        # quoted text, say) would be checked out of turn: check it the plain way.
        repo, problems = _whole(root, cache, files, jobs)
    problems = sorted(set(problems))
    cache.remember_run([d for _p, d in displays], repo.keys, root, problems)
    cache.save(prune=True)
    return problems, cache.last["artifacts"] if cache.last is not None else None


class _Misrouted(Exception):
    """A record's kind is not the one its 'kind:' line showed."""


def _streamed(root: Path, cache: Cache, files: list[Path], progress: Progress | None,
              jobs: int | None) -> tuple[Repository, list[Problem]]:
    """Every problem, holding few records at a time.

    People, packets, decisions and reviews are the bulk: load the rest (frameworks,
    ladders), then stream those through their checks and let each record go, so memory
    does not grow with their number. People are filed before any is checked (a manager
    may be anyone); decisions go before packets (packets' checks need to know which
    packets were decided); reviews may name any decision or review. Streams are chosen
    by each file's 'kind:' line; a record of another kind raises ``_Misrouted``.
    """
    from promoctl import checks
    from promoctl.interop.mapping import check_lms_mappings
    from promoctl.loader import file_one, gc_paused, load
    from promoctl.parallel import check_each, read_all

    streamed = ("person", "decision", "review", "packet")
    repo = load(root, files, cache=cache, skip=lambda _d, kind: kind in streamed, jobs=jobs)
    if repo.packets or any(repo.table(kind) for kind in streamed):
        raise _Misrouted
    problems = [p for src in (*repo.frameworks.values(), *repo.ladders.values())
                for p in checks.check_one(repo, src)]
    repo.skip = None
    later = {kind: [(p, key) for p, k, key in repo.skipped if k == kind]
             for kind in streamed}
    done, total = 0, len(repo.skipped)

    def keep(entry: dict[str, Any] | None, key: str | None) -> None:
        """A cache entry as a check in another process left it."""
        if entry is not None and key and cache.entries.get(key) != entry:
            cache.entries[key] = entry

    def stream(kind: str, check: Callable[[Source], list[Problem]] | None) -> list[Source]:
        """Load the records of ``kind``, each checked by ``check`` where it was read."""
        nonlocal done
        loaded = []
        for path, read, found, entry in read_all(repo, later[kind], jobs=jobs, check=check):
            if read.source is not None and read.source.kind != kind:
                raise _Misrouted
            source = file_one(repo, path, read)
            if source is not None:
                loaded.append(source)
                problems.extend(found or ())
                keep(entry, read.key)
            done += 1
            if progress:
                progress(done, total)
        return loaded

    def check_one(source: Source) -> list[Problem]:
        found = checks.check_one(repo, source)
        source.release()
        return found

    with gc_paused():
        people = stream("person", lambda _source: [])  # filed only: records let go
        for source, found, entry in check_each(repo, people, check_one, jobs=jobs):
            problems.extend(found)
            keep(entry, repo.keys.get(source.display))
        stream("decision", check_one)
        for source in stream("review", None):
            problems.extend(check_one(source))
        problems.extend(checks.check_supersession(repo) + check_lms_mappings(repo))
        decided = checks.decided_packets(repo)
        stream("packet", lambda source: checks.check_packets(repo, [source], release=True,
                                                             decided=decided))
    return repo, problems + repo.problems


def _whole(root: Path, cache: Cache, files: list[Path], jobs: int | None
           ) -> tuple[Repository, list[Problem]]:
    """Every problem, with every record loaded at once, in file order."""
    from promoctl import checks
    from promoctl.loader import load

    repo = load(root, files, cache=cache, jobs=jobs)
    return repo, repo.problems + checks.check_repository(repo)


def _validate_files(root: Path, cache: Cache, files: list[Path], wanted: set[str]
                    ) -> list[Problem]:
    """Only the given files, and only the records their checks read.

    Everything else is indexed by the kind and id its top-level lines name (or its cache
    entry) and parsed only if a check of a given file reads it; frameworks, ladders and
    decisions are few enough, and needed often enough, to load outright.
    """
    from promoctl import checks
    from promoctl.loader import load

    always = ("framework", "ladder", "decision", "review")
    repo = load(root, files, cache=cache,
                index_only=lambda display, kind: display not in wanted
                and kind not in always)
    problems = [p for p in repo.problems if p.path in wanted]
    problems += checks.check_only(repo, wanted)
    cache.save(prune=False)
    return sorted(set(problems))

