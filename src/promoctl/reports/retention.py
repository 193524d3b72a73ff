"""Retention after promotion and re-validation outcomes: what happens to people after a decision."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from promoctl.engine import lifecycle
from promoctl.records.models import Review
from promoctl.reports import stats
from promoctl.reports.figures import COUNT, RATE, Chart, Column, Figure, P, Row, add_months, natural
from promoctl.reports.govrecords import Records, period

HORIZONS = (6, 12)


def retention(rec: Records) -> Figure:
    # (months, person) -> (start, cohort): each person once per horizon, in the cohort of
    # their latest decision whose mark falls in the period.
    marks: dict[tuple[int, str], tuple[date, str]] = {}
    for d in rec.standing:
        promoted = d.outcome == "approved"
        begin = rec.effective(d) if promoted else d.decided_on
        cohort = "promoted" if promoted else "not promoted"
        for months in HORIZONS:
            if rec.within(add_months(begin, months)):
                k = (months, d.candidate)
                marks[k] = max((begin, cohort), marks.get(k, (begin, cohort)))
    cells: dict[tuple[int, str], list[bool]] = defaultdict(list)
    people: dict[tuple[int, str], set[str]] = defaultdict(set)
    for (months, pid), (begin, cohort) in sorted(marks.items()):
        person = rec.person(pid)
        if person is None:
            continue
        mark = add_months(begin, months)
        cells[(months, cohort)].append(person.leaving_date is None
                                       or person.leaving_date > mark)
        people[(months, cohort)].add(pid)
    rows = []
    for months in HORIZONS:
        yes, no = cells[(months, "promoted")], cells[(months, "not promoted")]
        p = (stats.fisher_exact(sum(yes), len(yes) - sum(yes), sum(no), len(no) - sum(no))
             if yes and no else None)
        for cohort, kept in (("promoted", yes), ("not promoted", no)):
            if kept:
                flag = "differs" if cohort == "promoted" and p is not None \
                    and p < stats.ALPHA else None
                rows.append(Row(f"{months} months", len(kept),
                                {"retained": sum(kept), "rate": stats.rate(sum(kept), len(kept)),
                                 "p": p}, people[(months, cohort)], series=cohort, flag=flag))
    return Figure("retention", "Retention after promotion",
                  "Share still employed 6 and 12 months on, promoted against not promoted.",
                  "after", [Column("retained", "still employed", COUNT),
                            Column("rate", "retention", RATE), Column("p", "p (Fisher)", P)],
                  rows, Chart("bar", ("rate",), "retention", percent=True),
                  [f"People with a standing decision whose 6- or 12-month mark falls "
                   f"{period(rec)}: promoted from the approval's effective date, not promoted "
                   "(deferred, declined) from the decision date. Each person counts once per "
                   "horizon, in the cohort of their latest such decision (deferred, then "
                   "promoted: promoted).",
                   "Still employed: no leaving_date, or leaving after the mark. Promoted "
                   f"against not promoted with {stats.FISHER}, flagged when p < "
                   f"{stats.ALPHA}."], partition=False, series_by="cohort")


def revalidation(rec: Records) -> Figure:
    reviews: dict[str, list[Review]] = defaultdict(list)
    for r in rec.reviews:
        if r.type == "maintenance" and rec.within(r.date):
            reviews[rec.level_label(r.ladder, r.level)].append(r)
    # Lapsed authorisations by the rules `promoctl status` and `due` apply (one definition
    # of "lapsed" for the whole tool), at the level status finds held: the level history
    # every figure uses.
    lapsed: dict[str, set[str]] = defaultdict(set)
    for st in lifecycle.statuses(rec.repo, rec.options.end):
        if st.authorization == "lapsed":
            lapsed[rec.level_label(st.spell.ladder, st.spell.level)].add(st.person.id)
    rows = []
    for name in sorted(set(reviews) | set(lapsed), key=natural):
        rs = reviews.get(name, [])
        counts = {o: sum(r.outcome == o for r in rs) for o in ("sustained", "drift", "lapsed")}
        rows.append(Row(name, len(rs), {**counts, "drift_rate": stats.rate(counts["drift"],
                                                                          len(rs)),
                                        "lapsed_now": len(lapsed.get(name, ()))},
                        {r.person for r in rs} | lapsed.get(name, set())))
    return Figure("revalidation", "Re-validation outcomes by level",
                  "Competency maintenance: drift found, authorisations lapsed.", "level",
                  [Column("sustained", "sustained", COUNT), Column("drift", "drift", COUNT),
                   Column("lapsed", "lapsed", COUNT), Column("drift_rate", "drift rate", RATE),
                   Column("lapsed_now", f"lapsed on {rec.options.end}", COUNT)],
                  rows, Chart("stacked", ("sustained", "drift", "lapsed"), "maintenance reviews"),
                  [f"Maintenance reviews dated {period(rec)} (not superseded), by the level "
                   "reviewed and outcome; n: reviews; drift rate = drift / n.",
                   f"Lapsed on {rec.options.end}: people whose time-limited authorisation has "
                   "lapsed on that date by the rules `promoctl status` applies (re-validation "
                   "overdue, a re-check after drift overdue, or a lapsed or unresolved "
                   "review), by the level they held on that date (the level history every figure "
                   "uses)."], partition=False)
