"""Evidence packets for the synthetic people: community-services and professional
ladders, with observations, audits, courses and assessors that keep the separation of
duties."""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from .sizes import FIRST_SUBMISSION, LAST_SUBMISSION
from .staff import PersonRow, Staff, slug
from .yamltext import render_item, scalar


def _score(rng: random.Random, ability: float, spread: float = 0.6) -> int:
    return max(1, min(4, round(ability + rng.gauss(0, spread))))


def _before(day: date, lo: int, hi: int, rng: random.Random) -> date:
    return day - timedelta(days=rng.randint(lo, hi))


def _groups(rng: random.Random, items: Sequence[str], lo: int, hi: int) -> list[list[str]]:
    """Split ``items`` into between ``lo`` and ``hi`` non-empty groups, at random."""
    pool = list(items)
    rng.shuffle(pool)
    k = max(1, min(len(pool), rng.randint(lo, hi)))
    cuts = sorted(rng.sample(range(1, len(pool)), k - 1)) if k > 1 else []
    return [pool[a:b] for a, b in zip([0, *cuts], [*cuts, len(pool)], strict=True)]


def _sentences(rng: random.Random, pool: Sequence[str], lo: int, hi: int,
               **fmt: Any) -> str | None:
    """Between ``lo`` and ``hi`` sentences from ``pool``; None (no notes) for zero."""
    picked = rng.sample(list(pool), rng.randint(lo, hi))
    return " ".join(s.format(**fmt) for s in picked) or None


NOTES = (
    "{first} prepared thoroughly and explained each step to the person being supported.",
    "Records were completed the same day and matched what was observed.",
    "Handled an unexpected change calmly and kept the family informed throughout.",
    "Checked understanding with the person and adjusted the plan to their stated choices.",
    "Escalated a concern promptly, with a clear rationale recorded in the notes.",
    "Worked well with the visiting district nurse and agreed clear next steps.",
    "Some entries lacked times; discussed in supervision and corrected the following week.",
    "Demonstrated a good grasp of the local safeguarding pathway and when to use it.",
    "Followed the medication procedure exactly, including the second-check signature.",
    "Used plain language and checked consent before each part of the visit.",
    "Reflected afterwards on what could have gone better and wrote it up unprompted.",
    "Coordinated with the housing officer and the GP surgery to avoid a missed review.",
    "Needed a prompt to record the follow-up action, then completed it without delay.",
    "Feedback from the person and their family was consistently positive.",
)
PRO_NOTES = (
    "{first} kept the client sponsor informed with a short weekly written update.",
    "The delivery plan was realistic and the team met every milestone in the quarter.",
    "Handled a difficult steering meeting well and left with agreed decisions.",
    "Mentored two junior consultants through their first client workshops.",
    "Raised a scope risk early and proposed a workable change request.",
    "The design document was clear, reviewed once and accepted without rework.",
    "Could delegate more; spent evenings on tasks the team could have taken on.",
    "Introduced a lightweight retrospective that the wider practice has now adopted.",
    "Client feedback in the quarterly survey named {first} as a highlight of the engagement.",
    "Estimates were occasionally optimistic; this improved over the second half.",
    "Brought in data engineering colleagues at the right moment to unblock delivery.",
    "Presented findings to the executive team with confidence and good judgement.",
)


@dataclass
class PacketOut:
    group: str
    packet_id: str
    text: str
    candidate: str = ""
    submitted: date = date(2000, 1, 1)

    @property
    def path(self) -> str:
        return f"packets/{self.group}/{self.packet_id}.yaml"


class Items:
    """Evidence items for one packet, with ids unique inside it."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.used: set[str] = set()

    def add(self, prefix: str, topic: str, **fields: Any) -> str:
        base = f"{prefix}-{slug(topic)}"[:60].rstrip("-")
        item_id, n = base, 1
        while item_id in self.used:
            n += 1
            item_id = f"{base}-{n}"
        self.used.add(item_id)
        self.items.append({"id": item_id, **{k: v for k, v in fields.items()
                                             if v is not None and v != []}})
        return item_id


COMMUNITY_RUBRIC = ("risk-escalation", "support-planning", "decision-documentation",
                    "rights-practice", "partner-coordination", "incident-learning")
OBSERVATIONS = {
    "Leading a care planning session": ["support-planning", "rights-practice",
                                        "partner-coordination"],
    "Completing a risk response workflow": ["risk-escalation", "decision-documentation"],
    "Leading a partner coordination call": ["partner-coordination"],
    "Supporting a medication round": ["support-planning", "risk-escalation"],
    "Running a family review meeting": ["rights-practice", "partner-coordination"],
    "Handling a safeguarding disclosure": ["risk-escalation", "decision-documentation",
                                           "rights-practice"],
    "Supporting a community access outing": ["rights-practice", "support-planning"],
    "De-escalating a distressed service user": ["risk-escalation", "rights-practice"],
    "Completing a handover to the night team": ["decision-documentation", "support-planning"],
    "Coordinating a hospital discharge": ["partner-coordination", "support-planning",
                                          "decision-documentation"],
}
AUDITS = ("Audit sample of recent notes", "Audit of support plan reviews",
          "Audit of incident and escalation records")
EXTRA_COURSES = ("manual-handling", "dementia-awareness", "positive-behaviour-support",
                 "mental-capacity-act", "infection-control", "food-hygiene")


def community_packet(rng: random.Random, cand: PersonRow, staff: Staff, submitted: date,
                     packet_id: str, cycle: str) -> str:
    ability = rng.gauss(2.66, 0.4)
    faults = {name for name, p in (("expired", 0.06), ("missing_training", 0.02),
                                   ("stale_obs", 0.07), ("old_audit", 0.04),
                                   ("short_escalation", 0.04), ("unsupported", 0.04),
                                   ("missing_comp", 0.05)) if rng.random() < p}
    missing = rng.choice(("partner-coordination", "incident-learning", "rights-practice")) \
        if "missing_comp" in faults else None

    def comps(values: Iterable[str]) -> list[str]:
        return [c for c in values if c != missing]

    manager = cand.manager or next(i for i in staff.leads["community"] if i != cand.id)
    # The first six leads other than the manager and the candidate (who never assesses
    # their own evidence); slicing first keeps this O(1) per packet.
    quality = [lead for lead in staff.leads["community"][:8]
               if lead not in (manager, cand.id)][:6] or [manager]
    peers = [p for p in rng.sample(staff.colleagues["community"],
                                   min(8, len(staff.colleagues["community"])))
             if p != cand.id] or [manager]
    first = cand.name.split()[0]
    items = Items()

    bad_course = rng.choice(("safeguarding", "medication")) if faults & {
        "expired", "missing_training"} else None
    for course, title_days in (("safeguarding", (20, 330)), ("medication", (20, 330)),
                               ("first-aid", (30, 1000))):
        if course == bad_course and "missing_training" in faults:
            continue
        lo, hi = (370, 520) if course == bad_course else title_days
        result: dict[str, Any] = {"completed": True}
        if course == "medication" and rng.random() < 0.5:
            result = {"completed": True, "passed": True, "assessment": rng.randint(80, 100)}
        items.add("tr", course, type="training", course=course,
                  date=_before(submitted, lo, hi, rng), result=result)
    if rng.random() < 0.2:
        items.add("tr", "safeguarding-previous", type="training", course="safeguarding",
                  date=_before(submitted, 400, 700, rng), result={"completed": True})
    for course in rng.sample(EXTRA_COURSES, rng.randint(0, 2)):
        items.add("tr", course, type="training", course=course,
                  date=_before(submitted, 30, 700, rng), result={"completed": True})

    obs_titles = rng.sample(list(OBSERVATIONS), rng.randint(3, 5))
    obs_ids = []
    for i, title in enumerate(obs_titles):
        stale = "stale_obs" in faults and i > 0
        when = _before(submitted, 190, 320, rng) if stale else _before(submitted, 5, 170, rng)
        if i == len(obs_titles) - 1 and rng.random() < 0.03:
            when = submitted + timedelta(days=rng.randint(1, 20))  # late: not counted
        extra = [rng.choice(COMMUNITY_RUBRIC[:5])] if rng.random() < 0.3 else []
        competencies = comps(dict.fromkeys(OBSERVATIONS[title] + extra))
        obs_ids.append(items.add(
            "obs", re.sub(r"^(?:a|the) ", "", title.split(" ", 1)[1]), type="observation",
            title=title, date=when,
            assessor=rng.choice([manager, *quality]), competencies=competencies,
            result={"score": _score(rng, ability)},
            notes=_sentences(rng, NOTES, 1, 1, first=first)))

    for title in rng.sample(AUDITS, rng.choice((1, 1, 2))):
        lo, hi = (95, 160) if "old_audit" in faults else (5, 85)
        items.add("audit", title.split(" of ")[-1], type="documentation_audit", title=title,
                  date=_before(submitted, lo, hi, rng), assessor=rng.choice(quality),
                  competencies=comps(["support-planning", "decision-documentation"]),
                  result={"score": _score(rng, ability, 0.5)})

    esc_date = _before(submitted, 1, 25, rng)
    end = esc_date - timedelta(days=rng.randint(1, 3))
    days = rng.randint(35, 58) if "short_escalation" in faults else rng.randint(60, 92)
    count = rng.randint(2, 9)
    items.add("esc", "summary", type="escalation_summary",
              title=f"Escalation behaviour, prior {days} days", date=esc_date,
              assessor=manager, competencies=comps(["risk-escalation"]),
              result={"period": {"start": end - timedelta(days=days - 1), "end": end}},
              notes=f"{count} escalations, {count - rng.randint(0, 1)} of them timely, each "
                    "with documented follow-through.")

    case_ids = []
    for month in rng.sample(("complex-needs", "transition", "hospital-discharge",
                             "safeguarding-plan", "housing-move"), rng.randint(2, 3)):
        case_ids.append(items.add(
            "case-review", month, type="case_review", date=_before(submitted, 7, 80, rng),
            assessor=manager, competencies=comps(rng.sample(
                ["risk-escalation", "decision-documentation", "support-planning"], 2)),
            notes=f"Weekly case review notes for {rng.randint(2, 4)} cases."))

    based_on = [rng.choice(obs_ids)] if "unsupported" in faults else \
        sorted(rng.sample(case_ids, rng.randint(1, len(case_ids))))
    items.add("attestation", "supervisor", type="supervisor_attestation",
              date=_before(submitted, 2, 60, rng), assessor=manager, based_on=based_on,
              notes=f"I attest {first} is ready for senior responsibilities; see the case "
                    "reviews listed.")

    rated_on = _before(submitted, 3, 30, rng)
    for group in _groups(rng, comps(COMMUNITY_RUBRIC), 3, 4):
        items.add("mgr", group[0], type="manager_rating", date=rated_on, assessor=manager,
                  competencies=group, result={"score": _score(rng, ability, 0.45)})
    if rng.random() < 0.25:  # an earlier, mid-cycle rating: the latest one stands
        items.add("mgr", "mid-cycle", type="manager_rating",
                  date=_before(submitted, 120, 200, rng), assessor=manager,
                  competencies=comps(rng.sample(COMMUNITY_RUBRIC, 2)),
                  result={"score": _score(rng, ability - 0.3, 0.5)})

    for peer in rng.sample(peers, min(len(peers), rng.randint(3, 4))):
        items.add("peer", peer.rsplit("-", 1)[0], type="peer_feedback",
                  date=_before(submitted, 10, 150, rng), assessor=peer,
                  competencies=comps(rng.sample(COMMUNITY_RUBRIC[:5], rng.randint(1, 3))),
                  result={"score": _score(rng, ability)},
                  notes=_sentences(rng, NOTES, 0, 1, first=first))
    if rng.random() < 0.45:
        items.add("incident", "review", type="incident_review",
                  title="Learning review after a missed visit", date=_before(submitted, 20, 200,
                                                                             rng),
                  assessor=rng.choice(quality), competencies=comps(["incident-learning"]),
                  result={"score": _score(rng, ability)},
                  notes=_sentences(rng, NOTES, 1, 1, first=first))
    if rng.random() < 0.35:
        items.add("lms", "pbs", type="lms_milestone",
                  course="Positive Behaviour Support e-learning",
                  date=_before(submitted, 30, 300, rng), competencies=comps(["rights-practice"]),
                  result={"completed": True, "assessment": rng.randint(60, 100)})
    if rng.random() < 0.3:
        items.add("artifact", "plan-template", type="artifact",
                  title="Redesigned one-page support plan template",
                  date=_before(submitted, 20, 250, rng), assessor=rng.choice(quality),
                  competencies=comps(["support-planning"]), result={"passed": True})

    header = [f"# Synthetic packet (python -m benchmarks): ability {ability:.2f}"
              + (f", faults: {', '.join(sorted(faults))}" if faults else "")]
    return _packet_text(header, packet_id, cand, "support-work", "senior-support-worker",
                        submitted, manager, cycle, items)


PRO_RUBRIC = ("client-partnership", "technical-delivery", "leadership", "continuous-improvement")
LMS_COURSES = {
    "Client Communication Essentials + Case Simulation": ("client-partnership", False),
    "Stakeholder Management Foundations": ("client-partnership", False),
    "Advanced Platform Certification + Project Submission": ("technical-delivery", True),
    "Cloud Architecture Practitioner": ("technical-delivery", False),
    "Data Engineering Bootcamp + Capstone": ("technical-delivery", True),
    "Leading Teams Micro-course": ("leadership", False),
    "Coaching Conversations Workshop": ("leadership", True),
    "Process Design Workshop": ("continuous-improvement", True),
    "Lean Improvement Yellow Belt": ("continuous-improvement", False),
}
ARTIFACTS = ("Billing platform migration plan", "Data model review notes",
             "Client analytics dashboard", "Target operating model design",
             "Cloud cost optimisation report", "API integration runbook")
PRO_COURSES = ("data-protection", "anti-bribery", "accessibility-basics", "secure-coding")


def professional_packet(rng: random.Random, cand: PersonRow, staff: Staff, submitted: date,
                        packet_id: str, cycle: str) -> str:
    ability = rng.gauss(2.68, 0.4)
    faults = {name for name, p in (("expired", 0.06), ("missing_training", 0.02),
                                   ("peer_same", 0.06), ("artifact_failed", 0.05),
                                   ("missing_comp", 0.05)) if rng.random() < p}
    missing = rng.choice(("continuous-improvement", "leadership")) \
        if "missing_comp" in faults else None

    def comps(values: Iterable[str]) -> list[str]:
        return [c for c in values if c != missing]

    manager = cand.manager or next(i for i in staff.leads["professional"] if i != cand.id)
    experts = [lead for lead in staff.leads["professional"][:8]
               if lead not in (manager, cand.id)][:6] or [manager]
    peers = [p for p in rng.sample(staff.colleagues["professional"],
                                   min(10, len(staff.colleagues["professional"])))
             if p != cand.id] or [manager]
    first = cand.name.split()[0]
    items = Items()

    if "missing_training" not in faults:
        lo, hi = (370, 480) if "expired" in faults else (20, 330)
        items.add("tr", "infosec", type="training", course="information-security",
                  date=_before(submitted, lo, hi, rng), result={"completed": True})
    for course in rng.sample(PRO_COURSES, rng.randint(1, 2)):
        items.add("tr", course, type="training", course=course,
                  date=_before(submitted, 30, 600, rng), result={"completed": True})

    courses = rng.sample(list(LMS_COURSES), rng.randint(5, 7))
    for course in courses:
        competency, has_project = LMS_COURSES[course]
        if competency == missing:
            continue
        result: dict[str, Any] = {"completed": rng.random() > 0.04}
        if result["completed"]:
            result["assessment"] = max(50, min(100, round(60 + 12 * ability
                                                          + rng.gauss(0, 8))))
            if has_project:
                result["project_accepted"] = rng.random() < (ability - 1.5) / 2.5
        items.add("lms", course.split(" + ")[0], type="lms_milestone", course=course,
                  date=_before(submitted, 30, 330, rng), competencies=[competency],
                  result=result)

    artifact_ids = []
    for i, title in enumerate(rng.sample(ARTIFACTS, rng.randint(1, 2))):
        failed = "artifact_failed" in faults
        when = _before(submitted, 380, 500, rng) if failed and i == 0 else \
            _before(submitted, 15, 300, rng)
        passed = not failed and rng.random() > 0.05
        artifact_ids.append(items.add(
            "artifact", title, type="artifact", title=title, date=when,
            assessor=rng.choice(experts),
            competencies=comps(dict.fromkeys(["technical-delivery", rng.choice(PRO_RUBRIC)])),
            result={"passed": passed, "project_accepted": passed and rng.random() < 0.8},
            notes=_sentences(rng, PRO_NOTES, 1, 1, first=first)))

    rated_on = _before(submitted, 5, 30, rng)
    for group in _groups(rng, comps(PRO_RUBRIC), 3, 4):
        items.add("mgr", group[0], type="manager_rating", date=rated_on, assessor=manager,
                  competencies=group, result={"score": _score(rng, ability, 0.45)},
                  notes=_sentences(rng, PRO_NOTES, 0, 1, first=first))
    if rng.random() < 0.3:
        items.add("mgr", "mid-year", type="manager_rating",
                  date=_before(submitted, 150, 200, rng), assessor=manager,
                  competencies=comps(rng.sample(PRO_RUBRIC, 2)),
                  result={"score": _score(rng, ability - 0.3, 0.5)})

    chosen = rng.sample(peers, min(len(peers), rng.randint(3, 5)))
    for n, peer in enumerate(chosen):
        assessor = chosen[0] if "peer_same" in faults else peer
        items.add("peer", f"{assessor.rsplit('-', 1)[0]}-{n + 1}", type="peer_feedback",
                  date=_before(submitted, 10, 250, rng), assessor=assessor,
                  competencies=comps(rng.sample(PRO_RUBRIC, rng.randint(1, 3))),
                  result={"score": _score(rng, ability)},
                  notes=_sentences(rng, PRO_NOTES, 0, 1, first=first))

    for topic in rng.sample(("client-workshop", "steering-meeting", "design-review"),
                            rng.randint(1, 2)):
        items.add("obs", topic, type="observation", title=topic.replace("-", " ").capitalize(),
                  date=_before(submitted, 20, 200, rng), assessor=rng.choice(experts),
                  competencies=comps(rng.sample(PRO_RUBRIC, 2)),
                  result={"score": _score(rng, ability)},
                  notes=_sentences(rng, PRO_NOTES, 0, 1, first=first))
    case_ids = [items.add("case-review", topic, type="case_review",
                          date=_before(submitted, 10, 120, rng), assessor=manager,
                          competencies=comps(rng.sample(PRO_RUBRIC, 1)),
                          notes="Engagement retrospective with the delivery team.")
                for topic in rng.sample(("engagement-q1", "engagement-q2", "bid-review"),
                                        rng.randint(1, 2))]
    if rng.random() < 0.3:
        items.add("audit", "engagement-file", type="documentation_audit",
                  title="Engagement file audit", date=_before(submitted, 20, 120, rng),
                  assessor=rng.choice(experts), competencies=comps(["continuous-improvement"]),
                  result={"score": _score(rng, ability)})
    if rng.random() < 0.3:
        esc = _before(submitted, 5, 40, rng)
        end = esc - timedelta(days=1)
        items.add("esc", "client-escalations", type="escalation_summary",
                  title="Client escalations handled this quarter", date=esc, assessor=manager,
                  competencies=comps(["client-partnership"]),
                  result={"period": {"start": end - timedelta(days=rng.randint(60, 91)),
                                     "end": end}})
    items.add("attestation", "manager", type="supervisor_attestation",
              date=_before(submitted, 2, 40, rng), assessor=manager,
              based_on=[*case_ids, *artifact_ids[:1]],
              notes=f"I support {first}'s case for senior consultant; see the items listed.")

    header = [f"# Synthetic packet (python -m benchmarks): ability {ability:.2f}"
              + (f", faults: {', '.join(sorted(faults))}" if faults else "")]
    return _packet_text(header, packet_id, cand, "consulting", "senior-consultant", submitted,
                        manager, cycle, items)


def _packet_text(header: list[str], packet_id: str, cand: PersonRow, ladder: str, level: str,
                 submitted: date, supervisor: str, cycle: str, items: Items) -> str:
    lines = [
        "# yaml-language-server: $schema=../../../schemas/packet.schema.json",
        *header,
        "kind: packet",
        "format: 1",
        f"id: {packet_id}",
        f"candidate: {cand.id}",
        f"target: {{ladder: {ladder}, level: {level}}}",
        f"submitted: {submitted.isoformat()}",
        f"supervisor: {supervisor}",
        f"cycle: {scalar(cycle)}",
        "evidence:",
    ]
    for item in items.items:
        lines.extend(render_item(item))
    return "\n".join(lines) + "\n"


def make_packets(rng: random.Random, staff: Staff, count: int) -> Iterable[PacketOut]:
    """``count`` packets, one per candidate, submitted over the history."""
    if count > len(staff.candidates):
        raise ValueError(f"{count:,} packets need as many candidates, but only "
                         f"{len(staff.candidates):,} of the people are; give more people "
                         "(about 1.3 per packet)")
    span = (LAST_SUBMISSION - FIRST_SUBMISSION).days
    for cand in staff.candidates[:count]:
        submitted = FIRST_SUBMISSION + timedelta(days=rng.randrange(span))
        if cand.group == "community":
            cycle = f"{submitted.year}-{submitted.month:02d}"
        else:
            cycle = f"{submitted.year}-h{1 if submitted.month <= 6 else 2}"
        packet_id = f"{cand.id}-{cycle}"
        build = community_packet if cand.group == "community" else professional_packet
        yield PacketOut(cand.group, packet_id,
                        build(rng, cand, staff, submitted, packet_id, cycle), cand.id,
                        submitted)
