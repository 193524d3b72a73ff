"""Governance figures from the records: a pure function of a loaded repository and a period.

No I/O, no clock. Every figure reads what the records already hold (decisions carry their
evaluation snapshot), so nothing is evaluated and a record is parsed at most once: by the
loader, or on first read when validate's cache let the loader skip it.

Privacy: a row covering fewer than ``min_group`` different people is suppressed (no
count, no value) in every format, with complementary suppression where the rows of a
figure add up to a total a reader could subtract from. Rows name groups (programs,
ladders, levels, periods) and pseudonymous codes (panels, raters), never a person; the
codes' key stays in ``Report.key``, which no report format includes.
"""

from __future__ import annotations

import calendar
import gc
import hashlib
import io
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from promoctl import lifecycle, stats
from promoctl.escape import CsvWriter
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
        # Panels that decided on enough people get a code; the rest are pooled, so no
        # row (and no code in the key) stands for a handful of candidates.
        self.panel_of = {d.id: "; ".join(sorted({m.name for m in d.panel}))
                         for d in self.decided}
        decided_by: dict[str, set[str]] = defaultdict(set)
        for d in self.decided:
            decided_by[self.panel_of[d.id]].add(d.candidate)
        big = {p: len(c) for p, c in decided_by.items() if len(c) >= options.min_group}
        self.panel_codes = _pseudonyms("panel-", big)
        self.other_panels = f"other panels ({len(decided_by) - len(big)})"

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

    def group_key(self, dimension: str) -> Callable[[Decision], str]:
        if dimension == "program":
            return self.program
        if dimension == "ladder":
            return lambda d: d.target.ladder
        if dimension == "level":
            return lambda d: self.level_label(d.target.ladder, d.target.level)
        return lambda d: self.panel_codes.get(self.panel_of[d.id], self.other_panels)

    def observations(self) -> list[_Observation]:
        """Audit, escalation and incident evidence dated in the period, from packets and
        reviews; an item copied into a later packet counts once."""
        seen: set[tuple[str, str, str, date]] = set()
        out: list[_Observation] = []

        def add(person: str, item: EvidenceItem, level: str | None) -> None:
            if item.type not in OBSERVED_TYPES or not self.within(item.date):
                return
            key = (person, item.type, item.id, item.date)
            if key in seen:
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
             (("p10", 10), ("q1", 25), ("median", 50), ("q3", 75), ("p90", 90))}
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
                   "whiskers P10 to P90, so no single person's value is drawn."], partition=False)


def _overrides(rec: _Records, dimension: str) -> Figure:
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
                  [f"Standing decisions decided {_period(rec)} that go against their "
                   "evaluation (derived from the outcome and the verdict)."])


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
               Chart("bar", ("mean_score",), "mean audit score"), [source, level_note],
               partition=False),
        Figure("documentation-audit-trend", f"Documentation audit scores by {interval} "
               "and level", "Documentation audit trends by level.", interval,
               OBSERVED_COLUMNS,
               [_observed_row(t, by_cell[(lv, t)], series=lv)
                for lv, t in sorted(by_cell)],
               Chart("line", ("mean_score",), "mean audit score"), [source, level_note],
               series_by="level"),
        Figure("escalation-timeliness", f"Escalation timeliness by {interval}",
               "Escalation summaries over time: their score, and the share recorded as "
               "timely (passed).", interval, OBSERVED_COLUMNS,
               [_observed_row(t, by_time[t]) for t in sorted(by_time)],
               Chart("line", ("passed_share",), "share timely", percent=True),
               [source, "An escalation summary is timely when its result says passed: "
                "true; its score is on the framework's scale."], partition=False),
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
                   "the person's level on the item's date."], partition=False)


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
                   f"{stats.ALPHA}."], partition=False, series_by="cohort")


def _revalidation(rec: _Records) -> Figure:
    reviews: dict[str, list[Review]] = defaultdict(list)
    for r in rec.reviews:
        if r.type == "maintenance" and rec.within(r.date):
            reviews[rec.level_label(r.ladder, r.level)].append(r)
    # Lapsed authorisations by the rules `promoctl status` and `due` apply (one definition
    # of "lapsed" for the whole tool); their level is the one the person record holds.
    lapsed: dict[str, set[str]] = defaultdict(set)
    for st in lifecycle.statuses(rec.repo, rec.options.end):
        if st.authorization == "lapsed":
            person = st.person
            lapsed[rec.level_label(person.ladder, person.level)].add(person.id)
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
                  [f"Maintenance reviews dated {_period(rec)} (not superseded), by outcome.",
                   f"Lapsed on {rec.options.end}: people whose time-limited authorisation has "
                   "lapsed on that date by the rules `promoctl status` applies (re-validation "
                   "overdue, a re-check after drift overdue, or a lapsed or unresolved "
                   "review), by the level their person record holds."], partition=False)


class _Rating(NamedTuple):
    rater: tuple[str, str]  # (evidence type, assessor)
    target: tuple[str, str]  # (packet, competency): what is rated
    candidate: str
    score: float
    agrees: bool | None  # on the panel's side of the competency's minimum, if it has one


def _ratings(rec: _Records) -> list[_Rating]:
    """Each competency a rating item names, in the packets decided in the period, dated on
    or before the decision's as-of date (what the panel saw)."""
    out = []
    for d in rec.decided:
        src = rec.repo.packet_ids.get(d.inputs.packet.id)
        if src is None:
            continue
        minima: dict[str, float] = {}
        for c in d.evaluation.get("competencies") or []:
            m = c.get("minimum") if isinstance(c, dict) else None
            if isinstance(m, (int, float)) and not isinstance(m, bool):
                minima[str(c.get("id"))] = float(m)
        approved = d.outcome == "approved"
        packet = src.record
        for item in packet.evidence:
            if item.type not in RATING_TYPES or not item.assessor \
                    or item.result.score is None or item.date > d.as_of:
                continue
            score = float(item.result.score)
            for competency in item.competencies:
                m = minima.get(competency)
                out.append(_Rating((item.type, item.assessor), (packet.id, competency),
                                   d.candidate, score,
                                   None if m is None else (score >= m) == approved))
    return out


def _calibration(rec: _Records) -> tuple[Figure, dict[str, str]]:
    ratings = _ratings(rec)
    # Per rated (packet, competency): the sum and count of all ratings and of each
    # assessor's, so "the other raters' mean" is a subtraction, not a search.
    totals: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0])
    own: dict[tuple[tuple[str, str], str], list[float]] = defaultdict(lambda: [0.0, 0])
    per: dict[tuple[str, str], list[_Rating]] = defaultdict(list)
    for r in ratings:
        for acc in (totals[r.target], own[(r.target, r.rater[1])]):
            acc[0] += r.score
            acc[1] += 1
        per[r.rater].append(r)
    pools: list[tuple[str, str, list[_Rating]]] = []  # (type, shown as, ratings)
    codes: dict[tuple[str, str], str] = {}
    for rtype, prefix in RATING_TYPES.items():
        mine = {a: rs for (t, a), rs in per.items() if t == rtype}
        big = {a: len(rs) for a, rs in mine.items()
               if len({r.candidate for r in rs}) >= rec.options.min_group}
        named = _pseudonyms(prefix, big)
        codes.update({(rtype, a): code for a, code in named.items()})
        pools += [(rtype, code, mine[a]) for a, code in sorted(
            named.items(), key=lambda pair: int(pair[1][len(prefix):]))]
        small = [r for a, rs in mine.items() if a not in named for r in rs]
        if small:
            who = "managers" if rtype == "manager_rating" else "peers"
            pools.append((rtype, f"other {who} ({len(mine) - len(named)})", small))
    rows = []
    for rtype, name, rs in pools:
        diffs = []
        for r in rs:
            total, mine_ = totals[r.target], own[(r.target, r.rater[1])]
            if total[1] > mine_[1]:
                diffs.append(r.score - (total[0] - mine_[0]) / (total[1] - mine_[1]))
        above, below = sum(x > 0 for x in diffs), sum(x < 0 for x in diffs)
        p = stats.sign_test(above, below) if diffs else None
        flag = None
        if p is not None and p < stats.ALPHA:
            flag = "lenient" if above > below else "severe"
        judged = [r.agrees for r in rs if r.agrees is not None]
        rows.append(Row(name, len(rs), {
            "type": "manager" if rtype == "manager_rating" else "peer",
            "mean": stats.mean([r.score for r in rs]), "compared": len(diffs),
            "difference": stats.mean(diffs), "p": p, "judged": len(judged),
            "agreement": stats.rate(sum(judged), len(judged))}, {r.candidate for r in rs},
            flag=flag))
    figure = Figure(
        "rater-calibration", "Rater calibration",
        "Each rater's ratings against other raters of the same competencies and against the "
        "panel's outcome, to start calibration sessions from data.", "rater",
        [Column("type", "type", "text"), Column("mean", "mean rating", "score"),
         Column("compared", "compared", COUNT), Column("difference", "vs other raters", "delta"),
         Column("p", "p (sign test)", P), Column("judged", "with a minimum", COUNT),
         Column("agreement", "agrees with panel", RATE)],
        rows, Chart("bar", ("difference",), "mean difference from other raters"),
        [f"manager_rating and peer_feedback items in the packets of standing decisions decided "
         f"{_period(rec)}, dated on or before the decision's as-of date; each competency an "
         "item names is one rating (n).",
         "vs other raters: the rating minus the mean of the other raters' ratings of the same "
         "packet and competency, averaged over the ratings that have one (compared); above 0 "
         f"lenient, below 0 severe, flagged with the {stats.SIGN} when p < {stats.ALPHA}.",
         "agrees with panel: the share of ratings on the panel's side: at or above the "
         "competency's minimum for an approved candidate, below it otherwise.",
         "Raters are codes (M manager, P peer) numbered by how many ratings they gave; raters "
         f"of fewer than {rec.options.min_group} different candidates are pooled as 'other'."],
        partition=False)
    key = {code: f"{'manager' if t == 'manager_rating' else 'peer'} rater {a}"
           for (t, a), code in codes.items()}
    return figure, key


def suppress(figure: Figure, minimum: int) -> None:
    """Blank rows covering fewer than ``minimum`` people; where rows add up to a total a
    reader can see, one suppressed row would be given away by subtraction, so the next
    smallest row goes too. Then forget who the rows cover."""
    for row in figure.rows:
        row.suppressed = len(row.people) < minimum
    if figure.partition:
        sets: dict[str | None, list[Row]] = defaultdict(list)
        for row in figure.rows:
            if not row.total:
                sets[row.series].append(row)
        for rows in sets.values():
            shown = [r for r in rows if not r.suppressed]
            if len(rows) - len(shown) == 1 and shown:
                min(shown, key=lambda r: (len(r.people), r.group)).suppressed = True
    for row in figure.rows:
        if row.suppressed:
            row.n, row.flag = None, None
            row.values = dict.fromkeys(row.values)
        row.people = set()


def _period(rec: _Records) -> str:
    return f"{rec.options.start} to {rec.options.end}"


def build(repo: Repository, options: Options) -> Report:
    """Every figure for the period, suppressed for privacy."""
    # The figures allocate many small objects next to a large loaded repository: the
    # cyclic collector would rescan that heap again and again (most of the run time at
    # 10,000 decisions), and nothing built here is cyclic garbage.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _build(repo, options)
    finally:
        if collecting:
            gc.enable()


def _build(repo: Repository, options: Options) -> Report:
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


# ------------------------------------------------------------------------------- output


def to_cache(report: Report) -> dict[str, Any]:
    """Everything the report's formats and its key render from, as JSON (no person in
    it but the key's, which the report cache holds beside the repository's records).
    ``from_cache`` gives back an equal ``Report``: rows are suppressed and hold no people."""
    o = report.options
    return {
        "options": {"start": o.start.isoformat(), "end": o.end.isoformat(), "by": list(o.by),
                    "min_group": o.min_group, "interval": o.interval},
        "figures": [{
            "id": f.id, "title": f.title, "description": f.description,
            "group_by": f.group_by,
            "columns": [[c.key, c.label, c.kind] for c in f.columns],
            "rows": [{"group": r.group, "n": r.n, "values": r.values, "series": r.series,
                      "flag": r.flag, "total": r.total, "suppressed": r.suppressed}
                     for r in f.rows],
            "chart": {"kind": f.chart.kind, "value": list(f.chart.value),
                      "label": f.chart.label, "percent": f.chart.percent},
            "notes": list(f.notes), "partition": f.partition, "series_by": f.series_by,
        } for f in report.figures],
        "key": dict(report.key),
    }


def from_cache(data: Any) -> Report:
    o = data["options"]
    options = Options(date.fromisoformat(o["start"]), date.fromisoformat(o["end"]),
                      tuple(o["by"]), int(o["min_group"]), str(o["interval"]))
    figures = []
    for f in data["figures"]:
        chart = f["chart"]
        figures.append(Figure(
            f["id"], f["title"], f["description"], f["group_by"],
            [Column(key, label, kind) for key, label, kind in f["columns"]],
            [Row(r["group"], r["n"], dict(r["values"]), set(), series=r["series"],
                 flag=r["flag"], total=r["total"], suppressed=r["suppressed"])
             for r in f["rows"]],
            Chart(chart["kind"], tuple(chart["value"]), chart["label"], chart["percent"]),
            list(f["notes"]), partition=f["partition"], series_by=f["series_by"]))
    return Report(options, figures, {str(k): str(v) for k, v in data["key"].items()})



def privacy_note(options: Options) -> str:
    return (f"Groups covering fewer than {options.min_group} people are suppressed (and, where "
            "rows add up to a total, the next smallest group too). Panels and raters are "
            "shown as codes. No person is named.")


def _json_value(value: Any, kind: str) -> Any:
    if value is None or kind in (COUNT, "text"):
        return value
    if kind == P:
        return float(f"{value:.4g}")
    return round(value, 4 if kind == RATE else 2)


def as_json(report: Report) -> dict[str, Any]:
    o = report.options
    return {
        "format": JSON_FORMAT,
        "period": {"from": o.start.isoformat(), "to": o.end.isoformat()},
        "min_group": o.min_group,
        "interval": o.interval,
        "privacy": privacy_note(o),
        "figures": [{
            "id": f.id, "title": f.title, "description": f.description,
            "group_by": f.group_by,
            "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in f.columns],
            "rows": [{"group": r.group, "series": r.series, "total": r.total,
                      "suppressed": r.suppressed, "n": r.n,
                      "values": {c.key: _json_value(r.values.get(c.key), c.kind)
                                 for c in f.columns},
                      "flag": r.flag} for r in f.rows],
            "notes": list(f.notes),
        } for f in report.figures],
    }


CSV_HEADER = ("figure", "group_by", "group", "series", "total", "n", "measure", "value", "flag",
              "suppressed")


def to_csv(report: Report) -> str:
    """One line per figure, row and measure ("long" form, for pivot tables)."""
    buffer = io.StringIO()
    writer = CsvWriter(buffer)
    writer.writerow(CSV_HEADER)
    for f in report.figures:
        for r in f.rows:
            head = [f.id, f.group_by, r.group, r.series or "", str(r.total).lower()]
            if r.suppressed:
                writer.writerow([*head, "", "", "", "", "true"])
                continue
            for c in f.columns:
                value = _json_value(r.values.get(c.key), c.kind)
                writer.writerow([*head, r.n, c.key, "" if value is None else value,
                                 r.flag or "", "false"])
    return buffer.getvalue()


def display(value: Any, kind: str) -> str:
    if value is None:
        return "-"
    if kind == RATE:
        return f"{value * 100:.1f}%"
    if kind == P:
        return "<0.001" if value < 0.001 else f"{value:.3f}"
    if kind == "days":
        return f"{value:.0f}"
    if kind == "delta":
        return f"{value:+.2f}"
    if kind in ("score", "number"):
        return f"{value:.2f}"
    return str(value)


def table(figure: Figure) -> tuple[list[str], list[list[str]]]:
    """The figure as text cells: what the terminal and the HTML tables show."""
    series = any(r.series is not None for r in figure.rows)
    header = [figure.group_by, *([figure.series_by] if series else []), "n",
              *(c.label for c in figure.columns), "flag"]
    rows = []
    for r in figure.rows:
        lead = [r.group, *([r.series or ""] if series else [])]
        if r.suppressed:
            rows.append([*lead, "suppressed", *("" for _ in figure.columns), ""])
        else:
            rows.append([*lead, str(r.n), *(display(r.values.get(c.key), c.kind)
                                            for c in figure.columns), r.flag or ""])
    return header, rows


def alignment(figure: Figure) -> list[str]:
    """left or right for each column of ``table(figure)``: text left, numbers right."""
    series = any(r.series is not None for r in figure.rows)
    return ["left"] * (1 + series) + ["right"] + [
        "left" if c.kind == "text" else "right" for c in figure.columns] + ["left"]


def key_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = CsvWriter(buffer)
    writer.writerow(("code", "identity"))
    for code in sorted(report.key, key=lambda c: (c.rstrip("0123456789"),
                                                  int(c[len(c.rstrip("0123456789")):] or 0))):
        writer.writerow((code, report.key[code]))
    return buffer.getvalue()

