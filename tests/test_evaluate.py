"""Evaluation semantics on small crafted records, through the core API."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from promoctl.engine.evaluate import Evaluation, evaluate, fmt
from promoctl.records.models import Framework, Ladder, Packet, Person

AS_OF = date(2026, 6, 30)


def framework() -> Framework:
    return Framework.model_validate({
        "kind": "framework", "format": 1, "id": "fw", "title": "F", "version": "1",
        "competencies": [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}],
    })


def ladder(**promotion: Any) -> Ladder:
    promo = {"rubric": [{"competency": "a", "weight": 1, "minimum": 2},
                        {"competency": "b", "weight": 1, "minimum": 2}],
             "composite_threshold": Decimal("2.5")}
    promo.update(promotion)
    return Ladder.model_validate({
        "kind": "ladder", "format": 1, "id": "l", "title": "L", "framework": "fw",
        "levels": [{"id": "one", "title": "One"},
                   {"id": "two", "title": "Two", "promotion": promo}],
    })


PERSON = Person.model_validate({
    "kind": "person", "format": 1, "id": "p", "name": "P", "program": "X", "ladder": "l",
    "level": "one", "start_date": "2020-01-01",
})


def item(id: str, type: str, days_before: int, comps: list[str] | None = None,
         **result: Any) -> dict[str, Any]:
    return {"id": id, "type": type, "date": (AS_OF - timedelta(days=days_before)).isoformat(),
            "competencies": comps or [], "result": result}


def run(evidence: list[dict[str, Any]], as_of: date | None = None, **promotion: Any
        ) -> Evaluation:
    packet = Packet.model_validate({
        "kind": "packet", "format": 1, "id": "pk", "candidate": "p",
        "target": {"ladder": "l", "level": "two"}, "submitted": AS_OF.isoformat(),
        "evidence": evidence,
    })
    return evaluate(packet, PERSON, ladder(**promotion), framework(), as_of)


def ratings(a: int | Decimal, b: int | Decimal) -> list[dict[str, Any]]:
    return [item("ra", "manager_rating", 1, ["a"], score=a),
            item("rb", "manager_rating", 1, ["b"], score=b)]


def test_composite_equal_to_threshold_passes() -> None:
    ev = run(ratings(2, 3))
    assert ev.composite == Fraction(5, 2) and ev.ready


def test_composite_is_exact_where_floats_are_not() -> None:
    # With floats, (0.1 * 3 + 0.2 * 3) / (0.1 + 0.2) is 2.9999999999999996.
    rubric = [{"competency": "a", "weight": Decimal("0.1"), "minimum": 2},
              {"competency": "b", "weight": Decimal("0.2"), "minimum": 2}]
    ev = run(ratings(3, 3), rubric=rubric, composite_threshold=3)
    assert ev.composite == 3 and ev.ready


def test_just_below_threshold_fails_even_if_it_rounds_up() -> None:
    ev = run(ratings(2, 3), composite_threshold=Decimal("2.501"))
    assert fmt(ev.composite) == "2.50"
    assert [r.kind for r in ev.reasons] == ["composite"]


def test_every_reason_is_listed() -> None:
    training = [{"course": "safe", "title": "Safeguarding"}]
    gates = [{"id": "obs", "evidence": "observation", "min_count": 2}]
    ev = run([item("rb", "manager_rating", 1, ["b"], score=1)], training=training, gates=gates)
    assert [(r.kind, r.subject) for r in ev.reasons] == [
        ("training", "safe"), ("gate", "obs"), ("competency", "a"), ("competency", "b"),
        ("composite", "composite")]


@pytest.mark.parametrize(("days_ago", "met"), [(364, True), (365, False), (366, False)])
def test_training_validity_boundary(days_ago: int, met: bool) -> None:
    training = [{"course": "safe", "title": "Safeguarding", "valid_days": 365}]
    ev = run([*ratings(3, 3), item("t", "training", days_ago, completed=True)
              | {"course": "safe"}], training=training)
    assert ev.training[0].met is met


def test_training_after_as_of_or_not_completed_does_not_count() -> None:
    training = [{"course": "safe", "title": "Safeguarding"}]
    future = item("t1", "training", -1) | {"course": "safe"}
    failed = item("t2", "training", 10, completed=False) | {"course": "safe"}
    ev = run([*ratings(3, 3), future, failed], training=training)
    assert not ev.training[0].met
    assert ev.ignored == ("t1",)


@pytest.mark.parametrize(("days_ago", "counted"), [(90, True), (91, False)])
def test_gate_window_boundary(days_ago: int, counted: bool) -> None:
    gates = [{"id": "obs", "evidence": "observation", "window_days": 90}]
    ev = run([*ratings(3, 3), item("o", "observation", days_ago, score=3)], gates=gates)
    assert ev.gates[0].met is counted


def test_gate_minimum_score_pass_and_assessment() -> None:
    gates = [{"id": "g", "evidence": "observation", "min_count": 1, "min_score": 3,
              "require_pass": True, "min_assessment": 80}]
    items = [item("low", "observation", 1, score=2, passed=True, assessment=90),
             item("nopass", "observation", 1, score=3, assessment=90),
             item("weak", "observation", 1, score=3, passed=True, assessment=79)]
    ev = run([*ratings(3, 3), *items], gates=gates)
    assert not ev.gates[0].met
    assert dict(ev.gates[0].excluded) == {
        "low": "score 2 is below 3", "nopass": "not recorded as passed",
        "weak": "assessment 79% is below 80%"}


@pytest.mark.parametrize(("start_days", "met"), [(59, True), (58, False)])
def test_gate_covered_period(start_days: int, met: bool) -> None:
    gates = [{"id": "esc", "evidence": "escalation_summary", "covers_days": 60}]
    period = {"start": (AS_OF - timedelta(days=start_days)).isoformat(),
              "end": AS_OF.isoformat()}
    ev = run([*ratings(3, 3), item("e", "escalation_summary", 0, period=period)], gates=gates)
    assert ev.gates[0].met is met  # inclusive count: start .. end is start_days + 1 days


def test_gate_supported_by() -> None:
    gates = [{"id": "att", "evidence": "supervisor_attestation",
              "supported_by": "case_review"}]
    review = item("cr", "case_review", 5)
    unsupported = item("a1", "supervisor_attestation", 1)
    ev = run([*ratings(3, 3), review, unsupported], gates=gates)
    assert not ev.gates[0].met
    supported = item("a2", "supervisor_attestation", 1) | {"based_on": ["cr"]}
    assert run([*ratings(3, 3), review, supported], gates=gates).gates[0].met


def test_gate_distinct_assessors() -> None:
    gates = [{"id": "peers", "evidence": "peer_feedback", "min_count": 2,
              "distinct_assessors": 2}]
    same = [item(f"p{i}", "peer_feedback", 1, score=3) | {"assessor": "x"} for i in range(3)]
    assert not run([*ratings(3, 3), *same], gates=gates).gates[0].met
    other = item("p9", "peer_feedback", 1, score=3) | {"assessor": "y"}
    assert run([*ratings(3, 3), *same, other], gates=gates).gates[0].met


LMS_RULES = [{"score": 1, "completed": True},
             {"score": 2, "completed": True, "min_assessment": 80},
             {"score": 3, "completed": True, "project_accepted": True}]


def test_lms_highest_matching_rule_wins() -> None:
    evidence = [item("m1", "lms_milestone", 5, ["a"], completed=True, assessment=80,
                     project_accepted=True),
                item("m2", "lms_milestone", 5, ["b"], completed=True, assessment=79)]
    ev = run(evidence, lms_rules=LMS_RULES, source_weights={"lms_milestone": 1})
    assert [c.score for c in ev.competencies] == [3, 1]


def test_lms_milestone_matching_no_rule_gives_no_score() -> None:
    evidence = [item("m1", "lms_milestone", 5, ["a"], completed=False), *ratings(3, 3)[1:]]
    ev = run(evidence, lms_rules=LMS_RULES,
             source_weights={"lms_milestone": 40, "manager_rating": 40})
    a = ev.competencies[0]
    assert a.score is None and a.unscored == (("m1", "matches no LMS milestone rule"),)
    assert ev.composite is None


def test_sources_blended_and_renormalised() -> None:
    weights = {"lms_milestone": 40, "manager_rating": 40, "peer_feedback": 20}
    evidence = [
        item("m", "lms_milestone", 5, ["a", "b"], completed=True, assessment=90),  # 2
        item("r-old", "manager_rating", 30, ["a"], score=1),
        item("r-new", "manager_rating", 3, ["a"], score=4),  # latest rating stands
        item("p1", "peer_feedback", 2, ["a"], score=3),
        item("p2", "peer_feedback", 2, ["a"], score=4),  # peers averaged: 3.5
    ]
    ev = run(evidence, lms_rules=LMS_RULES, source_weights=weights)
    a, b = ev.competencies
    assert a.score == Fraction(2 * 40 + 4 * 40 + Fraction(7, 2) * 20, 100)
    assert [s.items for s in a.sources] == [("m",), ("r-new",), ("p1", "p2")]
    assert b.score == 2  # only the LMS source present: its weight renormalises to 1
    assert b.completion_only and not a.completion_only
    assert any("'b': score rests only on course completion" in w for w in ev.warnings)


def test_evidence_types_outside_source_weights_do_not_score() -> None:
    evidence = [*ratings(3, 3), item("o", "observation", 1, ["a"], score=1)]
    ev = run(evidence, source_weights={"manager_rating": 1})
    assert ev.competencies[0].score == 3


def test_without_source_weights_every_scored_type_weighs_the_same() -> None:
    evidence = [*ratings(3, 3), item("o", "observation", 1, ["a"], score=1)]
    assert run(evidence).competencies[0].score == 2


def test_no_minimum_still_needs_evidence() -> None:
    rubric = [{"competency": "a", "weight": 1}, {"competency": "b", "weight": 1}]
    ev = run(ratings(1, 4), rubric=rubric)
    assert all(c.met for c in ev.competencies) and ev.ready
    assert not run(ratings(1, 4)[:1], rubric=rubric).competencies[1].met


def test_fmt_rounds_half_up() -> None:
    assert [fmt(Fraction(x, 1000)) for x in (2855, 2854, 2845, 1005)] == [
        "2.86", "2.85", "2.85", "1.01"]
    assert fmt(None) == "-"
