"""LMS course-completion exports as CSV: one row per person and course.

Columns are found by their header (case and spacing ignored), among the names LMS
reports commonly use, or as the mapping's ``columns`` names them:

- the person: ``person`` (a promoctl id, or an LMS username matched to a person's
  ``accounts``) and/or ``email``;
- ``course`` (every column that names the course is tried: Totara's "Upload course
  records" CSV gives the short name and the ID number); the completion ``date``;
  optionally ``grade`` (a percentage, or points as ``17/20``), ``status`` and
  ``project`` (project accepted: yes/no).

A row counts as a completion when its status says so (completed, passed, failed, ...) or,
without a status column, when it has a completion date; each such row is its own
evidence item (see ``evidence``). A failed row is not a completion. Other rows (in
progress, not started) are ignored and counted.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal

from promoctl.base.errors import InvalidRecords, Problem, Problems
from promoctl.interop.common import MAX_CELL_CHARS, decode
from promoctl.interop.evidence import Batch, Completion
from promoctl.interop.html_text import clean_chars
from promoctl.records.settings import LmsMapping

ALIASES: dict[str, tuple[str, ...]] = {
    "person": ("person", "person id", "person_id", "promoctl id", "employee id", "username",
               "user name", "user id", "id number", "idnumber", "useridnumber"),
    "email": ("email", "email address", "e-mail", "user's email", "user email", "mail"),
    "course": ("course", "course name", "course full name", "course fullname",
               "coursefullname", "course shortname", "course short name", "courseshortname",
               "course id", "course_id", "course id number", "courseidnumber",
               "course code", "activity"),
    "date": ("completion date", "date completed", "completed on", "completion_date",
             "completiondate",
             "time completed", "timecompleted", "completed", "date"),
    "grade": ("grade", "percentage", "grade (%)", "final grade", "score", "result",
              "course grade", "assessment"),
    "status": ("status", "completion status", "course completion status", "progress"),
    "project": ("project", "project accepted", "project_accepted"),
}
_DONE = {"complete": None, "completed": None, "finished": None,
         "complete (achieved pass grade)": True, "completed (achieved pass grade)": True,
         "passed": True, "pass": True, "achieved": True,
         "complete (did not achieve pass grade)": False,
         "completed (did not achieve pass grade)": False,
         "failed": False, "fail": False, "not achieved": False}
_FAILED = {"failed", "fail", "not achieved"}  # a failure is not a completion
_NOT_DONE = {"in progress", "not completed", "incomplete", "not complete", "not started",
             "not yet started", "enrolled", "started", "not attempted", "in-progress"}
_YES = {"yes", "y", "true", "1", "accepted"}
_NO = {"no", "n", "false", "0", "rejected", "not accepted"}
_DATE_FORMATS = ("%A, %d %B %Y, %I:%M %p", "%A, %d %B %Y", "%d %B %Y", "%d %b %Y",
                 "%B %d, %Y", "%b %d, %Y")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def _columns(header: list[str], mapping: LmsMapping, display: str) -> dict[str, int]:
    names = {_norm(h): i for i, h in reversed(list(enumerate(header)))}
    found: dict[str, int] = {}
    problems = []
    for name, aliases in ALIASES.items():
        chosen = getattr(mapping.columns, name)
        if chosen is not None:
            if _norm(chosen) not in names:
                problems.append(Problem(display, 1, 0, f"row 1: no column {chosen!r} (the "
                                        f"mapping's columns.{name}); the header has: "
                                        f"{', '.join(header)}"))
            else:
                found[name] = names[_norm(chosen)]
            continue
        for alias in aliases:
            if alias in names and names[alias] not in found.values():
                found[name] = names[alias]
                break
    for name in ("course", "date"):
        if name not in found and getattr(mapping.columns, name) is None:
            problems.append(Problem(display, 1, 0, f"row 1: no {name} column (looked for "
                                    f"{', '.join(ALIASES[name])}); name it in the mapping's "
                                    f"columns.{name}"))
    if "person" not in found and "email" not in found and not problems:
        problems.append(Problem(display, 1, 0, "row 1: no column for the person (looked for "
                                f"{', '.join(ALIASES['person'] + ALIASES['email'])}); name "
                                "it in the mapping's columns.person or columns.email"))
    if problems:
        raise InvalidRecords(problems)
    return found


def read_csv(raw: bytes, display: str, mapping: LmsMapping) -> Batch:
    text = decode(raw, display)
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[tuple[int, int, list[str]]] = []
    problems: list[Problem] = Problems()
    number, line = 0, 1
    try:
        for cells in reader:
            number += 1
            rows.append((number, line, cells))
            line = reader.line_num + 1
    except csv.Error as exc:
        message = str(exc)
        if "field larger than field limit" in message:
            message = f"a cell is larger than {MAX_CELL_CHARS:,} characters"
        problems.append(Problem(display, line, 0, f"row {number + 1}: malformed CSV: "
                                f"{message} (a quote inside a quoted cell must be doubled)"))
        raise InvalidRecords(problems) from None
    rows = [r for r in rows if any(c.strip() for c in r[2])]
    if not rows:
        raise InvalidRecords([Problem(display, 0, 0, "file is empty; expected a header row "
                                      "and one row per person and course")])
    header = [clean_chars(c) for c in rows[0][2]]
    columns = _columns(header, mapping, display)
    for number, line, cells in rows[1:]:
        if len(cells) != len(header):
            problems.append(Problem(display, line, 0, f"row {number}: has {len(cells)} cells; "
                                    f"the header has {len(header)}"))
        for i, cell in enumerate(cells):
            if len(cell) > MAX_CELL_CHARS:
                problems.append(Problem(display, line, 0, f"row {number}, column {i + 1}: "
                                        f"cell is {len(cell):,} characters; at most "
                                        f"{MAX_CELL_CHARS:,}"))
    if problems:
        raise InvalidRecords(problems)
    # Totara names a course by short name and by ID number, in two columns: each is tried
    more_courses = [i for i, h in enumerate(header)
                    if _norm(h) in ALIASES["course"] and i != columns["course"]]
    batch = Batch()
    for number, _line, cells in rows[1:]:
        values = {k: clean_chars(cells[i]).strip() for k, i in columns.items()}
        others = tuple(v for v in (clean_chars(cells[i]).strip() for i in more_courses) if v)
        _row(batch, f"row {number}", values, others, mapping)
    return batch


def _row(batch: Batch, where: str, cell: dict[str, str], other_courses: tuple[str, ...],
         mapping: LmsMapping) -> None:
    status = _norm(cell.get("status", ""))
    if status in _NOT_DONE or (not status and "status" in cell and not cell.get("date")):
        batch.ignore(f"not completed (status {cell.get('status') or 'empty'!r})", where)
        return
    if status and status not in _DONE:
        batch.skip(f"status {cell['status']!r} is not one promoctl knows (completed, passed, "
                   "failed, in progress, not started, ...)", where)
        return
    passed = _DONE.get(status)
    if not cell.get("date"):
        if "status" not in cell:
            batch.ignore("no completion date (not completed)", where)
        else:
            batch.skip("completed, but no completion date", where)
        return
    when = _date(cell["date"], mapping.date_format)
    if when is None:
        hint = f"the mapping's date_format {mapping.date_format!r}" if mapping.date_format \
            else "YYYY-MM-DD, or set the mapping's date_format"
        batch.skip(f"completion date {cell['date']!r} is not a date ({hint})", where)
        return
    assessment: Decimal | None = None
    if cell.get("grade", "") not in ("", "-", "—"):
        assessment = _percentage(cell["grade"])
        if assessment is None:
            batch.skip(f"grade {cell['grade']!r} is not a percentage from 0 to 100 (or "
                       "points as 17/20)", where)
            return
    project = _norm(cell.get("project", ""))
    if project and project not in _YES | _NO:
        batch.skip(f"project {cell['project']!r} is not yes or no", where)
        return
    courses = tuple(c for c in (cell.get("course"), *other_courses) if c)
    if not courses:
        batch.skip("no course", where)
        return
    person, email = cell.get("person") or None, cell.get("email") or None
    if person is None and email is None:
        batch.skip("no person id or email", where)
        return
    batch.completions.append(Completion(
        where=where, courses=courses, date=when, person=person, email=email,
        completed=None if status in _FAILED else True, passed=passed, assessment=assessment,
        project_accepted=(project in _YES) if project else None))


def _date(text: str, fmt: str | None) -> date | None:
    if fmt is not None:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            return None
    head, rest = text[:10], text[10:]
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", head) and (not rest or rest[0] in " T"):
        try:
            return date.fromisoformat(head)
        except ValueError:
            return None
    for candidate in _DATE_FORMATS:
        try:
            return datetime.strptime(text, candidate).date()
        except ValueError:
            continue
    return None


def _percentage(text: str) -> Decimal | None:
    value = text.strip().rstrip("%").strip().replace(" ", "")
    if value.count(",") == 1 and "." not in value:
        value = value.replace(",", ".")
    try:
        if "/" in value:
            points, _, out_of = value.partition("/")
            if Decimal(out_of) <= 0:
                return None
            number = Decimal(points) / Decimal(out_of) * 100
        else:
            number = Decimal(value)
    except (ArithmeticError, ValueError):  # InvalidOperation, Overflow, DivisionByZero
        return None
    if not number.is_finite() or not 0 <= number <= 100:
        return None
    return number
