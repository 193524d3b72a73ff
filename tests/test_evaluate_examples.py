"""The bundled examples: every verdict and score checked by value (worked out by hand)."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from promoctl.engine import evaluations
from promoctl.engine.evaluate import Evaluation
from tests.conftest import EXAMPLES, Cli


def _evaluate(name: str, as_of: str | None = None) -> Evaluation:
    from datetime import date

    path = next(EXAMPLES.glob(f"packets/*/{name}*.yaml"))
    outcomes, problems = evaluations.evaluate_fresh(
        EXAMPLES, [path], date.fromisoformat(as_of) if as_of else None)
    assert problems == []
    (outcome,) = outcomes
    assert outcome.evaluation is not None
    return outcome.evaluation


def _scores(ev: Evaluation) -> dict[str, Fraction | None]:
    return {c.id: c.score for c in ev.competencies}


def test_examples_validate(cli: Cli) -> None:
    result = cli("validate", "--repo", EXAMPLES)
    assert result.code == 0, result.out
    assert result.out == ""
    assert "all valid" in result.err


def test_community_ready() -> None:
    ev = _evaluate("amara-okafor")
    assert ev.verdict == "READY" and ev.reasons == ()
    assert all(g.met for g in ev.gates) and len(ev.gates) == 4
    assert all(t.met for t in ev.training) and len(ev.training) == 3
    # partner coordination: observation 3 (weight 40) and manager 2 (weight 30) -> 18/7
    assert _scores(ev) == {
        "risk-escalation": 3, "support-planning": 3, "decision-documentation": 3,
        "rights-practice": 3, "partner-coordination": Fraction(18, 7), "incident-learning": 2,
    }
    assert ev.composite == Fraction(20, 7)  # (260 + 10 * 18/7) / 100
    escalation = next(g for g in ev.gates if g.gate.id == "escalation-summary")
    assert escalation.qualifying == ("esc-summary",)
    attestation = next(g for g in ev.gates if g.gate.id == "supervisor-attestation")
    assert attestation.qualifying == ("attestation",)


def test_community_gate_failure_and_as_of() -> None:
    ev = _evaluate("ben-hughes")
    assert ev.verdict == "NOT READY"
    assert [r.subject for r in ev.reasons] == ["observed-practice"]
    gate = next(g for g in ev.gates if g.gate.id == "observed-practice")
    assert gate.qualifying == ("obs-risk-response",)
    assert gate.excluded == (("obs-care-planning",
                              "dated 2026-02-10, outside the 180-day window"),)
    assert ev.composite == Fraction(88, 35)  # 2.514..., passes 2.5 on its own
    assert ev.ignored == ("obs-partner-call",)
    assert any("dated after 2026-10-20" in w for w in ev.warnings)
    # The late observation counts once the as-of date reaches it.
    later = _evaluate("ben-hughes", as_of="2026-10-25")
    assert later.verdict == "READY"
    assert later.ignored == ()


def test_community_rubric_failure() -> None:
    ev = _evaluate("chloe-martin")
    assert all(g.met for g in ev.gates)
    assert _scores(ev)["risk-escalation"] == Fraction(11, 7)
    assert ev.composite == Fraction(53, 28)
    assert [(r.kind, r.subject) for r in ev.reasons] == [
        ("competency", "risk-escalation"), ("composite", "composite")]
    assert "score 1.57 is below the minimum 2" in ev.reasons[0].message
    assert "composite 1.89 is below the threshold 2.5" in ev.reasons[1].message


def test_community_insufficient_evidence() -> None:
    ev = _evaluate("dev-patel")
    partner = next(c for c in ev.competencies if c.id == "partner-coordination")
    assert partner.score is None and partner.status == "insufficient_evidence"
    assert not partner.met
    assert ev.composite is None
    assert [(r.kind, r.subject) for r in ev.reasons] == [
        ("competency", "partner-coordination"), ("composite", "composite")]
    # 2023-11-10 + 1095 days (2024 is a leap year)
    assert any("'First aid at work' expires on 2026-11-09" in w for w in ev.warnings)


def test_professional_ready_with_exact_half_up_rounding() -> None:
    ev = _evaluate("elena-rossi")
    assert ev.verdict == "READY"
    assert _scores(ev) == {
        "client-partnership": Fraction(27, 10),  # lms 2, manager 3, peers mean(3, 4)
        "technical-delivery": Fraction(16, 5),
        "leadership": Fraction(23, 10),
        "continuous-improvement": 3,  # no peer feedback: renormalised over lms + manager
    }
    assert ev.composite == Fraction(571, 200)  # 2.855 exactly
    from promoctl.engine.evaluate import fmt

    assert fmt(ev.composite) == "2.86"
    client = next(c for c in ev.competencies if c.id == "client-partnership")
    assert [(s.type, s.score) for s in client.sources] == [
        ("lms_milestone", 2), ("manager_rating", 3), ("peer_feedback", Fraction(7, 2))]


def test_professional_gate_failure_distinct_assessors() -> None:
    ev = _evaluate("farid-haddad")
    assert [r.subject for r in ev.reasons] == ["peer-feedback"]
    gate = next(g for g in ev.gates if g.gate.id == "peer-feedback")
    assert len(gate.qualifying) == 2 and gate.distinct_assessors == 1
    assert ev.composite == Fraction(67, 25)  # 2.68


def test_professional_rubric_failure() -> None:
    ev = _evaluate("grace-liu")
    assert _scores(ev)["leadership"] == Fraction(13, 10)  # lms rule 1 (64%), manager 1, peers
    assert ev.composite == Fraction(467, 200)  # 2.335 -> shown 2.34
    assert [(r.kind, r.subject) for r in ev.reasons] == [
        ("competency", "leadership"), ("composite", "composite")]


def test_professional_insufficient_evidence_and_completion_only_warning() -> None:
    ev = _evaluate("hiro-tanaka")
    assert _scores(ev)["continuous-improvement"] is None
    assert _scores(ev)["technical-delivery"] == 2  # 85% assessment; 80% is the boundary
    assert _scores(ev)["leadership"] == Fraction(11, 5)
    assert ev.verdict == "NOT READY"
    warnings = [w for w in ev.warnings if "rests only on course completion" in w]
    assert len(warnings) == 1 and "'technical-delivery'" in warnings[0]


def test_evaluate_directory_summary_and_exit_code(cli: Cli) -> None:
    result = cli("evaluate", EXAMPLES / "packets", "--repo", EXAMPLES, "--format", "json")
    assert result.code == 1  # evaluated; some packets are NOT READY
    data = json.loads(result.out)
    verdicts = {e["packet"]: e["verdict"] for e in data["evaluations"]}
    assert verdicts == {
        "amara-okafor-2026-10": "READY", "ben-hughes-2026-10": "NOT READY",
        "chloe-martin-2026-10": "NOT READY", "dev-patel-2026-10": "NOT READY",
        "elena-rossi-2026-h2": "READY", "farid-haddad-2026-h2": "NOT READY",
        "grace-liu-2026-h2": "NOT READY", "hiro-tanaka-2026-h2": "NOT READY",
    }
    assert data["problems"] == [] and data["not_evaluated"] == []


def test_ready_packet_exits_zero(cli: Cli) -> None:
    path = EXAMPLES / "packets/professional/elena-rossi-2026-h2.yaml"
    result = cli("evaluate", path)  # the repository is found from the packet's folder
    assert result.code == 0
    assert "READY" in result.out and "2.86" in result.out


def test_json_is_byte_identical_and_shaped(cli: Cli, examples: Path) -> None:
    args = ("evaluate", examples / "packets", "--as-of", "2026-11-01", "--format", "json")
    first = cli(*args).out
    assert cli(*args).out == first
    data = json.loads(first)
    assert data["format"] == 1 and data["as_of"] == "2026-11-01"
    elena = next(e for e in data["evaluations"] if e["packet"] == "elena-rossi-2026-h2")
    assert elena["composite"] == 2.86 and elena["composite_exact"] == "571/200"
    assert elena["path"] == "packets/professional/elena-rossi-2026-h2.yaml"
    assert set(elena) == {
        "packet", "path", "candidate", "target", "framework", "submitted", "as_of",
        "verdict", "ready", "training", "gates", "competencies", "composite",
        "composite_exact", "threshold", "reasons", "warnings", "ignored_evidence"}
    competency = elena["competencies"][0]
    assert set(competency) == {"id", "name", "weight", "minimum", "score", "score_exact",
                               "status", "met", "sources", "unscored"}


def test_markdown_report(cli: Cli) -> None:
    path = EXAMPLES / "packets/community/chloe-martin-2026-10.yaml"
    result = cli("evaluate", path, "--format", "markdown")
    assert result.code == 1
    assert result.out.startswith("# Chloe Martin (chloe-martin): NOT READY\n")
    assert "| Recognises and escalates risk triggers | 25 | 2 | 1.57 |" in result.out
    assert "- competency 'risk-escalation': score 1.57 is below the minimum 2" in result.out


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_summary_formats(cli: Cli, fmt: str) -> None:
    result = cli("evaluate", EXAMPLES / "packets", "--format", fmt)
    assert result.code == 1
    assert "Elena Rossi" in result.out and "Hiro Tanaka" in result.out
