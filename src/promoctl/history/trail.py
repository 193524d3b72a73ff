"""``promoctl history``: what git says about a decision or a person, field by field."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promoctl.base.errors import UserError
from promoctl.decisions.panel import DECISIONS_DIR
from promoctl.history import fielddiff, gitlog
from promoctl.records import levels
from promoctl.records.loader import Repository, discover
from promoctl.records.models import Decision, Review
from promoctl.records.parsing import parse_record
from promoctl.records.reading import load


@dataclass(frozen=True)
class Entry:
    sha: str
    date: str
    author: str
    subject: str
    role: str  # decision, packet, person, ladder, framework, review
    path: str
    status: str  # A, M, D
    changes: tuple[fielddiff.FieldChange, ...] = ()
    notes: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"commit": self.sha, "date": self.date, "author": self.author,
                "subject": self.subject, "role": self.role, "path": self.path,
                "status": self.status, "changes": [c.as_json() for c in self.changes],
                "notes": list(self.notes)}


@dataclass
class Trail:
    subject: str
    entries: list[Entry] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)  # person: dated summary


def _repo(root: Path) -> Repository:
    return load(root, discover([root]), skip=lambda _d, kind: kind == "packet")


def _entries(root: Path, roles: dict[str, str], marks: dict[str, list[str]]) -> list[Entry]:
    """Commits touching ``roles`` (path -> role), oldest first, with field-level changes."""
    top = gitlog.toplevel(root)
    prefix = gitlog.prefix(root, top)
    commits = gitlog.log(top, [prefix + p for p in roles])
    wanted = []
    for commit in commits:
        for change in commit.changes:
            wanted.append((commit.sha, change.path))
    entries: list[Entry] = []
    with gitlog.BlobReader(top) as blobs:
        blobs.read_many(wanted)
        previous: dict[str, bytes | None] = {}
        for commit in commits:
            for change in commit.changes:
                path = change.path[len(prefix):]
                if path not in roles:
                    continue
                now = None if change.status == "D" else blobs.read(commit.sha, change.path)
                changes = tuple(fielddiff.diff(fielddiff.parse_loose(previous.get(path)),
                                               fielddiff.parse_loose(now))) \
                    if change.status != "A" else ()
                previous[path] = now
                entries.append(Entry(commit.sha, commit.date, f"{commit.author} "
                                     f"<{commit.email}>", commit.subject, roles[path], path,
                                     change.status, changes,
                                     tuple(marks.get(commit.sha, []))))
    return entries


def decision_trail(root: Path, ref: str) -> Trail:
    from promoctl.records.decided import find_decision

    repo = _repo(root)
    try:
        src = find_decision(repo, ref)
        d: Decision = src.record
        display = src.display
    except UserError:
        found = _deleted_decision(root, ref)
        if found is None:
            raise
        display, d = found
    roles = {display: "decision", d.inputs.packet.path: "packet",
             d.inputs.person.path: "person", d.inputs.ladder.path: "ladder",
             d.inputs.framework.path: "framework"}
    marks = {d.inputs.commit: ["the decision's inputs were read at this commit"]}
    trail = Trail(subject=f"decision {d.id}")
    trail.entries = _entries(root, roles, marks)
    trail.events.extend({"date": e.date[:10], "event": "record deleted", "commit": e.sha,
                         "author": e.author, "path": e.path}
                        for e in trail.entries if e.role == "decision" and e.status == "D")
    successors = [s.record.id for s in repo.decisions.values() if s.record.supersedes == d.id]
    if successors:
        trail.events.append({"event": "superseded", "by": successors})
    return trail


def _deleted_decision(root: Path, ref: str) -> tuple[str, Decision] | None:
    """A decision no longer in the work tree, found in the history by its id (or the
    path it had): its path and its last version."""
    top = gitlog.toplevel(root)
    prefix = gitlog.prefix(root, top)
    last: dict[str, tuple[str, str]] = {}  # path -> (commit, status) of its last change
    previous: dict[str, str] = {}  # path -> the last commit where it existed
    for commit in gitlog.log(top, [prefix + DECISIONS_DIR]):
        for change in commit.changes:
            if change.status != "D":
                previous[change.path] = commit.sha
            last[change.path] = (commit.sha, change.status)
    wanted = ref.removeprefix("./")
    deleted = [p for p, (_sha, status) in last.items() if status == "D" and p in previous]
    named = [p for p in deleted if Path(p).stem == ref or p == prefix + wanted]
    with gitlog.BlobReader(top) as blobs:
        for path in named + [p for p in deleted if p not in named]:
            source = parse_record(blobs.read(previous[path], path) or b"", path)[0]
            if source is not None and isinstance(source.record, Decision) and (
                    source.record.id == ref or path in named):
                return path[len(prefix):], source.record
    return None


def person_trail(root: Path, person_id: str) -> Trail:
    repo = _repo(root)
    person = repo.people.get(person_id)
    if person is None:
        raise UserError(f"{person_id}: no such person or decision")
    decisions = [s for s in repo.decisions.values() if s.record.candidate == person_id]
    reviews = [s for s in repo.reviews.values() if s.record.person == person_id]
    roles = {person.display: "person"}
    roles.update({s.display: "decision" for s in decisions})
    roles.update({s.display: "review" for s in reviews})
    trail = Trail(subject=f"person {person_id}")
    trail.entries = _entries(root, roles, {})
    events: list[dict[str, Any]] = []
    for s in decisions:
        dec: Decision = s.record
        events.append({"date": dec.decided_on.isoformat(), "event": f"decision {dec.outcome}",
                       "id": dec.id, "level": dec.target.level,
                       "effective": dec.effective.isoformat() if dec.effective else None,
                       "supersedes": dec.supersedes})
    # Where the decisions moved the person (levels.py), dated by when it took effect.
    for spell in levels.history(repo, person_id).changes():
        events.append({"date": spell.since.isoformat(), "event": "promotion effective",
                       "from": spell.from_level, "to": spell.level, "id": spell.ref})
    for s in reviews:
        rev: Review = s.record
        events.append({"date": rev.date.isoformat(), "event": f"{rev.type} review "
                       f"{rev.outcome}", "id": rev.id, "level": rev.level})
    for entry in trail.entries:
        if entry.role != "person":
            continue
        for change in entry.changes:
            if change.field == "level":
                events.append({"date": entry.date[:10], "event": "level changed",
                               "from": change.old, "to": change.new, "commit": entry.sha})
    trail.events = sorted(events, key=lambda e: (e["date"], e["event"]))
    return trail


def trail_for(root: Path, ref: str) -> Trail:
    """A decision's trail when ``ref`` names one, else the person's."""
    try:
        return decision_trail(root, ref)
    except UserError:
        return person_trail(root, ref)
