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
from promoctl.loader import Repository, discover, load
from promoctl.repofiles import root_for as root_for
from promoctl.validation import validate as validate

Progress = Callable[[int, int], None]


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
