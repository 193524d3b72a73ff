"""Course completions from an LMS, placed as ``lms_milestone`` evidence in packets.

Readers (``lms`` for CSV, ``xapi`` for statements) turn a file into ``Completion`` values
and the rows they could not use; ``place`` finds each completion's person, mapped course
and open packet, and appends the items.

Every attempt is evidence: each statement and each row that records a completion, a
pass, a failure, a score or an achievement is its own item, so a failure then a pass on
the same day are both kept and nothing conflicts; the level's ``lms_rules`` choose which
counts (the best). An item's id depends only on the person, the mapped course and what
makes it this attempt (the statement id, or for a row its content: date and result), so
importing a file twice, or a later export or page that repeats old statements, adds
nothing. Items an earlier promoctl imported (one per person, course and day, see
``legacy_item_id``) are recognised when their result is the same. New items are
appended to the packet's text (the rest of the file is kept byte for byte) and the
result is read back and validated before it is written atomically.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from promoctl.base import locking
from promoctl.base.errors import InvalidRecords
from promoctl.base.fsutil import write_atomic
from promoctl.interop.common import render_record, schema_comment, valid_id
from promoctl.records import levels, yamlio
from promoctl.records.accounts import People
from promoctl.records.loader import Repository, discover
from promoctl.records.mapping import CourseIndex, course_key, resolve
from promoctl.records.models import Packet, Person
from promoctl.records.parsing import parse_record
from promoctl.records.reading import load
from promoctl.records.settings import LmsCourse, LmsMapping


@dataclass(frozen=True)
class Completion:
    """One thing a learner did with a course (a completion, a pass, a failure, a score,
    an achievement) as a source reports it: each becomes its own evidence item."""

    where: str  # "row 4", "statement $[2] (id ...)"
    courses: tuple[str, ...]  # the names or ids to look up in the mapping, in order
    date: date
    key: str = ""  # what makes it this attempt: an xAPI statement id, else its content
    person: str | None = None  # a promoctl id, or an LMS username
    email: str | None = None
    account: str | None = None  # an xAPI account name
    home_page: str | None = None  # the account's system
    mbox_sha1: str | None = None
    completed: bool | None = None
    passed: bool | None = None
    assessment: Decimal | None = None
    raw_score: tuple[Decimal, Decimal | None, Decimal | None] | None = None  # raw, min, max
    project_accepted: bool | None = None
    statement_id: str | None = None
    source: str = ""  # the file, when a batch reads several

    @property
    def who(self) -> str:
        return self.person or self.email or self.account or self.mbox_sha1 or "(nobody)"

    def result(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.completed is not None:
            out["completed"] = self.completed
        if self.assessment is not None:
            out["assessment"] = _plain(self.assessment)
        if self.raw_score is not None:
            raw, low, high = self.raw_score
            out["raw_score"] = {"raw": _exact(raw)} | (
                {"min": _exact(low)} if low is not None else {}) | (
                {"max": _exact(high)} if high is not None else {})
        for key in ("passed", "project_accepted"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out


@dataclass
class Batch:
    """What a reader found: completions, rows that are not completions (ignored), rows
    that are completions but unusable (skipped), and notes."""

    completions: list[Completion] = field(default_factory=list)
    voided: dict[str, str] = field(default_factory=dict)  # statement id -> where voided
    ignored: dict[str, list[str]] = field(default_factory=dict)
    skipped: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def ignore(self, reason: str, where: str) -> None:
        self.ignored.setdefault(reason, []).append(where)

    def skip(self, reason: str, where: str) -> None:
        self.skipped.setdefault(reason, []).append(where)


@dataclass
class Options:
    create_draft: bool = False
    submitted: date | None = None  # a draft's submission date
    cycle: str | None = None  # only packets of this cycle; a draft's cycle
    dry_run: bool = False


@dataclass
class Report:
    batch: Batch
    mapping: str = ""
    imported: list[tuple[str, str, str]] = field(default_factory=list)  # packet, item, where
    already: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)


def _plain(number: Decimal) -> int | Decimal:
    number = number.quantize(Decimal("0.01"))
    return int(number) if number == number.to_integral_value() else number.normalize()


def _exact(number: Decimal) -> int | Decimal:
    return int(number) if number == number.to_integral_value() else number.normalize()


def item_id(person: str, course: LmsCourse, key: str) -> str:
    """The item of one attempt: the person, the mapped course and what the source says
    makes it this attempt (``Completion.key``)."""
    text = f"{person}\n{course_key(course.course)}\n{key}"
    return "lms-" + hashlib.sha256(text.encode()).hexdigest()[:12]


def legacy_item_id(person: str, course: LmsCourse, when: date) -> str:
    """The id promoctl gave an item before each attempt was kept: one per person, course
    and day. A re-import does not add again what such an item already holds."""
    key = f"{person}\n{course_key(course.course)}\n{when.isoformat()}"
    return "lms-" + hashlib.sha256(key.encode()).hexdigest()[:12]


def content_key(c: Completion) -> str:
    """The key of a source with no ids of its own (a CSV row): what the row says."""
    return "content " + repr((c.date.isoformat(), sorted(_normal(c.result()).items())))


@contextlib.contextmanager
def _lock(root: Path) -> Iterator[None]:
    git_dir = root / ".git"
    if git_dir.is_dir():  # the same lock decide and review take
        with locking.exclusive(git_dir / "promoctl.lock"):
            yield
    else:
        yield


def place(root: Path, read: Callable[[LmsMapping], Batch], mapping_ref: str | None,
          source: str, options: Options) -> Report:
    """Read completions with the mapping (``read``) and put them into packets;
    ``source`` names the file in each item's notes."""
    with _lock(root):
        repo = load(root, discover([root]))
        blocking = [p for p in repo.problems if p.path in repo.broken
                    and repo.broken[p.path] in ("packet", "person", None)]
        if blocking:  # a broken packet could be the one a row belongs in
            raise InvalidRecords(blocking)
        index = resolve(repo, mapping_ref)
        batch = read(index.mapping)
        placer = _Placer(repo, index, batch, source, options)
        for completion in batch.completions:
            if completion.statement_id in batch.voided:
                batch.ignore("voided by a later statement", completion.where)
            else:
                placer.add(completion)
        placer.voided_earlier()
        return placer.finish()


class _Placer:
    def __init__(self, repo: Repository, index: CourseIndex, batch: Batch, source: str,
                 options: Options) -> None:
        self.repo, self.index, self.batch = repo, index, batch
        self.source, self.options = source, options
        self.report = Report(batch, mapping=index.display)
        self.people = People.of(src.record for src in repo.people.values())
        decided = {d.record.inputs.packet.id for d in repo.decisions.values()}
        self.open: dict[str, list[str]] = {}  # person -> displays of undecided packets
        for display, src in sorted(repo.packets.items()):
            packet: Packet = src.record
            if packet.id in decided:
                continue
            if options.cycle is not None and packet.cycle != options.cycle:
                continue
            self.open.setdefault(packet.candidate, []).append(display)
        self.pending: dict[str, _Pending] = {}  # packet display -> what it gets
        self.seen: set[str] = set()  # item ids of this batch

    def add(self, c: Completion) -> None:
        course = self.index.find(*c.courses)
        if course is None:
            self.batch.skip(f"course {c.courses[0]!r} is not in the mapping "
                            f"{self.index.mapping.id!r}", c.where)
            return
        person, why = self.people.find(person=c.person, email=c.email, sha1=c.mbox_sha1,
                                       home_page=c.home_page, account=c.account)
        if person is None:
            self.batch.skip(why, c.where)
            return
        pending, why = self._packet(person)
        if pending is None:
            self.batch.skip(why, c.where)
            return
        new_id = item_id(person.id, course, c.key or content_key(c))
        result = _normal(c.result())
        if new_id in self.seen or new_id in pending.existing \
                or pending.existing.get(legacy_item_id(person.id, course, c.date)) == result:
            self.report.already.append(c.where)
            return
        self.seen.add(new_id)
        item: dict[str, Any] = {"id": new_id, "type": "lms_milestone",
                                "title": course.milestone, "course": course.course,
                                "date": c.date}
        if course.competencies:
            item["competencies"] = list(course.competencies)
        item["result"] = c.result()
        item["notes"] = f"imported from {c.source or self.source} {c.where}"
        pending.items.append(item)
        self.report.imported.append((pending.display, new_id, c.where))

    def voided_earlier(self) -> None:
        """A statement voided in this batch but imported by an earlier run: promoctl never
        deletes evidence, so the user is told which item to remove."""
        imported = {c.statement_id for c in self.batch.completions if c.statement_id}
        wanted = {sid: where for sid, where in self.batch.voided.items()
                  if sid not in imported}
        if not wanted:
            return
        for display, src in sorted(self.repo.packets.items()):
            for item in src.record.evidence:
                for sid, where in wanted.items():
                    if item.type == "lms_milestone" and f"(id {sid})" in (item.notes or ""):
                        self.batch.skip(f"voids statement {sid}, imported earlier as item "
                                        f"{item.id} in {display}; remove that item by hand "
                                        "(promoctl never deletes evidence)", where)

    def _packet(self, person: Person) -> tuple[_Pending | None, str]:
        displays = self.open.get(person.id, [])
        if len(displays) > 1:
            return None, (f"{person.id} has {len(displays)} open packets "
                          f"({', '.join(displays)}); choose one with --cycle")
        if displays:
            display = displays[0]
            if display not in self.pending:
                src = self.repo.packets[display]
                ladder = self.repo.ladder(src.record.target.ladder)
                if ladder is not None and ladder.framework != self.index.mapping.framework:
                    return None, (f"packet {display} is judged against framework "
                                  f"{ladder.framework!r}, the mapping is for "
                                  f"{self.index.mapping.framework!r}")
                existing = {e.id: e.result.model_dump(exclude_none=True, mode="python")
                            for e in src.record.evidence}
                self.pending[display] = _Pending(display, {k: _normal(v) for k, v in
                                                           existing.items()})
            return self.pending[display], ""
        if not self.options.create_draft:
            return None, f"{person.id} has no open packet (pass --create-draft to start one)"
        return self._draft(person)

    def _draft(self, person: Person) -> tuple[_Pending | None, str]:
        when = self.options.submitted or date.today()
        # The level held then, from the person file and the approvals since (levels.py)
        held = levels.level_on(self.repo, person.id, when, known_on=when)
        ladder = self.repo.ladder(held.ladder)
        index = ladder.level_index(held.level) if ladder else -1
        if ladder is None or index < 0 or index + 1 >= len(ladder.levels) \
                or ladder.levels[index + 1].promotion is None:
            return None, (f"{person.id}: no level above {held.level!r} with promotion "
                          f"rules in ladder {held.ladder!r} to start a draft packet for")
        if ladder.framework != self.index.mapping.framework:
            return None, (f"{person.id}: ladder {ladder.id!r} uses framework "
                          f"{ladder.framework!r}, the mapping is for "
                          f"{self.index.mapping.framework!r}")
        packet_id = f"{person.id}-{self.options.cycle or when.isoformat()}"
        target = self.repo.root / "packets" / f"{packet_id}.yaml"
        display = f"packets/{packet_id}.yaml"
        if not valid_id(packet_id):
            return None, (f"{person.id}: cannot start draft packet {packet_id!r}: not a valid "
                          "id (letters, digits, '.', '_', '-'); choose another --cycle")
        if packet_id in self.repo.packet_ids or target.exists():
            return None, (f"{person.id}: cannot start draft packet {packet_id!r}: a packet "
                          "with that id or file exists (decided, or of another cycle)")
        data: dict[str, Any] = {"kind": "packet", "format": 1, "id": packet_id,
                                "candidate": person.id,
                                "target": {"ladder": ladder.id,
                                           "level": ladder.levels[index + 1].id},
                                "submitted": when}
        if person.manager:
            data["supervisor"] = person.manager
        if self.options.cycle:
            data["cycle"] = self.options.cycle
        pending = _Pending(display, {}, draft=data)
        self.pending[display] = pending
        self.open[person.id] = [display]
        return pending, ""

    def finish(self) -> Report:
        writes: list[tuple[str, bytes, bool]] = []
        for display, pending in sorted(self.pending.items()):
            if not pending.items:
                continue
            target = self.repo.root / display
            if pending.draft is not None:
                data = {**pending.draft, "evidence": pending.items}
                header = schema_comment(self.repo.root, target, "packet") + \
                    "# Draft started by promoctl import: check the target and the date.\n"
                raw, _src = render_record(data, display, header)
                self.report.created.append(display)
            else:
                raw = append_items(target.read_bytes(), display, pending.items)
            writes.append((display, raw, pending.draft is None))
        if not self.options.dry_run:
            for display, raw, overwrite in writes:
                write_atomic(self.repo.root / display, raw, overwrite=overwrite)
                self.report.written.append(display)
        return self.report


@dataclass
class _Pending:
    display: str
    existing: dict[str, dict[str, Any]]  # item id -> result, for deduplication
    items: list[dict[str, Any]] = field(default_factory=list)
    draft: dict[str, Any] | None = None


def _normal(result: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) if isinstance(v, Decimal) else v for k, v in result.items()}


# ------------------------------------------------------------------------- packet writing


def append_items(raw: bytes, display: str, items: list[dict[str, Any]]) -> bytes:
    """The packet ``raw`` with ``items`` added at the end of its evidence, validated."""
    doc = yamlio.parse(raw, display)
    expected = copy.deepcopy(doc.data)
    added = yamlio.parse(yamlio.dump({"evidence": items}).encode(), display).data["evidence"]
    expected["evidence"] = [*(expected.get("evidence") or []), *added]
    text = raw.decode("utf-8-sig")
    candidate = _append_text(text, doc, items)
    if candidate is not None:
        try:
            if yamlio.parse(candidate.encode(), display).data == expected:
                return _validated(candidate.encode(), display)
        except yamlio.YamlProblems:
            pass
    # The layout was unusual (a flow list, no evidence yet): write the whole record,
    # keeping the comment lines at its top.
    top = re.match(r"(?:[ \t]*#[^\n]*\n|[ \t]*\n)*", text)
    header = top.group(0) if top else ""
    return _validated((header + yamlio.dump(expected)).encode(), display)


def _validated(raw: bytes, display: str) -> bytes:
    source, problems = parse_record(raw, display)
    if source is None:
        raise InvalidRecords(problems)
    return raw


def _append_text(text: str, doc: yamlio.Document, items: list[dict[str, Any]]) -> str | None:
    evidence = doc.data.get("evidence") if isinstance(doc.data, dict) else None
    if not isinstance(evidence, list) or not evidence or ("evidence", 0) not in doc.marks:
        return None
    lines = text.splitlines(keepends=True)
    line, col = doc.marks[("evidence", 0)]
    prefix = lines[line - 1][:col - 1]
    if not re.fullmatch(r"[ \t]*-[ \t]+", prefix):
        return None  # a flow list or an unusual layout
    indent = prefix[:prefix.index("-")]
    key_line = doc.key_marks[("evidence",)][0]
    later = [doc.key_marks[(k,)][0] for k in doc.data if (k,) in doc.key_marks
             and doc.key_marks[(k,)][0] > key_line]
    end = min(later) - 1 if later else len(lines)  # lines[:end] holds the evidence block
    while end > key_line and (not lines[end - 1].strip()
                              or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    block = "".join(indent + ln if ln.strip() else ln
                    for ln in yamlio.dump(items).splitlines(keepends=True))
    head = "".join(lines[:end])
    if head and not head.endswith("\n"):
        head += "\n"
    return head + block + "".join(lines[end:])
