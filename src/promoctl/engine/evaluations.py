"""Evaluating packets in a repository: fresh, or remembered by the content of what each
evaluation reads.

An evaluation is a pure function of the packet, its candidate, its ladder, the ladder's
framework, the candidate's approvals and the as-of date, so its key is the content
hash of each of those, the packet's path (the JSON names it) and the as-of date as
given (without one, the packet's own submission date, which its content fixes). A
changed byte in any of them gives a new key: a miss, never a stale result. What is kept
is what the views render from (``evaluation_view.Shown``), and a fresh result is
rendered from that same form, so a remembered run prints the same bytes.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from promoctl.base.errors import Problem, errors_only
from promoctl.engine.evaluate import Evaluation, evaluate
from promoctl.engine.evaluation_view import Shown, shown
from promoctl.records import levels, repository
from promoctl.records.loader import Repository
from promoctl.records.parsing import Source
from promoctl.records.repository import Progress
from promoctl.store.results import Answer, EvaluationCache, Kept, kept_answer


@dataclass(frozen=True)
class Outcome:
    """One packet: its evaluation, or the problems that stop it being evaluated."""

    display: str
    evaluation: Evaluation | None
    problems: tuple[Problem, ...]


def evaluate_fresh(root: Path, paths: Sequence[Path], as_of: date | None,
                   progress: Progress | None = None) -> tuple[list[Outcome], list[Problem]]:
    """Evaluate the packets found under ``paths``, every record read from its file.

    Returns one outcome per packet and every problem found in the records they depend
    on. A packet is evaluated only when it and everything it depends on is valid.
    """
    repo, selected, problems = repository.load_packets(root, paths, progress)
    repository.refuse_non_packets(repo, paths)
    return evaluate_loaded(repo, selected, problems, as_of), problems



def evaluate_loaded(repo: Repository, selected: Sequence[str], problems: Sequence[Problem],
                    as_of: date | None) -> list[Outcome]:
    by_path = problems_by_path(problems)
    held = levels.Index(repo)
    outcomes = []
    for display in sorted(selected):
        inputs, blocking = evaluation_inputs(repo, display, by_path)
        if inputs is None:
            outcomes.append(Outcome(display, None, blocking))
            continue
        packet, person, ladder, framework = (s.record for s in inputs)
        spell = held.at(person.id, as_of or packet.submitted)
        outcomes.append(Outcome(display, evaluate(packet, person, ladder, framework, as_of,
                                                  spell.level, spell.ladder), ()))
    return outcomes


def problems_by_path(problems: Sequence[Problem]) -> dict[str, list[Problem]]:
    by_path: dict[str, list[Problem]] = {}
    for problem in problems:
        by_path.setdefault(problem.path, []).append(problem)
    return by_path


def evaluation_inputs(repo: Repository, display: str, by_path: dict[str, list[Problem]],
                      names: tuple[str, str] | None = None
                      ) -> tuple[tuple[Source, Source, Source, Source] | None,
                                 tuple[Problem, ...]]:
    """The packet at ``display`` and the candidate, ladder and framework its evaluation
    reads; or, instead, the problems that stop it being evaluated. ``names`` (candidate
    and ladder id), when known, save parsing the packet."""
    src = repo.packets.get(display)
    if src is None:
        own = by_path.get(display, [])
        if not own and display not in repo.broken:
            own = [Problem(display, 0, 0, "not a packet record (kind: packet)")]
        return None, tuple(own)
    candidate, ladder_id = names or (src.record.candidate, src.record.target.ladder)
    person, ladder = repo.people.get(candidate), repo.ladders.get(ladder_id)
    framework = repo.frameworks.get(ladder.record.framework) if ladder is not None else None
    deps = [display, *(s.display for s in (person, ladder, framework) if s is not None)]
    blocking = tuple(p for d in deps for p in by_path.get(d, []))
    if blocking:
        return None, blocking
    if person is None or ladder is None or framework is None:
        # A dependency that exists but is broken: its own problems are reported.
        missing = "candidate" if person is None else "ladder" if ladder is None else "framework"
        return None, (Problem(display, 0, 0, f"not evaluated: its {missing} record is invalid"),)
    return (src, person, ladder, framework), ()


# ------------------------------------------------------------- remembered evaluations


@dataclass(frozen=True)
class Evaluated:
    """One packet: how it is shown, or the problems that stop it being evaluated."""

    display: str
    shown: Shown | None
    problems: tuple[Problem, ...]
    key: str | None = None  # the evaluation's key, when it has one


def evaluate_packets(root: Path, paths: Sequence[Path], as_of: date | None,
                     progress: Progress | None = None, *, extras: bool = True
                     ) -> tuple[list[Evaluated], list[Problem]]:
    """Evaluate the packets found under ``paths``, through the validation cache and the
    evaluation cache: a warm run parses no packet. Same outcomes and problems as
    ``evaluate_fresh``.

    Over the whole repository, the answer is remembered with the state of the work
    tree as git tells it (``repository.snapshot``): in the same state, the next run
    reads only the kept evaluations, and neither stats every file nor decodes its row.
    ``extras=False``: the caller needs no display values (the JSON output), so a kept
    evaluation's are not parsed (when they are, a damaged one is a miss); the loading
    way parses them always."""
    when = as_of.isoformat() if as_of else "submitted"
    every = repository.whole(root, paths)
    state = repository.tree_state(root) if every else None
    if state is not None:
        answered = _answered(root, state, when, extras)
        if answered is not None:
            return answered
    found = evaluate_unchanged(root, paths, as_of, state, extras=extras)
    snapshot = None
    if found is not None:
        outcomes, problems, keys, snapshot = found
    else:
        repo, selected, problems = repository.load_packets_cached(root, paths, progress)
        store = EvaluationCache.of(root)
        outcomes = remembered_loaded(repo, selected, problems, as_of, store)
        store.save()
        keys = dict(repo.keys)
    if every:
        _remember(root, when, outcomes, problems, keys, snapshot)
    return outcomes, problems


def _answered(root: Path, state: str, when: str, extras: bool
              ) -> tuple[list[Evaluated], list[Problem]] | None:
    """The answer remembered for the work tree's ``state``, if every path it does not
    cover is as it was and every evaluation is kept (with readable display values when
    ``extras``); else None."""
    found = kept_answer(root, state, when)
    if found is None or not repository.unchanged_snapshot(found[0].stats, root):
        return None
    answer, kept = found
    outcomes = []
    for display, key, problems in answer.outcomes:
        if key is None:
            outcomes.append(Evaluated(display, None, tuple(Problem(*p) for p in problems)))
            continue
        result = _shown(kept.get(key), extras)
        if result is None:
            return None
        outcomes.append(Evaluated(display, result, (), key))
    return outcomes, [Problem(*p) for p in answer.problems]


def _shown(kept: Kept | None, extras: bool = True) -> Shown | None:
    """A kept evaluation as the views show it; None when there is none, or its display
    values are damaged and ``extras`` are needed."""
    result = Shown(*kept) if kept is not None else None
    return None if result is None or (extras and not result.readable()) else result


def _remember(root: Path, when: str, outcomes: Sequence[Evaluated], problems: Sequence[Problem],
              keys: Mapping[str, str], snapshot: repository.Snapshot | None) -> None:
    """Remember the answer of a run over the whole repository with the work tree's state
    (``snapshot``, taken now when not given), when the record files hold the content
    ``keys`` it was computed from."""
    if any(o.shown is not None and o.key is None for o in outcomes):
        return  # an evaluation not kept
    snapshot = snapshot or repository.snapshot(root)
    if snapshot is None or snapshot.keys != keys:
        return
    store = EvaluationCache.of(root)
    try:
        store.remember_answer(snapshot.state, when, Answer(
            snapshot.stats,
            [(o.display, o.key, [list(p) for p in o.problems]) for o in outcomes],
            [list(p) for p in problems]))
    finally:
        store.save()


def remembered_loaded(repo: Repository, selected: Sequence[str], problems: Sequence[Problem],
                      as_of: date | None, store: EvaluationCache | None = None
                      ) -> list[Evaluated]:
    """``evaluate_loaded``'s outcomes, each evaluation taken from ``store``
    when its key is there. Which files block a packet is decided as there, but from the
    records' indexes, so a cached packet and its candidate are never parsed."""
    by_path = problems_by_path(problems)
    when = as_of.isoformat() if as_of else "submitted"
    held = levels.Index(repo)
    if store is not None:
        decided = decisions_digest(repo.keys, repo.decisions.values())
        if decided is not None:
            store.keep_approvals(decided, {person: held.key(person) for person in held.moves})
        for ladder in repo.ladders.values():  # few: every one, for blocked packets too
            ladder_key = repo.keys.get(ladder.display)
            if ladder_key:
                store.name_framework(ladder_key, ladder.record.framework)
    outcomes = []
    for display in sorted(selected):
        src = repo.packets.get(display)
        packet_key = repo.keys.get(display)
        names = store.named(packet_key) if store is not None and packet_key else None
        if src is not None and names is None:
            names = (src.record.candidate, src.record.target.ladder)
            if store is not None and packet_key:
                store.name(packet_key, *names)
        sources, blocking = evaluation_inputs(repo, display, by_path, names)
        if sources is None:
            outcomes.append(Evaluated(display, None, blocking))
            continue
        src, person, ladder, framework = sources
        inputs = [repo.keys.get(s.display) for s in (src, person, ladder, framework)]
        key = None
        if store is not None and all(inputs):
            key = evaluation_key(display, when, [k for k in inputs if k],
                                 held.key(str(person.record_id)))
        result = _shown(store.get(key) if store is not None and key is not None else None)
        if result is None:
            packet = src.record
            spell = held.at(packet.candidate, as_of or packet.submitted)
            ev = evaluate(packet, person.record, ladder.record, framework.record, as_of,
                          spell.level, spell.ladder)
            result = shown(ev, display)
            if store is not None and key is not None and packet_key:
                store.put(key, Kept(result.path, result.nested, result.extras_text, result.ready),
                          packet_key, when)
        outcomes.append(Evaluated(display, result, (), key))
    return outcomes


def evaluation_key(display: str, when: str, inputs: Sequence[str], approvals: str) -> str:
    """The key of a packet's evaluation: its path, the as-of date, the content keys of
    the packet, candidate, ladder and framework, and the candidate's approvals key (their
    level comes from the person file and their approvals)."""
    return hashlib.sha256("\n".join(
        [display, when, *(f"{kind}:{k}" for kind, k in zip(
            ("packet", "person", "ladder", "framework"), inputs, strict=True)),
         f"approvals:{approvals}"]).encode(errors="surrogateescape")).hexdigest()


def decisions_digest(keys: Mapping[str, str], decisions: Iterable[Source | str]
                     ) -> str | None:
    """The content of every decision (what approvals keys are computed from), by their
    files' content keys; None when one has no key."""
    displays = sorted(d if isinstance(d, str) else d.display for d in decisions)
    digest = hashlib.sha256()
    for display in displays:
        key = keys.get(display)
        if key is None:
            return None
        digest.update(f"{display}\0{key}\n".encode(errors="surrogateescape"))
    return digest.hexdigest()


# The kinds of record an evaluation's key reads.
_READ = ("packet", "person", "ladder", "framework", "decision")


def evaluate_unchanged(root: Path, paths: Sequence[Path], as_of: date | None,
                       state: str | None = None, *, extras: bool = True
                       ) -> tuple[list[Evaluated], list[Problem], dict[str, str],
                                  repository.Snapshot | None] | None:
    """``evaluate_packets``'s answer when no record changed since the last whole run and
    every packet's evaluation is kept, with every record file's content key and, given
    the work tree's ``state`` taken before, the ``repository.Snapshot`` in it: each
    evaluation key is computed from the content keys the store knows, and nothing is
    loaded. None when it must load. ``extras``: as ``evaluate_packets``.

    With problems in the repository, only when every packet is asked for (the problems
    are then that run's) and no candidate, ladder or framework has any (a broken one
    blocks a packet otherwise than one with check problems, which the keys cannot tell).
    """
    found = repository.unchanged_in(root, state)
    if found is None:
        return None
    rows, every, snapshot = found
    chosen = repository.plain_selection(root, paths, rows)
    if chosen is None:
        return None
    selected, named = chosen
    problems = errors_only(every)
    if problems and len([d for d in selected if rows[d][1] == "packet"]) \
            != len([row for row in rows.values() if row[1] == "packet"]):
        return None
    ids: dict[tuple[str, str], str] = {}
    for display, (_key, kind, record_id) in rows.items():
        if record_id is None and kind is not None and kind not in _READ:
            continue  # the repository's settings, say
        if kind is None or record_id is None \
                or ids.setdefault((kind, record_id), display) != display:
            return None  # not what its lines seemed to say: the loading path decides
    store = EvaluationCache.of(root)
    try:
        answer = _from_keys(store, rows, ids, selected, named, problems, as_of, str(root),
                            extras)
        return None if answer is None else (
            *answer, {d: row[0] for d, row in rows.items()}, snapshot)
    finally:
        store.save()  # writes nothing here; ends its reads


def _from_keys(store: EvaluationCache, rows: repository.Rows, ids: dict[tuple[str, str], str],
               selected: list[str], named: set[str], problems: list[Problem],
               as_of: date | None, base: str, extras: bool
               ) -> tuple[list[Evaluated], list[Problem]] | None:
    approvals = store.approvals_of(decisions_digest(
        {d: row[0] for d, row in rows.items()},
        [d for d, row in rows.items() if row[1] == "decision"]) or "")
    if approvals is None:
        return None
    by_path = problems_by_path(problems)
    when = as_of.isoformat() if as_of else "submitted"
    store.preload_names()  # one query, not one per packet
    wanted: list[tuple[str, str | None]] = []  # (display, key), or no key when blocked
    for display in selected:
        packet_key, kind, _id = rows[display]
        if kind != "packet":
            if display in named:
                return None  # refused by the loading path, which says what it is
            continue
        names = store.named(packet_key)  # known only for a packet that was read
        if names is None or os.path.islink(os.path.join(base, display)):
            return None
        candidate, ladder_id = names
        person, ladder = ids.get(("person", candidate)), ids.get(("ladder", ladder_id))
        framework_id = store.framework_of(rows[ladder][0]) if ladder is not None else None
        framework = ids.get(("framework", framework_id)) if framework_id else None
        if person is None or ladder is None or framework is None \
                or any(d in by_path for d in (person, ladder, framework)):
            return None
        wanted.append((display, None if display in by_path else evaluation_key(
            display, when, [packet_key, *(rows[d][0] for d in (person, ladder, framework))],
            approvals.get(candidate, ""))))
    kept = store.get_many([key for _display, key in wanted if key is not None])
    outcomes = []
    for display, key in wanted:
        if key is None:
            outcomes.append(Evaluated(display, None, tuple(by_path[display])))
            continue
        result = _shown(kept.get(key), extras)
        if result is None:
            return None
        outcomes.append(Evaluated(display, result, (), key))
    return outcomes, problems
