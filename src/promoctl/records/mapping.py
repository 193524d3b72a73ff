"""Checking LMS mapping records (``kind: lms-mapping``, modelled in ``settings``), and the
index of which LMS course is which milestone.

``check_lms_mappings`` is the cross-record check that ``validate`` runs; it imports
nothing from ``checking`` so that ``checking`` can call it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from promoctl.base.errors import InvalidRecords, Problem, UserError, display_path
from promoctl.records.loader import Repository
from promoctl.records.parsing import Source, did_you_mean
from promoctl.records.settings import LmsCourse, LmsMapping

KIND = "lms-mapping"


def course_key(name: str) -> str:
    """LMS course names compare without case and with whitespace collapsed."""
    return re.sub(r"\s+", " ", name).strip().casefold()


def check_lms_mappings(repo: Repository) -> list[Problem]:
    out: list[Problem] = []
    for src in repo.others.get(KIND, {}).values():
        out.extend(check_lms_mapping(src, repo))
    return out


def check_lms_mapping(src: Source, repo: Repository) -> list[Problem]:
    mapping: LmsMapping = src.record
    out: list[Problem] = []
    framework = repo.framework(mapping.framework)
    if framework is None and mapping.framework not in repo.broken_ids.get("framework", set()):
        out.append(src.problem(("framework",), f"unknown framework {mapping.framework!r}"
                               f"{did_you_mean(mapping.framework, list(repo.frameworks))}"))
    known = [c.id for c in framework.competencies] if framework else []
    seen: dict[str, int] = {}
    for i, course in enumerate(mapping.courses):
        for j, name in enumerate([course.course, *course.aliases]):
            loc = ("courses", i, "course") if j == 0 else ("courses", i, "aliases", j - 1)
            key = course_key(name)
            if key in seen:
                out.append(src.problem(loc, f"course {name!r} is also mapped in "
                                       f"courses[{seen[key]}]; each LMS course maps once"))
            else:
                seen[key] = i
        listed: set[str] = set()
        for j, comp in enumerate(course.competencies):
            loc = ("courses", i, "competencies", j)
            if comp in listed:
                out.append(src.problem(loc, f"competency {comp!r} listed twice"))
            listed.add(comp)
            if framework is not None and comp not in known:
                out.append(src.problem(loc, f"unknown competency {comp!r}"
                                       f"{did_you_mean(comp, known)} in framework "
                                       f"{framework.id!r}"))
    if mapping.date_format is not None:
        try:
            sample = datetime(2026, 11, 23, 14, 5, 9)
            datetime.strptime(sample.strftime(mapping.date_format), mapping.date_format)
            if "%" not in mapping.date_format:
                raise ValueError("no % directive")
        except ValueError as exc:
            out.append(src.problem(("date_format",), f"{mapping.date_format!r} is not a date "
                                   f"format such as '%d/%m/%Y' ({exc})"))
    return out


@dataclass(frozen=True)
class CourseIndex:
    mapping: LmsMapping
    display: str
    by_key: dict[str, LmsCourse]

    def find(self, *names: str) -> LmsCourse | None:
        for name in names:
            found = self.by_key.get(course_key(name))
            if found is not None:
                return found
        return None


def resolve(repo: Repository, ref: str | None) -> CourseIndex:
    """The mapping named by ``ref`` (a file or an id; the only one when None), checked."""
    mappings = repo.others.get(KIND, {})
    if ref is None:
        if len(mappings) != 1:
            listed = ", ".join(sorted(mappings)) or "none in this repository"
            raise UserError(f"name the LMS mapping with --map (mappings: {listed})")
        src = next(iter(mappings.values()))
    else:
        path = Path(ref)
        wanted = display_path(path, repo.root) if path.is_file() else None
        matches = [s for s in mappings.values() if s.display == wanted or s.record.id == ref]
        if not matches:
            broken = [p for p in repo.problems
                      if p.path == wanted or (repo.broken.get(p.path) == KIND
                                              and ref in repo.broken_ids.get(KIND, set()))]
            if broken:
                raise InvalidRecords(broken)
            if path.is_file() and not path.resolve().is_relative_to(repo.root.resolve()):
                raise UserError(f"{ref}: the mapping must be a record in the repository "
                                f"{repo.root}")
            raise UserError(f"{ref}: no such LMS mapping (kind: {KIND}) in the repository; "
                            f"mappings: {', '.join(sorted(mappings)) or 'none'}")
        src = matches[0]
    problems = check_lms_mapping(src, repo)
    if problems:
        raise InvalidRecords(problems)
    by_key: dict[str, LmsCourse] = {}
    for course in src.record.courses:
        for name in (course.course, *course.aliases):
            by_key.setdefault(course_key(name), course)
    return CourseIndex(src.record, src.display, by_key)
