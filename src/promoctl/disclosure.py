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
- differencing: periods are whole months or quarters (``period_problem``), so two reports
  never differ by a few days' decisions.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from promoctl.figures import Figure, Options, Row, add_months

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


def period_problem(start: date, end: date, interval: str) -> str | None:
    """Why a period is not whole months or quarters (by ``interval``), or None."""
    unit = "month" if interval == "month" else "quarter"
    wrong = []
    if start != aligned_start(start, interval):
        wrong.append(f"--from {start} is not the first day of a {unit} "
                     f"(that {unit} starts on {aligned_start(start, interval)})")
    if end != period_end(end, interval):
        wrong.append(f"--to {end} is not the last day of a {unit} "
                     f"(that {unit} ends on {period_end(end, interval)})")
    if not wrong:
        return None
    return ("; ".join(wrong) + f". Reports cover whole {unit}s, so two reports never differ "
            "by a few days' decisions, which would give those decisions away; "
            + ("use --interval month for whole months, or " if unit == "quarter" else "")
            + "give --allow-unaligned to accept that risk.")


def privacy_note(options: Options) -> str:
    note = (f"Groups covering fewer than {options.min_group} people, or where two people "
            f"account for more than {DOMINANCE[1]:.0%} of a group, are suppressed (and, where "
            "rows add up to a total, a second group too). Quartiles are shown for groups of "
            f"at least {QUANTILE_FACTORS[25] * options.min_group} people and P10/P90 for "
            f"at least {QUANTILE_FACTORS[10] * options.min_group}. Panels and raters are "
            "shown as codes. No person is named.")
    if options.unaligned:
        note += (" This period is not whole months or quarters: a report for an overlapping "
                 "period can be subtracted from it to reveal individual decisions.")
    if options.recorded_on is not None:
        note += f" Records as they were committed on {options.recorded_on}."
    return note
