"""The governance report, checked by value on a crafted repository.

``governance_repo`` writes people, packets, decisions and reviews whose figures are known
by construction (worked out in the comments), so each test can assert exact rates,
medians, flags and suppressions.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from promoctl.records import checking, yamlio
from promoctl.records.loader import discover
from promoctl.records.reading import load
from promoctl.reports import disclosure, report, stats
from tests.conftest import Cli

FRAMEWORK = {
    "kind": "framework", "format": 1, "id": "fw", "title": "Practice framework", "version": "1",
    "competencies": [
        {"id": "c1", "name": "Judgement", "anchors": {2: "Sound calls on routine cases.",
                                                      3: "Sound calls on complex cases."}},
        {"id": "c2", "name": "Records", "anchors": {2: "Notes are complete and on time."}},
    ],
}
LADDER = {
    "kind": "ladder", "format": 1, "id": "track", "title": "Practice track", "framework": "fw",
    "panel": {"roles": [{"role": "chair", "title": "Chair"}, {"role": "hr", "title": "HR"}]},
    "levels": [
        {"id": "junior", "title": "Junior"},
        {"id": "senior", "title": "Senior", "probation": {"days": 90},
         "revalidation": {"interval_days": 182, "recheck_days": 60},
         "promotion": {"rubric": [{"competency": "c1", "weight": 1, "minimum": 2},
                                  {"competency": "c2", "weight": 1, "minimum": 2}],
                       "composite_threshold": 2, "recheck_days": 90,
                       "gates": [{"id": "audit", "title": "A documentation audit",
                                  "evidence": "documentation_audit", "min_score": 2}]}},
        {"id": "lead", "title": "Lead",
         "promotion": {"rubric": [{"competency": "c1", "weight": 1, "minimum": 3}],
                       "composite_threshold": 3}},
    ],
}
START, END = date(2026, 1, 1), date(2026, 12, 31)
# The records are of 2026, a year not ended while this suite was written.
OPEN = "--allow-unaligned"
HASH = "0" * 64


@dataclass
class Records:
    """A promotion repository built in code and written as YAML records."""

    files: dict[str, dict[str, Any]] = field(default_factory=dict)

    def person(self, pid: str, program: str, *, level: str = "junior",
               start: date = date(2015, 1, 5), level_since: date | None = None,
               leaving: date | None = None) -> None:
        self.files[f"people/{pid}.yaml"] = _clean({
            "kind": "person", "format": 1, "id": pid, "name": f"Person {pid.upper()}",
            "program": program, "ladder": "track", "level": level, "start_date": start,
            "level_since": level_since, "leaving_date": leaving})

    def packet(self, candidate: str, submitted: date, evidence: Iterable[dict[str, Any]],
               *, level: str = "senior", pid: str | None = None) -> str:
        pid = pid or f"{candidate}-{submitted:%Y%m}"
        items = [{"id": f"e{i}", **item} for i, item in enumerate(evidence)]
        self.files[f"packets/{pid}.yaml"] = {
            "kind": "packet", "format": 1, "id": pid, "candidate": candidate,
            "target": {"ladder": "track", "level": level}, "submitted": submitted,
            "evidence": items}
        return pid

    def decision(self, candidate: str, outcome: str, decided: date, *,
                 program: str = "", effective: date | None = None,
                 panel: tuple[str, ...] = ("Ann Chair", "Hal Rees"), override: bool = False,
                 level: str = "senior", packet: str | None = None, did: str | None = None,
                 supersedes: str | None = None, plan: dict[str, Any] | None = None,
                 **extra: Any) -> str:
        did = did or f"{decided}-{candidate}-{outcome[:3]}"
        ready = (outcome == "approved") != override
        record: dict[str, Any] = {
            "kind": "decision", "format": 1, "id": did, "candidate": candidate,
            "target": {"ladder": "track", "level": level}, "outcome": outcome,
            "decided_on": decided, "as_of": decided,
            "effective": (effective or decided) if outcome == "approved" else None,
            "recorded_by": "Test Secretary <secretary@example.org>",
            "reasons": ["Specific reason"],
            "panel": [{"name": name, "role": role} for name, role in
                      zip(panel, ("chair", "hr"), strict=True)],
            "override": {"evaluation_verdict": "READY" if ready else "NOT READY",
                         "justification": "Panel judgement"} if override else None,
            "supersedes": supersedes,
            "inputs": {"commit": "0" * 40,
                       "packet": {"id": packet or f"{candidate}-none", "path": "p", "sha256": HASH},
                       "person": {"id": candidate, "path": "p", "sha256": HASH},
                       "ladder": {"id": "track", "path": "p", "sha256": HASH},
                       "framework": {"id": "fw", "path": "p", "sha256": HASH, "version": "1"}},
            "evaluation": {"candidate": {"id": candidate, "name": "x", "program": program,
                                         "current_level": "junior"},
                           "verdict": "READY" if ready else "NOT READY",
                           "competencies": [{"id": "c1", "minimum": 2},
                                            {"id": "c2", "minimum": 2}]},
            "development_plan": plan,
            **extra,
        }
        self.files[f"decisions/{did}.yaml"] = _clean(record)
        return did

    def review(self, person: str, rtype: str, outcome: str, day: date, *,
               level: str = "senior", evidence: Iterable[dict[str, Any]] = (),
               **extra: Any) -> str:
        rid = f"{day}-{person}-{rtype}"
        self.files[f"reviews/{rid}.yaml"] = _clean({
            "kind": "review", "format": 1, "id": rid, "person": person, "type": rtype,
            "ladder": "track", "level": level, "date": day, "reviewer": "Reviewer",
            "outcome": outcome, "findings": "Findings.",
            "evidence": [{"id": f"e{i}", **item} for i, item in enumerate(evidence)], **extra})
        return rid

    def write(self, root: Path) -> Path:
        files = {"promoctl.yaml": {"kind": "repository", "format": 1, "name": "Crafted Org"},
                 "frameworks/fw.yaml": FRAMEWORK, "ladders/track.yaml": LADDER, **self.files}
        for name, data in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(yamlio.dump(data), encoding="utf-8")
        return root


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def item(kind: str, day: date, **fields: Any) -> dict[str, Any]:
    result = {k: fields.pop(k) for k in ("score", "passed", "assessment", "completed",
                                         "project_accepted") if k in fields}
    return {"type": kind, "date": day, **({"result": result} if result else {}), **fields}


# The crafted population. 33 candidates decided in 2026, k = 0..32 in this order:
# Alpha 12 (11 approved), Beta 12 (4 approved), Delta 6 (3 approved), Gamma 3 (2 approved);
# candidate k is decided on the 10th of month (k % 12) + 1.
PROGRAMS = (("Alpha", 12, 11), ("Beta", 12, 4), ("Delta", 6, 3), ("Gamma", 3, 2))
MANAGER = {"Alpha": ("noor", 4), "Gamma": ("noor", 4), "Beta": ("ravi", 1),
           "Delta": ("tess", 3)}
LEFT = {"a03": date(2026, 8, 1), "b04": date(2026, 12, 1)}


def candidates() -> list[tuple[int, str, str, bool]]:
    out = []
    for program, size, approved in PROGRAMS:
        for i in range(size):
            out.append((len(out), f"{program[0].lower()}{i:02d}", program, i < approved))
    return out


def governance_records() -> Records:
    rec = Records()
    approvals = 0
    for k, pid, program, approved in candidates():
        decided = date(2026, k % 12 + 1, 10)
        since = None
        if approved:  # time to progression: the j-th approval took 100 * (j + 1) days
            approvals += 1
            since = decided - timedelta(days=100 * approvals)
        rec.person(pid, program, level_since=since, leaving=LEFT.get(pid))
        manager, rating = MANAGER[program]
        evidence = [
            item("documentation_audit", decided - timedelta(days=5),
                 score=3 if program in ("Alpha", "Delta") else 2),
            item("escalation_summary", decided - timedelta(days=5),
                 passed=program in ("Alpha", "Delta")),
            item("manager_rating", decided - timedelta(days=3), assessor=manager,
                 competencies=["c1", "c2"], score=rating),
            item("peer_feedback", decided - timedelta(days=3), assessor="peer-one",
                 competencies=["c1", "c2"], score=3),
        ]
        if program in ("Alpha", "Beta"):
            evidence.append(item("peer_feedback", decided - timedelta(days=3),
                                 assessor="peer-two", competencies=["c1", "c2"], score=3))
        if program == "Beta":
            evidence.append(item("incident_review", decided - timedelta(days=5), score=2))
        packet = rec.packet(pid, decided, evidence)
        rec.decision(pid, "approved" if approved else ("declined" if program == "Gamma"
                                                       else "deferred"), decided,
                     program=program, packet=packet, override=k in (0, 16, 20),
                     panel=("Ann Chair", "Hal Rees") if k % 2 == 0 else ("Bo Chair", "Hal Rees"))
    # Veterans promoted in March 2025 (12-month retention; maintenance reviews in 2026).
    for i in range(1, 9):
        pid = f"v{i:02d}"
        rec.person(pid, "Alpha", level="senior", level_since=date(2025, 3, 15),
                   leaving={7: date(2025, 12, 1), 8: date(2026, 6, 1)}.get(i))
        rec.decision(pid, "approved", date(2025, 3, 15), program="Alpha")
    outcomes = {1: "sustained", 2: "sustained", 3: "sustained", 4: "sustained", 5: "drift",
                6: "lapsed"}
    for i, outcome in outcomes.items():
        evidence = [item("documentation_audit", date(2026, 9, 1), score=3)]
        extra: dict[str, Any] = {}
        if outcome == "drift":
            evidence.append(item("incident_review", date(2026, 9, 1), score=1))
            extra = {"supports": ["Refresher coaching"], "recheck_by": date(2026, 11, 1)}
        rec.review(f"v{i:02d}", "maintenance", outcome, date(2026, 9, 1), evidence=evidence,
                   **extra)
    # Deferred in April 2025 (12-month retention of the not promoted).
    for i in range(1, 7):
        pid = f"n{i:02d}"
        leaving = {1: date(2025, 11, 1), 2: date(2025, 11, 1), 3: date(2025, 11, 1),
                   4: date(2026, 5, 1)}.get(i)
        rec.person(pid, "Beta", leaving=leaving)
        rec.decision(pid, "deferred", date(2025, 4, 15), program="Beta")
    return rec


@pytest.fixture
def governance(tmp_path: Path) -> Path:
    return governance_records().write(tmp_path / "gov")


def build(root: Path, **options: Any) -> report.Report:
    repo = load(root, discover([root]))
    assert repo.problems == []
    return report.build(repo, report.Options(START, END, **options))


def figure(r: report.Report, figure_id: str) -> report.Figure:
    return next(f for f in r.figures if f.id == figure_id)


def rows(r: report.Report, figure_id: str) -> dict[str, report.Row]:
    return {(row.group if row.series is None else f"{row.group}|{row.series}"): row
            for row in figure(r, figure_id).rows}


def test_crafted_repository_is_valid(cli: Cli, governance: Path) -> None:
    result = cli("validate", cwd=governance)
    assert result.code == 0, result.out


def test_approval_by_program_flags_and_suppresses(governance: Path) -> None:
    by = rows(build(governance), "approval-by-program")
    alpha, beta = by["Alpha"], by["Beta"]
    assert (alpha.n, alpha.values["approved"]) == (12, 11)
    assert alpha.values["rate"] == pytest.approx(11 / 12)
    assert alpha.values["rest_rate"] == pytest.approx(9 / 21)
    assert alpha.values["p"] == pytest.approx(stats.fisher_exact(11, 1, 9, 12))
    assert alpha.values["p"] == pytest.approx(0.0089637, rel=1e-4)
    assert alpha.flag == "higher than the rest"
    assert beta.values["p"] == pytest.approx(0.0265375, rel=1e-4)
    assert beta.flag == "lower than the rest"
    # Gamma covers 3 people (< 5); Delta (6 people) would give Gamma away by subtraction
    # from the total, so it is suppressed too.
    for name in ("Gamma", "Delta"):
        assert by[name].suppressed and by[name].n is None and by[name].flag is None
        assert set(by[name].values.values()) == {None}
    total = by["all"]
    assert total.total and (total.n, total.values["approved"]) == (33, 20)


def test_min_group_is_configurable(governance: Path) -> None:
    by = rows(build(governance, min_group=3), "approval-by-program")
    assert not any(row.suppressed for row in by.values())
    assert by["Gamma"].values["p"] == pytest.approx(1.0)
    assert by["Delta"].flag is None
    assert all(row.suppressed for row in rows(build(governance, min_group=40),
                                              "approval-by-program").values())


def test_approval_by_other_dimensions(governance: Path) -> None:
    r = build(governance, by=("panel", "level", "ladder"))
    assert [f.id for f in r.figures[:3]] == ["approval-by-panel", "approval-by-level",
                                             "approval-by-ladder"]
    panels = rows(r, "approval-by-panel")
    # Ann Chair sat on the even-numbered decisions (17, of them 11 approved): panel-1.
    assert (panels["panel-1"].n, panels["panel-1"].values["approved"]) == (17, 11)
    assert (panels["panel-2"].n, panels["panel-2"].values["approved"]) == (16, 9)
    assert r.key["panel-1"] == "Ann Chair; Hal Rees"
    assert rows(r, "approval-by-level")["senior"].n == 33
    assert rows(r, "approval-by-ladder")["track"].values["rate"] == pytest.approx(20 / 33)


def test_approval_trend_by_quarter(governance: Path) -> None:
    trend = rows(build(governance), "approval-trend")
    assert {q: (row.n, row.values["approved"]) for q, row in trend.items()} == {
        "2026-Q1": (9, 9), "2026-Q2": (9, 4), "2026-Q3": (9, 5), "2026-Q4": (6, 2)}
    months = rows(build(governance, interval="month"), "approval-trend")
    assert len(months) == 12 and all(row.suppressed for row in months.values())


def test_time_to_progression_median_and_spread(governance: Path) -> None:
    senior = rows(build(governance), "time-to-progression")["senior"]
    # 20 approvals taking 100, 200, ..., 2000 days (linear interpolation quantiles).
    # 20 people: the quartiles (at least 4 x 5), not P10 and P90 (which need 10 x 5).
    assert senior.n == 20
    assert senior.values == {"p10": None, "q1": 575, "median": 1050, "q3": 1525, "p90": None}
    assert disclosure.shown_quantiles(20, 5) == {25, 50, 75}
    assert disclosure.shown_quantiles(50, 5) == {10, 25, 50, 75, 90}
    assert disclosure.shown_quantiles(19, 5) == {50}


def test_time_to_progression_counts_from_the_previous_promotion(tmp_path: Path) -> None:
    rec = Records()
    for i in range(3):
        rec.person(f"x{i}", "Alpha", start=date(2020, 1, 1), level_since=date(2024, 1, 1))
        rec.decision(f"x{i}", "approved", date(2025, 1, 1))
        rec.decision(f"x{i}", "approved", date(2026, 3, 1), level="lead", did=f"second{i}")
        rec.person(f"y{i}", "Alpha", start=date(2020, 1, 1))  # no level_since: start_date
        rec.decision(f"y{i}", "approved", date(2026, 3, 1))
    lead = rows(build(rec.write(tmp_path), min_group=3), "time-to-progression")
    assert lead["lead"].values["median"] == (date(2026, 3, 1) - date(2025, 1, 1)).days
    assert lead["senior"].values["median"] == (date(2026, 3, 1) - date(2020, 1, 1)).days


def test_override_rates(governance: Path) -> None:
    r = build(governance)
    panel = rows(r, "override-by-panel")
    # Overrides on k = 0 (approved NOT READY), 16 and 20 (Beta, held back while READY).
    assert panel["panel-1"].values == {"overrides": 3, "rate": pytest.approx(3 / 17),
                                       "approved_not_ready": 1, "held_back_ready": 2}
    assert panel["panel-2"].values["overrides"] == 0
    program = rows(r, "override-by-program")
    assert program["Beta"].values["overrides"] == 2
    assert program["Gamma"].suppressed and program["Delta"].suppressed
    assert program["all"].values["rate"] == pytest.approx(3 / 33)


def test_documentation_audits_and_escalations(governance: Path) -> None:
    r = build(governance)
    audits = rows(r, "documentation-audits")
    # Packet audits are dated before each promotion, so at junior: Alpha and Delta 3,
    # Beta and Gamma 2 -> (12*3 + 12*2 + 6*3 + 3*2) / 33. Maintenance reviews: senior 3.
    assert audits["junior"].n == 33
    assert audits["junior"].values["mean_score"] == pytest.approx(84 / 33)
    assert audits["senior"].values["mean_score"] == 3 and audits["senior"].n == 6
    trend = rows(r, "documentation-audit-trend")
    assert trend["2026-Q3|junior"].values["mean_score"] == pytest.approx(21 / 9)
    assert trend["2026-Q4|junior"].values["mean_score"] == pytest.approx(2.5)
    assert trend["2026-Q3|senior"].n == 6
    escalation = rows(r, "escalation-timeliness")
    assert escalation["2026-Q3"].values["passed_share"] == pytest.approx(3 / 9)
    assert escalation["2026-Q4"].values["passed_share"] == pytest.approx(3 / 6)


def test_incidents_by_level(governance: Path) -> None:
    incidents = rows(build(governance), "incidents-by-level")
    junior = incidents["junior"]
    # 12 Beta incident reviews; junior headcount at the end: 13 not promoted in 2026 less
    # b04 who left, and n05, n06.
    assert (junior.n, junior.values["headcount"]) == (12, 14)
    assert junior.values["per_head"] == pytest.approx(12 / 14)
    assert incidents["senior"].suppressed  # one person's incident review


def test_retention_after_promotion(governance: Path) -> None:
    ret = rows(build(governance), "retention")
    # 12 months: veterans (v07 left before the mark, v08 after) and the April 2025 deferrals.
    assert (ret["12 months|promoted"].n, ret["12 months|promoted"].values["retained"]) == (8, 7)
    assert (ret["12 months|not promoted"].n,
            ret["12 months|not promoted"].values["retained"]) == (6, 3)
    assert ret["12 months|promoted"].values["p"] == pytest.approx(stats.fisher_exact(7, 1, 3, 3))
    # 6 months: decisions of January to June 2026 (a03 left before the mark; b04 after it).
    assert (ret["6 months|promoted"].n, ret["6 months|promoted"].values["retained"]) == (13, 12)
    assert (ret["6 months|not promoted"].n,
            ret["6 months|not promoted"].values["retained"]) == (5, 5)


def test_revalidation_outcomes(governance: Path) -> None:
    senior = rows(build(governance), "revalidation")["senior"]
    assert senior.n == 6
    assert {k: senior.values[k] for k in ("sustained", "drift", "lapsed")} == {
        "sustained": 4, "drift": 1, "lapsed": 1}
    assert senior.values["drift_rate"] == pytest.approx(1 / 6)
    # By `promoctl status`'s rules on 31 December, at the level the history holds (the one
    # every figure uses; the person files still say junior): v05's re-check after drift
    # (1 November) is overdue and v06's review lapsed; and the 2026 promotions effective
    # before 2 July (182 days) have had no re-validation: Alpha's first six less a03, who
    # left, Beta's four and Delta's three. v07 and v08 have left.
    assert senior.values["lapsed_now"] == 2 + 5 + 4 + 3


def test_rater_calibration(governance: Path) -> None:
    r = build(governance)
    raters = rows(r, "rater-calibration")
    assert list(raters) == ["M1", "M2", "M3", "P1", "P2"]
    assert {code: r.key[code] for code in raters} == {
        "M1": "manager rater noor", "M2": "manager rater ravi", "M3": "manager rater tess",
        "P1": "peer rater peer-one", "P2": "peer rater peer-two"}
    noor, ravi, tess, one, two = raters.values()
    assert (noor.n, noor.values["mean"], noor.values["difference"]) == (30, 4, 1)
    assert noor.flag == "lenient" and noor.values["p"] == pytest.approx(2 / 2 ** 30)
    assert noor.values["agreement"] == pytest.approx(26 / 30)
    assert (ravi.values["difference"], ravi.flag) == (-2, "severe")
    assert ravi.values["agreement"] == pytest.approx(16 / 24)
    assert (tess.values["difference"], tess.values["p"], tess.flag) == (0, 1, None)
    assert one.values["difference"] == pytest.approx(6 / 66)
    assert one.values["p"] == pytest.approx(stats.sign_test(24, 30)) and one.flag is None
    assert two.values["agreement"] == pytest.approx(30 / 48)


def test_no_one_is_named_in_any_format(cli: Cli, governance: Path) -> None:
    names = ["noor", "ravi", "tess", "peer-one", "Ann Chair", "Hal Rees", "Person "]
    names += [pid for _, pid, _, _ in candidates()]
    for fmt in ("table", "json", "csv", "html"):
        result = cli("report", "--from", START, "--to", END, OPEN, "--format", fmt, "--by",
                     "program", "--by", "panel", cwd=governance)
        assert result.code == 0, result.err
        for name in names:  # whole words: an SVG path id may contain "a09"
            assert not re.search(rf"\b{re.escape(name)}\b", result.out), (fmt, name)


def test_suppressed_in_every_format(cli: Cli, governance: Path) -> None:
    args = ("report", "--from", START, "--to", END, OPEN)
    data = json.loads(cli(*args, "--format", "json", cwd=governance).out)
    approval = next(f for f in data["figures"] if f["id"] == "approval-by-program")
    gamma = next(r for r in approval["rows"] if r["group"] == "Gamma")
    assert gamma == {"group": "Gamma", "series": None, "total": False, "suppressed": True,
                     "n": None, "values": {"approved": None, "rate": None, "rest_rate": None,
                                           "p": None}, "flag": None}
    lines = list(csv.DictReader(io.StringIO(cli(*args, "--format", "csv", cwd=governance).out)))
    gamma_lines = [x for x in lines if x["figure"] == "approval-by-program"
                   and x["group"] == "Gamma"]
    assert gamma_lines == [{"figure": "approval-by-program", "group_by": "program",
                            "group": "Gamma", "series": "", "total": "false", "n": "",
                            "measure": "", "value": "", "flag": "", "suppressed": "true"}]
    table = cli(*args, cwd=governance).out
    assert "Gamma" in table and "suppressed" in table
    html = cli(*args, "--format", "html", cwd=governance).out
    at = html.index(">Gamma</td>")
    row = html[html.rindex("<tr", 0, at):html.index("</tr>", at)]
    assert 'class=" suppressed"' in row and ">suppressed<" in row and "%" not in row


def test_json_shape(cli: Cli, governance: Path) -> None:
    result = cli("report", "--from", START, "--to", END, OPEN, "--format", "json", cwd=governance)
    data = json.loads(result.out)
    assert list(data) == ["format", "period", "min_group", "interval", "as_recorded_on",
                          "privacy", "figures"]
    assert data["as_recorded_on"] is None
    assert data["period"] == {"from": "2026-01-01", "to": "2026-12-31"}
    assert data["min_group"] == 5 and data["format"] == 1
    ids = [f["id"] for f in data["figures"]]
    assert ids == ["approval-by-program", "approval-trend", "time-to-progression",
                   "override-by-panel", "override-by-program", "documentation-audits",
                   "documentation-audit-trend", "escalation-timeliness", "incidents-by-level",
                   "retention", "revalidation", "rater-calibration"]
    for f in data["figures"]:
        assert list(f) == ["id", "title", "description", "group_by", "columns", "rows", "notes"]
        keys = [c["key"] for c in f["columns"]]
        for row in f["rows"]:
            assert list(row) == ["group", "series", "total", "suppressed", "n", "values", "flag"]
            assert list(row["values"]) == keys
    approval = data["figures"][0]
    assert any("Fisher's exact test" in note and "p < 0.05" in note for note in approval["notes"])
    alpha = next(r for r in approval["rows"] if r["group"] == "Alpha")
    assert alpha["values"] == {"approved": 11, "rate": 0.9167, "rest_rate": 0.4286,
                               "p": 0.008964}


def test_csv_shape(cli: Cli, governance: Path) -> None:
    result = cli("report", "--from", START, "--to", END, OPEN, "--format", "csv", cwd=governance)
    lines = list(csv.reader(io.StringIO(result.out)))
    assert tuple(lines[0]) == report.CSV_HEADER
    alpha = {x[6]: x for x in lines if x[0] == "approval-by-program" and x[2] == "Alpha"}
    assert list(alpha) == ["approved", "rate", "rest_rate", "p"]
    assert alpha["rate"][5] == "12" and alpha["rate"][7] == "0.9167"
    assert alpha["rate"][8] == "higher than the rest" and alpha["rate"][9] == "false"


def test_table_says_the_test_and_threshold(cli: Cli, governance: Path) -> None:
    result = cli("report", "--from", START, "--to", END, OPEN, cwd=governance)
    assert result.code == 0
    assert "Fisher's exact test (two-sided)" in result.out and "p < 0.05" in result.out
    assert "higher than the rest" in result.out and "91.7%" in result.out


def test_key_is_written_only_on_request(cli: Cli, governance: Path, tmp_path: Path) -> None:
    out, key = tmp_path / "report.json", tmp_path / "key.csv"
    result = cli("report", "--from", START, "--to", END, OPEN, "--format", "json", "--out", out,
                 "--key", key, cwd=governance)
    assert result.code == 0, result.err
    assert "noor" not in out.read_text()
    rows_ = list(csv.reader(io.StringIO(key.read_text())))
    assert rows_[0] == ["code", "identity"] and ["M1", "manager rater noor"] in rows_
    assert ["panel-1", "Ann Chair; Hal Rees"] in rows_
    again = cli("report", "--format", "json", "--out", out, cwd=governance)
    assert again.code == 4 and "already exists" in again.err


def test_default_period_is_the_year_to_today(cli: Cli, governance: Path) -> None:
    for given in (("--to", "2025-12-31"), ("--from", "2025-01-01")):
        data = json.loads(cli("report", *given, "--format", "json", cwd=governance).out)
        assert data["period"] == {"from": "2025-01-01", "to": "2025-12-31"}
    # The year to 30 June is not a calendar year: it overlaps two of them.
    overlapping = cli("report", "--to", "2025-06-30", cwd=governance)
    assert overlapping.code == 2 and "2024-07-01 to 2025-06-30 is not one" in overlapping.err
    bad = cli("report", "--from", "2026-02-01", "--to", "2026-01-01", cwd=governance)
    assert bad.code == 2 and "after" in bad.err


def test_superseded_decisions_do_not_count(tmp_path: Path) -> None:
    rec = Records()
    for i in range(5):
        rec.person(f"p{i}", "Alpha")
        first = rec.decision(f"p{i}", "deferred", date(2026, 2, 1))
        rec.decision(f"p{i}", "approved", date(2026, 2, 2), supersedes=first)
    total = rows(build(rec.write(tmp_path)), "approval-by-program")["all"]
    assert (total.n, total.values["approved"]) == (5, 5)


def test_refuses_invalid_records(cli: Cli, governance: Path) -> None:
    (governance / "people" / "a00.yaml").write_text("kind: person\nformat: 1\nid: a00\n")
    result = cli("report", cwd=governance)
    assert result.code == 3 and "people/a00.yaml" in result.err


def test_report_reads_each_record_once(governance: Path, monkeypatch: pytest.MonkeyPatch
                                       ) -> None:
    from promoctl.engine import evaluate

    parsed: list[str] = []
    real = yamlio.parse

    def counting(raw: bytes, display: str, **options: Any) -> Any:
        parsed.append(display)
        return real(raw, display, **options)

    monkeypatch.setattr(yamlio, "parse", counting)
    monkeypatch.setattr(evaluate, "evaluate", lambda *a, **k: pytest.fail("re-evaluated"))
    repo = load(governance, discover([governance]))
    report.build(repo, report.Options(START, END, by=report.DIMENSIONS))
    assert len(parsed) == len(set(parsed)) == len(discover([governance]))
    # With validate's cache warm, a record is parsed only when a figure reads it, once.
    from promoctl.store.cache import Cache

    cache = Cache(governance / "cache.json")
    checking.check_repository(load(governance, discover([governance]), cache=cache))
    cache.save(prune=False)
    parsed.clear()
    warm = load(governance, discover([governance]), cache=Cache(governance / "cache.json"))
    assert parsed == [] and checking.check_repository(warm) == []
    report.build(warm, report.Options(START, END, by=report.DIMENSIONS))
    assert len(parsed) == len(set(parsed)) and "promoctl.yaml" not in parsed


def test_stats_against_published_values() -> None:
    # R: fisher.test(matrix(c(3, 1, 1, 3), 2)) (the lady tasting tea): p = 0.4857
    assert stats.fisher_exact(3, 1, 1, 3) == pytest.approx(0.4857142857)
    # SciPy's documented example [[1, 9], [11, 3]]: p = 0.002759
    assert stats.fisher_exact(1, 9, 11, 3) == pytest.approx(0.0027594562)
    assert stats.fisher_exact(8, 2, 1, 5) == pytest.approx(0.0349650350)
    assert stats.fisher_exact(0, 0, 0, 0) == 1.0
    assert stats.fisher_exact(3000, 2000, 2500, 2500) < 1e-20  # large counts stay exact
    assert stats.sign_test(9, 1) == pytest.approx(0.021484375)
    assert stats.sign_test(0, 0) == 1.0
    assert stats.quantile([1, 2, 3, 4], 50) == 2.5
    assert stats.quantile([1, 2, 3, 4, 5], 25) == 2
    assert stats.quantile([100 * i for i in range(1, 21)], 90) == 1810  # exact, not 1810.0002
    assert stats.quantile([7], 90) == 7


def test_add_months_clamps_to_the_month_end() -> None:
    assert report.add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert report.add_months(date(2026, 1, 15), -12) == date(2025, 1, 15)


def test_small_raters_and_panels_are_pooled_without_codes(governance: Path) -> None:
    r = build(governance, min_group=13, by=("panel",))
    raters = rows(r, "rater-calibration")
    assert list(raters) == ["M1", "other managers (2)", "P1", "P2"]
    pooled = raters["other managers (2)"]  # ravi's 24 ratings (-2 each) and tess's 12 (0)
    assert (pooled.n, pooled.values["difference"]) == (36, pytest.approx(-48 / 36))
    assert r.key["M1"] == "manager rater noor"
    assert not any("ravi" in who or "tess" in who for who in r.key.values())
    panels = rows(build(governance, min_group=17, by=("panel",)), "approval-by-panel")
    assert list(panels) == ["other panels (1)", "panel-1", "all"]


def test_large_counts_use_log_space_with_the_same_answers(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    cases = [(3, 1, 1, 3), (1, 9, 11, 3), (11, 1, 9, 12), (2, 1, 18, 12), (40, 60, 55, 45)]
    exact = [stats.fisher_exact(*c) for c in cases]
    signs = [stats.sign_test(a, b) for a, b in ((9, 1), (24, 30), (100, 130), (5, 5))]
    monkeypatch.setattr(stats, "EXACT_LIMIT", 1)
    assert [stats.fisher_exact(*c) for c in cases] == pytest.approx(exact, rel=1e-9)
    assert [stats.sign_test(a, b) for a, b in ((9, 1), (24, 30), (100, 130), (5, 5))] == \
        pytest.approx(signs, rel=1e-9)
    monkeypatch.undo()
    assert stats.sign_test(240_000, 250_000) < 1e-40  # quick, not minutes
