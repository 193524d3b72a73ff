#!/usr/bin/env python3
"""Benchmark promoctl on a large synthetic promotion repository kept in git (issue 7).

Generates (or reuses) a deterministic git repository built on the example frameworks and
ladders: people, evidence packets, and the panel decisions and post-promotion reviews
recorded on them over years of history, written with one ``git fast-import``. Decisions are
built exactly as ``promoctl decide`` builds them (evaluation snapshot, input hashes, the
commit their inputs were read at, plans, a quorate panel), so ``promoctl audit`` accepts
them and ``promoctl validate`` finds nothing. Then it measures, in one table, each figure
against the reference it is compared with:

- cold ``validate`` against parsing the same files with PyYAML's C loader, and against
  ``check-jsonschema`` on every record file with the project's own ``schemas/``;
- ``validate``, ``evaluate`` of every packet and ``report``, warm against cold;
- ``audit`` against one ``git log`` pass + one ``git cat-file --batch`` + the C loader;
- ``promoctl --help`` and ``promoctl validate ONE_FILE`` against ``import typer``;
- peak memory of ``validate`` in a fresh process (and at 100,000 packets with ``--big``);
- throughput, promoctl's parser with libyaml against pure Python, verdict counts.

Nothing here asserts on timings: the figures are for reading, not for gating a build.
check-jsonschema is installed into this interpreter's environment when it is missing
(``--no-install`` skips its row instead; or ``pip install check-jsonschema`` yourself).

    python benchmarks/bench.py                 # 20,000 people, 10,000 packets and decisions
    python benchmarks/bench.py --quick         # 1,000 packets, for a smoke run
    python benchmarks/bench.py --big           # also peak memory at 100,000 packets (slow)
    python benchmarks/bench.py --packets 50000 --people 100000 --dir /tmp/big
"""

from __future__ import annotations

import argparse
import collections
import functools
import hashlib
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
EXAMPLES = PROJECT / "examples"
SCHEMAS = PROJECT / "schemas"
DEFAULT_DIR = HERE / "out" / "repo"
QUICK_DIR = HERE / "out" / "repo-quick"
BIG_DIR = HERE / "out" / "repo-big"
DEFAULT_SEED = 20261015
PARSER_SAMPLE = 300
# Bump when the generated content changes, so an old repository is not reused.
GENERATOR_VERSION = 4  # 3, 4: panels and assessors keep the separation of duties
MANIFEST = ".bench-manifest.json"
WIDTH = 100


@dataclass(frozen=True)
class Size:
    """How much to generate. Decisions and reviews are targets: fewer are made when the
    packets (or approvals) run out; commits are a budget the history is spread over."""

    people: int
    packets: int
    decisions: int
    reviews: int
    commits: int

    def scaled(self, factor: int) -> Size:
        return Size(*(n * factor for n in (self.people, self.packets, self.decisions,
                                           self.reviews, self.commits)))


DEFAULT_SIZE = Size(people=20_000, packets=10_000, decisions=10_000, reviews=5_000,
                    commits=10_000)
QUICK_SIZE = Size(people=2_000, packets=1_000, decisions=1_000, reviews=500, commits=1_000)
BIG_SIZE = DEFAULT_SIZE.scaled(10)

# The history: HR records first, packets submitted over four and a half years, a rubric
# revision in between (decisions before it replay with the old weights), reviews until
# shortly before "today".
HISTORY_START = date(2021, 11, 1)
FIRST_SUBMISSION = date(2022, 1, 10)
LAST_SUBMISSION = date(2026, 6, 30)
REVISION_DAY = date(2024, 3, 1)
HISTORY_END = date(2026, 10, 30)
PACKET_COMMIT_SHARE = 0.15  # of the commit budget, for batches of submitted packets
SUPERSEDE_RATE = 0.04  # of decisions not approving: corrected later by a superseding one
PLACEHOLDER_COMMIT = "f" * 40  # inputs.commit until fast-import names the real commit

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
                      _day(rng, 2010, 2020))
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
        lines.append(f"level_since: {min(since, HISTORY_START - timedelta(days=1)).isoformat()}")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------ packets

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


# ------------------------------------------------------------------------------- history

Identity = tuple[str, str]  # (name, email)
SECRETARIES: dict[str, tuple[Identity, ...]] = {
    "community": (("Grace Liu", "grace.liu@example.org"),
                  ("Samuel Osei", "samuel.osei@example.org"),
                  ("Inês Ferreira", "ines.ferreira@example.org")),
    "professional": (("Hiro Tanaka", "hiro.tanaka@example.org"),
                     ("Rania Haddad", "rania.haddad@example.org")),
}
HR_PARTNERS = ("Helen Park", "Kwame Mensah", "Lucia Reyes", "Tom Walsh")
OFFICE: Identity = ("Promotion Office", "promotions@example.org")
HR_DESK: Identity = ("HR Records", "hr-records@example.org")
PANEL_ROLES = {  # ladder -> roles, from examples/ladders/*.yaml
    "support-work": ("operations-lead", "quality", "hr"),
    "consulting": ("practice-lead", "peer-reviewer", "hr"),
}
OVERRIDE_APPROVE = (
    "The panel heard the supervisor's account of recent practice, which the packet does not "
    "yet show; approved with the probation terms as the safeguard.",
    "The missing item is administrative (evidence filed under the wrong cycle); the panel "
    "saw the original and is satisfied.",
)
OVERRIDE_HOLD = (
    "A serious incident review is still open; the panel defers until it concludes.",
    "The candidate asked to defer to the next cycle for personal reasons.",
    "The panel wants one more observed session after a recent change of team.",
)
DECLINE_REASONS = (
    "The evidence is well short of the level across several competencies.",
    "Not ready for the level's responsibilities; a development plan is the right next step.",
)
CORRECTIONS = (
    "Correction: the outcome was recorded wrongly; the panel's minutes say {outcome}.",
    "Correction: recorded again with the outcome the panel agreed ({outcome}).",
)
FINDINGS = {
    ("probation", "confirmed"): "Probation goals met; case reviews and documentation samples "
                                "were consistently sound. Level confirmed.",
    ("probation", "extended"): "Good progress, but escalation decisions still need the "
                               "supervisor's sign-off; probation extended.",
    ("maintenance", "sustained"): "Documentation sample, observed practice and incident "
                                  "involvement reviewed; practice sustained.",
    ("maintenance", "drift"): "Notes lag behind visits and one escalation was late; "
                              "targeted supports agreed.",
    ("maintenance", "lapsed"): "No maintenance evidence was provided within the interval; "
                               "authorisation lapsed.",
    ("recheck", "resolved"): "The supports worked: notes are timely and escalations "
                             "prompt. Drift resolved.",
    ("recheck", "unresolved"): "Drift persists after the supports; advanced work is "
                               "withdrawn pending a new packet.",
}
SUPPORTS = ("Refresher coaching on documentation", "Fortnightly observed practice",
            "Reduced high-risk authority until the re-check")


def _replace_once(text: str, old: str, new: str) -> str:
    if text.count(old) != 1:
        raise ValueError(f"expected {old!r} once in an example record")
    return text.replace(old, new)


@dataclass
class RuleSet:
    """Frameworks and ladders as committed at one point of the history."""

    files: dict[str, bytes]  # path -> content
    ladders: dict[str, Any] = field(default_factory=dict)  # id -> (path, Ladder)
    frameworks: dict[str, Any] = field(default_factory=dict)  # id -> (path, Framework)


def rule_sets() -> tuple[RuleSet, RuleSet]:
    """The example frameworks and ladders as first committed, and after the revision."""
    from promoctl.records import parse_record

    base = {f"{folder}/{p.name}": p.read_text(encoding="utf-8")
            for folder in ("frameworks", "ladders")
            for p in sorted((EXAMPLES / folder).glob("*.yaml"))}
    first = dict(base)
    for path, text in base.items():
        if path.startswith("frameworks/"):
            first[path] = re.sub(r'^version: "20\d\d\.(\d)"', r'version: "2021.\1"', text,
                                 count=1, flags=re.MULTILINE)
    revised = dict(first)
    revised["frameworks/community-services.yaml"] = _replace_once(
        first["frameworks/community-services.yaml"], 'version: "2021.1"', 'version: "2024.1"')
    ladder = _replace_once(first["ladders/support-work.yaml"], "observation: 40",
                           "observation: 45")
    revised["ladders/support-work.yaml"] = _replace_once(ladder, "documentation_audit: 30",
                                                         "documentation_audit: 25")
    sets = []
    for files in (first, revised):
        rules = RuleSet({p: t.encode() for p, t in files.items()})
        for path, raw in rules.files.items():
            source, problems = parse_record(raw, path)
            if source is None or problems:
                raise ValueError(f"{path}: {problems}")
            table = rules.frameworks if path.startswith("frameworks/") else rules.ladders
            table[source.record.id] = (path, source.record)
        sets.append(rules)
    return sets[0], sets[1]


@dataclass
class RecordOut:
    """A decision or review to commit: its file, and what its commit message says."""

    day: date
    order: int  # 0 decision, 1 review: on one day, decisions first
    path: str
    text: str
    message: str  # decide's or review's own commit message for this record alone
    author: Identity
    inputs: dict[str, str] = field(default_factory=dict)  # path -> sha256 read at HEAD


@dataclass
class Commit:
    day: date
    rank: int  # on one day: 0 import, 1 rule revision, 2 HR, 3 packets, 4 records
    author: Identity
    message: str
    files: list[tuple[str, bytes]] = field(default_factory=list)
    records: list[RecordOut] = field(default_factory=list)


@dataclass
class Plan:
    commits: list[Commit]
    decisions: int = 0
    superseding: int = 0
    overrides: int = 0
    outcomes: collections.Counter[str] = field(default_factory=collections.Counter)
    reviews: int = 0
    review_kinds: collections.Counter[str] = field(default_factory=collections.Counter)
    pending: int = 0
    promoted: int = 0


def _sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _rota(group: str, day: date) -> Identity:
    """The panel secretary on duty: a fortnightly rota per program."""
    people = SECRETARIES[group]
    return people[(day.toordinal() // 14) % len(people)]


def _who(identity: Identity) -> str:
    return f"{identity[0]} <{identity[1]}>"


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _split(items: Sequence[Any], parts: int) -> list[Sequence[Any]]:
    """``items`` in ``parts`` contiguous, nearly equal, non-empty chunks."""
    parts = max(1, min(parts, len(items)))
    n = len(items)
    return [items[i * n // parts:(i + 1) * n // parts] for i in range(parts)]


def promoted_person(text: str, level: str, since: date) -> str:
    """A person record after HR applies a promotion: new level, level_since updated."""
    lines = [line for line in text.splitlines() if not line.startswith("level_since: ")]
    lines = [f"level: {level}" if line.startswith("level: ") else line for line in lines]
    return "\n".join([*lines, f"level_since: {since.isoformat()}"]) + "\n"


class _Panels:
    """Panel members by ladder and role: small pools, so report's panel codes repeat."""

    def __init__(self, staff: Staff) -> None:
        self.staff = staff
        community = [staff.by_id[i].name for i in staff.leads["community"][:12]]
        professional = [staff.by_id[i].name for i in staff.leads["professional"][:12]]
        self.pools = {
            "support-work": {"operations-lead": community[:6] or ["Operations Lead"],
                             "quality": community[6:] or ["Quality Lead"],
                             "hr": list(HR_PARTNERS)},
            "consulting": {"practice-lead": professional[:6] or ["Practice Lead"],
                           "peer-reviewer": professional[6:] or ["Peer Reviewer"],
                           "hr": list(HR_PARTNERS)},
        }

    def pick(self, rng: random.Random, ladder: str, packet: Any, person: Any
             ) -> list[tuple[str, str]]:
        """A panel that keeps the separation of duties: nobody who is the candidate, their
        manager, the packet's supervisor or an assessor of its evidence."""
        ids = {person.id, person.manager, packet.supervisor,
               *(item.assessor for item in packet.evidence)}
        names = {self.staff.by_id[i].name for i in ids if i in self.staff.by_id}
        panel = []
        for role in PANEL_ROLES[ladder]:
            pool = [n for n in self.pools[ladder][role] if n not in names]
            panel.append((role, rng.choice(pool or [f"Independent {role} member"])))
        return panel

    def reviewer(self, rng: random.Random, ladder: str) -> str:
        return rng.choice(self.pools[ladder]["operations-lead" if ladder == "support-work"
                                              else "practice-lead"])


def _outcome(rng: random.Random, ready: bool) -> tuple[str, str | None]:
    """(outcome, override justification): panels mostly follow the evaluation."""
    r = rng.random()
    if ready:
        if r < 0.96:
            return "approved", None
        return ("deferred" if r < 0.99 else "declined"), rng.choice(OVERRIDE_HOLD)
    if r < 0.84:
        return "deferred", None
    if r < 0.97:
        return "declined", None
    return "approved", rng.choice(OVERRIDE_APPROVE)


def _reasons(rng: random.Random, ev: Any, outcome: str) -> list[str]:
    from promoctl.evaluate import fmt

    if outcome == "approved":
        if ev.ready:
            return [f"Every gate and the training floor are met; composite {fmt(ev.composite)} "
                    f"against {ev.threshold}."]
        return ["The panel approves on the supervisor's evidence heard at the meeting."]
    if ev.reasons:
        picked = [r.message for r in ev.reasons[:2]]
        return picked if outcome == "deferred" else [rng.choice(DECLINE_REASONS), *picked[:1]]
    return ["The panel wants more evidence of sustained practice before promotion."]


@functools.cache
def _c_dumper() -> Any:
    """promoctl's record writer (yamlio.dump) on libyaml's emitter: the same text, ~4x
    faster. Checked against promoctl's own to_yaml as records are made (_same_as)."""
    from promoctl import yamlio

    class Dumper(yaml.CSafeDumper):  # type: ignore[misc, name-defined]
        def ignore_aliases(self, data: Any) -> bool:
            return True

    Dumper.add_representer(Decimal, yamlio._represent_decimal)
    Dumper.add_representer(date, yamlio._represent_date)
    return Dumper


def _dump(data: Any) -> str:
    if not getattr(yaml, "__with_libyaml__", False):
        from promoctl import yamlio

        return yamlio.dump(data)
    return str(yaml.dump(data, Dumper=_c_dumper(), sort_keys=False, allow_unicode=True,
                         default_flow_style=False, width=100, indent=2))


_checked: collections.Counter[str] = collections.Counter()


def _same_as(kind: str, text: str, reference: Callable[[], str]) -> str:
    """``text``, after checking it is what promoctl writes (the first records of each kind,
    then every 250th): a change to decide's or review's writer fails loudly here."""
    _checked[kind] += 1
    if _checked[kind] <= 25 or _checked[kind] % 250 == 0:
        expected = reference()
        if text != expected:
            raise RuntimeError(f"the benchmark's fast {kind} writer no longer matches "
                               "promoctl's; update _dump and _decision_yaml")
    return text


def _decision_yaml(decision: Any) -> str:
    from promoctl import decisions

    body = decision.model_dump(mode="python", exclude_none=True)
    body["evaluation"] = decision.evaluation
    text = decisions.HEADER.format(id=decision.id) + _dump(body)
    return _same_as("decision", text, lambda: decisions.to_yaml(decision))


class _Decider:
    """Builds decision records the way ``promoctl decide`` does (decisions.prepare)."""

    def __init__(self, rules: tuple[RuleSet, RuleSet], panels: _Panels) -> None:
        self.rules = rules
        self.panels = panels
        self.ids: set[str] = set()

    def ruleset(self, day: date) -> RuleSet:
        return self.rules[1] if day >= REVISION_DAY else self.rules[0]

    def new_id(self, rng: random.Random, day: date, candidate: str) -> str:
        while True:
            record_id = f"{day.isoformat()}-{candidate}-{rng.getrandbits(24):06x}"
            if record_id not in self.ids:
                self.ids.add(record_id)
                return record_id

    def evaluate(self, packet: Any, person: Any, day: date) -> Any:
        from promoctl.evaluate import evaluate

        rules = self.ruleset(day)
        _path, ladder = rules.ladders[packet.target.ladder]
        _fpath, framework = rules.frameworks[ladder.framework]
        return evaluate(packet, person, ladder, framework, None)  # decide: as-of = submitted

    def decision(self, rng: random.Random, ev: Any, out: PacketOut, person_raw: bytes,
                 day: date, outcome: str, reasons: list[str], override: str | None,
                 supersedes: str | None = None) -> tuple[RecordOut, Any]:
        from promoctl import decisions, evaluation_view, plans
        from promoctl.models import Decision

        rules = self.ruleset(day)
        packet, ladder = ev.packet, ev.ladder
        ladder_path, _ = rules.ladders[ladder.id]
        framework_path, _ = rules.frameworks[ev.framework.id]
        panel = self.panels.pick(rng, ladder.id, packet, ev.person)
        assert not decisions.check_quorum(ladder, panel)
        level = ladder.level(packet.target.level)
        assert level is not None and level.promotion is not None
        effective = _next_month(day)
        secretary = _rota(out.group, day)
        against = (outcome == "approved") != ev.ready
        assert against == (override is not None)
        person_path = f"people/{out.group}/{packet.candidate}.yaml"
        shas = {out.path: _sha256(out.text.encode()), person_path: _sha256(person_raw),
                ladder_path: _sha256(rules.files[ladder_path]),
                framework_path: _sha256(rules.files[framework_path])}
        data: dict[str, Any] = {  # the same fields, in the same order, as decisions.prepare
            "kind": "decision",
            "format": 1,
            "id": self.new_id(rng, day, packet.candidate),
            "candidate": packet.candidate,
            "target": packet.target.model_dump(),
            "outcome": outcome,
            "decided_on": day,
            "as_of": ev.as_of,
            "effective": effective if outcome == "approved" else None,
            "recorded_by": _who(secretary),
            "reasons": reasons,
            "panel": [{"name": name, "role": role} for role, name in panel],
            "override": {"evaluation_verdict": ev.verdict, "justification": override}
            if override else None,
            "supersedes": supersedes,
            "inputs": {
                "commit": PLACEHOLDER_COMMIT,
                "packet": {"id": packet.id, "path": out.path, "sha256": shas[out.path]},
                "person": {"id": packet.candidate, "path": person_path,
                           "sha256": shas[person_path]},
                "ladder": {"id": ladder.id, "path": ladder_path, "sha256": shas[ladder_path]},
                "framework": {"id": ev.framework.id, "path": framework_path,
                              "sha256": shas[framework_path], "version": ev.framework.version},
            },
            "evaluation": evaluation_view.as_json(ev, out.path),
        }
        if outcome == "approved":
            if level.probation is not None:
                data["probation_plan"] = plans.probation_plan(level.probation, effective)
        else:
            data["development_plan"] = plans.development_plan(ev, level.promotion, day)
        decision = Decision.model_validate(data)
        path = f"decisions/{day.year}/{decision.id}.yaml"
        record = RecordOut(day, 0, path, _decision_yaml(decision),
                           decisions.commit_message(decision, path), secretary, shas)
        return record, decision


def _review_chain(rng: random.Random, panels: _Panels, approval: Any, group: str,
                  ladder: Any) -> list[RecordOut]:
    """The reviews after one promotion, in order: probation, then (for levels with
    re-validation) maintenance every interval, re-checks after drift, until the end."""
    from promoctl import reviews
    from promoctl.models import Review

    level = ladder.level(approval.target.level)
    effective = approval.effective
    chain: list[dict[str, Any]] = []
    probation = level.probation.days if level.probation else 90
    day = effective + timedelta(days=probation + rng.randint(-5, 7))
    while day <= HISTORY_END:
        if rng.random() < 0.12 and len(chain) < 2:
            until = day + timedelta(days=45)
            chain.append({"type": "probation", "outcome": "extended", "date": day,
                          "extended_until": until})
            day = until + timedelta(days=rng.randint(-3, 3))
            continue
        chain.append({"type": "probation", "outcome": "confirmed", "date": day})
        break
    rules = level.revalidation
    base = effective
    while rules is not None:
        day = base + timedelta(days=rules.interval_days - rng.randint(0, 14))
        if day > HISTORY_END:
            break
        r = rng.random()
        if r < 0.85:
            chain.append({"type": "maintenance", "outcome": "sustained", "date": day,
                          "evidence": _maintenance_evidence(rng, panels, ladder.id, day)})
            base = day
            continue
        if r < 0.96:
            recheck_by = day + timedelta(days=rules.recheck_days)
            chain.append({"type": "maintenance", "outcome": "drift", "date": day,
                          "supports": rng.sample(SUPPORTS, rng.randint(1, 3)),
                          "recheck_by": recheck_by})
            later = recheck_by - timedelta(days=rng.randint(0, 7))
            if later > HISTORY_END:
                break
            resolved = rng.random() < 0.8
            chain.append({"type": "recheck", "outcome": "resolved" if resolved
                          else "unresolved", "date": later})
            if not resolved:
                break
            base = later
            continue
        chain.append({"type": "maintenance", "outcome": "lapsed", "date": day})
        break
    out = []
    for step in chain:
        day = step["date"]
        secretary = _rota(group, day)
        data = {"kind": "review", "format": 1,
                "id": f"{day.isoformat()}-{approval.candidate}-{step['type']}-"
                      f"{rng.getrandbits(24):06x}",
                "person": approval.candidate, "type": step["type"],
                "ladder": approval.target.ladder, "level": approval.target.level, "date": day,
                "reviewer": panels.reviewer(rng, ladder.id), "recorded_by": _who(secretary),
                "outcome": step["outcome"], "decision": approval.id,
                "findings": FINDINGS[step["type"], step["outcome"]],
                "evidence": step.get("evidence", []), "supports": step.get("supports", []),
                "recheck_by": step.get("recheck_by"),
                "extended_until": step.get("extended_until"), "supersedes": None}
        review = Review.model_validate(data)
        path = f"reviews/{day.year}/{review.id}.yaml"
        # promoctl's own writer: libyaml's emitter tags whole-number Decimals differently
        out.append(RecordOut(day, 1, path, reviews.to_yaml(review),
                             reviews.commit_message(review, path), secretary))
    return out


def _maintenance_evidence(rng: random.Random, panels: _Panels, ladder: str, day: date
                          ) -> list[dict[str, Any]]:
    """What a sustained maintenance review rests on (the level's ``requires`` gates)."""
    assessor = panels.reviewer(rng, ladder)
    return [
        {"id": "documentation-sample", "type": "documentation_audit",
         "date": day - timedelta(days=rng.randint(3, 30)), "title": "Documentation sample",
         "assessor": assessor, "competencies": ["decision-documentation"],
         "result": {"score": rng.choice((2, 3, 3, 4))}},
        {"id": "observed-session", "type": "observation",
         "date": day - timedelta(days=rng.randint(3, 40)), "title": "Observed practice session",
         "assessor": assessor, "competencies": ["risk-escalation", "support-planning"],
         "result": {"score": rng.choice((2, 3, 3, 4))}},
        {"id": "incident-involvement", "type": "incident_review",
         "date": day - timedelta(days=rng.randint(3, 60)), "title": "Incident involvement",
         "assessor": assessor, "competencies": ["incident-learning"],
         "result": {"score": rng.choice((2, 3, 3, 4))}},
    ]


def plan_history(staff: Staff, people: dict[str, bytes], packets: list[PacketOut],
                 size: Size, seed: int, log: Callable[[str], None] | None = None) -> Plan:
    """Every commit of the synthetic history, in order, with its files.

    Decisions are made on the earliest packets (the latest stay pending), each evaluated
    once with the records as they are at the commit before it; a few are corrected later
    by a superseding decision; HR applies approvals to the person records on the
    effective date; reviews follow the promotions.
    """
    from promoctl.records import parse_record

    rng = random.Random(seed * 31 + 7)  # its own stream: history choices leave packets be
    rules = rule_sets()
    panels = _Panels(staff)
    decider = _Decider(rules, panels)
    commits = [Commit(HISTORY_START, 0, OFFICE, "Import people, frameworks and ladders\n",
                      [("promoctl.yaml", (EXAMPLES / "promoctl.yaml").read_bytes()),
                       *rules[0].files.items(), *people.items()])]
    commits.append(Commit(REVISION_DAY, 1, OFFICE,
                          "Support work: rebalance source weights\n\nObservation 45 (was 40), "
                          "documentation audit 25 (was 30); framework community-services "
                          "2024.1. Decisions made before this replay with the old weights.\n",
                          [(p, raw) for p, raw in rules[1].files.items()
                           if raw != rules[0].files[p]]))

    # Packets, committed in batches of consecutive submission days.
    packets = sorted(packets, key=lambda p: (p.submitted, p.path))
    days = sorted({p.submitted for p in packets})
    committed_on: dict[date, date] = {}
    chunks = _split(days, round(size.commits * PACKET_COMMIT_SHARE))
    by_day: dict[date, list[PacketOut]] = collections.defaultdict(list)
    for p in packets:
        by_day[p.submitted].append(p)
    for chunk in chunks:
        batch = [p for d in chunk for p in by_day[d]]
        first, last = chunk[0], chunk[-1]
        when = f"on {first}" if first == last else f"from {first} to {last}"
        commits.append(Commit(last, 3, HR_DESK, f"Packets submitted {when} ({len(batch)})\n",
                              [(p.path, p.text.encode()) for p in batch]))
        committed_on.update(dict.fromkeys(chunk, last))

    # Decisions, in submission order, until the target is reached.
    plan = Plan(commits)
    records: list[RecordOut] = []
    approvals: list[tuple[Any, str]] = []  # (decision, group)
    for n, out in enumerate(packets):
        if log and n and n % 1000 == 0:
            log(f"  planned decisions on {n:,} of {len(packets):,} packets")
        made = plan.decisions + plan.superseding
        day = max(out.submitted + timedelta(days=rng.randint(10, 40)),
                  committed_on[out.submitted] + timedelta(days=1))
        if made >= size.decisions or day > HISTORY_END:
            plan.pending += 1
            continue
        raw = out.text.encode()
        source, problems = parse_record(raw, out.path)
        person_path = f"people/{out.group}/{out.candidate}.yaml"
        person_source, person_problems = parse_record(people[person_path], person_path)
        if source is None or person_source is None or problems or person_problems:
            raise ValueError(f"{out.path}: generated an invalid record: "
                             f"{[*problems, *person_problems][:3]}")
        ev = decider.evaluate(source.record, person_source.record, day)
        outcome, override = _outcome(rng, ev.ready)
        record, decision = decider.decision(rng, ev, out, people[person_path], day, outcome,
                                            _reasons(rng, ev, outcome), override)
        records.append(record)
        plan.decisions += 1
        plan.outcomes[outcome] += 1
        plan.overrides += override is not None
        if outcome == "approved":
            approvals.append((decision, out.group))
            continue
        later = day + timedelta(days=rng.randint(2, 21))
        if (rng.random() < SUPERSEDE_RATE and made + 1 < size.decisions
                and later <= HISTORY_END and (later >= REVISION_DAY) == (day >= REVISION_DAY)):
            # A correction: the same packet, the other non-approving outcome.
            fixed = "declined" if outcome == "deferred" else "deferred"
            reasons = [rng.choice(CORRECTIONS).format(outcome=fixed),
                       *_reasons(rng, ev, fixed)]
            record, _ = decider.decision(rng, ev, out, people[person_path], later, fixed,
                                         reasons, override, supersedes=decision.id)
            records.append(record)
            plan.superseding += 1
            plan.outcomes[fixed] += 1
            plan.overrides += override is not None

    # HR applies each approval on its effective date (the first of the next month).
    promoted: dict[date, list[tuple[str, bytes]]] = collections.defaultdict(list)
    for decision, group in approvals:
        if decision.effective <= HISTORY_END:
            path = f"people/{group}/{decision.candidate}.yaml"
            text = promoted_person(people[path].decode(), decision.target.level,
                                   decision.effective)
            promoted[decision.effective].append((path, text.encode()))
            plan.promoted += 1
    for day in sorted(promoted):
        changes = promoted[day]
        commits.append(Commit(day, 2, HR_DESK, f"HR: level changes effective {day} "
                              f"({len(changes)} {'person' if len(changes) == 1 else 'people'})"
                              "\n", changes))

    # Reviews after promotion: whole chains of randomly chosen promoted people.
    ladder_of = {lid: ladder for lid, (_p, ladder) in rules[1].ladders.items()}
    chosen = [(d, g) for d, g in approvals if d.effective <= HISTORY_END]
    rng.shuffle(chosen)
    for decision, group in chosen:
        if plan.reviews >= size.reviews:
            break
        chain = _review_chain(rng, panels, decision, group, ladder_of[decision.target.ladder])
        chain = chain[:size.reviews - plan.reviews]
        records.extend(chain)
        plan.reviews += len(chain)
        plan.review_kinds.update(" ".join(r.message.split()[1:3]) for r in chain)

    # Records, in batches that never cross the first of a month (HR's day) or the rule
    # revision, so every record's inputs are exactly as planned at the commit before it.
    records.sort(key=lambda r: (r.day, r.order, r.path))
    segments: dict[tuple[int, int, bool], list[RecordOut]] = collections.defaultdict(list)
    for r in records:
        segments[r.day.year, r.day.month, r.day >= REVISION_DAY].append(r)
    budget = max(1, size.commits - len(commits))
    shares = {key: max(1, len(seg) * budget // max(len(records), 1))
              for key, seg in segments.items()}
    spare = budget - sum(shares.values())
    for key in sorted(segments, key=lambda k: -len(segments[k]))[:max(spare, 0)]:
        shares[key] += 1
    for key, seg in segments.items():
        for batch in _split(seg, shares[key]):
            commits.append(Commit(batch[-1].day, 4, batch[0].author, "", records=list(batch)))
    commits.sort(key=lambda c: (c.day, c.rank))  # stable: batches keep their order
    return plan


def batch_message(records: Sequence[RecordOut]) -> str:
    """One record: decide's (or review's) own message. Several: a summary line, one line
    per record, and every record's Promoctl-* trailers."""
    if len(records) == 1:
        return records[0].message
    kinds = collections.Counter("decision" if r.order == 0 else "review" for r in records)
    what = " and ".join(f"{n} {kind}{'s' if n > 1 else ''}" for kind, n in sorted(kinds.items()))
    lines = [f"Record {what}", ""]
    trailers = []
    for r in records:
        head = r.message.split("\n", 1)[0]
        lines.append(f"- {head} ({r.path})")
        trailers += [line for line in r.message.splitlines() if line.startswith("Promoctl-")]
    return "\n".join([*lines, "", *trailers]) + "\n"


# ---------------------------------------------------------------------------- fast-import

class FastImport:
    """One ``git fast-import`` process writing the whole history, asked for commit ids
    with ``get-mark`` as it goes (a decision records the commit its inputs were read at)."""

    def __init__(self, root: Path) -> None:
        self.proc = subprocess.Popen(
            ["git", "-C", str(root), "fast-import", "--quiet", "--done", "--date-format=raw"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.marks = 0

    @staticmethod
    def _data(raw: bytes) -> bytes:
        return b"data %d\n%s\n" % (len(raw), raw)

    def commit(self, author: Identity, when: datetime, message: str,
               files: Iterable[tuple[str, bytes]]) -> int:
        assert self.proc.stdin is not None
        self.marks += 1
        ident = f"{author[0]} <{author[1]}> {int(when.timestamp())} +0000"
        parts = [f"commit refs/heads/main\nmark :{self.marks}\nauthor {ident}\n"
                 f"committer {ident}\n".encode(), self._data(message.encode())]
        for path, raw in files:
            parts.append(f"M 100644 inline {path}\n".encode())
            parts.append(self._data(raw))
        parts.append(b"\n")
        self.proc.stdin.write(b"".join(parts))
        return self.marks

    def sha(self, mark: int) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"get-mark :{mark}\n".encode())
        self.proc.stdin.flush()
        sha = self.proc.stdout.readline().decode().strip()
        if not re.fullmatch(r"[0-9a-f]{40}", sha):
            raise RuntimeError(f"git fast-import answered {sha!r} for get-mark :{mark}")
        return sha

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"done\n")
        self.proc.stdin.close()
        if self.proc.wait() != 0:
            raise RuntimeError(f"git fast-import failed with exit code {self.proc.returncode}")


def _with_commit(text: str, sha: str) -> str:
    """A planned decision record with the real inputs commit in place of the placeholder."""
    if re.search("[a-f]", sha):  # written plain by the YAML dumper, like the placeholder
        assert text.count(PLACEHOLDER_COMMIT) == 1
        return text.replace(PLACEHOLDER_COMMIT, sha)
    # All digits (one commit in ~10^8): let promoctl's own writer decide how to quote it.
    from promoctl import decisions
    from promoctl.records import parse_record

    source, _ = parse_record(text.encode(), "decision.yaml")
    assert source is not None
    old = source.record
    new = old.model_copy(update={"inputs": old.inputs.model_copy(update={"commit": sha})})
    return decisions.to_yaml(new)


def write_history(root: Path, plan: Plan) -> str:
    """Feed the plan to git fast-import; returns the last commit's id."""
    state: dict[str, str] = {}  # path -> sha256 of its content at HEAD
    seconds_into: collections.Counter[date] = collections.Counter()
    importer = FastImport(root)
    head = ""
    try:
        for commit in plan.commits:
            files = list(commit.files)
            message = commit.message
            if commit.records:
                for record in commit.records:
                    for path, sha in record.inputs.items():
                        if state.get(path) != sha:
                            raise RuntimeError(f"{record.path}: {path} at the commit before "
                                               "is not what the decision was planned on")
                for record in commit.records:
                    body = _with_commit(record.text, head) if record.order == 0 else record.text
                    files.append((record.path, body.encode()))
                message = batch_message(commit.records).replace(PLACEHOLDER_COMMIT, head)
            # A fixed time of day, a minute apart for commits on the same day.
            when = datetime(commit.day.year, commit.day.month, commit.day.day, 9, tzinfo=UTC) \
                + timedelta(seconds=60 * seconds_into[commit.day])
            seconds_into[commit.day] += 1
            mark = importer.commit(commit.author, when, message, files)
            state.update((path, _sha256(raw)) for path, raw in files)
            head = importer.sha(mark)
    finally:
        importer.close()
    return head


# ----------------------------------------------------------------------------- repository

def _git(root: Path, *args: str) -> str:
    proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {root}: {proc.stderr.strip()}")
    return proc.stdout


def _wanted(size: Size, seed: int) -> dict[str, Any]:
    return {"generator": GENERATOR_VERSION, "people": size.people, "packets": size.packets,
            "decisions": size.decisions, "reviews": size.reviews, "commits": size.commits,
            "seed": seed}


def read_manifest(root: Path) -> dict[str, Any] | None:
    try:
        found = json.loads((root / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def generate(root: Path, size: Size, seed: int = DEFAULT_SEED,
             log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Write a fresh synthetic git repository into ``root`` (which must not hold records).

    Returns the manifest: what was asked for, and what was made.
    """
    t0 = time.perf_counter()
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {**_wanted(size, seed), "complete": False}
    (root / MANIFEST).write_text(json.dumps(manifest) + "\n")
    _git(root, "init", "--quiet", "--initial-branch=main")
    _git(root, "config", "gc.auto", "0")  # no background repacking during measurements
    with (root / ".git" / "info" / "exclude").open("a") as fh:
        fh.write(f"/{MANIFEST}\n")
    staff = make_staff(rng, size.people)
    people = {f"people/{row.group}/{row.id}.yaml": person_yaml(row, rng).encode()
              for row in staff.people}
    if log:
        log(f"  {len(people):,} people; writing {size.packets:,} packets ...")
    packets = list(make_packets(rng, staff, size.packets))
    if log:
        log(f"  planning the history ({time.perf_counter() - t0:.0f} s so far) ...")
    plan = plan_history(staff, people, packets, size, seed, log)
    del staff, people, packets
    if log:
        log(f"  writing {len(plan.commits):,} commits with git fast-import "
            f"({time.perf_counter() - t0:.0f} s so far) ...")
    head = write_history(root, plan)
    _git(root, "reset", "--hard", "--quiet")
    manifest.update(complete=True, head=head, made={
        "commits": len(plan.commits), "decisions": plan.decisions + plan.superseding,
        "superseding": plan.superseding, "overrides": plan.overrides,
        "outcomes": dict(sorted(plan.outcomes.items())), "pending_packets": plan.pending,
        "promoted": plan.promoted, "reviews": plan.reviews,
        "review_outcomes": dict(sorted(plan.review_kinds.items())),
        "seconds": round(time.perf_counter() - t0, 1)})
    (root / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def ensure_repo(root: Path, size: Size, seed: int = DEFAULT_SEED,
                log: Callable[[str], None] | None = None) -> bool:
    """Reuse ``root`` when it already holds this repository; else (re)generate it.

    Returns True when reused. A folder is only ever deleted when it carries the manifest
    this script writes, so pointing ``--dir`` at real records cannot destroy them.
    """
    found = read_manifest(root)
    if found is not None:
        if (found.get("complete") and {k: found.get(k) for k in _wanted(size, seed)}
                == _wanted(size, seed) and (root / ".git").is_dir()):
            head = subprocess.run(["git", "-C", str(root), "rev-parse", "--verify", "-q",
                                   "HEAD"], capture_output=True, text=True, check=False)
            if head.stdout.strip() == found.get("head") and not _git(
                    root, "status", "--porcelain", "--untracked-files=no"):
                return True
        shutil.rmtree(root)
    elif root.exists() and any(root.iterdir()):
        raise SystemExit(f"{root}: exists and was not made by this script (no {MANIFEST}); "
                         "pass an empty or new folder with --dir")
    generate(root, size, seed, log)
    return False


# ------------------------------------------------------------------------------- measuring

def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(PROJECT / "src"), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    env.pop("PROMOCTL_REPO", None)
    env.update(extra or {})
    return env


def promoctl_cmd() -> list[str]:
    script = Path(sys.executable).parent / "promoctl"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "promoctl"]


@dataclass
class Run:
    seconds: float
    code: int
    out: str
    err: str

    def failed(self, ok: Sequence[int] = (0,)) -> str | None:
        if self.code in ok:
            return None
        last = (self.err.strip().splitlines() or ["(no output)"])[-1]
        return f"FAILED (exit {self.code}): {last[:150]}"


def run(cmd: Sequence[str], cwd: Path, env: dict[str, str] | None = None, *,
        keep_output: bool = True) -> Run:
    """Wall time of one fresh process."""
    t0 = time.perf_counter()
    proc = subprocess.run(list(cmd), cwd=cwd, env=env or _env(), text=True, check=False,
                          stdout=subprocess.PIPE if keep_output else subprocess.DEVNULL,
                          stderr=subprocess.PIPE)
    return Run(time.perf_counter() - t0, proc.returncode, proc.stdout or "", proc.stderr)


def median_run(cmd: Sequence[str], cwd: Path, runs: int, env: dict[str, str] | None = None
               ) -> tuple[float, Run]:
    """Median wall time over ``runs`` fresh processes (fewer when one run is long)."""
    first = run(cmd, cwd, env, keep_output=False)
    times = [first.seconds]
    if first.seconds > 5:
        runs = min(runs, 3)
    for _ in range(runs - 1):
        times.append(run(cmd, cwd, env, keep_output=False).seconds)
    return statistics.median(times), first


def _after_edits(promoctl: Sequence[str], root: Path, path: Path, runs: int
                 ) -> tuple[float, Run]:
    """Median wall time of ``validate PATH`` just after PATH was edited (a comment
    line added, a different one each time); the file is restored afterwards."""
    original = path.read_bytes()
    times, first = [], None
    try:
        for i in range(runs):
            path.write_bytes(original + f"# edited for the benchmark ({i})\n".encode())
            done = run([*promoctl, "validate", path.relative_to(root).as_posix()], root,
                       keep_output=False)
            first = first or done
            times.append(done.seconds)
    finally:
        path.write_bytes(original)
    assert first is not None
    return statistics.median(times), first


def clear_caches(root: Path) -> None:
    """Forget whatever an earlier run cached in the repository: untracked and ignored files
    (the manifest excepted) and promoctl's own entries in .git (its lock excepted)."""
    _git(root, "clean", "-fdxq", "-e", f"/{MANIFEST}")
    for entry in (root / ".git").iterdir():
        if entry.name.startswith("promoctl") and not entry.name.endswith(".lock"):
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()


def cache_files(root: Path, cache_home: Path) -> list[str]:
    """Files a run left behind: in the work tree, in .git, under XDG_CACHE_HOME."""
    found = [p for p in _git(root, "ls-files", "--others", "-z").split("\0")
             if p and p != MANIFEST]
    found += [f".git/{e.name}" for e in (root / ".git").iterdir()
              if e.name.startswith("promoctl") and not e.name.endswith(".lock")]
    found += [f"$XDG_CACHE_HOME/{p.relative_to(cache_home)}" for p in cache_home.rglob("*")
              if p.is_file()]
    return found


def cold_warm(cmd: Sequence[str], root: Path) -> tuple[Run, Run, list[str]]:
    """The same command in two fresh processes: first with every cache cleared, then again."""
    with tempfile.TemporaryDirectory(prefix="promoctl-bench-cache-") as tmp:
        clear_caches(root)
        env = _env({"XDG_CACHE_HOME": tmp})
        cold = run(cmd, root, env, keep_output=False)
        written = cache_files(root, Path(tmp))
        warm = run(cmd, root, env, keep_output=False)
    return cold, warm, written


_MEMORY_PROBE = r"""
import json, sys, time

def hwm():
    # Linux keeps ru_maxrss across exec, so a child could report its parent's peak; the
    # high-water mark of this process's own memory map (VmHWM) does not have that flaw.
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import resource
    except ImportError:
        return None
    value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return value if sys.platform == "darwin" else value * 1024

t0 = time.perf_counter()
from promoctl.cli import main
before = hwm()
t1 = time.perf_counter()
code = main(["validate", "--repo", sys.argv[1]])
t2 = time.perf_counter()
try:  # the largest worker process (they share the parent's pages until they write them)
    import resource
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    workers = workers if sys.platform == "darwin" else workers * 1024
except ImportError:
    workers = None
print(json.dumps({"code": code, "imports": t1 - t0, "seconds": t2 - t1, "before": before,
                  "peak": hwm(), "worker_peak": workers}))
"""


def _mb(value: int | None) -> str:
    return f"{value / 1024 / 1024:,.0f} MB" if value else "none"


def memory_probe(root: Path) -> dict[str, Any]:
    """``promoctl validate`` (the CLI's main) in a fresh interpreter with caches cleared:
    its peak resident memory and times."""
    clear_caches(root)
    with tempfile.TemporaryDirectory(prefix="promoctl-bench-cache-") as tmp:
        done = run([sys.executable, "-c", _MEMORY_PROBE, str(root)], root,
                   _env({"XDG_CACHE_HOME": tmp}))
    if done.code != 0:
        raise RuntimeError(f"memory probe failed: {done.err[-2000:]}")
    result: dict[str, Any] = json.loads(done.out.strip().splitlines()[-1])
    result["wall"] = done.seconds
    return result


_C_REFERENCE = r"""
import sys, time, yaml
t0 = time.perf_counter()
with open(sys.argv[1], encoding="utf-8") as fh:
    paths = fh.read().splitlines()
for path in paths:
    with open(path, "rb") as fh:
        yaml.load(fh.read(), Loader=yaml.CSafeLoader)
print(time.perf_counter() - t0)
"""


def c_reference(files: Sequence[Path], root: Path) -> Run:
    """Read and parse ``files`` with PyYAML's C loader in one fresh process."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
        fh.write("\n".join(str(p) for p in files))
    try:
        return run([sys.executable, "-c", _C_REFERENCE, fh.name], root)
    finally:
        os.unlink(fh.name)


class CatFile:
    """One ``git cat-file --batch`` for every read; requests are written by a thread so
    neither pipe can fill up while the other waits."""

    def __init__(self, root: Path) -> None:
        self.proc = subprocess.Popen(["git", "-C", str(root), "cat-file", "--batch"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def read(self, keys: Sequence[str]) -> list[tuple[str | None, bytes | None]]:
        """(object id, content) for each ``rev:path``; (None, None) when missing."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        stdin, stdout = self.proc.stdin, self.proc.stdout

        def feed() -> None:
            stdin.write("".join(f"{k}\n" for k in keys).encode())
            stdin.flush()

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        out: list[tuple[str | None, bytes | None]] = []
        for _ in keys:
            header = stdout.readline().split()
            if len(header) == 3:
                data = stdout.read(int(header[2]) + 1)[:-1]
                out.append((header[0].decode(), data if header[1] == b"blob" else None))
            else:
                out.append((None, None))
        writer.join()
        return out

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait()


def audit_reference(root: Path) -> dict[str, Any]:
    """The least an audit must do, done plainly: one ``git log --name-status`` pass to find
    each decision's first commit; one ``git cat-file --batch`` reading every decision (at
    HEAD and as first committed) and then every input it names at its inputs commit; each
    distinct blob parsed once with PyYAML's C loader. No checks, no replay."""
    t0 = time.perf_counter()
    log = subprocess.run(["git", "-C", str(root), "log", "--reverse", "--no-renames",
                          "--name-status", "-z", "--format=%x1e%H%x00%an%x00%ae%x00%aI%x00"
                          "%s%x00%b%x00", "HEAD"], capture_output=True, check=True).stdout
    created: dict[str, str] = {}
    for chunk in log.split(b"\x1e")[1:]:
        parts = chunk.split(b"\x00")
        rest = [p for p in (p.strip(b"\n") for p in parts[6:]) if p]
        for path in rest[1::2]:
            name = path.decode()
            if name.startswith("decisions/") and name not in created:
                created[name] = parts[0].decode()
    t_log = time.perf_counter() - t0
    parsed: dict[str, Any] = {}

    def parse(answers: Sequence[tuple[str | None, bytes | None]]) -> list[Any]:
        docs = []
        for oid, data in answers:
            if oid is not None and oid not in parsed:
                parsed[oid] = yaml.load(data, Loader=yaml.CSafeLoader) if data else None
            docs.append(parsed.get(oid) if oid else None)
        return docs

    cat = CatFile(root)
    try:
        keys = [f"HEAD:{p}" for p in created] + [f"{sha}:{p}" for p, sha in created.items()]
        firsts = parse(cat.read(keys))[len(created):]
        wanted = [f"{d['inputs']['commit']}:{d['inputs'][what]['path']}"
                  for d in firsts if isinstance(d, dict)
                  for what in ("packet", "person", "ladder", "framework")]
        found = parse(cat.read(wanted))
    finally:
        cat.close()
    return {"seconds": time.perf_counter() - t0, "log": t_log, "decisions": len(created),
            "reads": len(keys) + len(wanted), "parsed": len(parsed),
            "missing": sum(1 for d in found if d is None)}


def find_check_jsonschema(install: bool) -> tuple[list[str] | None, str]:
    script = Path(sys.executable).parent / "check-jsonschema"
    if script.is_file():
        return [str(script)], ""
    found = shutil.which("check-jsonschema")
    if found:
        return [found], ""
    if not install:
        return None, "check-jsonschema is not installed: pip install check-jsonschema " \
                     "(or run without --no-install)"
    print("installing check-jsonschema into this environment (pip) ...", flush=True)
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                           "check-jsonschema"], capture_output=True, text=True, check=False)
    if proc.returncode == 0 and script.is_file():
        return [str(script)], "installed by this run"
    why = (proc.stderr.strip().splitlines() or ["pip failed"])[-1]
    return None, f"could not install check-jsonschema ({why[:120]})"


def _argv_chunks(paths: Sequence[str], budget: int = 400_000) -> Iterator[list[str]]:
    """Paths in as few command lines as the OS allows (ARG_MAX is 2 MB on Linux)."""
    chunk: list[str] = []
    used = 0
    for p in paths:
        if chunk and used + len(p) + 1 > budget:
            yield chunk
            chunk, used = [], 0
        chunk.append(p)
        used += len(p) + 1
    if chunk:
        yield chunk


# Record folders and the schema their files are checked against.
SCHEMA_OF = (("packets", "packet"), ("people", "person"), ("decisions", "decision"),
             ("reviews", "review"), ("frameworks", "framework"), ("ladders", "ladder"))


def check_jsonschema(cmd: list[str], root: Path, groups: Sequence[tuple[str, Sequence[Path]]]
                     ) -> dict[str, Any]:
    """check-jsonschema on each group of files with its schema; wall time of every run."""
    seconds, runs, files, errors, failed_runs = 0.0, 0, 0, 0, []
    for schema, paths in groups:
        rel = [p.relative_to(root).as_posix() for p in paths]
        for chunk in _argv_chunks(rel):
            done = run([*cmd, "--schemafile", str(SCHEMAS / schema), "--output-format", "json",
                        *chunk], root)
            seconds += done.seconds
            runs += 1
            files += len(chunk)
            try:
                report = json.loads(done.out)
                errors += len(report.get("errors", [])) + len(report.get("parse_errors", []))
            except ValueError:
                failed_runs.append(done.failed() or "unreadable output")
    return {"seconds": seconds, "runs": runs, "files": files, "errors": errors,
            "failed": failed_runs}


def machine() -> list[str]:
    from promoctl import yamlio

    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            mem = f", {int(fh.readline().split()[1]) / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return [
        f"platform     {platform.platform()} ({platform.machine()})",
        f"cpu          {_cpu_name()}, {os.cpu_count()} logical CPUs{mem}",
        f"python       {platform.python_implementation()} {sys.version.split()[0]}",
        f"pyyaml       {yaml.__version__}, libyaml "
        f"{'yes' if getattr(yaml, '__with_libyaml__', False) else 'NO'}; promoctl's parser "
        f"uses {'libyaml (CParser)' if yamlio.HAVE_LIBYAML else 'the pure-Python parser'}",
        f"git          {_git(PROJECT, '--version').strip().removeprefix('git version ')}",
        f"load         {_load()} (other processes on the machine skew every figure)",
    ]


def _load() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"average {one:.2f} (1 min), {five:.2f} (5 min), {fifteen:.2f} (15 min)"


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown cpu"


def _timed(func: Any, *args: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    value = func(*args)
    return time.perf_counter() - t0, value


def parser_ratio(files: Sequence[Path], root: Path, seed: int) -> tuple[float, float, int]:
    """promoctl's parser with libyaml and pure Python, on the same sample (I/O excluded)."""
    from promoctl import yamlio

    sample = random.Random(seed).sample(list(files), min(PARSER_SAMPLE, len(files)))
    blobs = [(p.read_bytes(), p.relative_to(root).as_posix()) for p in sample]
    fast, _ = _timed(lambda: [yamlio.parse(raw, name) for raw, name in blobs])
    pure, _ = _timed(lambda: [yamlio.parse(raw, name, pure=True) for raw, name in blobs])
    return fast, pure, len(blobs)


@dataclass
class Row:
    figure: str
    value: str
    reference: str = ""  # what the figure is compared with, and its value
    ratio: str = ""
    target: str = ""  # the issue's target, and whether this run meets it
    note: str = ""


def _secs(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds < 100 else f"{seconds:,.0f} s"


def _faster(ratio: float) -> str:
    return f"{ratio:.1f}x faster" if ratio >= 1 else f"{1 / ratio:.1f}x slower"


def _at_most(ratio: float, limit: float) -> str:
    return f"<= {limit:g}x: {'met' if ratio <= limit else 'NOT MET'}"


def _at_least(ratio: float, limit: float) -> str:
    return f">= {limit:g}x: {'met' if ratio >= limit else 'NOT MET'}"


_REPORT_SNIPPET = r"""
import json, sys
from datetime import date
from pathlib import Path
from promoctl import report
from promoctl.loader import discover, load
root = Path(sys.argv[1])
repo = load(root, discover([root]))
options = report.Options(start=date(2000, 1, 1), end=date(2100, 12, 31))
json.dumps(report.as_json(report.build(repo, options)))
"""


def report_command(root: Path) -> tuple[list[str] | None, str]:
    """How to run ``report``: the CLI command when it exists, else promoctl.report's
    ``build`` over the loaded repository in a fresh process; None when neither exists."""
    helped = run([*promoctl_cmd(), "report", "--help"], root)
    if helped.code == 0:
        extra = ["--format", "json"] if "--format" in helped.out and "json" in helped.out \
            else []
        if "--from" in helped.out and "--to" in helped.out:  # the whole history
            extra += ["--from", HISTORY_START.isoformat(), "--to", HISTORY_END.isoformat()]
            if "--allow-unaligned" in helped.out:  # the same period as earlier runs measured
                extra.append("--allow-unaligned")
        return [*promoctl_cmd(), "report", *extra], f"promoctl report {' '.join(extra)}".strip()
    import importlib.util

    try:
        found = importlib.util.find_spec("promoctl.report") is not None
    except ImportError:
        found = False
    if not found:
        return None, "skipped: promoctl.report does not exist yet"
    from promoctl import report

    if not (hasattr(report, "build") and hasattr(report, "Options")):
        return None, "skipped: promoctl.report has no build(repo, Options) yet"
    return [sys.executable, "-c", _REPORT_SNIPPET, str(root)], \
        "no report command yet: report.build over load(), whole history, as JSON"


def measure(root: Path, seed: int = DEFAULT_SEED, *, repeats: int = 7, install: bool = True,
            jsonschema: bool = True, big_root: Path | None = None,
            log: Callable[[str], None] = print) -> tuple[list[Row], dict[str, Any]]:
    """Run every measurement on ``root``; the table rows and the raw figures."""
    from promoctl import workspace
    from promoctl.evaluate import NOT_READY, READY
    from promoctl.loader import discover

    def step(text: str) -> None:
        log(f"measuring: {text} ...")

    files = discover([root])
    by_folder: dict[str, list[Path]] = collections.defaultdict(list)
    for p in files:
        by_folder[p.relative_to(root).parts[0]].append(p)
    packet_files = by_folder["packets"]
    # Reading every file once also puts it in the OS cache, so no figure pays for the disk.
    sizes = {p: len(p.read_bytes()) for p in files}
    total = sum(sizes.values())
    commits = int(_git(root, "rev-list", "--count", "HEAD"))
    manifest = read_manifest(root) or {}
    mb = 1024 * 1024
    figures: dict[str, Any] = {"files": len(files), "bytes": total, "commits": commits}
    rows = [
        Row("record files", f"{len(files):,}", note=", ".join(
            f"{len(v):,} {k}" for k, v in sorted(by_folder.items(), key=lambda kv: -len(kv[1]))
            if len(v) > 2) + "; plus config, frameworks, ladders"),
        Row("total size", f"{total / mb:,.1f} MB", note="mean " + ", ".join(
            f"{k.rstrip('s')} {sum(sizes[p] for p in by_folder[k]) / len(by_folder[k]) / 1024:.1f}"
            " KB" for k in ("packets", "decisions", "reviews", "people") if by_folder[k])),
        Row("git history", f"{commits:,} commits", note=f"generated in "
            f"{manifest.get('made', {}).get('seconds', '?')} s with one git fast-import"),
    ]
    promoctl = promoctl_cmd()

    # Peak memory first, while nothing else has run.
    step("validate in a fresh process, for peak memory")
    probe = memory_probe(root)
    figures["probe"] = probe

    step(f"PyYAML's C loader on all {len(files):,} record files, in a fresh process")
    ref = c_reference(files, root)
    ref_s = ref.seconds
    step("promoctl validate, cold then warm (fresh processes)")
    v_cold, v_warm, v_cache = cold_warm([*promoctl, "validate"], root)
    figures.update(reference=ref_s, validate_cold=v_cold.seconds, validate_warm=v_warm.seconds)
    ratio = v_cold.seconds / ref_s
    rows.append(Row("validate, cold (whole repo)", _secs(v_cold.seconds),
                    f"C loader, same files: {_secs(ref_s)}", f"{ratio:.1f}x",
                    _at_most(ratio, 1.3), v_cold.failed() or "promoctl validate, fresh "
                    "process; reference: yaml.load(CSafeLoader) on every file, one process"))
    rows.append(Row("record files validated / s", f"{len(files) / v_cold.seconds:,.0f}",
                    note=f"cold; {len(packet_files) / v_cold.seconds:,.0f} packets/s "
                    "(every record kind is loaded)"))

    if jsonschema:
        cmd, how = find_check_jsonschema(install)
        if cmd is None:
            rows.append(Row("validate vs check-jsonschema", "skipped", note=how))
        else:
            step("check-jsonschema on every record file with schemas/")
            cj = check_jsonschema(cmd, root, [
                (f"{kind}.schema.json", by_folder[folder]) for folder, kind in SCHEMA_OF
                if by_folder[folder]])
            figures["check_jsonschema"] = cj
            ratio = cj["seconds"] / v_cold.seconds
            rows.append(Row("validate, cold, vs check-jsonschema", _secs(v_cold.seconds),
                            f"check-jsonschema: {_secs(cj['seconds'])}",
                            _faster(ratio), _at_least(ratio, 10),
                            f"check-jsonschema on the same {cj['files']:,} record files "
                            f"in {cj['runs']} runs, {cj['errors']:,} error(s) reported"
                            + (f"; {'; '.join(cj['failed'][:2])}" if cj["failed"] else "")
                            + (f"; {how}" if how else "")
                            + "; it checks no cross-reference"))
    else:
        rows.append(Row("validate vs check-jsonschema", "skipped", note="not requested"))

    def warm_row(name: str, cold: Run, warm: Run, written: list[str], what: str,
                 ok: Sequence[int] = (0,)) -> None:
        failed = cold.failed(ok) or warm.failed(ok)
        speedup = cold.seconds / warm.seconds
        cache = (f"{len(written)} cache file(s) written, e.g. {written[0]}" if written
                 else "no cache file written")
        rows.append(Row(f"{name}, warm", _secs(warm.seconds), f"cold: {_secs(cold.seconds)}",
                        _faster(speedup), _at_least(speedup, 10),
                        failed or f"{what}; {cache}"))

    warm_row("validate", v_cold, v_warm, v_cache, "second fresh process")

    helped = run([*promoctl, "evaluate", "--help"], root)
    evaluate_all = [*promoctl, "evaluate", "--all", "--format", "json"] \
        if "--all" in helped.out else [*promoctl, "evaluate", "packets", "--format", "json"]
    shown = " ".join(["promoctl", *evaluate_all[len(promoctl):]])
    step(f"{shown}, cold then warm")
    e_cold, e_warm, e_cache = cold_warm(evaluate_all, root)
    figures.update(evaluate_cold=e_cold.seconds, evaluate_warm=e_warm.seconds)
    warm_row("evaluate, all packets", e_cold, e_warm, e_cache, f"{shown} > /dev/null",
             ok=(0, 1))

    report_cmd, report_how = report_command(root)
    if report_cmd is None:
        rows.append(Row("report, warm", "skipped", note=report_how))
    else:
        step("report, cold then warm")
        r_cold, r_warm, r_cache = cold_warm(report_cmd, root)
        figures.update(report_cold=r_cold.seconds, report_warm=r_warm.seconds)
        warm_row("report", r_cold, r_warm, r_cache, report_how)

    step("promoctl audit (fresh process)")
    clear_caches(root)
    audited = run([*promoctl, "audit", "--format", "json"], root)
    step("audit reference: git log + git cat-file --batch + C loader")
    aref = audit_reference(root)
    figures.update(audit=audited.seconds, audit_reference=aref)
    try:
        result = json.loads(audited.out)
        severities = collections.Counter(f["severity"] for f in result["findings"])
        checks = collections.Counter(f["check"] for f in result["findings"]
                                     if f["severity"] == "fail")
        n_decisions = result["decisions"]
        audit_note = (f"{n_decisions:,} decisions, {result['replayed']:,} replayed, "
                      f"{severities.get('fail', 0):,} fail" + (f" ({dict(checks)})" if checks
                                                                else "")
                      + f", {severities.get('note', 0):,} note findings")
        figures["audit_findings"] = dict(severities)
    except (ValueError, KeyError):
        n_decisions = aref["decisions"]
        audit_note = audited.failed((0, 1)) or "unreadable audit output"
    ratio = audited.seconds / aref["seconds"]
    rows.append(Row("audit, all decisions", _secs(audited.seconds),
                    f"git log + cat-file + C loader: {_secs(aref['seconds'])}", f"{ratio:.1f}x",
                    _at_most(ratio, 2), audit_note))
    rows.append(Row("decisions audited / s", f"{n_decisions / audited.seconds:,.0f}",
                    f"reference: {aref['decisions'] / aref['seconds']:,.0f}/s",
                    note=f"reference: log pass {aref['log']:.2f} s, {aref['reads']:,} blob "
                    f"reads, {aref['parsed']:,} distinct blobs parsed"))

    step(f"start-up: import typer, promoctl --help, validate ONE_FILE (median of {repeats})")
    typer_s, _ = median_run([sys.executable, "-c", "import typer"], root, repeats)
    help_s, help_run = median_run([*promoctl, "--help"], root, repeats)
    one = packet_files[0].relative_to(root).as_posix()
    clear_caches(root)
    # promoctl trusts no stat taken within 2 s of a change (git clean just removed files)
    time.sleep(2.1)
    one_cold = run([*promoctl, "validate", one], root, keep_output=False)
    one_s, one_run = median_run([*promoctl, "validate", one], root, repeats)
    edited_s, edited_run = _after_edits(promoctl, root, packet_files[0], repeats)
    figures.update(import_typer=typer_s, help=help_s, validate_one=one_s,
                   validate_one_cold=one_cold.seconds, validate_one_edited=edited_s)
    for name, seconds, first, what in (
            ("promoctl --help", help_s, help_run, "fresh process"),
            ("validate ONE_FILE", one_s, one_run, f"promoctl validate {one}, nothing changed "
             f"since the last run (answered from its memo); cold (cache cleared): "
             f"{_secs(one_cold.seconds)}")):
        ratio = seconds / typer_s
        rows.append(Row(name, f"{seconds * 1000:,.0f} ms",
                        f"import typer: {typer_s * 1000:,.0f} ms", f"{ratio:.1f}x",
                        _at_most(ratio, 2), first.failed() or f"{what}, median wall time"))
    rows.append(Row("validate ONE_FILE, that file edited", f"{edited_s * 1000:,.0f} ms",
                    f"import typer: {typer_s * 1000:,.0f} ms", f"{edited_s / typer_s:.1f}x",
                    note=edited_run.failed() or "what a pre-commit hook costs when the file "
                    "was just changed: it is checked, with the records it refers to"))

    before, peak = probe.get("before"), probe.get("peak")
    rows.append(Row(f"peak memory, validate, {len(packet_files):,} packets",
                    f"{peak / mb:,.0f} MB" if peak else "unknown",
                    note=f"peak RSS (VmHWM) of a fresh process running the CLI's validate; "
                    f"{before / mb:,.0f} MB after imports; largest worker "
                    f"{_mb(probe.get('worker_peak'))} (shares the parent's pages); validate "
                    f"took {probe['seconds']:.1f} s there" if before and peak else ""))
    if big_root is not None:
        big_files = discover([big_root])
        big_packets = sum(1 for p in big_files if p.relative_to(big_root).parts[0] == "packets")
        step(f"validate at {big_packets:,} packets, for peak memory")
        big = memory_probe(big_root)
        figures["probe_big"] = big
        growth = big["peak"] / peak if peak else 0
        rows.append(Row(f"peak memory, validate, {big_packets:,} packets "
                        f"({len(big_files):,} files)",
                        f"{big['peak'] / mb:,.0f} MB",
                        f"{len(packet_files):,} packets: {peak / mb:,.0f} MB" if peak else "",
                        f"{growth:.1f}x" if growth else "",
                        note=f"largest worker {_mb(big.get('worker_peak'))}; validate took "
                        f"{big['seconds']:.1f} s; code {big['code']}"))
    else:
        rows.append(Row(f"peak memory, validate, {BIG_SIZE.packets:,} packets", "not measured",
                        note="run with --big (generates a 10x repository; slow)"))

    step("evaluate_packets on every packet, in this process")
    t_eval, (outcomes, eval_problems) = _timed(
        workspace.evaluate_packets, root, [root / "packets"], None)
    verdicts = collections.Counter(
        o.evaluation.verdict if o.evaluation else "not evaluated (problems)" for o in outcomes)
    reasons = collections.Counter(
        r.kind for o in outcomes if o.evaluation for r in o.evaluation.reasons)
    n_outcomes = len(outcomes)
    del outcomes
    rows.append(Row("packets evaluated / s", f"{n_outcomes / t_eval:,.0f}",
                    note=f"evaluate_packets in-process: {_secs(t_eval)} for {n_outcomes:,} "
                    "packets (load included), as-of = each packet's submitted date"))

    step(f"promoctl parser, libyaml vs pure Python, {PARSER_SAMPLE} packets")
    fast, pure, sampled = parser_ratio(packet_files, root, seed)
    rows.append(Row("promoctl parser, libyaml", f"{fast * 1000 / sampled:.2f} ms/packet",
                    f"pure Python: {pure * 1000 / sampled:.2f} ms/packet",
                    _faster(pure / fast), note=f"{sampled} sampled packets, I/O "
                    "excluded"))

    problems = probe.get("code")
    rows.append(Row("validate exit code", f"{problems}", note="expected 0 (no problems)"
                    if problems == 0 else "EXPECTED 0: the generator is out of step"))
    for verdict in (READY, NOT_READY, "not evaluated (problems)"):
        if verdict in verdicts or verdict != "not evaluated (problems)":
            share = verdicts.get(verdict, 0) / max(n_outcomes, 1)
            rows.append(Row(f"verdict {verdict}", f"{verdicts.get(verdict, 0):,}",
                            note=f"{share:.0%} of packets"))
    figures.update(evaluate=t_eval, eval_problems=eval_problems, verdicts=dict(verdicts),
                   reasons=dict(reasons), parse_fast=fast, parse_pure=pure)
    step("decide and audit as decisions grow (a throwaway clone)")
    rows.extend(scaling(root, log))
    return rows, figures


_AUDIT_PROBE = r"""
import json, sys, time
def hwm():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return None
from promoctl import audit
t0 = time.perf_counter()
result = audit.audit(__import__("pathlib").Path(sys.argv[1]))
print(json.dumps({"seconds": time.perf_counter() - t0, "decisions": result.decisions,
                  "failed": result.failed, "peak": hwm()}))
"""


def _decided_at(clone: Path) -> list[tuple[str, int]]:
    """(commit, decision records added so far) for each commit adding any, oldest first."""
    out = _git(clone, "log", "--reverse", "--diff-filter=A", "--format=%x1e%H",
               "--name-only", "--", "decisions")
    total, found = 0, []
    for chunk in out.split("\x1e")[1:]:
        lines = [line for line in chunk.splitlines() if line.strip()]
        total += sum(1 for line in lines[1:] if line.endswith(".yaml"))
        found.append((lines[0], total))
    return found


def _pending_packet(clone: Path) -> Path:
    """A packet no decision names (decide on it is the measured operation): one left
    pending, else a copy, under a new id, of one whose candidate was not promoted."""
    lines = _git(clone, "grep", "-h", "-e", "^outcome: ", "-e", "^  packet: ", "HEAD", "--",
                 "decisions").splitlines()
    outcome, outcomes = "", {}
    for line in lines:  # each record's outcome comes before its snapshot's packet
        if line.startswith("outcome: "):
            outcome = line.split(": ", 1)[1].strip()
        else:
            outcomes.setdefault(line.split(": ", 1)[1].strip(), set()).add(outcome)
    packets = sorted((clone / "packets").rglob("*.yaml"))
    pending = [p for p in packets if p.stem not in outcomes]
    if pending:
        return pending[0]
    source = next(p for p in packets if "approved" not in outcomes[p.stem])
    text = source.read_text(encoding="utf-8")
    found = re.search(r"(?m)^id: (\S+)$", text)
    assert found is not None
    target = source.with_name(f"{found.group(1)}-bench.yaml")
    target.write_text(text.replace(found.group(0), f"id: {found.group(1)}-bench", 1),
                      encoding="utf-8")
    _git(clone, "add", "--", str(target))
    _git(clone, "commit", "--quiet", "-m", "benchmark: a pending packet")
    return target


def _decider(promoctl: Sequence[str], clone: Path, packet: Path, env: dict[str, str]
             ) -> Callable[[], float]:
    """After warming the cache: a function timing one ``decide`` (committing) on
    ``packet``, undone after each run."""
    checked = run([*promoctl, "validate"], clone, env, keep_output=False)
    if checked.code != 0:
        raise RuntimeError(f"validate failed: {checked.err[-1000:]}")
    panel = ["--panel", "operations-lead=Independent Chair", "--panel",
             "quality=Independent Quality", "--panel", "hr=Independent HR"] \
        if "community" in packet.parts else [
            "--panel", "practice-lead=Independent Chair", "--panel",
            "peer-reviewer=Independent Peer", "--panel", "hr=Independent HR"]
    # deferred is an override for a READY packet: ask evaluate which it is
    ready = json.loads(run([*promoctl, "evaluate", str(packet), "--format", "json"], clone,
                           env).out)["evaluations"][0]["ready"]
    override = ["--override-reason", "benchmark"] if ready else []

    def once() -> float:
        done = run([*promoctl, "decide", str(packet), "--outcome", "deferred", "--reason",
                    "benchmark", *override, *panel], clone, env)
        if done.code != 0:
            raise RuntimeError(f"decide failed: {done.err[-1000:]}")
        _git(clone, "reset", "--quiet", "--hard", "HEAD~1")
        return done.seconds

    return once


def _clone(source: Path, target: Path) -> Path:
    subprocess.run(["git", "clone", "--quiet", str(source), str(target)], check=True)
    for key, value in (("user.name", "Bench Secretary"), ("user.email", "bench@example.org"),
                       ("gc.auto", "0")):
        _git(target, "config", key, value)
    return target


def scaling(root: Path, log: Callable[[str], None], runs: int = 3) -> list[Row]:
    """Issue 14's flat costs, in throwaway clones: ``audit``'s peak memory at the head vs.
    at the commit where a tenth of the decisions existed; one ``decide`` here vs. in a
    repository generated with the same people and packets and 1% of the decisions, the
    runs interleaved so a change in the machine's load falls on both."""
    promoctl = promoctl_cmd()
    rows = []
    wanted = read_manifest(root) or {}
    few_size = Size(wanted["people"], wanted["packets"], max(wanted["decisions"] // 100, 1),
                    max(wanted["reviews"] // 100, 1), max(wanted["commits"] // 100, 1))
    few_root = root.parent / f"{root.name}-few-decisions"
    log(f"scaling: a repository with {few_size.decisions:,} decisions ({few_root})")
    ensure_repo(few_root, few_size, wanted["seed"], log)
    with tempfile.TemporaryDirectory(prefix="promoctl-bench-scaling-") as tmp:
        clone = _clone(root, Path(tmp) / "repo")
        env = _env({"XDG_CACHE_HOME": str(Path(tmp) / "cache")})
        history_points = _decided_at(clone)
        n_all = history_points[-1][1]
        tenth = next(sha for sha, n in history_points if n >= n_all // 10)
        n_tenth = next(n for _sha, n in history_points if n >= n_all // 10)

        log(f"scaling: audit peak memory at {n_all:,} decisions")
        big = json.loads(run([sys.executable, "-c", _AUDIT_PROBE, str(clone)], clone, env)
                         .out.strip().splitlines()[-1])
        log(f"scaling: audit peak memory at {n_tenth:,} decisions")
        _git(clone, "checkout", "--quiet", tenth)
        small = json.loads(run([sys.executable, "-c", _AUDIT_PROBE, str(clone)], clone, env)
                           .out.strip().splitlines()[-1])
        _git(clone, "checkout", "--quiet", "-")
        ratio = big["peak"] / small["peak"]
        rows.append(Row(f"audit peak memory, {big['decisions']:,} decisions", _mb(big["peak"]),
                        f"{small['decisions']:,} decisions: {_mb(small['peak'])}",
                        f"{ratio:.2f}x", _at_most(ratio, 1.5),
                        f"audit {_secs(big['seconds'])} vs {_secs(small['seconds'])}"
                        + ("" if not (big["failed"] or small["failed"])
                           else "; AUDIT FAILED: the generator is out of step")))

        few_clone = _clone(few_root, Path(tmp) / "few")
        few_env = _env({"XDG_CACHE_HOME": str(Path(tmp) / "few-cache")})
        keep = _decided_at(few_clone)[-1][1] if _decided_at(few_clone) else 0
        log(f"scaling: decide at {n_all:,} and at {keep:,} existing decisions, interleaved")
        many = _decider(promoctl, clone, _pending_packet(clone), env)
        few = _decider(promoctl, few_clone, _pending_packet(few_clone), few_env)
        t_many, t_few = [], []
        for _ in range(runs):
            t_many.append(many())
            t_few.append(few())
    ratio = statistics.median(t_many) / statistics.median(t_few)
    rows.append(Row(f"decide, {n_all:,} existing decisions", _secs(statistics.median(t_many)),
                    f"{keep:,} existing decisions: {_secs(statistics.median(t_few))}",
                    f"{ratio:.2f}x", _at_most(ratio, 1.5), f"medians of {runs}, interleaved, "
                    f"committing, warm cache; same {wanted['people']:,} people and "
                    f"{wanted['packets']:,} packets"))
    return rows


def table(rows: Sequence[Row]) -> str:
    headers = Row("figure", "value", "compared with", "ratio", "target", "note")
    cols = ("figure", "value", "reference", "ratio", "target", "note")
    widths = {c: max(len(getattr(r, c)) for r in [headers, *rows]) for c in cols}
    right = {"value", "ratio"}

    def line(r: Row) -> str:
        cells = [f"{getattr(r, c):>{widths[c]}}" if c in right else
                 f"{getattr(r, c):<{widths[c]}}" for c in cols]
        return "  ".join(cells).rstrip()

    return "\n".join([line(headers), "  ".join("-" * widths[c] for c in cols),
                      *(line(r) for r in rows)])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sizes = (("people", "people"), ("packets", "packets"), ("decisions", "decisions"),
             ("reviews", "reviews"), ("commits", "commits (a budget)"))
    for name, what in sizes:
        parser.add_argument(f"--{name}", type=int, help=f"{what} to generate (default "
                            f"{getattr(DEFAULT_SIZE, name):,}; {getattr(QUICK_SIZE, name):,} "
                            "with --quick)")
    parser.add_argument("--dir", type=Path, help=f"repository folder (default "
                        f"{DEFAULT_DIR.relative_to(PROJECT)}; "
                        f"{QUICK_DIR.relative_to(PROJECT)} with --quick)")
    parser.add_argument("--quick", action="store_true", help="a small, fast smoke run")
    parser.add_argument("--big", action="store_true", help=f"also measure peak memory at "
                        f"{BIG_SIZE.packets:,} packets (generates {BIG_DIR.relative_to(PROJECT)}"
                        "; slow)")
    parser.add_argument("--big-dir", type=Path, help="measure peak memory on this existing "
                        "repository too (e.g. one made with --generate-only --dir DIR "
                        "--packets 100000 --people 200000), instead of generating --big's")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    parser.add_argument("--repeats", type=int, help="runs for the start-up medians "
                        "(default 7; 3 with --quick)")
    parser.add_argument("--no-install", action="store_true",
                        help="do not pip-install check-jsonschema when it is missing")
    parser.add_argument("--no-jsonschema", action="store_true",
                        help="skip the check-jsonschema comparison")
    parser.add_argument("--generate-only", action="store_true",
                        help="make (or reuse) the repository and stop")
    parser.add_argument("--scaling-only", action="store_true",
                        help="measure only how decide and audit scale with the number of "
                        "decisions (issue 14)")
    args = parser.parse_args(argv)
    base = QUICK_SIZE if args.quick else DEFAULT_SIZE
    size = Size(*(getattr(args, name) or getattr(base, name) for name, _ in sizes))
    root = (args.dir or (QUICK_DIR if args.quick else DEFAULT_DIR)).resolve()
    if size.packets < 1 or size.people < 8 or size.commits < 1:
        parser.error("need at least 1 packet, 8 people and 1 commit")

    def log(text: str) -> None:
        print(text, flush=True)

    print("\n".join(machine()))
    print(f"repository   {root}")
    t0 = time.perf_counter()
    reused = ensure_repo(root, size, args.seed, log)
    how = "reused" if reused else f"generated in {time.perf_counter() - t0:.1f} s"
    print(f"             {size.people:,} people, {size.packets:,} packets, {size.decisions:,} "
          f"decisions, {size.reviews:,} reviews, {size.commits:,} commits asked; seed "
          f"{args.seed} ({how})")
    made = (read_manifest(root) or {}).get("made", {})
    if made:
        print(f"             made: {made['commits']:,} commits, {made['decisions']:,} decisions "
              f"({made['superseding']:,} superseding, {made['overrides']:,} overrides; "
              + ", ".join(f"{k} {v:,}" for k, v in made["outcomes"].items())
              + f"), {made['pending_packets']:,} packets pending, {made['promoted']:,} "
              f"promotions applied by HR, {made['reviews']:,} reviews ("
              + ", ".join(f"{k} {v:,}" for k, v in made["review_outcomes"].items()) + ")")
    big_root = args.big_dir.resolve() if args.big_dir else None
    if big_root is not None and not (big_root / "promoctl.yaml").is_file():
        parser.error(f"{big_root}: --big-dir needs an existing repository")
    if args.big and big_root is None:
        big_root = BIG_DIR.resolve()
        print(f"big          {big_root}")
        t0 = time.perf_counter()
        reused = ensure_repo(big_root, BIG_SIZE, args.seed, log)
        print(f"             {BIG_SIZE.packets:,} packets "
              f"({'reused' if reused else f'generated in {time.perf_counter() - t0:.0f} s'})")
    if args.generate_only:
        return 0
    if args.scaling_only:
        rows = scaling(root, log)
        print(f"load at the end: {_load()}")
        print()
        print(table(rows))
        return 0

    rows, figures = measure(root, args.seed, repeats=args.repeats or (3 if args.quick else 7),
                            install=not args.no_install, jsonschema=not args.no_jsonschema,
                            big_root=big_root, log=log)
    print()
    if figures["probe"].get("code") != 0:
        print(f"WARNING: validate exited {figures['probe'].get('code')} on the synthetic "
              "repository; the generator is out of step with the checks (run promoctl "
              "validate there to see the problems)")
    print("verdicts: " + ", ".join(f"{k} {v:,}" for k, v in sorted(figures["verdicts"].items())))
    if figures["reasons"]:
        print("reasons (NOT READY): " + ", ".join(
            f"{k} {v:,}" for k, v in sorted(figures["reasons"].items())))
    print(f"load at the end: {_load()}")
    print()
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
