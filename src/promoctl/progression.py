"""Time to progression: how long people spend before each promotion."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

from promoctl import stats
from promoctl.disclosure import QUANTILE_FACTORS, shown_quantiles
from promoctl.figures import Chart, Column, Figure, Row
from promoctl.govrecords import Records, period
from promoctl.models import Decision, Person

QUANTILES = (("p10", 10), ("q1", 25), ("median", 50), ("q3", 75), ("p90", 90))


def _progression_start(rec: Records, d: Decision, person: Person | None) -> date | None:
    """The previous approval's effective date, else level_since, else start_date."""
    when = rec.effective(d)
    earlier = [w for w, _l, _b, _a in rec.steps.get(d.candidate, []) if w < when]
    if earlier:
        return earlier[-1]
    if person is None:
        return None
    if person.level_since is not None and person.level_since < when:
        return person.level_since
    return person.start_date if person.start_date < when else None


def time_to_progression(rec: Records) -> Figure:
    days: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for d in rec.standing:
        if d.outcome != "approved" or not rec.within(rec.effective(d)):
            continue
        begin = _progression_start(rec, d, rec.person(d.candidate))
        if begin is not None:
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
                  "How long people take to reach each level.", "level",
                  [Column("median", "median days", "days"), Column("q1", "Q1", "days"),
                   Column("q3", "Q3", "days"), Column("p10", "P10", "days"),
                   Column("p90", "P90", "days")],
                  rows, Chart("box", ("p10", "q1", "median", "q3", "p90"), "days"),
                  [f"Approvals effective {period(rec)}: days from the previous promotion's "
                   "effective date, else the person's level_since, else their start_date.",
                   "Quantiles by linear interpolation (type 7). So that they cannot be solved "
                   "back to individual values, Q1 and Q3 are shown for levels of at least "
                   f"{QUANTILE_FACTORS[25] * m} people and P10 and P90 for at least "
                   f"{QUANTILE_FACTORS[10] * m}; below that the median alone ('-'). The box "
                   "is Q1 to Q3 (the IQR), the whiskers P10 to P90, a lone median a dot: no "
                   "single person's value is drawn."], partition=False)
