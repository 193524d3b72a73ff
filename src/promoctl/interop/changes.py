"""The HR feed of level changes: who moved to which level when, and on what record.

Payroll ties pay to the level held, so every change is a row: each promotion (a standing
approved decision, from its effective date, with the end of its probation), and each
lapse and reinstatement of a time-limited authorisation (a maintenance review that found
it lapsed, a re-check left unresolved, or a re-validation or re-check gone overdue with
no review; then the review that sustained it again). Derived from the records only, by
the rules ``levels`` and ``status`` apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from promoctl.engine.lifecycle import standing_records
from promoctl.records import levels
from promoctl.records.loader import Repository
from promoctl.records.models import Decision, Person, Revalidation, Review

PROMOTION, LAPSE, REINSTATEMENT = "promotion", "lapse", "reinstatement"
_ORDER = {PROMOTION: 0, LAPSE: 1, REINSTATEMENT: 2}
COLUMNS = ("person", "name", "program", "change", "ladder", "from_level", "to_level",
           "effective", "record_kind", "record", "probation_end", "detail")


@dataclass(frozen=True)
class Change:
    person: str
    name: str
    program: str
    change: str  # PROMOTION, LAPSE or REINSTATEMENT
    ladder: str
    from_level: str | None
    to_level: str
    effective: date
    record_kind: str  # decision, review, or overdue (no record: a date passed)
    record: str | None  # the decision or review id; for overdue, the record it runs from
    probation_end: date | None
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"person": self.person, "name": self.name, "program": self.program,
                "change": self.change, "ladder": self.ladder, "from_level": self.from_level,
                "to_level": self.to_level, "effective": self.effective.isoformat(),
                "record_kind": self.record_kind, "record": self.record,
                "probation_end": self.probation_end.isoformat() if self.probation_end
                else None, "detail": self.detail}

    def as_row(self) -> list[str]:
        return ["" if v is None else str(v) for v in self.as_json().values()]


def changes(repo: Repository, start: date, end: date, today: date) -> list[Change]:
    """Every change effective from ``start`` to ``end``, both included. A lapse for want
    of a review is a change only once its day has come (``today``); a decision effective
    later is a change already recorded. Records made after ``today`` had not been made
    yet: the feed as of a past date is what the records said then."""
    decisions, reviews = standing_records(repo, today)
    held = levels.Index(repo)
    out: list[Change] = []
    for person_id in sorted(repo.people):
        person: Person = repo.people[person_id].record
        mine = {d.id: d for d in decisions.get(person_id, [])}
        spells = held.history(person_id, today).spells
        for spell in spells:
            at_level = [r for r in reviews.get(person_id, [])
                        if r.date <= today
                        and (r.ladder, r.level) == (spell.ladder, spell.level)
                        and r.date >= spell.since
                        and (spell.until is None or r.date < spell.until)]
            if spell.change == levels.PROMOTION and spell.ref in mine:
                out.append(_promotion(person, spell, mine[spell.ref], at_level))
            ladder = repo.ladder(spell.ladder)
            level = ladder.level(spell.level) if ladder else None
            if level is not None and level.revalidation is not None:
                last = min(end, today, spell.until - timedelta(days=1)) if spell.until \
                    else min(end, today)
                out.extend(_authorisation(person, spell, level.revalidation, at_level, last))
    return sorted((c for c in out if start <= c.effective <= end),
                  key=lambda c: (c.effective, c.person, _ORDER[c.change], c.record or ""))


def _promotion(person: Person, spell: levels.Spell, d: Decision,
               at_level: list[Review]) -> Change:
    end = d.probation_plan.review_date if d.probation_plan else None
    for r in at_level:
        if r.type != "probation" or end is None:
            continue
        if r.outcome == "confirmed":
            end = r.date
            break
        if r.extended_until is not None:
            end = r.extended_until
    detail = f"approved on {d.decided_on}"
    if d.probation_plan is not None:
        detail += "; probation confirmed" if any(
            r.type == "probation" and r.outcome == "confirmed" for r in at_level) \
            else "; probation until its review"
    return Change(person.id, person.name, person.program, PROMOTION, spell.ladder,
                  spell.from_level, spell.level, spell.since, "decision", d.id, end, detail)


def _authorisation(person: Person, spell: levels.Spell, rules: Revalidation,
                   at_level: list[Review], last: date) -> list[Change]:
    """Lapses and reinstatements at one level, on the days they took effect, up to
    ``last``: the rules ``lifecycle.status`` applies, walked through the reviews."""
    out: list[Change] = []
    valid_until: date | None = spell.since + timedelta(days=rules.interval_days)
    recheck: date | None = None
    lapsed = False
    basis = spell.ref

    def row(kind: str, when: date, record_kind: str, ref: str | None, detail: str) -> None:
        out.append(Change(person.id, person.name, person.program, kind, spell.ladder,
                          spell.level, spell.level, when, record_kind, ref, None, detail))

    def overdue(today: date) -> None:
        nonlocal lapsed
        if lapsed:
            return
        if recheck is not None and today > recheck:
            row(LAPSE, recheck + timedelta(days=1), "overdue", basis,
                f"re-check after drift overdue since {recheck}")
            lapsed = True
        elif recheck is None and valid_until is not None and today > valid_until:
            row(LAPSE, valid_until + timedelta(days=1), "overdue", basis,
                f"re-validation overdue since {valid_until}")
            lapsed = True

    for r in at_level:
        if r.date > last:
            break
        if r.type == "recheck" and r.decision is not None:
            continue  # a development plan's re-check, not the authorisation's
        overdue(r.date)
        if (r.type, r.outcome) in (("maintenance", "sustained"), ("recheck", "resolved")):
            if lapsed:
                row(REINSTATEMENT, r.date, "review", r.id, f"{r.type} review {r.outcome}")
            lapsed, recheck, basis = False, None, r.id
            valid_until = r.date + timedelta(days=rules.interval_days)
        elif r.outcome == "drift":
            recheck = r.recheck_by or r.date + timedelta(days=rules.recheck_days)
            basis = r.id
        elif r.outcome in ("lapsed", "unresolved"):
            if not lapsed:
                row(LAPSE, r.date, "review", r.id, f"{r.type} review {r.outcome}")
            lapsed, valid_until, recheck = True, None, None
    overdue(last)
    return out
