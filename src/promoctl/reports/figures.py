"""The shape of a governance figure (columns, rows, chart) and the calendar it is counted on.

Shared by the modules that compute figures (approvals, progression, observations, retention,
calibration), by the disclosure rules that suppress them and by the report's formats.
"""

from __future__ import annotations

import calendar
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

DIMENSIONS = ("program", "ladder", "level", "panel")
INTERVALS = ("quarter", "month")
UNKNOWN = "(unknown)"
ALL = "all"
COUNT, RATE, P = "count", "rate", "p"


@dataclass(frozen=True)
class Options:
    start: date
    end: date
    by: tuple[str, ...] = ("program",)
    min_group: int = 5
    interval: str = "quarter"
    unaligned: bool = False  # not one ended year, quarter or month (--allow-unaligned)
    recorded_on: date | None = None  # the records as committed on this day, not as now


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str  # count | rate | p | score | delta | days | number | text


@dataclass
class Row:
    group: str
    n: int | None
    values: dict[str, Any]
    people: set[str]  # who the row covers: for suppression only, emptied before output
    series: str | None = None
    flag: str | None = None
    total: bool = False
    suppressed: bool = False
    # Person -> how many of n they account for, where that can be more than one (items,
    # ratings): for the dominance rule; emptied with ``people``.
    contributions: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Chart:
    kind: str  # bar | line | box | stacked
    value: tuple[str, ...]  # the column(s) drawn
    label: str  # the value axis
    percent: bool = False


@dataclass
class Figure:
    id: str
    title: str
    description: str
    group_by: str
    columns: list[Column]
    rows: list[Row]
    chart: Chart
    notes: list[str] = field(default_factory=list)
    partition: bool = True  # rows add up to a total (complementary suppression applies)
    series_by: str = "series"  # what a row's series is


@dataclass
class Report:
    options: Options
    figures: list[Figure]
    # Pseudonym -> identity, for the one who runs the report; never part of its output.
    key: dict[str, str]


def add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def bucket(day: date, interval: str) -> str:
    if interval == "month":
        return f"{day.year}-{day.month:02d}"
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def natural(text: str) -> tuple[tuple[int, str], ...]:
    """Sort key: panel-2 before panel-10."""
    return tuple((1, part.zfill(12)) if part.isdigit() else (0, part)
                 for part in re.split(r"(\d+)", text))


def pseudonyms(prefix: str, counts: dict[str, int]) -> dict[str, str]:
    """Codes by activity (most first); ties by a hash, so the order says nothing of names."""
    order = sorted(counts, key=lambda k: (-counts[k], hashlib.sha256(k.encode()).hexdigest()))
    return {identity: f"{prefix}{i}" for i, identity in enumerate(order, 1)}

