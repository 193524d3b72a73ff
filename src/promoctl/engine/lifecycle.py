"""After promotion: probation, time-limited authorisation, re-checks, expiring training.

Pure functions of the records and an as-of date: ``status`` for one person, ``due`` for
everyone. The rules come from the ladder level (``probation``, ``revalidation``) and from
the decisions and reviews recorded so far.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from promoctl.engine import labels
from promoctl.records import levels
from promoctl.records.decided import superseded_ids
from promoctl.records.levels import Spell
from promoctl.records.loader import Repository
from promoctl.records.models import Decision, Ladder, Person, PlanStep, Review


@dataclass(frozen=True)
class DueItem:
    person: str
    name: str
    program: str
    kind: str  # probation-review, maintenance-review, recheck, plan-step, training
    due: date
    overdue: bool
    detail: str
    ref: str | None = None  # the decision or review it follows from

    def as_json(self) -> dict[str, Any]:
        return {"person": self.person, "name": self.name, "program": self.program,
                "kind": self.kind, "due": self.due.isoformat(), "overdue": self.overdue,
                "detail": self.detail, "ref": self.ref}


@dataclass
class Status:
    person: Person
    as_of: date
    spell: Spell  # the level held on as_of, as the records then said
    authorization: str  # not-required, valid, in-probation, drift, lapsed, left, not-started
    valid_until: date | None = None
    reason: str = ""
    probation: dict[str, Any] | None = None
    open_steps: list[tuple[str, PlanStep]] = field(default_factory=list)
    open_plans: list[str] = field(default_factory=list)  # decisions with an open plan
    drift_recheck: date | None = None  # an open drift's re-check date
    lapsed_on: date | None = None  # the review that found the authorisation lapsed
    decisions: list[Decision] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    due: list[DueItem] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        p = self.person
        return {
            "person": {"id": p.id, "name": p.name, "program": p.program,
                       "ladder": self.spell.ladder, "level": self.spell.level,
                       "level_since": self.spell.since.isoformat(),
                       "level_ref": self.spell.ref},
            "as_of": self.as_of.isoformat(),
            "authorization": self.authorization,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "reason": self.reason,
            "probation": self.probation,
            "open_steps": [{"decision": d, **s.model_dump(mode="json")}
                           for d, s in self.open_steps],
            "decisions": [{"id": d.id, "decided_on": d.decided_on.isoformat(),
                           "outcome": d.outcome, "level": d.target.level}
                          for d in self.decisions],
            "reviews": [{"id": r.id, "date": r.date.isoformat(), "type": r.type,
                         "outcome": r.outcome} for r in self.reviews],
            "due": [item.as_json() for item in self.due],
        }


def standing_records(repo: Repository, known_on: date | None = None
                     ) -> tuple[dict[str, list[Decision]], dict[str, list[Review]]]:
    """Decisions and reviews no other record supersedes, by person, oldest first.
    ``known_on``: only corrections made by that date count (a past as-of sees the
    records as they stood then)."""
    gone = superseded_ids(repo) if known_on is None else {
        s.record.supersedes for s in repo.decisions.values()
        if s.record.supersedes and s.record.decided_on <= known_on}
    gone_reviews = {s.record.supersedes for s in repo.reviews.values() if s.record.supersedes
                    and (known_on is None or s.record.date <= known_on)}
    decisions: dict[str, list[Decision]] = {}
    for src in repo.decisions.values():
        if src.record.id not in gone:
            decisions.setdefault(src.record.candidate, []).append(src.record)
    reviews: dict[str, list[Review]] = {}
    for src in repo.reviews.values():
        if src.record.id not in gone_reviews:
            reviews.setdefault(src.record.person, []).append(src.record)
    for items in decisions.values():
        items.sort(key=lambda d: (d.decided_on, d.id))
    for rev in reviews.values():
        rev.sort(key=lambda r: (r.date, r.id))
    return decisions, reviews


def status(repo: Repository, person_id: str, as_of: date,
           trainings: dict[str, dict[str, date]] | None = None,
           without: str | None = None) -> Status:
    """``without``: a review left out (the one a correction supersedes)."""
    decisions, reviews = standing_records(repo, as_of)
    mine = [r for r in reviews.get(person_id, []) if r.id != without]
    return _status(repo, repo.people[person_id].record, decisions.get(person_id, []),
                   mine, as_of, (trainings or {}).get(person_id, {}), levels.ladders_by_id(repo))


def _status(repo: Repository, p: Person, decisions: list[Decision], reviews: list[Review],
            as_of: date, completions: dict[str, date], ladders: dict[str, Ladder]) -> Status:
    # As things stood on the as-of date: later decisions and reviews had not happened yet
    # (levels.build leaves them out itself: it may read one the person file reflects).
    spell = levels.build(p, [levels.Move.of(d) for d in decisions if d.outcome == "approved"],
                         ladders, known_on=as_of).at(as_of)
    decisions = [d for d in decisions if d.decided_on <= as_of]
    reviews = [r for r in reviews if r.date <= as_of]
    completions = {course: when for course, when in completions.items() if when <= as_of}
    st = Status(person=p, as_of=as_of, spell=spell, authorization="not-required",
                decisions=decisions, reviews=reviews)
    ladder = ladders.get(spell.ladder)
    level = ladder.level(spell.level) if ladder else None
    level_name = level.title if level else spell.level  # what people read in due lists

    def due(kind: str, when: date, detail: str, ref: str | None = None) -> None:
        st.due.append(DueItem(p.id, p.name, p.program, kind, when, when < as_of, detail, ref))

    if p.leaving_date is not None and p.leaving_date <= as_of:
        st.authorization, st.reason = "left", f"left on {p.leaving_date}"
        return st
    if as_of < p.start_date:
        st.authorization, st.reason = "not-started", f"starts on {p.start_date}"
        return st

    promotion = next((d for d in decisions if d.id == spell.ref), None)
    start = spell.since
    later = [r for r in reviews if (r.ladder, r.level) == (spell.ladder, spell.level)
             and r.date >= start]

    # Probation: the controlled period until a probation review confirms the level.
    if promotion is not None and promotion.probation_plan is not None:
        plan = promotion.probation_plan
        review_date = plan.review_date
        confirmed = None
        for r in later:
            if r.type != "probation":
                continue
            if r.outcome == "confirmed":
                confirmed = r
            elif r.extended_until is not None:
                review_date = r.extended_until
        st.probation = {"decision": promotion.id, "review_date": review_date.isoformat(),
                        "confirmed": confirmed.date.isoformat() if confirmed else None,
                        "escalation_boundaries": list(plan.escalation_boundaries)}
        if confirmed is None:
            due("probation-review", review_date, f"probation review for {level_name} (escalation "
                "boundaries hold until then)", promotion.id)

    # Time-limited authorisation for levels that require re-validation.
    rules = level.revalidation if level else None
    if rules is not None:
        base, state, recheck, lapsed_on = start, "valid", None, None
        for r in later:
            if r.type == "recheck" and r.decision is not None:
                continue  # a development plan's re-check, not the authorisation's
            if (r.type, r.outcome) in (("maintenance", "sustained"), ("recheck", "resolved")):
                base, state, recheck = r.date, "valid", None
            elif r.outcome == "drift":
                state, recheck = "drift", r.recheck_by or r.date + timedelta(
                    days=rules.recheck_days)
            elif r.outcome in ("lapsed", "unresolved"):
                state, lapsed_on = "lapsed", r.date
        if state == "valid":
            until = base + timedelta(days=rules.interval_days)
            st.valid_until = until
            if as_of > until:
                st.authorization, st.reason = "lapsed", f"re-validation overdue since {until}"
            else:
                st.authorization, st.reason = "valid", f"re-validation due by {until}"
            due("maintenance-review", until, f"competency maintenance review for {level_name}")
        elif state == "drift":
            assert recheck is not None
            st.valid_until = st.drift_recheck = recheck
            if as_of > recheck:
                st.authorization, st.reason = "lapsed", f"re-check after drift overdue since " \
                    f"{recheck}"
            else:
                st.authorization, st.reason = "drift", f"drift found; targeted supports " \
                    f"until the re-check by {recheck}"
            due("recheck", recheck, f"re-check after drift at {level_name}")
        else:
            st.authorization, st.reason = "lapsed", f"authorisation lapsed on {lapsed_on}"
            st.lapsed_on = lapsed_on
    if st.probation is not None and st.probation["confirmed"] is None \
            and st.authorization in ("valid", "not-required"):
        st.authorization = "in-probation"
        st.reason = f"controlled period until the probation review on " \
                    f"{st.probation['review_date']}"

    # Development plans of standing deferrals and declines not followed by a newer decision.
    for d in decisions:
        if d.development_plan is None or any(
                o.decided_on > d.decided_on and o.target == d.target for o in decisions):
            continue
        # The plan's re-check, once held, closes it whatever it found: an unresolved
        # plan leads to a new packet and decision, not to the same re-check again.
        rechecked = any(r.type == "recheck" and r.decision == d.id for r in reviews)
        if rechecked:
            continue
        st.open_plans.append(d.id)
        # Names, not ids: due lists are read by managers.
        plan_ladder = ladders.get(d.target.ladder)
        framework = repo.framework(plan_ladder.framework) if plan_ladder else None
        target = plan_ladder.level(d.target.level) if plan_ladder else None
        for step in d.development_plan.steps:
            st.open_steps.append((d.id, step))
            if step.due < as_of:
                area = labels.step_area(step.kind, step.subject, plan_ladder, d.target.level,
                                        framework)
                due("plan-step", step.due, f"{area}: {step.action}", d.id)
        due("recheck", d.development_plan.recheck, f"re-check of the development plan for "
            f"{target.title if target else d.target.level}", d.id)

    # Mandatory training of the current level: the floor holds after promotion too.
    promo_rules = level.promotion if level else None
    for req in promo_rules.training if promo_rules else []:
        done = completions.get(req.course)
        if done is None:
            due("training", as_of, f"mandatory training '{req.title}': no completion on record")
        elif req.valid_days:
            due("training", done + timedelta(days=req.valid_days),
                f"mandatory training '{req.title}' expires (completed {done})")
    st.due.sort(key=lambda item: (item.due, item.kind))
    return st


def training_completions(repo: Repository) -> dict[str, dict[str, date]]:
    """person -> course -> latest completion, from packets and reviews."""
    out: dict[str, dict[str, date]] = {}

    def note(person: str, items: list[Any]) -> None:
        for item in items:
            if item.type == "training" and item.course and item.result.completed is not False \
                    and item.result.passed is not False:
                courses = out.setdefault(person, {})
                if item.course not in courses or courses[item.course] < item.date:
                    courses[item.course] = item.date

    for src in repo.packets.values():
        note(src.record.candidate, src.record.evidence)
    for src in repo.reviews.values():
        note(src.record.person, src.record.evidence)
    return out


def statuses(repo: Repository, as_of: date,
             completions: dict[str, dict[str, date]] | None = None) -> list[Status]:
    """Everyone's status at once (decisions and reviews indexed once, not per person)."""
    decisions, reviews = standing_records(repo, as_of)
    completions = completions or {}
    ladders = levels.ladders_by_id(repo)
    return [_status(repo, repo.people[person_id].record, decisions.get(person_id, []),
                    reviews.get(person_id, []), as_of, completions.get(person_id, {}),
                    ladders)
            for person_id in sorted(repo.people)]


def due(repo: Repository, as_of: date, within_days: int) -> list[DueItem]:
    """Everything due by ``as_of + within_days`` or already overdue, for everyone."""
    horizon = as_of + timedelta(days=within_days)
    items = [item for st in statuses(repo, as_of, training_completions(repo))
             for item in st.due if item.due <= horizon]
    return sorted(items, key=lambda i: (i.due, i.person, i.kind))
