"""Development plans from an evaluation's gaps, and probation plans from a level's rules."""

from __future__ import annotations

from datetime import date, timedelta

from promoctl.engine import labels
from promoctl.engine.evaluate import Evaluation, fmt
from promoctl.records.models import DevelopmentPlan, PlanStep, Probation, ProbationPlan, Promotion


def development_plan(ev: Evaluation, promo: Promotion, decided_on: date) -> DevelopmentPlan:
    """Every gap becomes a measurable step: what evidence, how much, by when."""
    recheck = decided_on + timedelta(days=promo.recheck_days)
    steps: list[PlanStep] = []

    def add(kind: str, subject: str, action: str, evidence: str | None = None,
            count: int | None = None) -> None:
        steps.append(PlanStep.model_validate({
            "id": f"step-{len(steps) + 1}", "kind": kind, "subject": subject,
            "action": action, "evidence": evidence, "count": count, "due": recheck}))

    # The actions are read by the candidate (letters, plans): in words, not ids.
    fw = ev.framework
    for t in ev.training:
        if not t.met:
            validity = next((r.valid_days for r in promo.training if r.course == t.course), None)
            how_long = f" (it is valid for {validity} days)" if validity else ""
            add("training", t.course, f"Complete the mandatory training '{t.title}' and add "
                f"the completion record to your evidence{how_long}.", "training", 1)
    for g in ev.gates:
        if not g.met:
            missing = max(g.gate.min_count - len(g.qualifying), 0)
            if g.gate.distinct_assessors and g.distinct_assessors < g.gate.distinct_assessors:
                more = g.gate.distinct_assessors - g.distinct_assessors
                missing = max(missing, more)
                extra = ", from an assessor other than those so far," if more == 1 \
                    else f", from {more} assessors other than those so far,"
            else:
                extra = ""
            add("gate", g.gate.id, f"Provide {missing} more "
                f"{labels.evidence(g.gate.evidence, missing)}{extra} for "
                f"'{labels.gate(g.gate)}', which asks for "
                f"{labels.gate_requirement(g.gate)}.", g.gate.evidence, missing)
    for c in ev.competencies:
        sources = _scoring_sources(ev, promo, c.id)
        kinds = labels.either(sources)
        minimum = labels.scale_point(fw, c.minimum) if c.minimum is not None else None
        if c.score is None:
            add("competency", c.id, f"Build evidence for '{c.name}': at least one scored "
                f"item, {kinds}" + (f", at {minimum} or above." if minimum is not None
                                    else "."),
                ", ".join(sources) or None, 1)
        elif not c.met:
            add("competency", c.id, f"Raise '{c.name}' from {fmt(c.score)} to at least "
                f"{minimum}, shown by new scored evidence: {kinds}.",
                ", ".join(sources) or None, 1)
    if ev.composite is not None and ev.composite < ev.threshold:
        add("composite", "composite", f"Raise your overall score (the weighted average of "
            f"the competencies) from {fmt(ev.composite)} to at least {ev.threshold}; the "
            "steps above are the ways to raise it.")
    if not steps:  # a READY packet deferred for other reasons: the panel says what to do
        add("composite", "panel", "Address the panel's reasons for this decision and "
            "resubmit the packet for re-check.")
    return DevelopmentPlan(recheck=recheck, steps=steps)


def _scoring_sources(ev: Evaluation, promo: Promotion, competency_id: str) -> list[str]:
    """Evidence types that can move this competency's score, as the ladder and framework say."""
    scoring = list(promo.source_weights)
    comp = ev.framework.competency(competency_id)
    if comp is not None and comp.evidence_sources and scoring:
        scoring = [t for t in scoring if t in comp.evidence_sources] or scoring
    elif comp is not None and not scoring:
        scoring = list(comp.evidence_sources)
    return scoring


def probation_plan(rules: Probation, start: date) -> ProbationPlan:
    return ProbationPlan(
        start=start,
        review_date=start + timedelta(days=rules.days),
        case_review_cadence=rules.case_review_cadence,
        documentation_sampling=rules.documentation_sampling,
        escalation_boundaries=list(rules.escalation_boundaries),
        caseload_rules=list(rules.caseload_rules),
    )
