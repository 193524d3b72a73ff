"""The data behind a manager's 1:1 agenda for one person (the seeds' "LMS milestones in
1:1 discussions"): what they completed since the last 1:1, their scores and artifacts,
what evidence the next level still needs, their open plan steps, and the next review.

``build`` is pure (records and dates in, a template context out); ``agenda_context``
loads the repository for it.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from promoctl.base.errors import UserError
from promoctl.engine import lifecycle, plans
from promoctl.engine.evaluate import Evaluation, evaluate, fmt
from promoctl.records.loader import Repository
from promoctl.records.models import EvidenceItem, Ladder, Packet, Person, Target
from promoctl.records.parsing import did_you_mean

# Without --since, the last 1:1 is taken to be this many days before the agenda's date
# (monthly 1:1s); nothing records 1:1s, so the manager says otherwise with --since.
DEFAULT_SINCE_DAYS = 30
MILESTONE_TYPES = ("lms_milestone", "training")


def _items(repo: Repository, person: Person, as_of: date) -> list[EvidenceItem]:
    """The person's evidence on or before ``as_of`` from their packets and reviews; an item
    repeated in a later packet counts once."""
    seen: set[tuple[str, str, date]] = set()
    out = []
    sources = [src.record.evidence for src in sorted(repo.packets.values(),
                                                      key=lambda s: s.record.submitted)
               if src.record.candidate == person.id]
    sources += [src.record.evidence for src in repo.reviews.values()
                if src.record.person == person.id]
    for evidence in sources:
        for item in evidence:
            key = (item.type, item.id, item.date)
            if item.date <= as_of and key not in seen:
                seen.add(key)
                out.append(item)
    return sorted(out, key=lambda i: (i.date, i.id))


def _item(item: EvidenceItem) -> dict[str, Any]:
    r = item.result
    result = []
    if r.assessment is not None:
        result.append(f"assessment {r.assessment}%")
    if r.raw_score is not None:  # as the LMS gave it, e.g. "points 7/10"
        top = f"/{r.raw_score.max}" if r.raw_score.max is not None else ""
        result.append(f"points {r.raw_score.raw}{top}")
    if r.score is not None:
        result.append(f"score {r.score}")
    for flag, text in ((r.completed, "completed"), (r.passed, "passed"),
                       (r.project_accepted, "project accepted")):
        if flag is not None:
            result.append(text if flag else f"not {text}")
    return {"id": item.id, "type": item.type, "date": item.date.isoformat(),
            "title": item.title or item.course or item.type.replace("_", " "),
            "assessor": item.assessor,
            "competencies": list(item.competencies), "result": ", ".join(result) or "-",
            "artifacts": [a.path for a in item.artifacts], "notes": item.notes}


def _readiness(repo: Repository, person: Person, ladder: Ladder, level_id: str,
               as_of: date) -> tuple[Evaluation | None, dict[str, Any] | None]:
    index = ladder.level_index(level_id)
    if index < 0 or index + 1 >= len(ladder.levels):
        return None, None
    nxt = ladder.levels[index + 1]
    framework = repo.framework(ladder.framework)
    if nxt.promotion is None or framework is None:
        return None, {"id": nxt.id, "title": nxt.title}
    target = Target(ladder=ladder.id, level=nxt.id)
    packets = sorted((s.record for s in repo.packets.values()
                      if s.record.candidate == person.id and s.record.target == target),
                     key=lambda p: (p.submitted, p.id))
    packet = packets[-1] if packets else Packet(
        kind="packet", format=1, id=f"{person.id}-agenda", candidate=person.id, target=target,
        submitted=as_of)
    ev = evaluate(packet, person, ladder, framework, as_of, level_id)
    return ev, {"id": nxt.id, "title": nxt.title, "packet": packet.id if packets else None}


def _gaps(ev: Evaluation, ladder: Ladder, as_of: date) -> list[dict[str, Any]]:
    level = ladder.level(ev.packet.target.level)
    if ev.ready or level is None or level.promotion is None:
        return []
    steps = plans.development_plan(ev, level.promotion, as_of).steps
    anchors = {c.id: c.anchors for c in ev.framework.competencies}
    out = []
    for s in steps:
        minimum = next((c.minimum for c in ev.competencies if c.id == s.subject), None)
        anchor = (anchors.get(s.subject, {}).get(math.ceil(minimum))
                  if s.kind == "competency" and minimum is not None else None)
        out.append({"kind": s.kind, "subject": s.subject, "action": s.action,
                    "evidence": s.evidence, "count": s.count, "anchor": anchor})
    return out


def _plan(st: lifecycle.Status, gaps: list[dict[str, Any]], evaluated: str | None
          ) -> dict[str, Any] | None:
    """The open development-plan steps (as ``status`` finds them), each marked by whether
    today's evaluation still shows its gap."""
    if not st.open_steps:
        return None
    decision_id = st.open_steps[-1][0]
    decision = next(d for d in st.decisions if d.id == decision_id)
    assert decision.development_plan is not None  # open steps come from it
    open_gaps = {(g["kind"], g["subject"]) for g in gaps}
    comparable = evaluated == decision.target.level
    return {"decision": decision.id, "decided_on": decision.decided_on.isoformat(),
            "outcome": decision.outcome, "recheck": decision.development_plan.recheck.isoformat(),
            "steps": [{"action": s.action, "due": s.due.isoformat(),
                       "status": ("open" if not comparable or (s.kind, s.subject) in open_gaps
                                  else "evidence now meets it")}
                      for d, s in st.open_steps if d == decision_id]}


REVIEWS = ("probation-review", "maintenance-review", "recheck")


def build(repo: Repository, person_id: str, as_of: date, since: date | None = None
          ) -> dict[str, Any]:
    person = repo.person(person_id)
    if person is None:
        raise UserError(f"{person_id}: no such person{did_you_mean(person_id, list(repo.people))}")
    since = since or as_of - timedelta(days=DEFAULT_SINCE_DAYS)
    if since > as_of:
        raise UserError(f"--since {since} is after the agenda's date {as_of}")
    items = _items(repo, person, as_of)
    recent = [i for i in items if i.date > since]
    completions: dict[str, date] = {}
    for i in items:
        if i.type == "training" and i.course and i.result.completed is not False \
                and i.result.passed is not False:
            completions[i.course] = max(i.date, completions.get(i.course, i.date))
    # Reviews, plan steps and training due: the same rules as `promoctl status` and `due`;
    # the level is the one held on the agenda's date, as the records then said.
    st = lifecycle.status(repo, person.id, as_of, {person.id: completions})
    ladder = repo.ladder(st.spell.ladder)
    if ladder is None:
        raise UserError(f"{person_id}: ladder {st.spell.ladder!r} is missing")
    level = ladder.level(st.spell.level)
    ev, nxt = _readiness(repo, person, ladder, st.spell.level, as_of)
    gaps = _gaps(ev, ladder, as_of) if ev else []
    ahead = [{"date": i.due.isoformat(), "what": i.detail, "overdue": i.overdue,
              "review": i.kind in REVIEWS} for i in st.due]
    return {
        "person": {"id": person.id, "name": person.name, "program": person.program,
                   "team": person.team, "manager": person.manager},
        "as_of": as_of.isoformat(), "since": since.isoformat(),
        "ladder_title": ladder.title, "level_title": level.title if level else st.spell.level,
        "authorization": st.reason,
        "milestones": [_item(i) for i in recent if i.type in MILESTONE_TYPES
                       and i.result.completed is not False and i.result.passed is not False],
        "scores": [_item(i) for i in recent
                   if i.result.assessment is not None or i.result.score is not None],
        "artifacts": [_item(i) for i in recent if i.type == "artifact" or i.artifacts],
        "next_level": nxt,
        "readiness": _readiness_summary(ev) if ev else None,
        "gaps": gaps,
        "plan": _plan(st, gaps, ev.packet.target.level if ev else None),
        "ahead": ahead,
        # The earliest review, overdue or not: an overdue one is the next to hold.
        "next_review": next((a for a in ahead if a["review"]), None),
    }


def _readiness_summary(ev: Evaluation) -> dict[str, Any]:
    return {
        "verdict": ev.verdict, "ready": ev.ready,
        "composite": None if ev.composite is None else fmt(ev.composite),
        "threshold": str(ev.threshold),
        "training": [{"title": t.title, "met": t.met, "detail": t.detail} for t in ev.training],
        "gates": [{"title": g.gate.title or g.gate.id, "met": g.met, "required": g.required,
                   "qualifying": len(g.qualifying)} for g in ev.gates],
        "competencies": [{"name": c.name, "score": fmt(c.score),
                          "minimum": "-" if c.minimum is None else str(c.minimum),
                          "status": c.status.replace("_", " ")} for c in ev.competencies],
        "warnings": list(ev.warnings),
    }


def agenda_context(root: Path, person_id: str, as_of: date, since: date | None
                   ) -> dict[str, Any]:
    from promoctl.records.repository import load_valid
    from promoctl.reports.documents import organisation

    repo = load_valid(root)
    return {"organisation": organisation(root), **build(repo, person_id, as_of, since)}
