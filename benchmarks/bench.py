#!/usr/bin/env python3
"""Benchmark promoctl on a large synthetic promotion repository.

Generates (or reuses) a deterministic repository of people and evidence packets built on
the example frameworks and ladders, then measures, in one run:

- parsing every packet with PyYAML's C loader (the reference: the least any YAML tool pays);
- ``promoctl.workspace.validate`` on the whole repository, and its ratio to the reference;
- ``promoctl.workspace.evaluate_packets`` on every packet;
- promoctl's own parser with libyaml against its pure-Python fallback, on a sample;
- peak memory of ``validate`` in a fresh process.

Nothing here asserts on timings: the figures are for reading, not for gating a build.

    python benchmarks/bench.py                 # 12,000 people, 10,000 packets
    python benchmarks/bench.py --quick         # 1,000 packets, for a smoke run
    python benchmarks/bench.py --packets 50000 --people 60000 --dir /tmp/big
"""

from __future__ import annotations

import argparse
import collections
import gc
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
EXAMPLES = PROJECT / "examples"
DEFAULT_DIR = HERE / "out" / "repo"
QUICK_DIR = HERE / "out" / "repo-quick"
DEFAULT_PEOPLE = 12_000
DEFAULT_PACKETS = 10_000
QUICK_PEOPLE = 1_200
QUICK_PACKETS = 1_000
DEFAULT_SEED = 20261015
PARSER_SAMPLE = 300
# Bump when the generated content changes, so an old repository is not reused.
GENERATOR_VERSION = 1
MANIFEST = ".bench-manifest.json"
WIDTH = 100

# ------------------------------------------------------------------------------ YAML text

_TAG_LIKE = re.compile(  # plain scalars promoctl's loader would not read as text
    r"^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE"
    r"|[-+]?(?:0|[1-9][0-9]*)(?:\.[0-9]+(?:[eE][-+]?[0-9]+)?|[eE][-+]?[0-9]+)?)$"
)
_LEADING = set("-?:,[]{}#&*!|>'\"%@` ")
_FLOW_CHARS = set(",[]{}")


def scalar(value: Any, *, flow: bool = False) -> str:
    """One value as YAML: plain when that reads back as the same value, else quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    plain = (
        text
        and text[0] not in _LEADING
        and not text.endswith((" ", ":"))
        and ": " not in text
        and " #" not in text
        and "\n" not in text
        and not _TAG_LIKE.match(text)
        and not (flow and _FLOW_CHARS & set(text))
    )
    return text if plain else json.dumps(text, ensure_ascii=False)


def flow_list(indent: str, key: str, values: Sequence[Any]) -> list[str]:
    """``key: [a, b, c]``, wrapped under the bracket past the line width like the examples."""
    head = f"{indent}{key}: ["
    lines: list[str] = []
    line = head
    for i, value in enumerate(values):
        piece = scalar(value, flow=True) + ("]" if i == len(values) - 1 else ",")
        if line != head and len(line) + 1 + len(piece) > WIDTH:
            lines.append(line)
            line = " " * len(head) + piece
        else:
            line += piece if line == head else " " + piece
    lines.append(line)
    return lines


def flow_map(mapping: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {scalar(v, flow=True)}" for k, v in mapping.items()) + "}"


def text_block(indent: str, key: str, text: str) -> list[str]:
    """Short text on one line; longer text as a folded block (``>``), wrapped."""
    if len(indent) + len(key) + 2 + len(text) <= WIDTH:
        return [f"{indent}{key}: {scalar(text)}"]
    inner = indent + "  "
    lines = [f"{indent}{key}: >"]
    line = ""
    for word in text.split():
        if line and len(inner) + len(line) + 1 + len(word) > WIDTH - 4:
            lines.append(inner + line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(inner + line)
    return lines


def render_item(item: dict[str, Any]) -> list[str]:
    """One evidence item as a block mapping in a ``- `` list entry."""
    lines: list[str] = []
    for key, value in item.items():
        indent = "  - " if not lines else "    "
        if isinstance(value, list):
            lines.extend(flow_list(indent, key, value))
        elif isinstance(value, dict):
            nested = {k: v for k, v in value.items() if isinstance(v, dict)}
            if nested:  # e.g. result with a period: block mapping holding flow mappings
                lines.append(f"{indent}{key}:")
                for k, v in value.items():
                    shown = flow_map(v) if isinstance(v, dict) else scalar(v)
                    lines.append(f"{indent}  {k}: {shown}")
            else:
                lines.append(f"{indent}{key}: {flow_map(value)}")
        elif key == "notes":
            lines.extend(text_block(indent, key, value))
        else:
            lines.append(f"{indent}{key}: {scalar(value)}")
    return lines


# ------------------------------------------------------------------------------- people

FIRST_NAMES = (
    "Amara", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Maria", "Noor", "Aisha",
    "Bruno", "Carmen", "Daniel", "Emeka", "Fatima", "Gabriel", "Hannah", "Ibrahim", "Julia",
    "Kenji", "Leila", "Mateo", "Nadia", "Oscar", "Priya", "Quentin", "Rosa", "Samuel", "Tariq",
    "Uma", "Victor", "Wanjiru", "Xavier", "Yara", "Zoltan", "Ana", "Bilal", "Chiara", "Diego",
    "Eva", "Felix", "Giulia", "Hamza", "Ingrid", "Jonas", "Keira", "Liam", "Mei", "Nikolai",
    "Olivia", "Pablo", "Rania", "Sofia", "Tomas", "Ursula", "Vera", "William", "Yusuf", "Zainab",
    "Chidi", "Ren", "Astrid", "Malik", "Sinead", "João", "Inês", "Hugo", "Zoë",
)
LAST_NAMES = (
    "Okafor", "Hughes", "Martin", "Patel", "Rossi", "Haddad", "Liu", "Tanaka", "Gomez", "Said",
    "Nakamura", "Silva", "Kowalski", "Mensah", "Fischer", "O'Brien", "Dubois", "Khan", "Larsen",
    "Moreau", "Novak", "Osei", "Petrov", "Quinn", "Reyes", "Schmidt", "Thompson", "Ueda", "Valdez",
    "Walsh", "Xu", "Yilmaz", "Zhang", "Abebe", "Bianchi", "Chen", "Dimitrov", "Eriksen",
    "Ferreira", "García", "Horvat", "Ivanova", "Jansen", "Kim", "López", "Murphy", "Nguyen",
    "Olsen", "Park", "Rahman", "Sato", "Torres", "Van Dijk", "Williams", "Yamada", "Achterberg",
    "MacLeod", "Costa", "Nowak", "Adeyemi", "Lindqvist", "Müller",
)
# Two ladders, built from the examples: community services and professional services.
PROGRAMS = {
    "community": dict(
        program="Community Services", ladder="support-work", junior="support-worker",
        senior="senior-support-worker", lead="practice-lead",
        teams=["North Homes", "Riverside Outreach", "Eastside Supported Living", "Harbour Day "
               "Services", "Hillcrest Homes", "West Community Support", "Meadow View",
               "Canal Street Outreach"]),
    "professional": dict(
        program="Advisory", ladder="consulting", junior="consultant",
        senior="senior-consultant", lead="manager",
        teams=["Platform Delivery", "Client Analytics", "Cloud Transformation",
               "Data Strategy", "Public Sector Advisory", "Risk and Compliance",
               "Digital Experience", "Operations Excellence"]),
}
COMMUNITY_SHARE = 0.55


@dataclass
class PersonRow:
    id: str
    name: str
    group: str  # community | professional
    level: str
    team: str
    manager: str | None
    start: date


@dataclass
class Staff:
    """Everyone generated, and who can be a candidate, a manager, a peer, an assessor."""

    people: list[PersonRow] = field(default_factory=list)
    by_id: dict[str, PersonRow] = field(default_factory=dict)
    candidates: list[PersonRow] = field(default_factory=list)
    leads: dict[str, list[str]] = field(default_factory=dict)  # group -> manager ids
    colleagues: dict[str, list[str]] = field(default_factory=dict)  # group -> non-leads


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def make_staff(rng: random.Random, count: int) -> Staff:
    """``count`` people in two programs: a head, team leads, seniors and juniors."""
    if count < 8:
        raise ValueError("need at least 8 people (heads, leads and candidates)")
    staff = Staff()
    serial = 0

    def add(group: str, level: str, team: str, manager: str | None, start: date) -> PersonRow:
        nonlocal serial
        serial += 1
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        row = PersonRow(f"{slug(first)}-{slug(last)}-{serial:05d}", f"{first} {last}", group,
                        level, team, manager, start)
        staff.people.append(row)
        staff.by_id[row.id] = row
        return row

    community = round(count * COMMUNITY_SHARE)
    for group, size in (("community", community), ("professional", count - community)):
        spec = PROGRAMS[group]
        teams: list[str] = spec["teams"]
        head = add(group, spec["lead"], teams[0], None, _day(rng, 2008, 2014))
        n_leads = max(1, size // 25)
        leads = []
        for i in range(n_leads):
            team = teams[i % len(teams)] + (f" {i // len(teams) + 1}" if i >= len(teams) else "")
            leads.append(add(group, spec["lead"], team, head.id, _day(rng, 2010, 2019)))
        staff.leads[group] = [lead.id for lead in leads]
        rest = size - 1 - n_leads
        for i in range(rest):
            lead = leads[i % n_leads]
            senior = rng.random() < 0.1 and i >= 1
            row = add(group, spec["senior" if senior else "junior"], lead.team, lead.id,
                      _day(rng, 2014, 2024))
            if not senior:
                staff.candidates.append(row)
        staff.colleagues[group] = [p.id for p in staff.people
                                   if p.group == group and p.level != spec["lead"]]
    rng.shuffle(staff.candidates)
    return staff


def _day(rng: random.Random, first_year: int, last_year: int) -> date:
    start = date(first_year, 1, 1)
    return start + timedelta(days=rng.randrange((date(last_year, 12, 31) - start).days))


def person_yaml(row: PersonRow, rng: random.Random) -> str:
    spec = PROGRAMS[row.group]
    first, _, last = row.name.partition(" ")
    lines = [
        "# yaml-language-server: $schema=../../schemas/person.schema.json",
        "kind: person",
        "format: 1",
        f"id: {row.id}",
        f"name: {scalar(row.name)}",
        f"email: {slug(first)}.{slug(last).replace('-', '')}.{row.id[-5:]}@example.org",
        f"program: {spec['program']}",
        f"team: {scalar(row.team)}",
        f"ladder: {spec['ladder']}",
        f"level: {row.level}",
    ]
    if row.manager:
        lines.append(f"manager: {row.manager}")
    lines.append(f"start_date: {row.start.isoformat()}")
    if rng.random() < 0.4:
        since = row.start + timedelta(days=rng.randrange(0, 900))
        lines.append(f"level_since: {min(since, date(2024, 12, 31)).isoformat()}")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------ packets

def _score(rng: random.Random, ability: float, spread: float = 0.6) -> int:
    return max(1, min(4, round(ability + rng.gauss(0, spread))))


def _half_score(rng: random.Random, ability: float) -> int | float:
    """Peers sometimes give half points (2.5): a float in YAML, a Decimal in promoctl."""
    value = max(1.0, min(4.0, round((ability + rng.gauss(0, 0.6)) * 2) / 2))
    return int(value) if value.is_integer() else value


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

    manager = cand.manager or staff.leads["community"][0]
    quality = [lead for lead in staff.leads["community"] if lead != manager][:6] or [manager]
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
                  result={"score": _half_score(rng, ability)},
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

    header = [f"# Synthetic packet (benchmarks/bench.py): ability {ability:.2f}"
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

    manager = cand.manager or staff.leads["professional"][0]
    experts = [lead for lead in staff.leads["professional"] if lead != manager][:6] or [manager]
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
                  result={"score": _half_score(rng, ability)},
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

    header = [f"# Synthetic packet (benchmarks/bench.py): ability {ability:.2f}"
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
    """``count`` packets; candidates are reused (an earlier cycle) only when they run out."""
    used: set[str] = set()
    first_day, span = date(2025, 1, 15), (date(2026, 12, 15) - date(2025, 1, 15)).days
    for i in range(count):
        cand = staff.candidates[i % len(staff.candidates)]
        repeat = i // len(staff.candidates)
        submitted = first_day + timedelta(days=rng.randrange(span)) \
            - timedelta(days=183 * repeat)
        if cand.group == "community":
            cycle = f"{submitted.year}-{submitted.month:02d}"
        else:
            cycle = f"{submitted.year}-h{1 if submitted.month <= 6 else 2}"
        packet_id = f"{cand.id}-{cycle}"
        if packet_id in used:
            packet_id += f"-r{repeat}"
        used.add(packet_id)
        build = community_packet if cand.group == "community" else professional_packet
        yield PacketOut(cand.group, packet_id,
                        build(rng, cand, staff, submitted, packet_id, cycle))


# ----------------------------------------------------------------------------- repository

def generate(root: Path, people: int, packets: int, seed: int = DEFAULT_SEED) -> None:
    """Write a fresh synthetic repository into ``root`` (which must not hold records)."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    manifest = {"generator": GENERATOR_VERSION, "people": people, "packets": packets,
                "seed": seed, "complete": False}
    (root / MANIFEST).write_text(json.dumps(manifest) + "\n")
    shutil.copy2(EXAMPLES / "promoctl.yaml", root / "promoctl.yaml")
    for folder in ("frameworks", "ladders"):
        shutil.copytree(EXAMPLES / folder, root / folder)
    staff = make_staff(rng, people)
    for group in PROGRAMS:
        (root / "people" / group).mkdir(parents=True, exist_ok=True)
        (root / "packets" / group).mkdir(parents=True, exist_ok=True)
    for row in staff.people:
        (root / "people" / row.group / f"{row.id}.yaml").write_text(
            person_yaml(row, rng), encoding="utf-8")
    for packet in make_packets(rng, staff, packets):
        (root / "packets" / packet.group / f"{packet.packet_id}.yaml").write_text(
            packet.text, encoding="utf-8")
    manifest["complete"] = True
    (root / MANIFEST).write_text(json.dumps(manifest) + "\n")


def _count(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*.yaml")) if folder.is_dir() else 0


def ensure_repo(root: Path, people: int, packets: int, seed: int = DEFAULT_SEED) -> bool:
    """Reuse ``root`` when it already holds this repository; else (re)generate it.

    Returns True when reused. A folder is only ever deleted when it carries the manifest
    this script writes, so pointing ``--dir`` at real records cannot destroy them.
    """
    manifest_path = root / MANIFEST
    wanted = {"generator": GENERATOR_VERSION, "people": people, "packets": packets,
              "seed": seed, "complete": True}
    if manifest_path.is_file():
        try:
            found = json.loads(manifest_path.read_text())
        except ValueError:
            found = None
        if found == wanted and (root / "promoctl.yaml").is_file() \
                and _count(root / "people") == people and _count(root / "packets") == packets:
            return True
        shutil.rmtree(root)
    elif root.exists() and any(root.iterdir()):
        raise SystemExit(f"{root}: exists and was not made by this script (no {MANIFEST}); "
                         "pass an empty or new folder with --dir")
    generate(root, people, packets, seed)
    return False


# ------------------------------------------------------------------------------- measuring

_MEMORY_PROBE = """
import json, sys, time
from pathlib import Path
try:
    import resource
except ImportError:
    resource = None
import tracemalloc
from promoctl import workspace

def rss():
    # Linux keeps ru_maxrss across exec, so a child would report its parent's peak; the
    # high-water mark of this process's own memory map (VmHWM) does not have that flaw.
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    if resource is None:
        return None
    value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return value if sys.platform == "darwin" else value * 1024

before = rss()
if before is None:
    tracemalloc.start()
t0 = time.perf_counter()
problems = workspace.validate(Path(sys.argv[1]))
seconds = time.perf_counter() - t0
peak = rss() if before is not None else tracemalloc.get_traced_memory()[1]
print(json.dumps({"before": before, "peak": peak, "seconds": seconds,
                  "problems": len(problems), "method": "peak RSS" if before is not None
                  else "tracemalloc"}))
"""


def memory_probe(root: Path) -> dict[str, Any]:
    """Validate in a fresh interpreter; its peak resident memory and wall time."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(PROJECT / "src"), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    out = subprocess.run([sys.executable, "-c", _MEMORY_PROBE, str(root)], check=True,
                         capture_output=True, text=True, env=env)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def machine() -> list[str]:
    from promoctl import yamlio

    return [
        f"platform     {platform.platform()} ({platform.machine()})",
        f"cpu          {platform.processor() or 'unknown'}, {os.cpu_count()} logical CPUs",
        f"python       {platform.python_implementation()} {sys.version.split()[0]}",
        f"pyyaml       {yaml.__version__}, libyaml "
        f"{'yes' if getattr(yaml, '__with_libyaml__', False) else 'NO'}; promoctl's parser "
        f"uses {'libyaml (CParser)' if yamlio.HAVE_LIBYAML else 'the pure-Python parser'}",
    ]


def _timed(func: Any, *args: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    value = func(*args)
    return time.perf_counter() - t0, value


def _parse_all_c(files: Sequence[Path]) -> int:
    for path in files:
        yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader)
    return len(files)


def parser_ratio(files: Sequence[Path], root: Path, seed: int) -> tuple[float, float, int]:
    """promoctl's parser with libyaml and pure Python, on the same sample (I/O excluded)."""
    from promoctl import yamlio

    sample = random.Random(seed).sample(list(files), min(PARSER_SAMPLE, len(files)))
    blobs = [(p.read_bytes(), p.relative_to(root).as_posix()) for p in sample]
    fast, _ = _timed(lambda: [yamlio.parse(raw, name) for raw, name in blobs])
    pure, _ = _timed(lambda: [yamlio.parse(raw, name, pure=True) for raw, name in blobs])
    return fast, pure, len(blobs)


def _without_gc(func: Any, *args: Any) -> Any:
    gc.collect()
    gc.disable()
    try:
        return func(*args)
    finally:
        gc.enable()


@dataclass
class Row:
    figure: str
    value: str
    note: str = ""


def measure(root: Path, seed: int = DEFAULT_SEED, *, memory: bool = True,
            out: Any = None) -> tuple[list[Row], dict[str, Any]]:
    """Run every measurement on ``root``; the table rows and the raw figures."""
    from promoctl import workspace
    from promoctl.evaluate import NOT_READY, READY
    from promoctl.loader import discover

    log = out or sys.stdout
    files = discover([root])
    packet_files = discover([root / "packets"])
    # Reading every file once also puts it in the OS cache, so no figure pays for the disk.
    total = sum(len(p.read_bytes()) for p in files)
    packet_bytes = sum(p.stat().st_size for p in packet_files)
    n_packets = len(packet_files)
    figures: dict[str, Any] = {"files": len(files), "bytes": total, "packets": n_packets}

    probe = None
    if memory:  # first, while this process is small (some systems pass the peak to a child)
        print("measuring: validate in a fresh process, for peak memory ...", file=log,
              flush=True)
        probe = memory_probe(root)
    print("measuring: PyYAML C loader on every packet ...", file=log, flush=True)
    ref, _ = _timed(_parse_all_c, packet_files)
    ref_all, _ = _timed(_parse_all_c, files)
    print("measuring: promoctl validate (whole repository) ...", file=log, flush=True)
    t_validate, problems = _timed(workspace.validate, root)
    print("measuring: promoctl evaluate (every packet) ...", file=log, flush=True)
    t_eval, (outcomes, eval_problems) = _timed(
        workspace.evaluate_packets, root, [root / "packets"], None)
    verdicts = collections.Counter(
        o.evaluation.verdict if o.evaluation else "not evaluated (problems)" for o in outcomes)
    reasons = collections.Counter(
        r.kind for o in outcomes if o.evaluation for r in o.evaluation.reasons)
    n_outcomes = len(outcomes)
    del outcomes  # keep later figures free of this run's objects
    print("measuring: validate again with the cyclic garbage collector paused (diagnostic) ...",
          file=log, flush=True)
    t_nogc, _ = _timed(_without_gc, workspace.validate, root)
    print(f"measuring: promoctl parser, libyaml vs pure Python, {PARSER_SAMPLE} packets ...",
          file=log, flush=True)
    fast, pure, sampled = parser_ratio(packet_files, root, seed)

    figures.update(reference=ref, reference_all=ref_all, validate=t_validate,
                   problems=problems, evaluate=t_eval, eval_problems=eval_problems,
                   verdicts=dict(verdicts), reasons=dict(reasons), parse_fast=fast,
                   parse_pure=pure, probe=probe, validate_nogc=t_nogc)

    mb = 1024 * 1024
    rows = [
        Row("record files", f"{len(files):,}", f"{n_packets:,} packets, "
            f"{len(files) - n_packets:,} other (people, frameworks, ladders, config)"),
        Row("total size", f"{total / mb:,.1f} MB", f"packets {packet_bytes / mb:,.1f} MB, "
            f"mean packet {packet_bytes / max(n_packets, 1) / 1024:.1f} KB"),
        Row("reference: C loader, packets", f"{ref:.2f} s",
            "yaml.load(CSafeLoader), read + parse, one process"),
        Row("C loader, all record files", f"{ref_all:.2f} s", "same, people included"),
        Row("validate (cold, whole repo)", f"{t_validate:.2f} s",
            f"{t_validate / ref:.1f}x the reference; {t_validate / ref_all:.1f}x all-file "
            "C parse"),
        Row("packets validated / s", f"{n_packets / t_validate:,.0f}",
            "whole-repository validate time, people included"),
        Row("validate, gc paused", f"{t_nogc:.2f} s", f"diagnostic: garbage collection is "
            f"{max(t_validate - t_nogc, 0) / t_validate:.0%} of the validate time"),
        Row("evaluate_packets (all)", f"{t_eval:.2f} s", f"{t_eval / ref:.1f}x the reference"),
        Row("packets evaluated / s", f"{n_outcomes / t_eval:,.0f}",
            f"{n_outcomes:,} outcomes, as-of = each packet's submitted date"),
        Row("promoctl parser, libyaml", f"{fast * 1000 / sampled:.2f} ms/packet",
            f"{sampled} sampled packets, I/O excluded"),
        Row("promoctl parser, pure Python", f"{pure * 1000 / sampled:.2f} ms/packet",
            f"libyaml is {pure / fast:.1f}x faster"),
    ]
    if probe is not None:
        if probe["method"] == "peak RSS":
            rows.append(Row("peak memory, validate", f"{probe['peak'] / mb:,.0f} MB",
                            f"peak RSS of a fresh process; {probe['before'] / mb:,.0f} MB "
                            "after imports"))
        else:
            rows.append(Row("peak memory, validate", f"{probe['peak'] / mb:,.0f} MB",
                            "tracemalloc peak in a fresh process"))
        rows.append(Row("validate, fresh process", f"{probe['seconds']:.2f} s",
                        "same call in the memory probe (imports excluded)"))
    rows.append(Row("problems reported", f"{len(problems):,}",
                    "expected 0" if not problems else "EXPECTED 0"))
    for verdict in (READY, NOT_READY, "not evaluated (problems)"):
        if verdict in verdicts or verdict != "not evaluated (problems)":
            share = verdicts.get(verdict, 0) / max(n_outcomes, 1)
            rows.append(Row(f"verdict {verdict}", f"{verdicts.get(verdict, 0):,}",
                            f"{share:.0%} of packets"))
    return rows, figures


def table(rows: Sequence[Row]) -> str:
    headers = Row("figure", "value", "note")
    w1 = max(len(r.figure) for r in [headers, *rows])
    w2 = max(len(r.value) for r in [headers, *rows])
    lines = [f"{headers.figure:<{w1}}  {headers.value:>{w2}}  {headers.note}",
             f"{'-' * w1}  {'-' * w2}  {'-' * max(len(r.note) for r in rows)}"]
    lines += [f"{r.figure:<{w1}}  {r.value:>{w2}}  {r.note}".rstrip() for r in rows]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--packets", type=int, help=f"packets to generate (default "
                        f"{DEFAULT_PACKETS:,}; {QUICK_PACKETS:,} with --quick)")
    parser.add_argument("--people", type=int, help=f"people to generate (default "
                        f"{DEFAULT_PEOPLE:,}; {QUICK_PEOPLE:,} with --quick)")
    parser.add_argument("--dir", type=Path, help=f"repository folder (default "
                        f"{DEFAULT_DIR.relative_to(PROJECT)}; "
                        f"{QUICK_DIR.relative_to(PROJECT)} with --quick)")
    parser.add_argument("--quick", action="store_true", help="a small, fast smoke run")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    parser.add_argument("--no-memory", action="store_true",
                        help="skip the fresh-process peak-memory probe")
    args = parser.parse_args(argv)
    packets = args.packets or (QUICK_PACKETS if args.quick else DEFAULT_PACKETS)
    people = args.people or (QUICK_PEOPLE if args.quick else DEFAULT_PEOPLE)
    root = (args.dir or (QUICK_DIR if args.quick else DEFAULT_DIR)).resolve()
    if packets < 1:
        parser.error("--packets must be at least 1")
    if people < 8:
        parser.error("--people must be at least 8")

    print("\n".join(machine()))
    print(f"repository   {root}")
    t0 = time.perf_counter()
    reused = ensure_repo(root, people, packets, args.seed)
    how = "reused" if reused else f"generated in {time.perf_counter() - t0:.1f} s"
    print(f"             {people:,} people, {packets:,} packets, seed {args.seed} ({how})")

    rows, figures = measure(root, args.seed, memory=not args.no_memory)
    problems = figures["problems"]
    if problems:
        print(f"\nWARNING: validate reported {len(problems):,} problem(s) on the synthetic "
              "repository; the generator is out of step with the checks. First ones:")
        for problem in problems[:10]:
            print(f"  {problem}")
    else:
        print("\nvalidate: no problems on the synthetic repository")
    verdicts = figures["verdicts"]
    print("verdicts: " + ", ".join(f"{k} {v:,}" for k, v in sorted(verdicts.items())))
    reasons = figures["reasons"]
    if reasons:
        print("reasons (NOT READY): " + ", ".join(f"{k} {v:,}" for k, v in
                                                 sorted(reasons.items())))
    print()
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
