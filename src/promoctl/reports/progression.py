"""Time to progression: how long people spend before each promotion."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

from promoctl.records.models import Decision
from promoctl.reports import stats
from promoctl.reports.disclosure import QUANTILE_FACTORS, shown_quantiles
from promoctl.reports.figures import Chart, Column, Figure, Row
from promoctl.reports.govrecords import Records, period

QUANTILES = (("p10", 10), ("q1", 25), ("median", 50), ("q3", 75), ("p90", 90))


def _previous_since(rec: Records, d: Decision) -> date | None:
    """When the candidate entered the level this approval moved them from, by the level
    history: the previous approval's effective date, or for a first recorded promotion the
    person file's level_since (start_date when it has none, or when it was updated to the
    new level)."""
    if d.candidate not in rec.repo.people:
        return None
    spells = rec.levels.history(d.candidate).spells
    at = next((i for i, s in enumerate(spells) if s.ref == d.id), None)
    if at is None or at == 0:
        return None  # not read as a move (validate reports such an approval)
    return spells[at - 1].since


def time_to_progression(rec: Records) -> Figure:
    days: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for d in rec.standing:
        if d.outcome != "approved" or not rec.within(rec.effective(d)):
            continue
        begin = _previous_since(rec, d)
        if begin is not None and begin < rec.effective(d):
            label = rec.level_label(d.target.ladder, d.target.level)
            days[label].append(((rec.effective(d) - begin).days, d.candidate))
    rows, m = [], rec.options.min_group
    for name in sorted(days):
        values = sorted(v for v, _ in days[name])
        people = {pid for _, pid in days[name]}
        # Only quantiles that cannot be solved back to individuals (disclosure.py).
        shown = shown_quantiles(len(people), rec.options.min_group)
        q = {k: stats.quantile(values, p) if p in shown else None for k, p in QUANTILES}
        rows.append(Row(name, len(values), q, people,
                        contributions=dict(Counter(pid for _, pid in days[name]))))
    return Figure("time-to-progression", "Time to progression by level",
                  "How long people spend in a level before promotion to the next.", "level",
                  [Column("median", "median days", "days"), Column("q1", "Q1", "days"),
                   Column("q3", "Q3", "days"), Column("p10", "P10", "days"),
                   Column("p90", "P90", "days")],
                  rows, Chart("box", ("p10", "q1", "median", "q3", "p90"), "days"),
                  [f"Standing approvals effective {period(rec)}, by the level approved: the "
                   "days the candidate spent in the level they were promoted from, from the "
                   "date they entered it to the approval's effective date, by the level "
                   "history every figure uses: the previous approval's effective date; for a "
                   "first recorded promotion the person file's level_since, or start_date "
                   "when it has none or was updated to the new level (then the days since "
                   "joining).",
                   "Quantiles by linear interpolation (type 7). So that they cannot be solved "
                   "back to individual values, Q1 and Q3 are shown for levels of at least "
                   f"{QUANTILE_FACTORS[25] * m} people and P10 and P90 for at least "
                   f"{QUANTILE_FACTORS[10] * m}; below that the median alone ('-'). The box "
                   "is Q1 to Q3 (the IQR), the whiskers P10 to P90, a lone median a dot: no "
                   "single person's value is drawn."], partition=False)
