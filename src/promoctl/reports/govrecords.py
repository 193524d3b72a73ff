"""What every governance figure needs from the repository, worked out once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from promoctl.records import levels
from promoctl.records.levels import Spell
from promoctl.records.loader import Repository
from promoctl.records.models import Decision, EvidenceItem, Person, Review
from promoctl.reports.figures import UNKNOWN, Options, pseudonyms

OBSERVED_TYPES = ("documentation_audit", "escalation_summary", "incident_review")


@dataclass(frozen=True)
class Observation:
    person: str
    type: str
    day: date
    level: str
    score: float | None
    passed: bool | None


class Records:
    """What every figure needs from the repository, worked out once."""

    def __init__(self, repo: Repository, options: Options) -> None:
        self.repo, self.options = repo, options
        gone = {s.record.supersedes for s in repo.decisions.values() if s.record.supersedes}
        self.standing: list[Decision] = sorted(
            (s.record for s in repo.decisions.values() if s.record.id not in gone),
            key=lambda d: (d.decided_on, d.id))
        # A correction stands in for the decision it supersedes, in that decision's
        # period: a closed period's figures change when a correction is recorded (the
        # records as they stand now), but no case leaves the period it was decided in.
        by_id = {s.record.id: s.record for s in repo.decisions.values()}
        self.first_day: dict[str, date] = {}
        for d in self.standing:
            day, seen, at = d.decided_on, {d.id}, d
            while at.supersedes is not None and at.supersedes in by_id \
                    and at.supersedes not in seen:
                at = by_id[at.supersedes]
                seen.add(at.id)
                day = min(day, at.decided_on)
            self.first_day[d.id] = day
        self.decided = [d for d in self.standing if self.within(self.first_day[d.id])]
        old_reviews = {s.record.supersedes for s in repo.reviews.values()
                       if s.record.supersedes}
        self.reviews: list[Review] = sorted(
            (s.record for s in repo.reviews.values() if s.record.id not in old_reviews),
            key=lambda r: (r.date, r.id))
        level_ids = [lv.id for src in repo.ladders.values() for lv in src.record.levels]
        self.clashing = {lv for lv in level_ids if level_ids.count(lv) > 1}
        # One level history for every figure, the one status and due use (levels.py).
        self.levels = levels.Index(repo)
        self._spells: dict[tuple[str, date], Spell] = {}
        # Panels that decided on enough people get a code; the rest are pooled, so no
        # row (and no code in the key) stands for a handful of candidates.
        self.panel_of = {d.id: "; ".join(sorted({m.name for m in d.panel}))
                         for d in self.decided}
        decided_by: dict[str, set[str]] = defaultdict(set)
        for d in self.decided:
            decided_by[self.panel_of[d.id]].add(d.candidate)
        big = {p: len(c) for p, c in decided_by.items() if len(c) >= options.min_group}
        self.panel_codes = pseudonyms("panel-", big)
        self.other_panels = f"other panels ({len(decided_by) - len(big)})"

    def within(self, day: date) -> bool:
        return self.options.start <= day <= self.options.end

    def person(self, person_id: str) -> Person | None:
        return self.repo.person(person_id)

    @staticmethod
    def effective(d: Decision) -> date:
        return d.effective or d.decided_on

    def level_label(self, ladder: str, level: str) -> str:
        return f"{ladder}/{level}" if level in self.clashing else level

    def spell_at(self, person_id: str, day: date) -> Spell | None:
        """The level the person held on ``day`` as the records said on that day (the
        person file's starting level moved by the standing approvals recorded by then)."""
        if person_id not in self.repo.people:
            return None
        key = (person_id, day)
        if key not in self._spells:
            self._spells[key] = self.levels.at(person_id, day)
        return self._spells[key]

    def level_at(self, person_id: str, day: date) -> str:
        spell = self.spell_at(person_id, day)
        return UNKNOWN if spell is None else self.level_label(spell.ladder, spell.level)

    def employed(self, person: Person, day: date) -> bool:
        return person.start_date <= day and (person.leaving_date is None
                                             or person.leaving_date > day)

    def program(self, d: Decision) -> str:
        """The candidate's program when the decision was made (its evaluation snapshot),
        else the one their person record holds now."""
        snapshot = d.evaluation.get("candidate")
        program = snapshot.get("program") if isinstance(snapshot, dict) else None
        if isinstance(program, str) and program:
            return program
        person = self.person(d.candidate)
        return person.program if person is not None else UNKNOWN

    def group_key(self, dimension: str) -> Callable[[Decision], str]:
        if dimension == "program":
            return self.program
        if dimension == "ladder":
            return lambda d: d.target.ladder
        if dimension == "level":
            return lambda d: self.level_label(d.target.ladder, d.target.level)
        return lambda d: self.panel_codes.get(self.panel_of[d.id], self.other_panels)

    def observations(self) -> list[Observation]:
        """Audit, escalation and incident evidence dated in the period, from packets and
        reviews; an item copied into a later packet counts once."""
        seen: set[tuple[str, str, str, date]] = set()
        out: list[Observation] = []

        def add(person: str, item: EvidenceItem, level: str | None) -> None:
            if item.type not in OBSERVED_TYPES or not self.within(item.date):
                return
            key = (person, item.type, item.id, item.date)
            if key in seen:
                return
            seen.add(key)
            score = float(item.result.score) if item.result.score is not None else None
            out.append(Observation(person, item.type, item.date,
                                    level or self.level_at(person, item.date), score,
                                    item.result.passed))

        for review in self.reviews:
            for item in review.evidence:
                add(review.person, item, self.level_label(review.ladder, review.level))
        for src in sorted(self.repo.packets.values(), key=lambda s: s.display):
            for item in src.record.evidence:
                add(src.record.candidate, item, None)
        return out



def period(rec: Records) -> str:
    return f"{rec.options.start} to {rec.options.end}"



def decided_note(rec: Records) -> str:
    return (f"Standing decisions (not superseded) in cases first decided {period(rec)}: a "
            "correction counts in place of the decision it supersedes, in that decision's "
            "period, with the outcome that stands now.")
