"""The synthetic organisation's people: two programs, managers and leads, and each
person's record."""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta

from .sizes import HISTORY_START
from .yamltext import scalar

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
