"""What each governance figure counts: program at decision time, corrections in their
period, the records as committed on a day, one level history, and the denominators."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import date
from pathlib import Path

import pytest

from promoctl.records.loader import discover
from promoctl.records.reading import load
from promoctl.reports import report
from tests.conftest import Cli
from tests.test_report import Records, item, rows

YEAR = (date(2026, 1, 1), date(2026, 12, 31))


def _build(root: Path, start: date = YEAR[0], end: date = YEAR[1],
           min_group: int = 3) -> report.Report:
    repo = load(root, discover([root]))
    assert repo.problems == []
    return report.build(repo, report.Options(start, end, min_group=min_group))


def test_approvals_and_overrides_count_the_program_at_decision_time(tmp_path: Path) -> None:
    # Four people decided in Alpha who have since moved to Beta, and four in Beta.
    rec = Records()
    for i in range(4):
        rec.person(f"m{i}", "Beta")  # their program today
        rec.decision(f"m{i}", "approved", date(2026, 2, 1), program="Alpha",
                     override=i == 0)
        rec.person(f"b{i}", "Beta")
        rec.decision(f"b{i}", "deferred", date(2026, 2, 1), program="Beta")
    r = _build(rec.write(tmp_path / "r"))
    approval = rows(r, "approval-by-program")
    assert (approval["Alpha"].n, approval["Alpha"].values["approved"]) == (4, 4)
    assert (approval["Beta"].n, approval["Beta"].values["approved"]) == (4, 0)
    assert rows(r, "override-by-program")["Alpha"].values["overrides"] == 1
    notes = " ".join(next(f for f in r.figures if f.id == "approval-by-program").notes)
    assert "program recorded in the decision when it was made" in notes


def test_a_correction_counts_in_the_period_of_the_decision_it_corrects(tmp_path: Path
                                                                       ) -> None:
    rec = Records()
    for i in range(4):
        rec.person(f"p{i}", "Alpha")
        first = rec.decision(f"p{i}", "deferred", date(2026, 3, 10), program="Alpha")
        if i == 0:  # corrected in May: the case stays in the first quarter, now approved
            rec.decision(f"p{i}", "approved", date(2026, 5, 2), program="Alpha",
                         supersedes=first)
    root = rec.write(tmp_path / "r")
    q1 = rows(_build(root, date(2026, 1, 1), date(2026, 3, 31)), "approval-by-program")["all"]
    assert (q1.n, q1.values["approved"]) == (4, 1)
    q2 = rows(_build(root, date(2026, 4, 1), date(2026, 6, 30)), "approval-by-program")
    assert q2 == {}
    trend = rows(_build(root), "approval-trend")
    assert list(trend) == ["2026-Q1"] and trend["2026-Q1"].values["approved"] == 1


def _commit(root: Path, day: str, message: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_DATE": f"{day}T12:00:00+00:00",
           "GIT_COMMITTER_DATE": f"{day}T12:00:00+00:00"}
    for args in (["add", "--all"], ["commit", "--quiet", "-m", message]):
        subprocess.run(["git", "-C", str(root), *args], check=True, env=env)


def test_as_recorded_on_reports_the_records_as_committed_then(
        cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    root = tmp_path / "r"
    rec = Records()
    for i in range(4):
        rec.person(f"p{i}", "Alpha")
        rec.decision(f"p{i}", "deferred", date(2026, 3, 10), program="Alpha", did=f"d{i}")
    rec.write(root)
    subprocess.run(["git", "init", "--quiet", str(root)], check=True)
    _commit(root, "2026-04-01", "the first quarter's decisions")
    rec.decision("p0", "approved", date(2026, 5, 2), program="Alpha", supersedes="d0")
    rec.write(root)
    _commit(root, "2026-05-03", "a correction")
    args = ("report", "--from", "2026-01-01", "--to", "2026-03-31", "--format", "json",
            "--min-group", "3")

    def approved(*extra: str) -> tuple[int, dict[str, object]]:
        result = cli(*args, *extra, cwd=root)
        assert result.code == 0, result.err
        data = json.loads(result.out)
        row = next(r for r in data["figures"][0]["rows"] if r["group"] == "all")
        return row["values"]["approved"], data

    now, data = approved()
    assert now == 1 and data["as_recorded_on"] is None
    then, data = approved("--as-recorded-on", "2026-04-30")
    assert then == 0 and data["as_recorded_on"] == "2026-04-30"
    assert "committed on 2026-04-30" in str(data["privacy"])
    assert approved("--as-recorded-on", "2026-05-03")[0] == 1
    before = cli(*args, "--as-recorded-on", "2026-03-01", cwd=root)
    assert before.code == 4 and "no commit on or before 2026-03-01" in before.err
    # The work tree is untouched, and the copy leaves no cache behind.
    status = subprocess.run(["git", "-C", str(root), "status", "--porcelain"], check=True,
                            capture_output=True, text=True)
    assert status.stdout == ""
    assert not (tmp_path / "xdg").exists()
    # Records that were invalid as committed are refused, with their problems.
    (root / "people" / "p1.yaml").write_text("kind: person\nformat: 1\nid: p1\n")
    _commit(root, "2026-06-01", "a broken person file")
    broken = cli(*args, "--as-recorded-on", "2026-06-01", cwd=root)
    assert broken.code == 3 and "people/p1.yaml" in broken.err


def test_one_level_history_for_item_levels_headcounts_and_lapses(tmp_path: Path) -> None:
    # Five people promoted to senior in January whose person files HR never updated
    # (they still say junior). Senior needs re-validation every 182 days, and none had
    # one, so by 31 December their authorisation has lapsed; an incident review in
    # October finds them at senior too, and so does the headcount.
    rec = Records()
    for i in range(5):
        pid = f"s{i}"
        rec.person(pid, "Alpha", start=date(2018, 1, 1))
        rec.decision(pid, "approved", date(2026, 1, 15), program="Alpha")
        rec.review(pid, "probation", "confirmed", date(2026, 4, 10))
        rec.packet(pid, date(2026, 10, 20), [item("incident_review", date(2026, 10, 2),
                                                   score=2)], level="lead")
    r = _build(rec.write(tmp_path / "r"))
    incidents = rows(r, "incidents-by-level")
    assert list(incidents) == ["senior"]
    assert (incidents["senior"].n, incidents["senior"].values["headcount"]) == (5, 5)
    revalidation = rows(r, "revalidation")
    assert list(revalidation) == ["senior"]
    assert revalidation["senior"].values["lapsed_now"] == 5


def test_time_in_the_previous_level(tmp_path: Path) -> None:
    rec = Records()
    for i in range(3):
        # Joined as junior in 2015, senior from 2024-01-01 (an approval), lead in 2026.
        rec.person(f"a{i}", "Alpha", start=date(2015, 1, 5))
        rec.decision(f"a{i}", "approved", date(2024, 1, 1), did=f"a{i}-senior")
        rec.decision(f"a{i}", "approved", date(2026, 3, 1), level="lead", did=f"a{i}-lead")
        # A person file HR updated to the new level: level_since is the promotion's date,
        # so the level before was held, as far as the records know, since joining.
        rec.person(f"h{i}", "Alpha", level="senior", start=date(2019, 6, 1),
                   level_since=date(2026, 2, 1))
        rec.decision(f"h{i}", "approved", date(2026, 2, 1))
    by = rows(_build(rec.write(tmp_path / "r")), "time-to-progression")
    assert by["lead"].values["median"] == (date(2026, 3, 1) - date(2024, 1, 1)).days
    assert by["senior"].values["median"] == (date(2026, 2, 1) - date(2019, 6, 1)).days


def test_retention_counts_a_person_once_per_horizon(tmp_path: Path) -> None:
    rec = Records()
    for i in range(4):  # deferred, then promoted two months later: promoted only
        rec.person(f"d{i}", "Alpha")
        rec.decision(f"d{i}", "deferred", date(2025, 1, 10))
        rec.decision(f"d{i}", "approved", date(2025, 3, 10))
    for i in range(3):
        rec.person(f"n{i}", "Alpha")
        rec.decision(f"n{i}", "deferred", date(2025, 2, 10))
    ret = rows(_build(rec.write(tmp_path / "r")), "retention")
    assert ret["12 months|promoted"].n == 4
    assert ret["12 months|not promoted"].n == 3


def test_share_passed_has_its_denominator_beside_it(tmp_path: Path) -> None:
    rec = Records()
    for i in range(5):
        rec.person(f"p{i}", "Alpha")
        rec.packet(f"p{i}", date(2026, 5, 1), [
            item("escalation_summary", date(2026, 4, 2), passed=i < 2),
            item("escalation_summary", date(2026, 4, 3)),  # not assessed
        ])
    r = _build(rec.write(tmp_path / "r"))
    q2 = rows(r, "escalation-timeliness")["2026-Q2"]
    assert (q2.n, q2.values["assessed"], q2.values["passed_share"]) == (10, 5, 2 / 5)
    figure = next(f for f in r.figures if f.id == "escalation-timeliness")
    assert [c.key for c in figure.columns] == ["scored", "mean_score", "assessed",
                                               "passed_share"]
    assert any("out of those that record passed at all (assessed)" in n
               for n in figure.notes)
