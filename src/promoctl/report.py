"""Governance figures from the records: a pure function of a loaded repository and a period.

No I/O, no clock. Every figure reads what the records already hold (decisions carry their
evaluation snapshot), so a record is parsed once, by the loader, and nothing is evaluated.

Privacy: a row covering fewer than ``min_group`` different people is suppressed (no
count, no value) in every format, with complementary suppression where the rows of a
figure add up to a total a reader could subtract from. Rows name groups (programs,
ladders, levels, periods) and pseudonymous codes (panels, raters), never a person; the
codes' key stays in ``Report.key``, which no report format includes.
"""

from __future__ import annotations

import calendar
import csv
import hashlib
import io
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from promoctl import stats
from promoctl.loader import Repository
from promoctl.models import Decision, EvidenceItem, Person, Review

JSON_FORMAT = 1
DIMENSIONS = ("program", "ladder", "level", "panel")
INTERVALS = ("quarter", "month")
RATING_TYPES = {"manager_rating": "M", "peer_feedback": "P"}
OBSERVED_TYPES = ("documentation_audit", "escalation_summary", "incident_review")
HORIZONS = (6, 12)
UNKNOWN = "(unknown)"
ALL = "all"


@dataclass(frozen=True)
class Options:
    start: date
    end: date
    by: tuple[str, ...] = ("program",)
    min_group: int = 5
    interval: str = "quarter"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str  # count | rate | p | score | days | number | text


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


def _pseudonyms(prefix: str, counts: dict[str, int]) -> dict[str, str]:
    """Codes by activity (most first); ties by a hash, so the order says nothing of names."""
    order = sorted(counts, key=lambda k: (-counts[k], hashlib.sha256(k.encode()).hexdigest()))
    return {identity: f"{prefix}{i}" for i, identity in enumerate(order, 1)}


@dataclass(frozen=True)
class _Observation:
    person: str
    type: str
    day: date
    level: str
    score: float | None
    passed: bool | None


class _Records:
    """What every figure needs from the repository, worked out once."""

    def __init__(self, repo: Repository, options: Options) -> None:
        self.repo, self.options = repo, options
        gone = {s.record.supersedes for s in repo.decisions.values() if s.record.supersedes}
        self.standing: list[Decision] = sorted(
            (s.record for s in repo.decisions.values() if s.record.id not in gone),
            key=lambda d: (d.decided_on, d.id))
        self.decided = [d for d in self.standing if self.within(d.decided_on)]
        old_reviews = {s.record.supersedes for s in repo.reviews.values()
                       if s.record.supersedes}
        self.reviews: list[Review] = sorted(
            (s.record for s in repo.reviews.values() if s.record.id not in old_reviews),
            key=lambda r: (r.date, r.id))
        level_ids = [lv.id for src in repo.ladders.values() for lv in src.record.levels]
        self.clashing = {lv for lv in level_ids if level_ids.count(lv) > 1}
        self.steps: dict[str, list[tuple[date, str, str, str]]] = defaultdict(list)
        for d in self.standing:
            if d.outcome == "approved":
                self.steps[d.candidate].append(
                    (self.effective(d), d.target.ladder, self._from_level(d), d.target.level))
        for steps in self.steps.values():
            steps.sort()
        panels = defaultdict(int)
        for d in self.decided:
            panels[self.panel_identity(d)] += 1
        self.panel_codes = _pseudonyms("panel-", panels)

    def within(self, day: date) -> bool:
        return self.options.start <= day <= self.options.end

    def person(self, person_id: str) -> Person | None:
        return self.repo.person(person_id)

    @staticmethod
    def effective(d: Decision) -> date:
        return d.effective or d.decided_on

    def _from_level(self, d: Decision) -> str:
        snapshot = d.evaluation.get("candidate")
        if isinstance(snapshot, dict) and isinstance(snapshot.get("current_level"), str):
            return str(snapshot["current_level"])
        ladder = self.repo.ladder(d.target.ladder)
        index = ladder.level_index(d.target.level) if ladder else -1
        return ladder.levels[index - 1].id if ladder and index > 0 else UNKNOWN

    def level_label(self, ladder: str, level: str) -> str:
        return f"{ladder}/{level}" if level in self.clashing else level

    def level_at(self, person_id: str, day: date) -> str:
        """The person's level on ``day``, from their approvals, else their record."""
        steps = self.steps.get(person_id, [])
        for when, ladder, _before, after in reversed(steps):
            if when <= day:
                return self.level_label(ladder, after)
        if steps:
            return self.level_label(steps[0][1], steps[0][2])
        person = self.person(person_id)
        return self.level_label(person.ladder, person.level) if person else UNKNOWN

    def employed(self, person: Person, day: date) -> bool:
        return person.start_date <= day and (person.leaving_date is None
                                             or person.leaving_date > day)

    def program(self, d: Decision) -> str:
        person = self.person(d.candidate)
        if person is not None:
            return person.program
        snapshot = d.evaluation.get("candidate")
        program = snapshot.get("program") if isinstance(snapshot, dict) else None
        return program if isinstance(program, str) else UNKNOWN

    @staticmethod
    def panel_identity(d: Decision) -> str:
        return "; ".join(sorted({m.name for m in d.panel}))

    def group_key(self, dimension: str) -> Callable[[Decision], str]:
        if dimension == "program":
            return self.program
        if dimension == "ladder":
            return lambda d: d.target.ladder
        if dimension == "level":
            return lambda d: self.level_label(d.target.ladder, d.target.level)
        return lambda d: self.panel_codes[self.panel_identity(d)]

    def observations(self) -> list[_Observation]:
        """Audit, escalation and incident evidence dated in the period, from packets and
        reviews; an item copied into a later packet counts once."""
        seen: set[tuple[str, str, str, date]] = set()
        out: list[_Observation] = []

        def add(person: str, item: EvidenceItem, level: str | None) -> None:
            key = (person, item.type, item.id, item.date)
            if item.type not in OBSERVED_TYPES or not self.within(item.date) or key in seen:
                return
            seen.add(key)
            score = float(item.result.score) if item.result.score is not None else None
            out.append(_Observation(person, item.type, item.date,
                                    level or self.level_at(person, item.date), score,
                                    item.result.passed))

        for review in self.reviews:
            for item in review.evidence:
                add(review.person, item, self.level_label(review.ladder, review.level))
        for src in sorted(self.repo.packets.values(), key=lambda s: s.display):
            for item in src.record.evidence:
                add(src.record.candidate, item, None)
        return out


# ------------------------------------------------------------------------------ figures

COUNT, RATE, P = "count", "rate", "p"


def _approval(rec: _Records, dimension: str) -> Figure:
    key = rec.group_key(dimension)
    groups: dict[str, list[Decision]] = defaultdict(list)
    for d in rec.decided:
        groups[key(d)].append(d)
    total_n = len(rec.decided)
    total_a = sum(d.outcome == "approved" for d in rec.decided)
    rows = []
    for name in sorted(groups):
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
    rows.append(Row(ALL, total_n, {"approved": total_a, "rate": stats.rate(total_a, total_n),
                                   "rest_rate": None, "p": None},
                    {d.candidate for d in rec.decided}, total=True))
    notes = [f"Standing decisions (not superseded) decided {_period(rec)}; approval rate = "
             "approved / all outcomes (approved, deferred, declined).",
             f"Inconsistency: each {dimension} against all the others with {stats.FISHER}; "
             f"flagged when p < {stats.ALPHA}. p-values are not adjusted for multiple "
             "comparisons: with many groups, about 1 in 20 is flagged by chance alone."]
    if dimension == "panel":
        notes.append("Panels are the sets of members who sat together, shown as codes.")
    return Figure(f"approval-by-{dimension}", f"Approval rate by {dimension}",
                  "Are candidates approved at similar rates across groups?", dimension,
                  [Column("approved", "approved", COUNT), Column("rate", "approval rate", RATE),
                   Column("rest_rate", "rate in the rest", RATE), Column("p", "p (Fisher)", P)],
                  rows, Chart("bar", ("rate",), "approval rate", percent=True), notes)


def _approval_trend(rec: _Records) -> Figure:
    groups: dict[str, list[Decision]] = defaultdict(list)
    for d in rec.decided:
        groups[bucket(d.decided_on, rec.options.interval)].append(d)
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
                  [f"Standing decisions by the {rec.options.interval} they were decided in."])


def _progression_start(rec: _Records, d: Decision, person: Person | None) -> date | None:
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


def _time_to_progression(rec: _Records) -> Figure:
    days: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for d in rec.standing:
        if d.outcome != "approved" or not rec.within(rec.effective(d)):
            continue
        begin = _progression_start(rec, d, rec.person(d.candidate))
        if begin is not None:
            label = rec.level_label(d.target.ladder, d.target.level)
            days[label].append(((rec.effective(d) - begin).days, d.candidate))
    rows = []
    for name in sorted(days):
        values = sorted(v for v, _ in days[name])
        q = {k: stats.quantile(values, p) for k, p in
             (("p10", 0.1), ("q1", 0.25), ("median", 0.5), ("q3", 0.75), ("p90", 0.9))}
        rows.append(Row(name, len(values), q, {pid for _, pid in days[name]}))
    return Figure("time-to-progression", "Time to progression by level",
                  "How long people take to reach each level.", "level",
                  [Column("median", "median days", "days"), Column("q1", "Q1", "days"),
                   Column("q3", "Q3", "days"), Column("p10", "P10", "days"),
                   Column("p90", "P90", "days")],
                  rows, Chart("box", ("p10", "q1", "median", "q3", "p90"), "days"),
                  [f"Approvals effective {_period(rec)}: days from the previous promotion's "
                   "effective date, else the person's level_since, else their start_date.",
                   "Quantiles by linear interpolation; the box is Q1 to Q3 (the IQR), the "
                   "whiskers P10 to P90, so no single person's value is drawn."])


def _overrides(rec: _Records, dimension: str) -> Figure:
    key = rec.group_key(dimension)
    groups: dict[str, list[Decision]] = defaultdict(list)
    for d in rec.decided:
        groups[key(d)].append(d)
    rows = []
    for name, ds, total in [*((g, groups[g], False) for g in sorted(groups)),
                            (ALL, rec.decided, True)]:
        over = [d for d in ds if d.override is not None]
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
                  [f"Standing decisions decided {_period(rec)} that record an override."])


def _observed_row(name: str, obs: list[_Observation], series: str | None = None) -> Row:
    scores = [o.score for o in obs if o.score is not None]
    passed = [o.passed for o in obs if o.passed is not None]
    return Row(name, len(obs), {"mean_score": stats.mean(scores), "scored": len(scores),
                                "passed_share": stats.rate(sum(passed), len(passed))},
               {o.person for o in obs}, series=series)


OBSERVED_COLUMNS = [Column("scored", "scored", COUNT), Column("mean_score", "mean score", "score"),
                    Column("passed_share", "share passed", RATE)]


def _observed(rec: _Records, observations: list[_Observation]) -> list[Figure]:
    interval = rec.options.interval
    audits = [o for o in observations if o.type == "documentation_audit"]
    escalations = [o for o in observations if o.type == "escalation_summary"]
    by_level: dict[str, list[_Observation]] = defaultdict(list)
    by_cell: dict[tuple[str, str], list[_Observation]] = defaultdict(list)
    for o in audits:
        by_level[o.level].append(o)
        by_cell[(o.level, bucket(o.day, interval))].append(o)
    by_time: dict[str, list[_Observation]] = defaultdict(list)
    for o in escalations:
        by_time[bucket(o.day, interval)].append(o)
    source = ("From evidence items in packets and in review records, dated "
              f"{_period(rec)}; an item repeated in a later packet counts once.")
    level_note = ("Level: the person's level on the item's date (a review's own level; "
                  "otherwise from their approvals).")
    return [
        Figure("documentation-audits", "Documentation audit results by level",
               "Documentation quality at each level.", "level", OBSERVED_COLUMNS,
               [_observed_row(k, by_level[k]) for k in sorted(by_level)],
               Chart("bar", ("mean_score",), "mean audit score"), [source, level_note]),
        Figure("documentation-audit-trend", f"Documentation audit scores by {interval} "
               "and level", "Documentation audit trends by level.", interval,
               OBSERVED_COLUMNS,
               [_observed_row(t, by_cell[(lv, t)], series=lv)
                for lv, t in sorted(by_cell)],
               Chart("line", ("mean_score",), "mean audit score"), [source, level_note]),
        Figure("escalation-timeliness", f"Escalation timeliness by {interval}",
               "Escalation summaries over time: their score, and the share recorded as "
               "timely (passed).", interval, OBSERVED_COLUMNS,
               [_observed_row(t, by_time[t]) for t in sorted(by_time)],
               Chart("line", ("passed_share",), "share timely", percent=True),
               [source, "An escalation summary is timely when its result says passed: "
                "true; its score is on the framework's scale."]),
    ]


def _incidents(rec: _Records, observations: list[_Observation]) -> Figure:
    by_level: dict[str, list[_Observation]] = defaultdict(list)
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
                  [f"incident_review items dated {_period(rec)} from packets and reviews, by "
                   "the person's level on the item's date."])


def _retention(rec: _Records) -> Figure:
    marks: dict[tuple[int, str, str], date] = {}  # (months, cohort, person) -> start
    for d in rec.standing:
        promoted = d.outcome == "approved"
        begin = rec.effective(d) if promoted else d.decided_on
        cohort = "promoted" if promoted else "not promoted"
        for months in HORIZONS:
            if rec.within(add_months(begin, months)):
                k = (months, cohort, d.candidate)
                marks[k] = max(begin, marks.get(k, begin))
    cells: dict[tuple[int, str], list[bool]] = defaultdict(list)
    people: dict[tuple[int, str], set[str]] = defaultdict(set)
    for (months, cohort, pid), begin in sorted(marks.items()):
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
                  [f"People whose 6- or 12-month mark falls {_period(rec)}: promoted from "
                   "the approval's effective date, not promoted (deferred, declined) from "
                   "the decision date; each person once per cohort (their latest decision).",
                   "Still employed: no leaving_date, or leaving after the mark. Promoted "
                   f"against not promoted with {stats.FISHER}, flagged when p < "
                   f"{stats.ALPHA}."], partition=False)


def _revalidation(rec: _Records) -> Figure:
    reviews: dict[str, list[Review]] = defaultdict(list)
    for r in rec.reviews:
        if r.type == "maintenance" and rec.within(r.date):
            reviews[rec.level_label(r.ladder, r.level)].append(r)
    overdue: dict[str, set[str]] = defaultdict(set)
    validated: dict[tuple[str, str], date] = {}
    for r in rec.reviews:
        if r.type == "maintenance" and r.outcome != "lapsed" and r.date <= rec.options.end:
            validated[(r.person, rec.level_label(r.ladder, r.level))] = r.date
    for src in rec.repo.people.values():
        person = src.record
        if not rec.employed(person, rec.options.end):
            continue
        label = rec.level_at(person.id, rec.options.end)
        steps = [s for s in rec.steps.get(person.id, []) if s[0] <= rec.options.end]
        ladder = rec.repo.ladder(steps[-1][1] if steps else person.ladder)
        level = ladder.level(label.rsplit("/", 1)[-1]) if ladder else None
        if level is None or level.revalidation is None:
            continue
        since = [person.level_since or person.start_date, *(s[0] for s in steps[-1:])]
        last = max([*since, validated.get((person.id, label), date.min)])
        if (rec.options.end - last).days > level.revalidation.interval_days:
            overdue[label].add(person.id)
    rows = []
    for name in sorted(set(reviews) | set(overdue)):
        rs = reviews.get(name, [])
        counts = {o: sum(r.outcome == o for r in rs) for o in ("sustained", "drift", "lapsed")}
        rows.append(Row(name, len(rs), {**counts, "drift_rate": stats.rate(counts["drift"],
                                                                          len(rs)),
                                        "overdue": len(overdue.get(name, ()))},
                        {r.person for r in rs} | overdue.get(name, set())))
    return Figure("revalidation", "Re-validation outcomes by level",
                  "Competency maintenance: drift found, authorisations lapsed.", "level",
                  [Column("sustained", "sustained", COUNT), Column("drift", "drift", COUNT),
                   Column("lapsed", "lapsed", COUNT), Column("drift_rate", "drift rate", RATE),
                   Column("overdue", f"overdue on {rec.options.end}", COUNT)],
                  rows, Chart("stacked", ("sustained", "drift", "lapsed"), "maintenance reviews"),
                  [f"Maintenance reviews dated {_period(rec)} (not superseded). Overdue: "
                   f"people at a level with re-validation whose last maintenance review (or "
                   f"promotion into it) is older than its interval on {rec.options.end}, "
                   "so their authorisation has lapsed by time."])


def _period(rec: _Records) -> str:
    return f"{rec.options.start} to {rec.options.end}"


def build(repo: Repository, options: Options) -> Report:
    """Every figure for the period, suppressed for privacy."""
    rec = _Records(repo, options)
    observations = rec.observations()
    figures = [*(_approval(rec, dim) for dim in options.by), _approval_trend(rec),
               _time_to_progression(rec), _overrides(rec, "panel"), _overrides(rec, "program"),
               *_observed(rec, observations), _incidents(rec, observations), _retention(rec),
               _revalidation(rec)]
    rater_figure, rater_key = _calibration(rec)
    figures.append(rater_figure)
    for figure in figures:
        suppress(figure, options.min_group)
    key = {code: identity for identity, code in rec.panel_codes.items()} | rater_key
    return Report(options, figures, key)
