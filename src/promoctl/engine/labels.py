"""Human words for what records name by id: evidence types, competencies, gates, the
composite. Everything a candidate reads (letters, plans) goes through these; ids stay in
the records and in what the panel and auditors read."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from promoctl.engine.evaluate import GateWords, describe_gate
from promoctl.records.models import Framework, Gate, Ladder

COMPOSITE = "Overall score"

# singular, plural
_EVIDENCE = {
    "training": ("training record", "training records"),
    "observation": ("observation of practice", "observations of practice"),
    "documentation_audit": ("documentation audit", "documentation audits"),
    "escalation_summary": ("escalation summary", "escalation summaries"),
    "supervisor_attestation": ("supervisor's attestation", "supervisor's attestations"),
    "lms_milestone": ("learning milestone", "learning milestones"),
    "manager_rating": ("rating from your manager", "ratings from your manager"),
    "peer_feedback": ("piece of peer feedback", "pieces of peer feedback"),
    "case_review": ("case review", "case reviews"),
    "incident_review": ("incident review", "incident reviews"),
    "artifact": ("work sample", "work samples"),
}


def evidence(type_id: str, count: int = 1) -> str:
    """'observation of practice', or the plural for a count other than 1. A type the
    organisation added reads as its words ('site_visit' -> 'site visit')."""
    singular, plural = _EVIDENCE.get(type_id, (None, None))
    if singular is None or plural is None:
        words = type_id.replace("_", " ").replace("-", " ")
        return words if count == 1 else f"{words} items"
    return singular if count == 1 else plural


def evidence_kind(type_id: str) -> str:
    """The type as a heading: 'Observation of practice'."""
    text = evidence(type_id)
    return text[:1].upper() + text[1:]


def either(type_ids: Iterable[str]) -> str:
    """'an observation of practice or a rating from your manager'."""
    words = [_article(evidence(t)) for t in type_ids]
    if not words:
        return "any scored evidence"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _article(text: str) -> str:
    return ("an " if text[:1] in "aeiou" else "a ") + text


def competency(framework: Framework | None, competency_id: str) -> str:
    comp = framework.competency(competency_id) if framework is not None else None
    return comp.name if comp is not None else competency_id.replace("-", " ").capitalize()


def scale_point(framework: Framework | None, value: Decimal | int | float | str) -> str:
    """'2 (Meets expectations)' when the value is a point of the framework's scale."""
    text = str(value)
    if framework is None:
        return text
    label = next((s.label for s in framework.scale if str(s.value) == text), None)
    return f"{text} ({label})" if label else text


def gate(g: Gate) -> str:
    return g.title or g.id.replace("-", " ").capitalize()


# A gate's conditions in the candidate's words.
_GATE_WORDS = GateWords(
    count="{n} {type}", window="dated within {n} days", score="each scored {v} or more",
    assessment="with an assessment result of {v}% or more", passed="passed",
    covers="covering at least {n} days", supported="backed by {type} evidence",
    assessors="from {n} different assessors", type_name=lambda type_id, n: evidence(type_id, n))


def gate_requirement(g: Gate) -> str:
    """What a gate asks for, in words: '2 observations of practice, dated within 180
    days, each scored 2 or more, from 2 different assessors'."""
    return describe_gate(g, _GATE_WORDS)


def step_area(kind: str, subject: str, ladder: Ladder | None, level_id: str,
              framework: Framework | None) -> str:
    """The heading of a development-plan step: the training, gate or competency it is
    about, by name."""
    level = ladder.level(level_id) if ladder is not None else None
    promo = level.promotion if level is not None else None
    if kind == "competency":
        return competency(framework, subject)
    if kind == "gate" and promo is not None:
        found = next((g for g in promo.gates if g.id == subject), None)
        return gate(found) if found else subject
    if kind == "training" and promo is not None:
        course = next((t for t in promo.training if t.course == subject), None)
        return f"Training: {course.title}" if course else f"Training: {subject}"
    if kind == "composite" and subject == "panel":
        return "The panel's reasons"
    if kind == "composite":
        return COMPOSITE
    return subject


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")


def long_date(value: date | str | None) -> str:
    """'2 November 2026': how a letter writes a date (ISO text or a date; same output on
    every machine, whatever its locale)."""
    if value is None:
        return ""
    day = value if isinstance(value, date) else date.fromisoformat(value)
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
