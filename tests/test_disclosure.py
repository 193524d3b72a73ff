"""Disclosure control in the governance report, attacked as a reader would attack it.

A reader with two reports, or with one report's quantiles, tries to recover individual
values; these tests do the same on generated data and check that it fails, and that the
attack itself works where the rules are off (so the test can fail).
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

import pytest

from promoctl.records.loader import discover
from promoctl.records.reading import load
from promoctl.reports import disclosure, report, stats
from tests.conftest import Cli
from tests.test_report import Records, governance_records, item, rows

QUANTILES = {"p10": 10, "q1": 25, "median": 50, "q3": 75, "p90": 90}


def _build(root: Path, start: date, end: date, **options: object) -> report.Report:
    repo = load(root, discover([root]))
    assert repo.problems == []
    return report.build(repo, report.Options(start, end, **options))  # type: ignore[arg-type]


# ------------------------------------------------------------------ solving quantiles back

def _equations(n: int, shown: dict[int, float]) -> list[list[Fraction]]:
    """Each quantile as a linear equation over the sorted values x0..x(n-1) (type 7),
    the constant last."""
    out = []
    for percent, value in shown.items():
        h = Fraction((n - 1) * percent, 100)
        lo = int(h)
        row = [Fraction(0)] * (n + 1)
        row[lo] += 1 - (h - lo)
        if lo + 1 < n:
            row[lo + 1] += h - lo
        row[n] = Fraction(value)
        out.append(row)
    return out


def _rank(rows_: list[list[Fraction]], width: int) -> int:
    m = [r[:width] for r in rows_]
    rank = 0
    for col in range(width):
        pivot = next((i for i in range(rank, len(m)) if m[i][col] != 0), None)
        if pivot is None:
            continue
        m[rank], m[pivot] = m[pivot], m[rank]
        for i in range(len(m)):
            if i != rank and m[i][col] != 0:
                factor = m[i][col] / m[rank][col]
                m[i] = [a - factor * b for a, b in zip(m[i], m[rank], strict=True)]
        rank += 1
    return rank


def solved(n: int, shown: dict[int, float]) -> set[int]:
    """The ranks whose value the shown quantiles determine exactly: x_i is determined
    when its unit vector lies in the equations' row space."""
    eqs = _equations(n, shown)
    base = _rank(eqs, n)
    out = set()
    for i in range(n):
        unit = [Fraction(int(j == i)) for j in range(n + 1)]
        if _rank([*eqs, unit], n) == base:
            out.add(i)
    return out


def _progression_repo(root: Path, sizes: dict[str, int], seed: int) -> dict[str, list[int]]:
    """People promoted in 2026 into levels of the given sizes, after a random number of
    days in the level before; returns the true values per level."""
    rng = random.Random(seed)
    rec, truth = Records(), {}
    for level, size in sizes.items():
        truth[level] = []
        for i in range(size):
            pid = f"{level[0]}{i:03d}"
            days = rng.randrange(200, 5000)
            effective = date(2026, 1, 1) + timedelta(days=rng.randrange(0, 360))
            before = "senior" if level == "lead" else "junior"
            rec.person(pid, "Alpha", level=before, start=effective - timedelta(days=days))
            rec.decision(pid, "approved", effective, level=level)
            truth[level].append(days)
    rec.write(root)
    return truth


def test_quantiles_cannot_be_solved_back(tmp_path: Path) -> None:
    # The case: five people, five quantiles, every value recovered. The solver
    # recovers them all when every quantile is given, so it is a real attack.
    five = [2891, 4358, 4670, 4744, 4766]
    given = {p: stats.quantile(five, p) for p in QUANTILES.values()}
    assert given == {10: 3477.8, 25: 4358, 50: 4670, 75: 4744, 90: 4757.2}
    assert solved(5, given) == {0, 1, 2, 3, 4}
    # Now the report on generated data: levels of 50, 20 and 5 people, at min groups 5 and
    # 3 (all five quantiles at 50 = 10 x 5; quartiles at 20; the median alone at 5).
    checked = 0
    for n, sizes in enumerate(({"senior": 50, "lead": 20}, {"lead": 5})):
        truth = _progression_repo(tmp_path / str(n), sizes, seed=3 + n)
        for min_group in (5, 3):
            r = _build(tmp_path / str(n), date(2026, 1, 1), date(2026, 12, 31),
                       min_group=min_group)
            for name, row in rows(r, "time-to-progression").items():
                assert row.n == len(truth[name])
                shown = {QUANTILES[k]: v for k, v in row.values.items() if v is not None}
                assert set(shown) == disclosure.shown_quantiles(row.n, min_group)
                # Whatever the report shows agrees with the truth ...
                values = sorted(truth[name])
                for p, v in shown.items():
                    assert v == pytest.approx(stats.quantile(values, p))
                # ... and fixes at most the values the quantiles land on exactly (whose
                # holder it does not say): never the whole row.
                found = solved(row.n, shown)
                assert len(found) <= len(shown) < row.n
                exact = {(row.n - 1) * p // 100 for p in shown if (row.n - 1) * p % 100 == 0}
                assert found <= exact
                checked += 1
    assert checked == 6
    lead = rows(_build(tmp_path / "1", date(2026, 1, 1), date(2026, 12, 31)),
                "time-to-progression")["lead"]
    assert [k for k, v in lead.values.items() if v is not None] == ["median"]


# ------------------------------------------------------------------- differencing periods

def _january(root: Path, seed: int) -> list[tuple[date, str]]:
    """A program's decisions spread over January 2024, as in the issue."""
    rng = random.Random(seed)
    rec, decided = Records(), []
    for i in range(14):
        pid = f"p{i:02d}"
        day = date(2024, 1, 2 + i * 2)
        outcome = rng.choice(("approved", "deferred"))
        rec.person(pid, "Alpha")
        rec.decision(pid, outcome, day, program="Alpha")
        decided.append((day, outcome))
    rec.write(root)
    return decided


def test_unaligned_periods_can_be_differenced_so_they_are_refused(cli: Cli,
                                                                  tmp_path: Path) -> None:
    root = tmp_path / "jan"
    decided = _january(root, seed=11)
    # The attack: two reports a day apart differ by the one decision of that day, whose
    # candidate anyone at work can name.
    day = decided[7][0]
    before = rows(_build(root, date(2024, 1, 1), day - timedelta(days=1),
                         unaligned=True), "approval-by-program")["all"]
    after = rows(_build(root, date(2024, 1, 1), day, unaligned=True),
                 "approval-by-program")["all"]
    assert (after.n or 0) - (before.n or 0) == 1
    approved = after.values["approved"] - before.values["approved"]
    assert approved == (decided[7][1] == "approved")  # the outcome, given away
    # So the command line refuses such a period ...
    result = cli("report", "--from", "2024-01-01", "--to", str(day), cwd=root)
    assert result.code == 2
    assert "is not the last day of a quarter" in result.err
    assert "--allow-unaligned" in result.err and "Traceback" not in result.err
    # ... unless told, and then says so on stderr and in the report itself.
    allowed = cli("report", "--from", "2024-01-01", "--to", str(day), "--allow-unaligned",
                  "--format", "json", cwd=root)
    assert allowed.code == 0, allowed.err
    assert "warning:" in allowed.err and "subtracted" in allowed.err
    assert "subtracted" in json.loads(allowed.out)["privacy"]
    # Whole months are allowed with --interval month, whole quarters by default.
    assert cli("report", "--from", "2024-01-01", "--to", "2024-01-31", "--interval", "month",
               cwd=root).code == 0
    assert cli("report", "--from", "2024-01-01", "--to", "2024-01-31", cwd=root).code == 2
    assert cli("report", "--from", "2024-01-01", "--to", "2024-03-31", cwd=root).code == 0


def _half_year(root: Path) -> None:
    """Two programs' decisions over January to June 2024: Beta's three in June are all
    deferrals, which no report may give away (three people are below --min-group)."""
    rec = Records()
    for i in range(30):
        pid = f"a{i:02d}"
        rec.person(pid, "Alpha")
        rec.decision(pid, "approved" if i % 3 else "deferred", date(2024, 1 + i % 6, 10),
                     program="Alpha")
    for i in range(11):
        pid = f"b{i:02d}"
        rec.person(pid, "Beta")
        june = i >= 8
        rec.decision(pid, "deferred" if june or i % 2 else "approved",
                     date(2024, 6 if june else 1 + i % 5, 12), program="Beta")
    rec.write(root)


def test_overlapping_cumulative_periods_are_refused(cli: Cli, tmp_path: Path) -> None:
    root = tmp_path / "half"
    _half_year(root)
    june = rows(_build(root, date(2024, 6, 1), date(2024, 6, 30), interval="month"),
                "approval-by-program")["Beta"]
    assert june.suppressed  # June on its own protects Beta's three decisions ...
    # ... but two whole-month periods that start together differ by June, row by row.
    to_may, to_june = (rows(_build(root, date(2024, 1, 1), end, interval="month",
                                    unaligned=True), "approval-by-program")["Beta"]
                       for end in (date(2024, 5, 31), date(2024, 6, 30)))
    assert (to_june.n or 0) - (to_may.n or 0) == 3
    assert to_june.values["approved"] == to_may.values["approved"]  # all three refused
    # So only one calendar year, quarter or (with --interval month) month is a period.
    for end in ("2024-05-31", "2024-06-30"):
        refused = cli("report", "--from", "2024-01-01", "--to", end, "--interval", "month",
                      cwd=root)
        assert refused.code == 2 and "Traceback" not in refused.err
        assert "not one calendar year, one quarter or one month" in refused.err
    month = cli("report", "--from", "2024-06-01", "--to", "2024-06-30", "--interval",
                "month", "--format", "json", cwd=root)
    assert month.code == 0, month.err
    beta = [r for f in json.loads(month.out)["figures"] if f["id"] == "approval-by-program"
            for r in f["rows"] if r["group"] == "Beta"]
    assert beta and beta[0]["suppressed"]
    for first, last in (("2024-04-01", "2024-06-30"), ("2024-01-01", "2024-12-31")):
        assert cli("report", "--from", first, "--to", last, cwd=root).code == 0
    assert cli("report", "--from", "2024-01-01", "--to", "2024-06-30", cwd=root).code == 2
    assert cli("report", "--from", "2024-01-01", "--to", "2024-06-30", "--allow-unaligned",
               cwd=root).code == 0


def test_a_period_not_yet_ended_is_refused(cli: Cli, tmp_path: Path) -> None:
    # The attack: the quarter holding today, run before and after one more decision is
    # recorded, gives that decision's outcome away.
    today = date.today()
    first = disclosure.aligned_start(today, "quarter")
    last = disclosure.period_end(today, "quarter")
    rec = Records()
    for i in range(6):
        rec.person(f"p{i}", "Alpha")
        rec.decision(f"p{i}", "approved" if i % 2 else "deferred", first, program="Alpha")
    before = rows(_build(rec.write(tmp_path / "a"), first, last, unaligned=True),
                  "approval-by-program")["all"]
    rec.person("late", "Alpha")
    rec.decision("late", "deferred", today, program="Alpha")
    after = rows(_build(rec.write(tmp_path / "b"), first, last, unaligned=True),
                 "approval-by-program")["all"]
    assert ((after.n or 0) - (before.n or 0), after.values["approved"]) == \
        (1, before.values["approved"])  # the new one was not an approval
    # So a period that has not ended is refused, the quarter and the year alike ...
    for start, end in ((first, last), (date(today.year, 1, 1), date(today.year, 12, 31))):
        refused = cli("report", "--from", str(start), "--to", str(end), cwd=tmp_path / "b")
        assert refused.code == 2 and "has not ended" in refused.err, refused.err
    # ... unless told, with a warning and a line in the privacy note.
    told = cli("report", "--from", str(first), "--to", str(last), "--allow-unaligned",
               "--format", "json", cwd=tmp_path / "b")
    assert told.code == 0 and "warning: the period has not ended" in told.err
    assert "later run of this one" in json.loads(told.out)["privacy"]
    # The last quarter that has ended is a report.
    previous = first - timedelta(days=1)
    assert cli("report", "--from", str(disclosure.aligned_start(previous, "quarter")),
               "--to", str(previous), cwd=tmp_path / "b").code == 0


def test_two_default_reports_cannot_be_differenced(cli: Cli, tmp_path: Path) -> None:
    # Run on any day, the default period is the last whole calendar year: two default
    # reports cover the same records or periods that share no day.
    periods = {disclosure.default_period(date(2023, 1, 1) + timedelta(days=i), interval)
               for i in range(0, 3 * 366, 5) for interval in ("quarter", "month")}
    for a in periods:
        assert disclosure.period_problem(*a, "quarter", a[1] + timedelta(days=1)) is None
        for b in periods:
            assert a == b or a[1] < b[0] or b[1] < a[0]
    assert disclosure.default_period(date(2026, 12, 3), "quarter") == (date(2025, 1, 1),
                                                                       date(2025, 12, 31))
    # On generated data, the default reports of two consecutive years share no decision.
    root = tmp_path / "two"
    rec = Records()
    for i in range(24):
        rec.person(f"p{i:02d}", "Alpha")
        rec.decision(f"p{i:02d}", "approved" if i % 3 else "deferred",
                     date(2024 + i % 2, i % 12 + 1, 15), program="Alpha")
    rec.write(root)
    first = _build(root, *disclosure.default_period(date(2025, 6, 1), "quarter"))
    second = _build(root, *disclosure.default_period(date(2026, 6, 1), "quarter"))
    n1, n2 = (rows(r, "approval-by-program")["all"].n for r in (first, second))
    assert (n1, n2) == (12, 12)
    # The command's default is that period.
    data = json.loads(cli("report", "--format", "json", cwd=root).out)
    last_year = date.today().year - 1
    assert data["period"] == {"from": f"{last_year}-01-01", "to": f"{last_year}-12-31"}


def test_min_group_has_a_floor(cli: Cli, tmp_path: Path) -> None:
    root = Records().write(tmp_path / "r")
    result = cli("report", "--from", "2026-01-01", "--to", "2026-12-31", "--allow-unaligned",
                 "--min-group", "2", cwd=root)
    assert result.code == 2 and "--min-group" in result.err
    assert cli("report", "--from", "2026-01-01", "--to", "2026-12-31", "--allow-unaligned",
               "--min-group", "3", cwd=root).code == 0
    with pytest.raises(ValueError, match="at least 3"):
        _build(root, date(2026, 1, 1), date(2026, 12, 31), min_group=1)


# ------------------------------------------------------------------ suppression choices

def test_complementary_suppression_keeps_the_flagged_row(tmp_path: Path) -> None:
    # Three programs of 20 decisions each, one approving far more than the rest, and a
    # fourth of 3. Hiding Delta alone would give it away by subtraction from "all"; a
    # second row goes too, and it is an unflagged one.
    rec = Records()
    for program, size, approved in (("Alpha", 20, 19), ("Beta", 20, 10), ("Charlie", 20, 11),
                                    ("Delta", 3, 2)):
        for i in range(size):
            pid = f"{program[0].lower()}{i:02d}"
            rec.person(pid, program)
            rec.decision(pid, "approved" if i < approved else "deferred",
                         date(2026, 1 + i % 12, 3), program=program)
    by = rows(_build(rec.write(tmp_path / "r"), date(2026, 1, 1), date(2026, 12, 31)),
              "approval-by-program")
    assert by["Alpha"].flag == "higher than the rest" and not by["Alpha"].suppressed
    assert by["Beta"].suppressed and by["Delta"].suppressed  # smallest unflagged: Beta
    assert not by["Charlie"].suppressed and not by["all"].suppressed


def _audits(root: Path, counts: list[int]) -> report.Row:
    rec = Records()
    for i, count in enumerate(counts):
        rec.person(f"p{i}", "Alpha")
        rec.packet(f"p{i}", date(2026, 6, 1),
                   [item("documentation_audit", date(2026, 5, 1) + timedelta(days=k),
                         score=1 + (i + k) % 4) for k in range(count)])
    r = _build(rec.write(root), date(2026, 1, 1), date(2026, 12, 31))
    return rows(r, "documentation-audits")["junior"]


def test_rows_dominated_by_two_people_are_suppressed(tmp_path: Path) -> None:
    # Six people's documentation audits: two of them hold 30 of 34 items (88% > 85%), so
    # the row's mean is, to within a little, their two scores.
    assert _audits(tmp_path / "a", [20, 10, 1, 1, 1, 1]).suppressed
    # Two holding 6 of 10 (60%): shown.
    evened = _audits(tmp_path / "b", [3, 3, 1, 1, 1, 1])
    assert not evened.suppressed and evened.n == 10


def _table_lines_are_whole(out: str, width: int) -> None:
    """Every line fits, and every table keeps its right edge and its flag column."""
    lines = out.splitlines()
    assert all(len(line) <= width for line in lines), max(lines, key=len)
    assert "…" not in out
    edges = {"┏": "┓", "┃": "┃", "┡": "┩", "│": "│", "└": "┘"}
    table_lines = [line.rstrip() for line in lines if line[:1] in edges]
    assert table_lines
    for line in table_lines:
        assert line.endswith(edges[line[0]]), line
    heads = [line for line in table_lines if line.startswith("┃")]
    tops = sum(1 for line in table_lines if line.startswith("┏"))
    assert sum(1 for line in heads if line.split("┃")[-2].strip() == "flag") == tops


@pytest.mark.parametrize("width", [80, 100])
def test_suppressed_rows_read_whole_in_a_narrow_terminal(tmp_path: Path, width: int) -> None:
    from tests.test_terminal import run

    root = governance_records().write(tmp_path / "gov")
    result = run(root, "report", "--from", "2026-01-01", "--to", "2026-12-31", "--allow-unaligned",
                 "--by", "program", "--by", "panel", "--by", "level", columns=width)
    assert result.returncode == 0, result.stderr
    _table_lines_are_whole(result.stdout, width)
    assert "suppressed" in result.stdout and "suppress…" not in result.stdout
    # What could not fit is named under its table, and still in the formats that have room.
    if width == 80:
        assert "p (sign test) left out to fit 80 columns" in result.stdout
        wide = run(root, "report", "--from", "2026-01-01", "--to", "2026-12-31",
                   "--allow-unaligned", columns=200)
        assert "left out" not in wide.stdout and "p (sign test)" in wide.stdout


@pytest.mark.parametrize("width", [80, 100])
def test_report_tables_keep_their_right_edge(cli: Cli, git_examples: Path,
                                             width: int) -> None:
    from tests.test_decide import decide
    from tests.test_terminal import run

    # The reviewer's case: the examples' last quarter with one approval recorded (its
    # rater and override tables are the widest), piped at 80 and 100 columns.
    assert decide(cli, git_examples, "amara-okafor-2026-10").code == 0  # type: ignore[attr-defined]
    result = run(git_examples, "report", "--from", "2026-10-01", "--to", "2026-12-31",
                 "--allow-unaligned", columns=width)
    assert result.returncode == 0, result.stderr
    _table_lines_are_whole(result.stdout, width)
