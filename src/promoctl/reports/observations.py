"""Documentation audits, escalation timeliness and incidents: evidence items in the period."""

from __future__ import annotations

from collections import Counter, defaultdict

from promoctl.reports import stats
from promoctl.reports.figures import COUNT, RATE, Chart, Column, Figure, Row, bucket
from promoctl.reports.govrecords import Observation, Records, period


def _observed_row(name: str, obs: list[Observation], series: str | None = None) -> Row:
    scores = [o.score for o in obs if o.score is not None]
    passed = [o.passed for o in obs if o.passed is not None]
    return Row(name, len(obs), {"mean_score": stats.mean(scores), "scored": len(scores),
                                "assessed": len(passed),
                                "passed_share": stats.rate(sum(passed), len(passed))},
               {o.person for o in obs}, series=series,
               contributions=dict(Counter(o.person for o in obs)))


OBSERVED_COLUMNS = [Column("scored", "scored", COUNT), Column("mean_score", "mean score", "score"),
                    Column("assessed", "assessed", COUNT),
                    Column("passed_share", "share passed", RATE)]
LEVEL_NOTE = ("Level: a review's own level; otherwise the level the person held on the "
              "item's date, by the level history every figure uses (the person file's level "
              "moved by the standing approvals recorded by then).")
MEASURES = ("n: items. mean score: the mean of the scored items' scores (scored). share "
            "passed: the items whose result says passed: true, out of those that record "
            "passed at all (assessed); an item without a result counts in n only.")


def observed(rec: Records, observations: list[Observation]) -> list[Figure]:
    interval = rec.options.interval
    audits = [o for o in observations if o.type == "documentation_audit"]
    escalations = [o for o in observations if o.type == "escalation_summary"]
    by_level: dict[str, list[Observation]] = defaultdict(list)
    by_cell: dict[tuple[str, str], list[Observation]] = defaultdict(list)
    for o in audits:
        by_level[o.level].append(o)
        by_cell[(o.level, bucket(o.day, interval))].append(o)
    by_time: dict[str, list[Observation]] = defaultdict(list)
    for o in escalations:
        by_time[bucket(o.day, interval)].append(o)
    source = ("From evidence items in packets and in review records, dated "
              f"{period(rec)}; an item repeated in a later packet counts once.")
    return [
        Figure("documentation-audits", "Documentation audit results by level",
               "Documentation quality at each level.", "level", OBSERVED_COLUMNS,
               [_observed_row(k, by_level[k]) for k in sorted(by_level)],
               Chart("bar", ("mean_score",), "mean audit score"),
               [source, MEASURES, LEVEL_NOTE], partition=False),
        Figure("documentation-audit-trend", f"Documentation audit scores by {interval} "
               "and level", "Documentation audit trends by level.", interval,
               OBSERVED_COLUMNS,
               [_observed_row(t, by_cell[(lv, t)], series=lv)
                for lv, t in sorted(by_cell)],
               Chart("line", ("mean_score",), "mean audit score"),
               [source, MEASURES, LEVEL_NOTE], series_by="level"),
        Figure("escalation-timeliness", f"Escalation timeliness by {interval}",
               "Escalation summaries over time: their score, and the share recorded as "
               "timely (passed).", interval, OBSERVED_COLUMNS,
               [_observed_row(t, by_time[t]) for t in sorted(by_time)],
               Chart("line", ("passed_share",), "share timely", percent=True),
               [source, MEASURES, "An escalation summary is timely when its result says "
                "passed: true; the share timely is of the summaries that record passed "
                "(assessed), not of all of them (n). Scores are on the framework's scale."],
               partition=False),
    ]


def incidents(rec: Records, observations: list[Observation]) -> Figure:
    by_level: dict[str, list[Observation]] = defaultdict(list)
    for o in observations:
        if o.type == "incident_review":
            by_level[o.level].append(o)
    headcount: dict[str, int] = defaultdict(int)
    for src in rec.repo.people.values():
        if rec.employed(src.record, rec.options.end):
            headcount[rec.level_at(src.record.id, rec.options.end)] += 1
    rows = []
    for name in sorted(by_level):
        row = _observed_row(name, by_level[name])
        row.values["headcount"] = headcount.get(name, 0)
        row.values["per_head"] = (len(by_level[name]) / headcount[name]
                                  if headcount.get(name) else None)
        rows.append(row)
    return Figure("incidents-by-level", "Incident reviews by role level",
                  "Incident patterns by role level.", "level",
                  [*OBSERVED_COLUMNS, Column("headcount", f"headcount on {rec.options.end}",
                                             COUNT),
                   Column("per_head", "reviews per head", "number")],
                  rows, Chart("bar", ("per_head",), "incident reviews per head"),
                  [f"incident_review items dated {period(rec)} from packets and reviews; an "
                   "item repeated in a later packet counts once.", MEASURES, LEVEL_NOTE,
                   f"headcount: the people employed on {rec.options.end} (started on or "
                   "before it, no leaving_date or leaving after it) by the level they held "
                   "that day, by the same history; reviews per head = n / headcount."],
                  partition=False)
