"""Statistical disclosure control for the governance report: which rows and values are shown.

The rules are those national statistics offices publish for tables of counts and
magnitudes (the threshold, dominance and differencing rules of the ONS's and Eurostat's
disclosure control guidance), applied to every row of every figure before any format
sees it:

- threshold: a row covering fewer than ``min_group`` different people is suppressed, and
  ``min_group`` itself is at least ``MIN_GROUP_FLOOR``;
- dominance (2, 85%): a row whose two largest contributors hold more than 85% of its n is
  suppressed, since either of them could subtract their own part and read the other's;
- complementary suppression: where a figure's rows add up to a total a reader can see,
  a lone suppressed row would be given away by subtraction, so a second row goes too;
- quantiles: only where enough people lie beyond them that the values cannot be solved
  back to individuals (``QUANTILE_FACTORS``);
- differencing: a period has ended and is one calendar year, quarter or month
  (``period_problem``), so two reports never differ by a few days' decisions, and no
  period is a longer one's start or end.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from promoctl.reports.figures import Figure, Options, Row, add_months

MIN_GROUP_FLOOR = 3
DOMINANCE = (2, 0.85)
# A quantile is shown where the row covers at least this many times min_group people:
# then at least min_group of them lie beyond it on either side. The median needs only
# the row's own threshold.
QUANTILE_FACTORS = {50: 1, 25: 4, 75: 4, 10: 10, 90: 10}


def shown_quantiles(n: int, min_group: int) -> set[int]:
    """The percentiles a row of ``n`` people may show."""
    return {p for p, factor in QUANTILE_FACTORS.items() if n >= factor * min_group}


def dominated(row: Row) -> bool:
    if not row.contributions:
        return False
    top, share = DOMINANCE
    largest = sorted(row.contributions.values(), reverse=True)[:top]
    return sum(largest) > share * sum(row.contributions.values())


def suppress(figure: Figure, minimum: int) -> None:
    """Blank rows covering fewer than ``minimum`` people or dominated by two of them; where
    rows add up to a total a reader can see, a lone suppressed row would be given away by
    subtraction, so a second one goes too: the smallest row with no flag (a flag is the
    finding a reader most needs), else the smallest. Then forget who the rows cover."""
    for row in figure.rows:
        row.suppressed = len(row.people) < minimum or dominated(row)
    if figure.partition:
        sets: dict[str | None, list[Row]] = defaultdict(list)
        for row in figure.rows:
            if not row.total:
                sets[row.series].append(row)
        for rows in sets.values():
            shown = [r for r in rows if not r.suppressed]
            if len(rows) - len(shown) == 1 and shown:
                min(shown, key=lambda r: (r.flag is not None, len(r.people), r.group)
                    ).suppressed = True
    for row in figure.rows:
        if row.suppressed:
            row.n, row.flag = None, None
            row.values = dict.fromkeys(row.values)
        row.people = set()
        row.contributions = {}


def aligned_start(day: date, interval: str) -> date:
    """The first day of the month or quarter holding ``day``."""
    month = day.month if interval == "month" else (day.month - 1) // 3 * 3 + 1
    return date(day.year, month, 1)


def period_end(day: date, interval: str) -> date:
    """The last day of the month or quarter holding ``day``."""
    return add_months(aligned_start(day, interval), 1 if interval == "month" else 3) \
        - timedelta(days=1)


def default_period(today: date, interval: str) -> tuple[date, date]:
    """The last whole calendar year before ``today``: two default reports are the same
    report or cover years that do not overlap, so neither can be subtracted from the other."""
    del interval  # a year is whole months and whole quarters
    return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)


def period_kind(start: date, end: date, interval: str) -> str | None:
    """Which permitted period ``start``..``end`` is (a calendar year, a quarter, or a month
    with ``interval`` month), or None."""
    if start == date(start.year, 1, 1) and end == date(start.year, 12, 31):
        return "calendar year"
    if start == aligned_start(start, "quarter") and end == period_end(start, "quarter"):
        return "quarter"
    if interval == "month" and start == aligned_start(start, "month") \
            and end == period_end(start, "month"):
        return "month"
    return None


def period_problem(start: date, end: date, interval: str, today: date) -> str | None:
    """Why a report for ``start``..``end``, run on ``today``, could be subtracted from
    another report, or None. A permitted period has ended before today (else it changes as
    decisions are recorded: two runs of it differ by the new decisions) and is one whole
    calendar year, one quarter, or with --interval month one month (else a longer period
    less a shorter one that starts with it gives away the rest: January to June less
    January to May is June, row by row, unsuppressed)."""
    wrong = []
    if end >= today:
        wrong.append(f"the period has not ended (--to {end} is not before today, {today}): "
                     "its figures change as decisions are recorded, and two runs of it "
                     "differ by those decisions")
    if period_kind(start, end, interval) is None:
        units = "one calendar year, one quarter or one month" if interval == "month" \
            else "one calendar year or one quarter (or one month, with --interval month)"
        wrong.append(f"{start} to {end} is not {units}: reports "
                     "for overlapping periods of other lengths can be subtracted from each "
                     "other, which gives away the decisions of the difference")
        if start != aligned_start(start, interval):
            wrong.append(f"--from {start} is not the first day of a {_unit(interval)}")
        if end != period_end(end, interval):
            wrong.append(f"--to {end} is not the last day of a {_unit(interval)}")
    if not wrong:
        return None
    return "; ".join(wrong) + ". Give --allow-unaligned to accept that risk."


def _unit(interval: str) -> str:
    return "month" if interval == "month" else "quarter"


def privacy_note(options: Options) -> str:
    note = (f"Groups covering fewer than {options.min_group} people, or where two people "
            f"account for more than {DOMINANCE[1]:.0%} of a group, are suppressed (and, where "
            "rows add up to a total, a second group too). Quartiles are shown for groups of "
            f"at least {QUANTILE_FACTORS[25] * options.min_group} people and P10/P90 for "
            f"at least {QUANTILE_FACTORS[10] * options.min_group}. Panels and raters are "
            "shown as codes. No person is named.")
    if options.unaligned:
        note += (" This period is not one ended calendar year, quarter or month: a report "
                 "for an overlapping period, or a later run of this one, can be subtracted "
                 "from it to reveal individual decisions.")
    if options.recorded_on is not None:
        note += f" Records as they were committed on {options.recorded_on}."
    return note
