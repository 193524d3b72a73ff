"""Readiness of one packet against its target level: a pure function of records and a date.

No I/O, no clock: the same records and as-of date always give the same ``Evaluation``.
The exact rules are documented in README.md ("Evaluation semantics").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from promoctl.records import coverage
from promoctl.records.models import (
    EvidenceItem,
    Framework,
    Gate,
    Ladder,
    LmsRule,
    Packet,
    Person,
    Promotion,
    TrainingRequirement,
)

READY = "READY"
NOT_READY = "NOT READY"
EXPIRY_WARNING_DAYS = 30


@dataclass(frozen=True)
class Reason:
    kind: str  # training | gate | competency | composite
    subject: str
    message: str
    short: str  # a few words for summary tables


@dataclass(frozen=True)
class TrainingResult:
    course: str
    title: str
    met: bool
    completed_on: date | None
    expires_on: date | None
    detail: str


@dataclass(frozen=True)
class GateResult:
    gate: Gate
    met: bool
    required: str
    qualifying: tuple[str, ...]
    excluded: tuple[tuple[str, str], ...]  # (item id, why it does not count)
    distinct_assessors: int


@dataclass(frozen=True)
class SourceScore:
    type: str
    score: Fraction
    weight: Decimal
    method: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class CompetencyResult:
    id: str
    name: str
    weight: Decimal
    minimum: Decimal | None
    score: Fraction | None
    sources: tuple[SourceScore, ...]
    unscored: tuple[tuple[str, str], ...]  # evidence that speaks to it but gives no score
    met: bool
    # Scored only from LMS milestones, none with an accepted project: the seeds' pitfall of
    # "over-weighting course completion without evidence of applied skill".
    completion_only: bool

    @property
    def status(self) -> str:
        if self.score is None:
            return "insufficient_evidence"
        return "met" if self.met else "below_minimum"


@dataclass(frozen=True)
class Evaluation:
    packet: Packet
    person: Person
    ladder: Ladder
    framework: Framework
    as_of: date
    training: tuple[TrainingResult, ...]
    gates: tuple[GateResult, ...]
    competencies: tuple[CompetencyResult, ...]
    composite: Fraction | None
    threshold: Decimal
    reasons: tuple[Reason, ...]
    warnings: tuple[str, ...]
    ignored: tuple[str, ...] = field(default=())  # items dated after the as-of date
    # The level the candidate held on the as-of date (levels.py); the person file's
    # level when not given.
    held_level: str | None = None

    @property
    def current_level(self) -> str:
        return self.held_level or self.person.level

    @property
    def ready(self) -> bool:
        return not self.reasons

    @property
    def verdict(self) -> str:
        return READY if self.ready else NOT_READY


def evaluate(packet: Packet, person: Person, ladder: Ladder, framework: Framework,
             as_of: date | None = None, current_level: str | None = None,
             current_ladder: str | None = None) -> Evaluation:
    """``current_level``/``current_ladder``: what the candidate held on the as-of date
    (``levels``); the person file's when not given."""
    as_of = as_of or packet.submitted
    level = ladder.level(packet.target.level)
    if level is None or level.promotion is None:  # checks.py reports this as a problem
        raise ValueError(f"level {packet.target.level!r} has no promotion rules")
    promo = level.promotion
    evidence = [item for item in packet.evidence if item.date <= as_of]
    late = [item for item in packet.evidence if item.date > as_of]
    ignored = tuple(item.id for item in late)

    training = tuple(_training(req, evidence, as_of) for req in promo.training)
    gates = tuple(gate_result(gate, evidence, as_of) for gate in promo.gates)
    competencies = tuple(_competency(line.competency, line.weight, line.minimum, promo,
                                     framework, evidence, late) for line in promo.rubric)
    composite = _composite(competencies)

    reasons: list[Reason] = []
    for t in training:
        if not t.met:
            reasons.append(Reason("training", t.course, f"mandatory training {t.title!r}: "
                                  f"{t.detail}", f"training {t.course}"))
    for g in gates:
        if not g.met:
            found = f"found {len(g.qualifying)} qualifying"
            if g.gate.distinct_assessors:
                found += f" from {g.distinct_assessors} distinct assessor(s)"
            reasons.append(Reason("gate", g.gate.id, f"gate {g.gate.id!r}: requires "
                                  f"{g.required}; {found}", f"gate {g.gate.id}"))
    for c in competencies:
        if c.score is None and c.unscored:
            reasons.append(Reason("competency", c.id, f"competency {c.id!r}: insufficient "
                                  f"evidence ({len(c.unscored)} item(s) name it, none with a "
                                  "score that counts: "
                                  + "; ".join(f"{item}: {why}" for item, why in c.unscored)
                                  + ")",
                                  f"{c.id}: no scored evidence"))
        elif c.score is None:
            reasons.append(Reason("competency", c.id, f"competency {c.id!r}: insufficient "
                                  "evidence (no scored evidence for it in the packet)",
                                  f"{c.id}: no evidence"))
        elif not c.met:
            reasons.append(Reason("competency", c.id, f"competency {c.id!r}: score "
                                  f"{fmt(c.score)} is below the minimum {c.minimum}",
                                  f"{c.id} {fmt(c.score)} < {c.minimum}"))
    threshold = promo.composite_threshold
    if composite is None:
        missing = [c.id for c in competencies if c.score is None]
        reasons.append(Reason("composite", "composite", "composite cannot be computed: "
                              f"insufficient evidence for {', '.join(missing)}",
                              "composite not computed"))
    elif composite < threshold:
        reasons.append(Reason("composite", "composite", f"composite {fmt(composite)} is below "
                              f"the threshold {threshold}",
                              f"composite {fmt(composite)} < {threshold}"))

    return Evaluation(packet=packet, person=person, ladder=ladder, framework=framework,
                      as_of=as_of, training=training, gates=gates, competencies=competencies,
                      composite=composite, threshold=threshold, reasons=tuple(reasons),
                      warnings=_warnings(person, competencies, training, ignored, as_of)
                      + tuple(n.message for n in coverage.notes(packet, ladder, framework))
                      + _other_ladder(person, packet, current_ladder),
                      ignored=ignored, held_level=current_level)


def fmt(value: Fraction | Decimal | None) -> str:
    """Two decimals, half up: what people see. Exact values stay in the JSON."""
    if value is None:
        return "-"
    scaled = Fraction(value) * 100
    rounded = (scaled.numerator * 2 + scaled.denominator) // (scaled.denominator * 2)
    sign = "-" if rounded < 0 else ""
    rounded = abs(rounded)
    return f"{sign}{rounded // 100}.{rounded % 100:02d}"


# ------------------------------------------------------------------------------ training


def _training(req: TrainingRequirement, evidence: Sequence[EvidenceItem],
              as_of: date) -> TrainingResult:
    done = [item for item in evidence
            if item.type == "training" and item.course == req.course
            and item.result.completed is not False and item.result.passed is not False]
    if not done:
        return TrainingResult(req.course, req.title, False, None, None,
                              f"no completion on or before {as_of}")
    latest = max(done, key=lambda item: item.date)
    expires = latest.date + timedelta(days=req.valid_days) if req.valid_days else None
    if expires is not None and as_of >= expires:
        return TrainingResult(req.course, req.title, False, latest.date, expires,
                              f"completed {latest.date}, expired {expires} "
                              f"(valid {req.valid_days} days)")
    detail = f"completed {latest.date}" + (f", valid until {expires}" if expires else "")
    return TrainingResult(req.course, req.title, True, latest.date, expires, detail)


# --------------------------------------------------------------------------------- gates


@dataclass(frozen=True)
class GateWords:
    """How a gate's conditions read: for the panel (ids, as in the reasons) or for the
    candidate (``labels``). ``{n}``, ``{v}`` and ``{type}`` are filled in."""

    count: str = "{n} {type} item(s)"
    window: str = "dated within {n} days"
    score: str = "score >= {v}"
    assessment: str = "assessment >= {v}%"
    passed: str = "passed"
    covers: str = "covering at least {n} days"
    supported: str = "supported by a {type} item"
    assessors: str = "from {n} distinct assessor(s)"
    type_name: Callable[[str, int], str] = lambda type_id, _count: type_id


def describe_gate(gate: Gate, words: GateWords = GateWords()) -> str:
    parts = [words.count.format(n=gate.min_count,
                                type=words.type_name(gate.evidence, gate.min_count))]
    if gate.window_days:
        parts.append(words.window.format(n=gate.window_days))
    if gate.min_score is not None:
        parts.append(words.score.format(v=gate.min_score))
    if gate.min_assessment is not None:
        parts.append(words.assessment.format(v=gate.min_assessment))
    if gate.require_pass:
        parts.append(words.passed)
    if gate.covers_days:
        parts.append(words.covers.format(n=gate.covers_days))
    if gate.supported_by:
        parts.append(words.supported.format(type=words.type_name(gate.supported_by, 1)))
    if gate.distinct_assessors:
        parts.append(words.assessors.format(n=gate.distinct_assessors))
    return ", ".join(parts)


def gate_result(gate: Gate, evidence: Sequence[EvidenceItem], as_of: date) -> GateResult:
    by_id = {item.id: item for item in evidence}
    qualifying: list[EvidenceItem] = []
    excluded: list[tuple[str, str]] = []
    for item in evidence:
        if item.type != gate.evidence:
            continue
        why = _why_not(gate, item, as_of, by_id)
        if why:
            excluded.append((item.id, why))
        else:
            qualifying.append(item)
    assessors = {item.assessor for item in qualifying if item.assessor}
    met = len(qualifying) >= gate.min_count and (
        gate.distinct_assessors is None or len(assessors) >= gate.distinct_assessors)
    return GateResult(gate, met, describe_gate(gate), tuple(i.id for i in qualifying),
                      tuple(excluded), len(assessors))


def _why_not(gate: Gate, item: EvidenceItem, as_of: date,
             by_id: dict[str, EvidenceItem]) -> str | None:
    result = item.result
    if gate.window_days is not None and (as_of - item.date).days > gate.window_days:
        return f"dated {item.date}, outside the {gate.window_days}-day window"
    if gate.min_score is not None and (result.score is None or result.score < gate.min_score):
        return "no score" if result.score is None else \
            f"score {result.score} is below {gate.min_score}"
    if gate.min_assessment is not None and (result.assessment is None
                                            or result.assessment < gate.min_assessment):
        return "no assessment result" if result.assessment is None else \
            f"assessment {result.assessment}% is below {gate.min_assessment}%"
    if gate.require_pass and result.passed is not True:
        return "not recorded as passed"
    if gate.covers_days is not None:
        period = result.period
        if period is None:
            return "no period covered"
        days = (period.end - period.start).days + 1
        if period.end > as_of:
            return f"period ends {period.end}, after the as-of date"
        if days < gate.covers_days:
            return f"covers {days} days ({period.start} to {period.end}), " \
                   f"fewer than {gate.covers_days}"
    if gate.supported_by is not None and not any(
            ref in by_id and by_id[ref].type == gate.supported_by for ref in item.based_on):
        return f"not based on any {gate.supported_by} item (list it in based_on)"
    return None


# --------------------------------------------------------------------------- competencies


def lms_score(rules: Sequence[LmsRule], item: EvidenceItem) -> Decimal | None:
    """The highest score among the rules the milestone satisfies, or None."""
    r = item.result
    scores = [rule.score for rule in rules if
              (rule.completed is None or r.completed is rule.completed)
              and (rule.min_assessment is None
                   or (r.assessment is not None and r.assessment >= rule.min_assessment))
              and (rule.project_accepted is None or r.project_accepted is rule.project_accepted)
              and (rule.passed is None or r.passed is rule.passed)]
    return max(scores) if scores else None


def _competency(competency_id: str, weight: Decimal, minimum: Decimal | None, promo: Promotion,
                framework: Framework, evidence: Sequence[EvidenceItem],
                late: Sequence[EvidenceItem] = ()) -> CompetencyResult:
    comp = framework.competency(competency_id)
    relevant = [item for item in evidence if competency_id in item.competencies]
    scored: dict[str, list[tuple[EvidenceItem, Decimal]]] = {}
    # Every item that names the competency and does not score it, with why: nothing
    # is left out without a word.
    unscored: list[tuple[str, str]] = []
    for item in relevant:
        why = coverage.not_counted(item, competency_id, promo, framework)
        if why is not None:
            unscored.append((item.id, why))
            continue
        if item.type == "lms_milestone":
            value = lms_score(promo.lms_rules, item)
            if value is None:
                unscored.append((item.id, "matches no LMS milestone rule"))
                continue
        else:
            if item.result.score is None:
                unscored.append((item.id, "has no score"))
                continue
            value = item.result.score
        scored.setdefault(item.type, []).append((item, value))
    unscored += [(item.id, f"dated {item.date}, after the as-of date")
                 for item in late if competency_id in item.competencies]

    sources = []
    for source_type in sorted(scored, key=_source_order(promo)):
        pairs = scored[source_type]
        ids = tuple(item.id for item, _ in pairs)
        if source_type == "lms_milestone":
            score, method = Fraction(max(v for _, v in pairs)), "highest milestone rule"
        elif source_type == "manager_rating":
            # The most recent rating stands; file order breaks a tie on the same day.
            latest = max(enumerate(pairs), key=lambda p: (p[1][0].date, p[0]))[1]
            score, method, ids = Fraction(latest[1]), "latest rating", (latest[0].id,)
        else:
            score = sum((Fraction(v) for _, v in pairs), Fraction(0)) / len(pairs)
            method = "mean of 1 rating" if len(pairs) == 1 else f"mean of {len(pairs)} ratings"
        weight_of = promo.source_weights.get(source_type, Decimal(1))
        sources.append(SourceScore(source_type, score, weight_of, method, ids))

    blended: Fraction | None = None
    if sources:  # weights renormalised over the sources present
        total = sum((Fraction(s.weight) for s in sources), Fraction(0))
        blended = sum((Fraction(s.weight) * s.score for s in sources), Fraction(0)) / total
    met = blended is not None and (minimum is None or blended >= minimum)
    completion_only = set(scored) == {"lms_milestone"} and not any(
        item.result.project_accepted for item, _ in scored["lms_milestone"])
    return CompetencyResult(competency_id, comp.name if comp else competency_id, weight,
                            minimum, blended, tuple(sources), tuple(unscored), met,
                            completion_only)


def _source_order(promo: Promotion) -> Callable[[str], tuple[int, str]]:
    """Sources in the order the ladder lists their weights, then by name."""
    order = {name: i for i, name in enumerate(promo.source_weights)}
    return lambda name: (order.get(name, len(order)), name)


def _composite(competencies: Sequence[CompetencyResult]) -> Fraction | None:
    if any(c.score is None for c in competencies):
        return None
    total = sum((Fraction(c.weight) for c in competencies), Fraction(0))
    return sum((Fraction(c.weight) * c.score for c in competencies  # type: ignore[operator]
                ), Fraction(0)) / total


# ------------------------------------------------------------------------------- warnings


def _warnings(person: Person, competencies: Sequence[CompetencyResult],
              training: Sequence[TrainingResult], ignored: Sequence[str],
              as_of: date) -> tuple[str, ...]:
    out = []
    for c in competencies:
        if c.completion_only:
            out.append(f"competency {c.id!r}: score rests only on course completion and "
                       "assessment, with no applied evidence (an observation, a rating or an "
                       "accepted project)")
    for t in training:
        if t.met and t.expires_on is not None \
                and (t.expires_on - as_of).days <= EXPIRY_WARNING_DAYS:
            out.append(f"mandatory training {t.title!r} expires on {t.expires_on}, within "
                       f"{EXPIRY_WARNING_DAYS} days of the as-of date")
    if ignored:
        out.append(f"{len(ignored)} evidence item(s) dated after {as_of} were not counted: "
                   f"{', '.join(ignored)}")
    if person.leaving_date is not None and person.leaving_date <= as_of:
        out.append(f"{person.id} left the organisation on {person.leaving_date}")
    return tuple(out)


def _other_ladder(person: Person, packet: Packet, current_ladder: str | None
                  ) -> tuple[str, ...]:
    ladder = current_ladder or person.ladder
    if ladder == packet.target.ladder:
        return ()
    return (f"{person.id} is on ladder {ladder!r}, not the packet's target ladder "
            f"{packet.target.ladder!r}",)
