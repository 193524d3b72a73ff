"""Level history: which level a person holds on any date, and the record behind it.

The person file's ``level`` and ``level_since`` (else ``start_date``) are the starting
point. Every standing approved decision moves the person to its target level on its
effective date; ``decide`` never rewrites the person file, so the file keeps saying where
the person started and the decisions say where they went from there.

Person files written before promoctl derived levels were hand-edited after an approval
(``level`` set to the new level, ``level_since`` to the effective date). Such an approval,
effective on or before ``level_since`` and naming the file's level, is read as the move
into the starting level: dates before it hold the level the decision moved the person
from. An approval that moves a person to the level they already hold, or down the ladder,
is kept as a move and reported in ``History.conflicts`` (validate warns about it).

Two dates matter for "what level on D": the date the level held (``day``) and the date the
records were read as of (``known_on``): a decision recorded after ``known_on`` had not
been made yet, so a past ``--as-of`` sees what the records said then.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Protocol

from promoctl.records.loader import Repository
from promoctl.records.models import Decision, Ladder

START = "start"  # the person file's level
PROMOTION = "promotion"  # an approved decision


class Starting(Protocol):
    """What level history reads of a person: a ``Person`` record, or ``Start``."""

    @property
    def id(self) -> str: ...
    @property
    def ladder(self) -> str: ...
    @property
    def level(self) -> str: ...
    @property
    def start_date(self) -> date: ...
    @property
    def level_since(self) -> date | None: ...


@dataclass(frozen=True)
class Start:
    """A person's starting point from the few fields validation keeps of the file."""

    id: str
    ladder: str
    level: str
    start_date: date
    level_since: date | None = None

    @classmethod
    def from_meta(cls, person_id: str, meta: Mapping[str, Any]) -> Start | None:
        try:
            since = meta.get("level_since")
            return cls(person_id, str(meta["ladder"]), str(meta["level"]),
                       date.fromisoformat(meta["start_date"]),
                       date.fromisoformat(since) if since else None)
        except (KeyError, TypeError, ValueError):
            return None  # kept by an older version: the caller parses the record


@dataclass(frozen=True)
class Move:
    """An approved decision, reduced to what level history needs (also built from the
    few fields validation keeps of a decision, without parsing it)."""

    ref: str  # the decision id
    person: str
    ladder: str
    level: str
    effective: date
    decided_on: date
    from_level: str | None = None  # the level its evaluation saw the candidate at
    superseded_on: date | None = None  # when a correction replaced it (it stood until then)

    @classmethod
    def of(cls, d: Decision) -> Move:
        snapshot = d.evaluation.get("candidate")
        before = snapshot.get("current_level") if isinstance(snapshot, dict) else None
        return cls(d.id, d.candidate, d.target.ladder, d.target.level,
                   d.effective or d.decided_on, d.decided_on,
                   before if isinstance(before, str) else None)

    @classmethod
    def from_meta(cls, ref: str, meta: Mapping[str, Any]) -> Move | None:
        """From ``parsing.meta_of`` of a decision; None when it is not an approval."""
        if meta.get("outcome") != "approved":
            return None
        try:
            return cls(ref, str(meta["candidate"]), str(meta["ladder"]), str(meta["level"]),
                       date.fromisoformat(meta["effective"]),
                       date.fromisoformat(meta["decided_on"]), meta.get("from_level"))
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class Spell:
    """One level held without interruption: from ``since`` until the day before
    ``until`` (None while it still holds)."""

    ladder: str
    level: str
    since: date
    until: date | None
    change: str  # START or PROMOTION
    ref: str | None  # the decision behind it; None for the person file's starting level
    from_level: str | None = None  # the level held before (None for the first spell)
    decided_on: date | None = None  # when the decision behind it was recorded

    def holds_on(self, day: date) -> bool:
        return self.since <= day and (self.until is None or day < self.until)

    def as_json(self) -> dict[str, Any]:
        return {"ladder": self.ladder, "level": self.level, "since": self.since.isoformat(),
                "until": self.until.isoformat() if self.until else None,
                "change": self.change, "ref": self.ref, "from_level": self.from_level,
                "decided_on": self.decided_on.isoformat() if self.decided_on else None}


@dataclass(frozen=True)
class History:
    """A person's level spells, oldest first; consecutive spells touch."""

    person: str
    spells: tuple[Spell, ...]
    # Approvals that do not read as a move up: to the level already held, or down.
    conflicts: tuple[tuple[str, str], ...] = field(default=())  # (decision id, message)

    def at(self, day: date) -> Spell:
        """The spell holding on ``day``. Before the first spell the records know of no
        other level, so the first spell answers (its ``since`` is after ``day``)."""
        for spell in reversed(self.spells):
            if spell.since <= day:
                return spell
        return self.spells[0]

    @property
    def current(self) -> Spell:
        return self.spells[-1]

    def changes(self, start: date | None = None, end: date | None = None) -> list[Spell]:
        """The spells begun by a decision, effective from ``start`` to ``end`` (both
        included), oldest first."""
        return [s for s in self.spells if s.change != START
                and (start is None or s.since >= start) and (end is None or s.since <= end)]


def build(person: Starting, moves: Iterable[Move], ladders: dict[str, Ladder] | None = None,
          known_on: date | None = None) -> History:
    """The history from the person file and their standing approvals (``moves``).

    ``ladders`` (by id) lets a move down the ladder be reported; ``known_on`` leaves out
    decisions recorded after that date. (An approval the person file already reflects
    is read whenever it was recorded: the file is today's, and the approval is what says
    which level came before it.)
    """
    mine = sorted((m for m in moves if m.person == person.id and (
        m.superseded_on is None or (known_on is not None and m.superseded_on > known_on))),
                  key=lambda m: (m.effective, m.decided_on, m.ref))
    since = person.level_since or person.start_date
    # Approvals already reflected in the person file (hand-edited after the decision).
    before = [m for m in mine if m.effective <= since]
    after = [m for m in mine if m.effective > since
             and (known_on is None or m.decided_on <= known_on)]
    spells: list[Spell] = []
    entry = next((m for m in reversed(before)
                  if (m.ladder, m.level) == (person.ladder, person.level)), None)
    first = next((m for m in mine if m.effective > since), None)
    if entry is None and first is not None and first.from_level not in (None, person.level) \
            and (first.ladder, first.level) == (person.ladder, person.level):
        # The file's level was edited to the approval's without moving level_since: the
        # approval is still the move into it.
        entry, before = first, [*before, first]
        after = [m for m in after if m is not first]
        edited = [(first.ref, f"{person.id}'s person file gives level {person.level!r} "
                   f"from {since}, but decision {first.ref} moves them into it on "
                   f"{first.effective}; history reads the level before it as "
                   f"{first.from_level!r} (set level_since: {first.effective}, or keep the "
                   "file's level as the level before the decisions)")]
    else:
        edited = []
    applied: Move | None = None
    if entry is not None and entry.from_level is not None \
            and entry.from_level != person.level and person.start_date < entry.effective:
        applied = entry
        spells.append(Spell(person.ladder, entry.from_level, person.start_date,
                            entry.effective, START, None))
        if known_on is None or entry.decided_on <= known_on:
            spells.append(Spell(person.ladder, person.level, entry.effective, None,
                                PROMOTION, entry.ref, entry.from_level, entry.decided_on))
        else:  # not recorded yet on known_on: the level before it still held then
            spells[-1] = _ended(spells[-1], None)
    else:
        spells.append(Spell(person.ladder, person.level, since, None, START, None))
    conflicts: list[tuple[str, str]] = edited + [
        (m.ref, f"decision {m.ref} takes effect on {m.effective}, on or before the person "
         f"file's level_since/start_date ({since}), and does not move {person.id} into "
         f"the person file's level {person.level!r}, so it is not applied")
        for m in before if m is not applied and m.level != person.level
        and (applied is None or m.level != applied.from_level)]
    for m in after:
        held = spells[-1]
        problem = _conflict(held, m, person, ladders or {})
        if problem:
            conflicts.append((m.ref, problem))
        spells[-1] = _ended(held, m.effective)
        spells.append(Spell(m.ladder, m.level, m.effective, None, PROMOTION, m.ref,
                            held.level, m.decided_on))
    return History(person.id, tuple(spells), tuple(conflicts))


def _ended(spell: Spell, until: date | None) -> Spell:
    return Spell(spell.ladder, spell.level, spell.since, until, spell.change, spell.ref,
                 spell.from_level, spell.decided_on)


def _conflict(held: Spell, m: Move, person: Starting, ladders: dict[str, Ladder]) -> str:
    if (held.ladder, held.level) == (m.ladder, m.level):
        if held.change == START:
            return (f"{person.id} already holds {m.level!r} from the person file (since "
                    f"{held.since}) when decision {m.ref} takes effect on {m.effective}; "
                    "keep the person file's level as the level before the promotions "
                    "recorded with `promoctl decide` (they are applied from the decisions), "
                    f"or set level_since to {m.effective} or later")
        return (f"decision {m.ref} approves {m.level!r} from {m.effective}, which "
                f"{person.id} already holds since {held.since} (decision {held.ref})")
    ladder = ladders.get(m.ladder)
    if ladder is not None and held.ladder == m.ladder \
            and 0 <= ladder.level_index(m.level) < ladder.level_index(held.level):
        return (f"decision {m.ref} moves {person.id} down from {held.level!r} to "
                f"{m.level!r} on {m.effective}")
    return ""


def standing_moves(repo: Repository) -> dict[str, list[Move]]:
    """Approvals by candidate, each with the date a correction superseded it (history
    as of an earlier date still holds it); from what loading kept of each decision when
    it can, so thousands of decisions are not parsed again."""
    metas = [(src, src.meta) for src in repo.decisions.values()]
    gone: dict[str, date] = {}
    for src, meta in metas:
        replaced = meta.get("supersedes") if "outcome" in meta else src.record.supersedes
        if replaced:
            on = meta.get("decided_on") if "outcome" in meta else src.record.decided_on
            when = date.fromisoformat(on) if isinstance(on, str) else on
            if isinstance(when, date):
                gone[str(replaced)] = min(when, gone.get(str(replaced), when))
    out: dict[str, list[Move]] = {}
    for src, meta in metas:
        if "outcome" in meta:
            move = Move.from_meta(str(src.record_id), meta)
        else:
            d: Decision = src.record
            move = Move.of(d) if d.outcome == "approved" else None
        if move is not None:
            if str(src.record_id) in gone:
                move = replace(move, superseded_on=gone[str(src.record_id)])
            out.setdefault(move.person, []).append(move)
    return out


def starting_point(repo: Repository, person_id: str) -> Starting:
    """The person file's level (KeyError for an unknown or broken person), without
    parsing it when loading kept what is needed."""
    found: Starting | None = Start.from_meta(person_id, repo.people[person_id].meta) \
        or repo.person(person_id)
    if found is None:
        raise KeyError(person_id)
    return found


def ladders_by_id(repo: Repository) -> dict[str, Ladder]:
    return {ladder_id: src.record for ladder_id, src in repo.ladders.items()}


def history(repo: Repository, person_id: str, known_on: date | None = None) -> History:
    """One person's level history (KeyError for an unknown person)."""
    return build(starting_point(repo, person_id), standing_moves(repo).get(person_id, []),
                 ladders_by_id(repo), known_on)


def histories(repo: Repository, known_on: date | None = None) -> dict[str, History]:
    """Everyone's level history, with the decisions read once."""
    moves, ladders = standing_moves(repo), ladders_by_id(repo)
    return {pid: build(starting_point(repo, pid), moves.get(pid, []), ladders, known_on)
            for pid in sorted(repo.people)}


def level_on(repo: Repository, person_id: str, day: date,
             known_on: date | None = None) -> Spell:
    """What level ``person_id`` holds on ``day``, and since when (``Spell.since``), with
    the decision behind it (``Spell.ref``)."""
    return history(repo, person_id, known_on).at(day)


class Index:
    """Level questions about many people in one repository, the decisions read once."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.moves = standing_moves(repo)
        self.ladders = ladders_by_id(repo)

    def key(self, person_id: str) -> str:
        """What the person's history depends on besides the person file, for cache keys."""
        return ";".join(f"{m.ref}@{m.effective}/{m.decided_on}:{m.ladder}/{m.level}"
                        f"~{m.superseded_on}"
                        for m in sorted(self.moves.get(person_id, []), key=lambda m: m.ref))

    def history(self, person_id: str, known_on: date | None = None) -> History:
        return build(starting_point(self.repo, person_id), self.moves.get(person_id, []),
                     self.ladders, known_on)

    def at(self, person_id: str, day: date) -> Spell:
        """The level held on ``day`` as the records said on that day."""
        return self.history(person_id, day).at(day)
