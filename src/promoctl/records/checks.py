"""Cross-record checks of one record: every reference resolves and every number makes
sense.

Each check takes one loaded record (and the repository for lookups) and returns its
problems; ``checking.check_repository`` runs them all, so one run reports everything.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Container, Iterable, Mapping
from decimal import Decimal
from pathlib import Path

from promoctl.base.errors import WARNING, Problem, quote
from promoctl.base.fsutil import Unreadable, chunks
from promoctl.records import coverage, duties, levels
from promoctl.records.fields import BUILTIN_EVIDENCE_TYPES
from promoctl.records.loader import Repository
from promoctl.records.models import (
    REVIEW_OUTCOMES,
    Decision,
    Framework,
    Ladder,
    Packet,
    Person,
    Promotion,
    Review,
)
from promoctl.records.parsing import Source, did_you_mean
from promoctl.store.spill import SpillMap


def known_evidence_types(framework: Framework | None) -> list[str]:
    extra = framework.evidence_types if framework else []
    return [*BUILTIN_EVIDENCE_TYPES, *extra]


def _duplicates(items: Iterable[str]) -> list[int]:
    seen: set[str] = set()
    dups = []
    for i, item in enumerate(items):
        if item in seen:
            dups.append(i)
        seen.add(item)
    return dups


def dangling(repo: Repository, kind: str, value: str, table: Mapping[str, Source]) -> bool:
    """A reference to nothing; one to a record that exists but is broken is not reported."""
    return value not in table and value not in repo.broken_ids.get(kind, set())


def unknown(what: str, value: str, options: Iterable[str]) -> str:
    names = options.names() if isinstance(options, SpillMap) else list(options)
    return f"unknown {what} {quote(value)}{did_you_mean(value, names)}"


def check_framework(src: Source) -> list[Problem]:
    fw: Framework = src.record
    out: list[Problem] = []
    values = fw.scale_values
    if values != sorted(set(values)):
        out.append(src.problem(("scale",), "scale values must be unique and in ascending order"))
    types = known_evidence_types(fw)
    for i in _duplicates(fw.evidence_types):
        out.append(src.problem(("evidence_types", i), "evidence type listed twice"))
    for i, name in enumerate(fw.evidence_types):
        if name in BUILTIN_EVIDENCE_TYPES:
            out.append(src.problem(("evidence_types", i), f"{name!r} is built in; "
                                   "list only your own evidence types here"))
    ids = [c.id for c in fw.competencies]
    for i in _duplicates(ids):
        out.append(src.problem(("competencies", i, "id"), f"competency id {ids[i]!r} is "
                               "defined twice in this framework"))
    parents = {c.id: c.parent for c in fw.competencies}
    for i, comp in enumerate(fw.competencies):
        loc = ("competencies", i)
        if comp.category not in fw.categories:
            out.append(src.problem((*loc, "category"), unknown("category", comp.category,
                                                                fw.categories)
                                   + f"; this framework's categories: {', '.join(fw.categories)}"))
        if comp.parent is not None:
            if comp.parent not in parents:
                out.append(src.problem((*loc, "parent"),
                                       unknown("parent competency", comp.parent, parents)))
            elif _in_cycle(comp.id, parents):
                out.append(src.problem((*loc, "parent"),
                                       f"competency {comp.id!r} is its own ancestor"))
        for level in comp.anchors:
            if level not in values:
                out.append(src.problem((*loc, "anchors", level), f"anchor for level {level}, "
                                       f"which is not on the scale {values}", key=True))
        for j, source in enumerate(comp.evidence_sources):
            if source not in types:
                out.append(src.problem((*loc, "evidence_sources", j),
                                       unknown("evidence type", source, types)))
    return out


def _in_cycle(start: str, parents: dict[str, str | None]) -> bool:
    """True when following parents from ``start`` comes back to ``start`` itself."""
    seen = {start}
    node = parents.get(start)
    while node is not None and node in parents:
        if node == start:
            return True
        if node in seen:  # a cycle further up, not through start: reported there
            return False
        seen.add(node)
        node = parents[node]
    return False


def check_ladder(src: Source, repo: Repository) -> list[Problem]:
    ladder: Ladder = src.record
    out: list[Problem] = []
    fw = repo.framework(ladder.framework)
    if dangling(repo, "framework", ladder.framework, repo.frameworks):
        out.append(src.problem(("framework",), unknown("framework", ladder.framework,
                                                       repo.frameworks)))
    for i in _duplicates(lv.id for lv in ladder.levels):
        out.append(src.problem(("levels", i, "id"), "level id used twice in this ladder"))
    types = known_evidence_types(fw)

    def on_scale(value: Decimal, at: tuple[str | int, ...], what: str) -> None:
        if fw is not None and not min(fw.scale_values) <= value <= max(fw.scale_values):
            out.append(src.problem(at, f"{what} {value} is outside the scale of framework "
                                   f"{fw.id!r} ({min(fw.scale_values)} to "
                                   f"{max(fw.scale_values)})"))

    for i, level in enumerate(ladder.levels):
        promo = level.promotion
        if promo is None:
            continue
        loc = ("levels", i, "promotion")
        if i == 0:
            out.append(src.problem(loc, "the first level of a ladder cannot be promoted into; "
                                   "put promotion rules on the levels above it"))

        for j in _duplicates(r.competency for r in promo.rubric):
            out.append(src.problem((*loc, "rubric", j, "competency"),
                                   "competency assessed twice in this rubric"))
        for j, line in enumerate(promo.rubric):
            if fw is not None and fw.competency(line.competency) is None:
                out.append(src.problem((*loc, "rubric", j, "competency"),
                                       unknown("competency", line.competency,
                                                [c.id for c in fw.competencies])
                                       + f" in framework {fw.id!r}"))
            if line.minimum is not None:
                on_scale(line.minimum, (*loc, "rubric", j, "minimum"), "minimum")
            out.extend(_unweighted_sources(src, fw, promo, line.competency,
                                           (*loc, "rubric", j, "competency")))
        on_scale(promo.composite_threshold, (*loc, "composite_threshold"), "composite threshold")
        # Without the framework its own evidence types are unknown: check types only with it.
        for name in promo.source_weights:
            if fw is not None and name not in types:
                out.append(src.problem((*loc, "source_weights", name),
                                       unknown("evidence type", name, types), key=True))
        for j, rule in enumerate(promo.lms_rules):
            on_scale(rule.score, (*loc, "lms_rules", j, "score"), "score")
            conditions = (rule.completed, rule.min_assessment, rule.project_accepted, rule.passed)
            if all(condition is None for condition in conditions):
                out.append(src.problem((*loc, "lms_rules", j), "rule has no condition; give "
                                       "completed, min_assessment, project_accepted or passed"))
        for j in _duplicates(g.id for g in promo.gates):
            out.append(src.problem((*loc, "gates", j, "id"), "gate id used twice in this level"))
        for j, gate in enumerate(promo.gates):
            for attr in ("evidence", "supported_by"):
                value = getattr(gate, attr)
                if fw is not None and value is not None and value not in types:
                    out.append(src.problem((*loc, "gates", j, attr),
                                           unknown("evidence type", value, types)
                                           + "; no evidence item can ever meet this gate"))
            if gate.min_score is not None:
                on_scale(gate.min_score, (*loc, "gates", j, "min_score"), "min_score")
            if gate.distinct_assessors is not None and gate.distinct_assessors > gate.min_count:
                out.append(src.problem((*loc, "gates", j, "distinct_assessors"),
                                       "distinct_assessors cannot exceed min_count"))
        for j in _duplicates(t.course for t in promo.training):
            out.append(src.problem((*loc, "training", j, "course"), "training listed twice"))
    return out


def _unweighted_sources(src: Source, fw: Framework | None, promo: Promotion,
                        competency_id: str, loc: tuple[str | int, ...]) -> list[Problem]:
    """A rubric competency no evidence can score: the level's source_weights leave out
    every type its evidence_sources allow. (Leaving out some is usual: a framework serves
    several ladders, and some types are there for gates.)"""
    comp = fw.competency(competency_id) if fw is not None else None
    if comp is None or not comp.evidence_sources or not promo.source_weights \
            or any(t in promo.source_weights for t in comp.evidence_sources):
        return []
    return [src.problem(loc, f"none of competency {competency_id!r}'s evidence_sources "
                        f"({', '.join(comp.evidence_sources)}) is in this level's "
                        "source_weights, so no evidence can score it"
                        )._replace(severity=WARNING)]


def _ladder_and_level(src: Source, repo: Repository, ladder_id: str, level_id: str
                      ) -> list[Problem]:
    """The record's top-level ``ladder`` and ``level`` fields name a real level."""
    ladder = repo.ladder(ladder_id)
    if ladder is None:
        if dangling(repo, "ladder", ladder_id, repo.ladders):
            return [src.problem(("ladder",), unknown("ladder", ladder_id, repo.ladders))]
    elif ladder.level(level_id) is None:
        return [src.problem(("level",), unknown("level", level_id,
                                                 [lv.id for lv in ladder.levels])
                            + f" in ladder {ladder.id!r}")]
    return []


def check_person(src: Source, repo: Repository) -> list[Problem]:
    person: Person = src.record
    out = _ladder_and_level(src, repo, person.ladder, person.level)
    if person.manager is not None and dangling(repo, "person", person.manager, repo.people):
        out.append(src.problem(("manager",), unknown("person", person.manager, repo.people)))
    if person.manager == person.id:
        out.append(src.problem(("manager",), "a person cannot be their own manager"))
    if person.leaving_date is not None and person.leaving_date < person.start_date:
        out.append(src.problem(("leaving_date",), "leaving_date is before start_date"))
    if person.level_since is not None and person.level_since < person.start_date:
        out.append(src.problem(("level_since",), "level_since is before start_date"))
    return out


def check_packet(src: Source, repo: Repository, decided: Container[str] = frozenset(),
                 held: levels.Index | None = None) -> list[Problem]:
    """``decided``: ids of packets a decision was made on; they are history, so the
    candidate may since have reached the target level. ``held``: level history, read
    once for many packets."""
    packet: Packet = src.record
    out: list[Problem] = []
    place = _ladder_level_of(repo, packet.candidate, held)
    if dangling(repo, "person", packet.candidate, repo.people):
        out.append(src.problem(("candidate",), unknown("person", packet.candidate,
                                                       repo.people)))
    if packet.supervisor is not None and dangling(repo, "person", packet.supervisor,
                                                   repo.people):
        out.append(src.problem(("supervisor",), unknown("person", packet.supervisor,
                                                        repo.people)))
    ladder = repo.ladder(packet.target.ladder)
    fw = repo.framework(ladder.framework) if ladder else None
    if ladder is None:
        if dangling(repo, "ladder", packet.target.ladder, repo.ladders):
            out.append(src.problem(("target", "ladder"),
                                   unknown("ladder", packet.target.ladder, repo.ladders)))
    else:
        level = ladder.level(packet.target.level)
        if level is None:
            out.append(src.problem(("target", "level"),
                                   unknown("level", packet.target.level,
                                            [lv.id for lv in ladder.levels])
                                   + f" in ladder {ladder.id!r}"))
        elif level.promotion is None:
            out.append(src.problem(("target", "level"), f"level {level.id!r} of ladder "
                                   f"{ladder.id!r} has no promotion rules to evaluate against"))
        elif place is not None and packet.id not in decided and place[0] == ladder.id and \
                ladder.level_index(place[1]) >= ladder.level_index(level.id):
            out.append(src.problem(("target", "level"), f"{packet.candidate} is already at "
                                   f"level {place[1]!r}{place[2]}; the target must be above "
                                   "it"))
        if place is not None and packet.id not in decided and place[0] != ladder.id \
                and place[0] in repo.ladders:
            out.append(src.problem(("target", "ladder"), f"{packet.candidate} is on ladder "
                                   f"{place[0]!r} (level {place[1]!r}{place[2]}), not the "
                                   f"packet's target ladder {ladder.id!r}"
                                   )._replace(severity=WARNING))
    out.extend(_check_evidence(src, repo, fw))
    if ladder is not None and fw is not None:
        out.extend(src.problem(note.loc, note.message)._replace(severity=WARNING)
                   for note in coverage.notes(packet, ladder, fw))
    return out


def _ladder_level_of(repo: Repository, person_id: str, held: levels.Index | None = None
                     ) -> tuple[str, str, str] | None:
    """A person's latest ladder and level from their level history, and where it comes
    from (from what loading kept of the person and the decisions when it can, so validate
    need not keep, or parse again, thousands of records)."""
    try:
        spell = (held or levels.Index(repo)).history(person_id).current
    except KeyError:  # unknown, or broken (its own problems say so)
        return None
    where = f" (from {spell.since}, decision {spell.ref})" if spell.ref else ""
    return spell.ladder, spell.level, where


def people_named(repo: Repository, src: Source) -> list[str]:
    """The people a packet names, from its cache entry (the key only matters there)."""
    cache, key = repo.cache, repo.keys.get(src.display)
    entry = cache.entries.get(key) if cache is not None and key is not None else None
    return [str(rid) for kind, rid in (entry or {}).get("refs", []) if kind == "person"]


def level_key(repo: Repository, person_id: str, held: levels.Index) -> str:
    """What a packet's checks read of its candidate's decisions, for their cache key."""
    return f"approvals:{held.key(person_id)}" if person_id in repo.people else ""


def _check_evidence(src: Source, repo: Repository, fw: Framework | None) -> list[Problem]:
    packet: Packet = src.record
    out: list[Problem] = []
    types = known_evidence_types(fw)
    ids = [item.id for item in packet.evidence]
    for i in _duplicates(ids):
        out.append(src.problem(("evidence", i, "id"), f"evidence id {ids[i]!r} used twice"))
    competencies = [c.id for c in fw.competencies] if fw else []
    for i, item in enumerate(packet.evidence):
        loc = ("evidence", i)
        if fw is not None and item.type not in types:
            out.append(src.problem((*loc, "type"), unknown("evidence type", item.type, types)))
        for j, comp in enumerate(item.competencies):
            if fw is not None and comp not in competencies:
                out.append(src.problem((*loc, "competencies", j),
                                       unknown("competency", comp, competencies)
                                       + f" in framework {fw.id!r}"))
        message = score_problem(item.result.score, fw)
        if message:
            out.append(src.problem((*loc, "result", "score"), message))
        period = item.result.period
        if period is not None and period.end < period.start:
            out.append(src.problem((*loc, "result", "period"), "period ends before it starts"))
        for j, ref in enumerate(item.based_on):
            if ref not in ids:
                out.append(src.problem((*loc, "based_on", j),
                                       unknown("evidence item", ref, ids) + " in this packet"))
            elif ref == item.id:
                out.append(src.problem((*loc, "based_on", j), "an item cannot rest on itself"))
        for j, artifact in enumerate(item.artifacts):
            message = _check_artifact(repo.root, artifact.path, artifact.sha256)
            if message:
                out.append(src.problem((*loc, "artifacts", j, "path"), message))
    return out


def score_problem(score: Decimal | None, fw: Framework | None) -> str | None:
    """What is wrong with an evidence item's score on the framework's scale, if anything."""
    if score is None or fw is None:
        return None
    low, high = min(fw.scale_values), max(fw.scale_values)
    if not low <= score <= high:
        return f"score {score} is outside the scale of framework {fw.id!r} ({low} to {high})"
    if score not in fw.scale_values:
        # A scale is a set of whole-number levels: 2.5 is between two of them.
        values = ", ".join(str(v) for v in sorted(fw.scale_values))
        return (f"score {score} is not a level of the scale of framework {fw.id!r}; give one "
                f"of {values}")
    return None


def _check_artifact(root: Path, relative: str, sha256: str) -> str | None:
    if "\0" in relative:
        return f"artifact path {quote(relative)} contains a NUL character"
    if Path(relative).is_absolute() or "\\" in relative:
        return f"artifact path {quote(relative)} must be relative to the repository, with '/'"
    digest = hashlib.sha256()
    base = os.path.realpath(root)
    target = os.path.join(base, relative)
    # realpath: a linked folder on the way must not lead out of the repository either
    if os.path.commonpath([base, os.path.realpath(target)]) != base:
        return f"artifact {quote(relative)} is outside the repository"
    try:
        for chunk in chunks(target, base):
            digest.update(chunk)
    except Unreadable as exc:
        if str(exc) == "does not exist":
            return f"artifact {quote(relative)} does not exist"
        return f"artifact {quote(relative)} {exc}"
    if digest.hexdigest() != sha256:
        return (f"artifact {quote(relative)} has sha256 {digest.hexdigest()}, not the "
                f"{sha256} recorded; was it changed after the packet was written?")
    return None


def person_name(repo: Repository, person_id: str) -> str | None:
    """A person's name, from what loading kept of the person (no parsing)."""
    found = repo.people.get(person_id)
    return str(found.meta["name"]) if found is not None and found.meta.get("name") else None


def check_decision(src: Source, repo: Repository) -> list[Problem]:
    decision: Decision = src.record
    out: list[Problem] = []
    if dangling(repo, "person", decision.candidate, repo.people):
        out.append(src.problem(("candidate",), unknown("person", decision.candidate,
                                                       repo.people)))
    snapshot = decision.evaluation.get("candidate")
    if not isinstance(snapshot, dict) or snapshot.get("id") != decision.candidate:
        out.append(src.problem(("evaluation",), "the evaluation snapshot does not name this "
                               "decision's candidate"))
    ladder = repo.ladder(decision.target.ladder)
    if ladder is None:
        if dangling(repo, "ladder", decision.target.ladder, repo.ladders):
            out.append(src.problem(("target", "ladder"),
                                   unknown("ladder", decision.target.ladder, repo.ladders)))
    elif ladder.level(decision.target.level) is None:
        out.append(src.problem(("target", "level"), unknown(
            "level", decision.target.level, [lv.id for lv in ladder.levels])))
    if decision.outcome == "approved" and decision.development_plan is not None:
        out.append(src.problem(("development_plan",), "an approval has a probation plan, "
                               "not a development plan"))
    if decision.outcome != "approved" and decision.probation_plan is not None:
        out.append(src.problem(("probation_plan",), f"a {decision.outcome} decision has no "
                               "probation plan"))
    person_src = repo.people.get(decision.candidate)
    packet_src = repo.packet_ids.get(decision.inputs.packet.id)
    if person_src is not None:
        parties = duties.Parties.from_meta(decision.candidate, person_src.meta,
                                           packet_src.meta if packet_src else None)
        for breach in duties.breaches(duties.load_policy(repo.root).separation_of_duties,
                                      decision.panel, parties, lambda pid: person_name(repo, pid)):
            out.append(src.problem(("panel",), breach))
    verdict = decision.evaluation.get("verdict")
    if decision.against_evaluation and decision.override is None:
        out.append(src.problem(("outcome",), f"{decision.outcome} goes against the recorded "
                               f"verdict {verdict}, so it is an override, but the record has "
                               "no override block with its justification"))
    elif not decision.against_evaluation and decision.override is not None:
        out.append(src.problem(("override",), f"the record has an override block, but "
                               f"{decision.outcome} agrees with the recorded verdict {verdict}"))
    return out


def check_review(src: Source, repo: Repository) -> list[Problem]:
    review: Review = src.record
    out: list[Problem] = []
    if dangling(repo, "person", review.person, repo.people):
        out.append(src.problem(("person",), unknown("person", review.person, repo.people)))
    out.extend(_ladder_and_level(src, repo, review.ladder, review.level))
    ladder = repo.ladder(review.ladder)
    allowed = REVIEW_OUTCOMES[review.type]
    if review.outcome not in allowed:
        out.append(src.problem(("outcome",), f"a {review.type} review's outcome is one of "
                               f"{', '.join(allowed)}, not {review.outcome!r}"))
    if review.outcome == "drift" and (review.recheck_by is None or not review.supports):
        out.append(src.problem(("outcome",), "drift needs the targeted supports (supports) "
                               "and the re-check date (recheck_by)"))
    if review.recheck_by is not None and review.recheck_by < review.date:
        out.append(src.problem(("recheck_by",), "recheck_by is before the review date"))
    if review.outcome == "extended" and review.extended_until is None:
        out.append(src.problem(("extended_until",), "an extended probation needs "
                               "extended_until, the new end of the controlled period"))
    for attr, table in (("decision", repo.decisions), ("supersedes", repo.reviews)):
        value = getattr(review, attr)
        if value is not None and dangling(repo, attr if attr == "decision" else "review",
                                           value, table):
            out.append(src.problem((attr,), unknown(attr if attr == "decision" else
                                                     "review", value, table)))
    fw = repo.framework(ladder.framework) if ladder else None
    types = known_evidence_types(fw)
    ids = [item.id for item in review.evidence]
    for i in _duplicates(ids):
        out.append(src.problem(("evidence", i, "id"), f"evidence id {ids[i]!r} used twice"))
    for i, item in enumerate(review.evidence):
        if fw is not None and item.type not in types:
            out.append(src.problem(("evidence", i, "type"),
                                   unknown("evidence type", item.type, types)))
    return out
