"""Approval rates by group and over time, and override rates: from the decisions."""

from __future__ import annotations

from collections import defaultdict

from promoctl.records.models import Decision
from promoctl.reports import stats
from promoctl.reports.figures import (
    ALL,
    COUNT,
    RATE,
    Chart,
    Column,
    Figure,
    P,
    Row,
    bucket,
    natural,
)
from promoctl.reports.govrecords import Records, decided_note

GROUP_NOTES = {
    "program": " Program: the candidate's program recorded in the decision when it was made "
               "(its evaluation snapshot), else the one their person record holds.",
    "panel": " Panels are the sets of members who sat together, shown as codes; panels of "
             "fewer than --min-group candidates are pooled as 'other panels'.",
    "level": " Level: the level decided on (the decision's target).",
}


def approval(rec: Records, dimension: str) -> Figure:
    key = rec.group_key(dimension)
    groups: dict[str, list[Decision]] = defaultdict(list)
    for d in rec.decided:
        groups[key(d)].append(d)
    total_n = len(rec.decided)
    total_a = sum(d.outcome == "approved" for d in rec.decided)
    rows = []
    for name in sorted(groups, key=natural):
        ds = groups[name]
        n, a = len(ds), sum(d.outcome == "approved" for d in ds)
        rest_n, rest_a = total_n - n, total_a - a
        p = stats.fisher_exact(a, n - a, rest_a, rest_n - rest_a) if rest_n else None
        flag = None
        if p is not None and p < stats.ALPHA:
            flag = "higher than the rest" if a * rest_n > rest_a * n else "lower than the rest"
        rows.append(Row(name, n, {"approved": a, "rate": stats.rate(a, n),
                                  "rest_rate": stats.rate(rest_a, rest_n), "p": p},
                        {d.candidate for d in ds}, flag=flag))
    if rows:
        rows.append(Row(ALL, total_n, {"approved": total_a,
                                       "rate": stats.rate(total_a, total_n),
                                       "rest_rate": None, "p": None},
                        {d.candidate for d in rec.decided}, total=True))
    notes = [decided_note(rec), "n: decisions; approval rate = approved / n (all outcomes: "
             "approved, deferred, declined)." + GROUP_NOTES.get(dimension, ""),
             f"Inconsistency: each {dimension} against all the others with {stats.FISHER}; "
             f"flagged when p < {stats.ALPHA}. p-values are not adjusted for multiple "
             "comparisons: with many groups, about 1 in 20 is flagged by chance alone."]
    return Figure(f"approval-by-{dimension}", f"Approval rate by {dimension}",
                  "Are candidates approved at similar rates across groups?", dimension,
                  [Column("approved", "approved", COUNT), Column("rate", "approval rate", RATE),
                   Column("rest_rate", "rate in the rest", RATE), Column("p", "p (Fisher)", P)],
                  rows, Chart("bar", ("rate",), "approval rate", percent=True), notes)


def approval_trend(rec: Records) -> Figure:
    groups: dict[str, list[Decision]] = defaultdict(list)
    for d in rec.decided:
        groups[bucket(rec.first_day[d.id], rec.options.interval)].append(d)
    rows = []
    for name in sorted(groups):
        ds = groups[name]
        a = sum(d.outcome == "approved" for d in ds)
        rows.append(Row(name, len(ds), {"approved": a, "rate": stats.rate(a, len(ds))},
                        {d.candidate for d in ds}))
    return Figure("approval-trend", f"Approval rate by {rec.options.interval}",
                  "Is the approval rate drifting over time?", rec.options.interval,
                  [Column("approved", "approved", COUNT), Column("rate", "approval rate", RATE)],
                  rows, Chart("line", ("rate",), "approval rate", percent=True),
                  [decided_note(rec), f"By the {rec.options.interval} of the case's first "
                   "decision; approval rate = approved / n (all outcomes)."])


def overrides(rec: Records, dimension: str) -> Figure:
    key = rec.group_key(dimension)
    groups: dict[str, list[Decision]] = defaultdict(list)
    for d in rec.decided:
        groups[key(d)].append(d)
    rows = []
    everything = [(ALL, rec.decided, True)] if rec.decided else []
    ordered = [(g, groups[g], False) for g in sorted(groups, key=natural)]
    for name, ds, total in [*ordered, *everything]:
        over = [d for d in ds if d.against_evaluation]
        up = sum(d.outcome == "approved" for d in over)
        rows.append(Row(name, len(ds), {"overrides": len(over),
                                        "rate": stats.rate(len(over), len(ds)),
                                        "approved_not_ready": up,
                                        "held_back_ready": len(over) - up},
                        {d.candidate for d in ds}, total=total))
    return Figure(f"override-by-{dimension}", f"Override rate by {dimension}",
                  "How often the panel went against the evaluation.", dimension,
                  [Column("overrides", "overrides", COUNT), Column("rate", "override rate", RATE),
                   Column("approved_not_ready", "approved NOT READY", COUNT),
                   Column("held_back_ready", "deferred/declined READY", COUNT)],
                  rows, Chart("bar", ("rate",), "override rate", percent=True),
                  [decided_note(rec), "override rate = decisions whose outcome goes against "
                   "their evaluation (derived from the outcome and the verdict, never read "
                   "from the record) / "
                   "n (all decisions). approved NOT READY: overrides approving a candidate the "
                   "evaluation found NOT READY; deferred/declined READY: overrides holding "
                   "back a candidate found READY." + GROUP_NOTES.get(dimension, "")])
