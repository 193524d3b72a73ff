"""Evidence a packet holds that will not count the way its author may think.

Nothing here is an error: the packet is valid, but an item names a competency its target
level does not assess, or is of a type that does not score that competency, or two
raters disagree and only the latest rating stands. ``evaluate`` shows these as warnings
and ``validate`` as located warnings, from this one list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from promoctl.records.fields import BUILTIN_EVIDENCE_TYPES
from promoctl.records.models import EvidenceItem, Framework, Ladder, Packet, Promotion

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Note:
    loc: Loc  # where in the packet, for validate
    message: str


def not_counted(item: EvidenceItem, competency_id: str, promo: Promotion,
                framework: Framework) -> str | None:
    """Why an item of this type cannot score this competency at this level, or None."""
    if promo.source_weights and item.type not in promo.source_weights:
        return f"{item.type} is not a scoring source at this level (the ladder's " \
               f"source_weights: {', '.join(promo.source_weights)})"
    comp = framework.competency(competency_id)
    if comp is not None and comp.evidence_sources and item.type not in comp.evidence_sources:
        return f"{item.type} is not among the competency's evidence_sources " \
               f"({', '.join(comp.evidence_sources)})"
    return None


def notes(packet: Packet, ladder: Ladder, framework: Framework) -> list[Note]:
    level = ladder.level(packet.target.level)
    if level is None or level.promotion is None:
        return []
    promo = level.promotion
    assessed = {line.competency for line in promo.rubric}
    known = {c.id for c in framework.competencies}
    types = {*BUILTIN_EVIDENCE_TYPES, *framework.evidence_types}
    if not assessed <= known:
        return []  # the ladder's own error: no warnings piled on it
    out: list[Note] = []
    # competency -> the items naming it whose type cannot score it, when no item can
    barred: dict[str, list[tuple[int, EvidenceItem, str]]] = {}
    counting: set[str] = set()
    for i, item in enumerate(packet.evidence):
        for j, comp in enumerate(item.competencies):
            if comp not in known or item.type not in types:
                continue  # an error of its own
            if comp not in assessed:
                out.append(Note(("evidence", i, "competencies", j),
                                f"evidence {item.id!r} names competency {comp!r}, which "
                                f"level {level.id!r} does not assess: it is not counted in the "
                                "competency score (a gate may still count it)"))
                continue
            why = not_counted(item, comp, promo, framework)
            if why is None:
                counting.add(comp)
            else:
                barred.setdefault(comp, []).append((i, item, why))
    # An item that cannot score a competency is usually there for a gate, and is listed
    # in the evaluation's unscored; it deserves a warning when nothing else can score it.
    for comp, items in barred.items():
        if comp not in counting:
            for i, item, why in items:
                out.append(Note(("evidence", i, "type"), f"evidence {item.id!r} does not "
                                f"count for competency {comp!r}, and no other item in the "
                                f"packet can: {why}"))
    out.extend(_differing_raters(packet.evidence, assessed))
    return out


def _differing_raters(evidence: Sequence[EvidenceItem], assessed: set[str]) -> list[Note]:
    """Manager ratings of one competency by different raters: only the latest stands."""
    out = []
    for comp in sorted(assessed):
        rated = [(i, item) for i, item in enumerate(evidence)
                 if item.type == "manager_rating" and comp in item.competencies
                 and item.result.score is not None]
        raters = {item.assessor for _i, item in rated}
        if len(raters) < 2:
            continue
        latest_i, latest = max(rated, key=lambda pair: (pair[1].date, pair[0]))
        others = ", ".join(f"{item.assessor or 'unnamed'} {item.result.score} on {item.date}"
                           for _i, item in rated if item is not latest)
        out.append(Note(("evidence", latest_i, "assessor"),
                        f"competency {comp!r} has manager ratings from different raters: "
                        f"only the latest ({latest.assessor or 'unnamed'} "
                        f"{latest.result.score} on {latest.date}, {latest.id!r}) counts, "
                        f"not {others}"))
    return out
