"""Rater calibration: each rater's ratings against the other raters' and the panel's outcome."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import NamedTuple

from promoctl.reports import stats
from promoctl.reports.figures import COUNT, RATE, Chart, Column, Figure, P, Row, pseudonyms
from promoctl.reports.govrecords import Records, period

RATING_TYPES = {"manager_rating": "M", "peer_feedback": "P"}


class _Rating(NamedTuple):
    rater: tuple[str, str]  # (evidence type, assessor)
    target: tuple[str, str]  # (packet, competency): what is rated
    candidate: str
    score: float
    agrees: bool | None  # on the panel's side of the competency's minimum, if it has one


def _ratings(rec: Records) -> list[_Rating]:
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


def calibration(rec: Records) -> tuple[Figure, dict[str, str]]:
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
        named = pseudonyms(prefix, big)
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
            flag=flag, contributions=dict(Counter(r.candidate for r in rs))))
    figure = Figure(
        "rater-calibration", "Rater calibration",
        "Each rater's ratings against other raters of the same competencies and against the "
        "panel's outcome, to start calibration sessions from data.", "rater",
        [Column("type", "type", "text"), Column("mean", "mean rating", "score"),
         Column("compared", "compared", COUNT), Column("difference", "vs other raters", "delta"),
         Column("p", "p (sign test)", P), Column("judged", "with a minimum", COUNT),
         Column("agreement", "agrees with panel", RATE)],
        rows, Chart("bar", ("difference",), "mean difference from other raters"),
        [f"manager_rating and peer_feedback items in the packets of standing decisions in "
         f"cases first decided {period(rec)}, dated on or before the decision's as-of "
         "date; each competency an item names is one rating (n).",
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
