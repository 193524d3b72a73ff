"""What the commands share: open a repository, validate it, evaluate packets in it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from promoctl import checks
from promoctl.cache import Cache
from promoctl.cache import location as cache_location
from promoctl.errors import InvalidRecords, Problem, UserError, display_path
from promoctl.evaluate import Evaluation, evaluate
from promoctl.interop.mapping import check_lms_mappings
from promoctl.loader import Repository, discover, file_one, find_root, gc_paused, load
from promoctl.parallel import Check, read_all
from promoctl.records import Source

Progress = Callable[[int, int], None]


def validate(root: Path, paths: Sequence[Path] = (),
             progress: Progress | None = None, jobs: int | None = None) -> list[Problem]:
    """Every problem in the repository, or only those in ``paths`` when given.

    ``jobs`` processes parse files (default: one per CPU, when there are many to parse);
    the result is the same whatever their number.
    """
    if paths:
        return _validate_files(root, paths)
    cache = Cache(cache_location(root))
    files = discover([root])
    # Packets, decisions and reviews are the bulk: load the rest (frameworks, ladders,
    # people), then stream those through their checks one at a time and let each go, so
    # memory does not grow with their number. Decisions go first (packets' checks need
    # to know which packets were decided); reviews may name any decision or review.
    streamed = ("packet", "decision", "review")
    repo = load(root, files, cache=cache, skip=lambda _d, kind: kind in streamed, jobs=jobs)
    problems = checks.check_records(repo)
    repo.skip = None
    later = {kind: [(p, key) for p, k, key in repo.skipped if k == kind]
             for kind in streamed}
    done, total = 0, len(repo.skipped)

    def stream(kind: str, check: Check | None) -> list[Source]:
        """Load the records of ``kind``, each checked by ``check`` where it was read."""
        nonlocal done
        loaded = []
        for path, read, found, entry in read_all(repo, later[kind], jobs=jobs, check=check):
            source = file_one(repo, path, read)
            if source is not None:
                loaded.append(source)
                problems.extend(found or ())
                if entry is not None and read.key and cache.entries.get(read.key) != entry:
                    cache.entries[read.key] = entry
                    cache.changed = True
            done += 1
            if progress:
                progress(done, total)
        return loaded

    def check_decision(source: Source) -> list[Problem]:
        found = checks.check_one(repo, source)
        source.release()
        return found

    with gc_paused():
        stream("decision", check_decision)
        for source in stream("review", None):
            problems.extend(checks.check_one(repo, source))
            source.release()
        problems.extend(checks.check_supersession(repo) + check_lms_mappings(repo))
        decided = checks.decided_packets(repo)
        stream("packet", lambda source: checks.check_packets(repo, [source], release=True,
                                                             decided=decided))
    problems.extend(repo.problems)
    cache.save(prune=True)
    return sorted(set(problems))


def load_valid(root: Path, *, packets: bool = True, progress: Progress | None = None
               ) -> Repository:
    """The whole repository, through the validation cache; refused if anything in it is
    invalid. ``packets=False`` leaves packets out (most commands never read them)."""
    cache = Cache(cache_location(root))
    repo = load(root, discover([root]), progress, cache=cache,
                skip=None if packets else lambda _d, kind: kind == "packet")
    problems = sorted(set(repo.problems + checks.check_repository(repo)))
    cache.save(prune=False)
    if problems:
        raise InvalidRecords(problems)
    return repo


def _validate_files(root: Path, paths: Sequence[Path]) -> list[Problem]:
    """Only the given files, and only the records their checks read.

    Everything else is indexed by the kind and id its top-level lines name (or its cache
    entry) and parsed only if a check of a given file reads it; frameworks, ladders and
    decisions are few enough, and needed often enough, to load outright.
    """
    wanted = {display_path(p, root) for p in discover(paths)}
    cache = Cache(cache_location(root))
    always = ("framework", "ladder", "decision", "review")
    repo = load(root, discover([root]), cache=cache,
                index_only=lambda display, kind: display not in wanted
                and kind not in always)
    problems = [p for p in repo.problems if p.path in wanted]
    problems += checks.check_only(repo, wanted)
    cache.save(prune=False)
    return sorted(set(problems))


@dataclass(frozen=True)
class Outcome:
    """One packet: its evaluation, or the problems that stop it being evaluated."""

    display: str
    evaluation: Evaluation | None
    problems: tuple[Problem, ...]


def evaluate_packets(root: Path, paths: Sequence[Path], as_of: date | None,
                     progress: Progress | None = None) -> tuple[list[Outcome], list[Problem]]:
    """Evaluate the packets found under ``paths``.

    Returns one outcome per packet and every problem found in the records they depend
    on. A packet is evaluated only when it and everything it depends on is valid.
    """
    repo, selected, problems = load_packets(root, paths, progress)
    return evaluate_loaded(repo, selected, problems, as_of), problems


def load_packets(root: Path, paths: Sequence[Path], progress: Progress | None = None
                 ) -> tuple[Repository, list[str], list[Problem]]:
    """The repository with only the packets under ``paths``, and every problem in it.

    Files named directly must be packets; files found in folders are taken if they are.
    """
    files = discover(paths)
    for path in files:
        if not path.resolve().is_relative_to(root.resolve()):
            raise UserError(f"{path}: packet is outside the repository {root}")
    selected = {display_path(p, root) for p in files}
    # Other packets are never needed to evaluate these: skip them before parsing.
    repo = load(root, discover([root]), progress,
                skip=lambda d, kind: kind == "packet" and d not in selected)
    problems = sorted(set(repo.problems + checks.check_repository(repo)))
    named = {display_path(p, root) for p in paths if p.is_file()}
    wanted = [d for d in sorted(selected) if d in repo.packets or d in named
              or (d in repo.broken and repo.broken[d] in ("packet", None))]
    return repo, wanted, problems


def evaluate_loaded(repo: Repository, selected: Sequence[str], problems: Sequence[Problem],
                    as_of: date | None) -> list[Outcome]:
    by_path: dict[str, list[Problem]] = {}
    for problem in problems:
        by_path.setdefault(problem.path, []).append(problem)

    outcomes = []
    for display in sorted(selected):
        src = repo.packets.get(display)
        if src is None:
            own = by_path.get(display, [])
            if not own and display not in repo.broken:
                own = [Problem(display, 0, 0, "not a packet record (kind: packet)")]
            outcomes.append(Outcome(display, None, tuple(own)))
            continue
        deps = dependencies(repo, display)
        blocking = tuple(p for d in deps for p in by_path.get(d, []))
        if blocking:
            outcomes.append(Outcome(display, None, blocking))
            continue
        packet = src.record
        ladder = repo.ladder(packet.target.ladder)
        person = repo.person(packet.candidate)
        framework = repo.framework(ladder.framework) if ladder else None
        if ladder is None or person is None or framework is None:
            # A dependency that exists but is broken: its own problems are reported.
            missing = ("candidate" if person is None else "ladder" if ladder is None
                       else "framework")
            outcomes.append(Outcome(display, None, (Problem(
                display, 0, 0, f"not evaluated: its {missing} record is invalid"),)))
            continue
        outcomes.append(Outcome(display, evaluate(packet, person, ladder, framework, as_of), ()))
    return outcomes


def dependencies(repo: Repository, display: str) -> list[str]:
    """Files whose problems stop this packet being evaluated, itself first."""
    packet = repo.packets[display].record
    deps = [display]
    person = repo.people.get(packet.candidate)
    ladder = repo.ladders.get(packet.target.ladder)
    if person:
        deps.append(person.display)
    if ladder:
        deps.append(ladder.display)
        framework = repo.frameworks.get(ladder.record.framework)
        if framework:
            deps.append(framework.display)
    return deps


def root_for(repo_option: Path | None, hint: Path) -> Path:
    if repo_option is not None:
        if not repo_option.is_dir():
            raise UserError(f"{repo_option}: --repo must be a folder")
        return repo_option.resolve()
    return find_root(hint)
