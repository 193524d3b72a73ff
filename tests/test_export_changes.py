"""`promoctl export changes`: the HR feed of promotions, lapses and reinstatements."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.test_decide import decide

FINDINGS = ("--reviewer", "Noor Said", "--findings", "Reviewed against the anchors")
EVIDENCE = """\
- {id: audit, type: documentation_audit, date: 2027-05-01, result: {score: 3}}
- {id: obs, type: observation, date: 2027-05-01, result: {score: 3}}
- {id: inc, type: incident_review, date: 2027-05-01}
"""


@pytest.fixture
def approved(cli: Cli, git_examples: Path) -> Path:
    """Amara approved on 2026-11-02, effective 2026-12-01 (re-validation by 2027-06-01)."""
    result = decide(cli, git_examples, "amara-okafor-2026-10", "--effective", "2026-12-01")
    assert result.code == 0, result.err  # type: ignore[attr-defined]
    return git_examples


def export(cli: Cli, repo: Path, start: str, end: str, as_of: str = "2027-12-31"
           ) -> list[dict[str, str]]:
    result = cli("export", "changes", "--from", start, "--to", end, "--as-of", as_of,
                 cwd=repo)
    assert result.code == 0, result.err
    return list(csv.DictReader(io.StringIO(result.out)))


def test_a_promotion_is_a_row_from_its_effective_date(cli: Cli, approved: Path) -> None:
    (row,) = export(cli, approved, "2026-12-01", "2026-12-31")
    assert row["person"] == "amara-okafor" and row["name"] == "Amara Okafor"
    assert (row["change"], row["from_level"], row["to_level"], row["effective"]) == (
        "promotion", "support-worker", "senior-support-worker", "2026-12-01")
    assert row["record_kind"] == "decision"
    assert row["record"].startswith("2026-11-02-amara-okafor-")
    assert row["probation_end"] == "2027-03-01"
    assert export(cli, approved, "2026-11-01", "2026-11-30") == []  # decided, not effective


def test_probation_end_follows_extension_and_confirmation(cli: Cli, approved: Path) -> None:
    assert cli("review", "amara-okafor", *FINDINGS, "--kind", "probation", "--outcome",
               "extended", "--extended-until", "2027-04-15", "--date", "2027-03-01",
               cwd=approved).code == 0
    (row,) = export(cli, approved, "2026-12-01", "2026-12-31")
    assert row["probation_end"] == "2027-04-15"
    assert cli("review", "amara-okafor", *FINDINGS, "--kind", "probation", "--outcome",
               "confirmed", "--date", "2027-04-10", cwd=approved).code == 0
    (row,) = export(cli, approved, "2026-12-01", "2026-12-31")
    assert row["probation_end"] == "2027-04-10"


def test_lapse_and_reinstatement_by_review(cli: Cli, approved: Path, tmp_path: Path) -> None:
    assert cli("review", "amara-okafor", *FINDINGS, "--kind", "maintenance", "--outcome",
               "lapsed", "--date", "2027-04-20", cwd=approved).code == 0
    evidence = tmp_path / "evidence.yaml"
    evidence.write_text(EVIDENCE)
    result = cli("review", "amara-okafor", *FINDINGS, "--kind", "maintenance", "--outcome",
                 "sustained", "--evidence-file", str(evidence), "--date", "2027-05-10",
                 cwd=approved)
    assert result.code == 0, result.err
    rows = export(cli, approved, "2027-01-01", "2027-06-30")
    assert [(r["change"], r["effective"], r["record_kind"]) for r in rows] == [
        ("lapse", "2027-04-20", "review"), ("reinstatement", "2027-05-10", "review")]
    assert all(r["from_level"] == r["to_level"] == "senior-support-worker" for r in rows)


def test_an_overdue_revalidation_is_a_lapse_once_its_day_has_come(cli: Cli, approved: Path
                                                                  ) -> None:
    rows = export(cli, approved, "2027-01-01", "2027-12-31", as_of="2027-07-01")
    assert [(r["change"], r["effective"], r["record_kind"]) for r in rows] == [
        ("lapse", "2027-06-02", "overdue")]
    assert rows[0]["detail"] == "re-validation overdue since 2027-06-01"
    # The same day status says lapsed, and not the day before.
    for day, state in (("2027-06-01", "in-probation"), ("2027-06-02", "lapsed")):
        st = json.loads(cli("status", "amara-okafor", "--as-of", day, "--format", "json",
                            cwd=approved).out)
        assert st["authorization"] == state, day
    assert export(cli, approved, "2027-01-01", "2027-12-31", as_of="2027-06-01") == []


def test_json_is_deterministic_and_complete(cli: Cli, approved: Path) -> None:
    args = ("export", "changes", "--from", "2026-01-01", "--to", "2027-12-31", "--as-of",
            "2027-07-01", "--format", "json")
    first, second = cli(*args, cwd=approved).out, cli(*args, cwd=approved).out
    assert first == second
    data = json.loads(first)
    assert (data["format"], data["from"], data["to"], data["as_of"]) == (
        1, "2026-01-01", "2027-12-31", "2027-07-01")
    assert [c["change"] for c in data["changes"]] == ["promotion", "lapse"]
    assert list(data["changes"][0]) == [
        "person", "name", "program", "change", "ladder", "from_level", "to_level",
        "effective", "record_kind", "record", "probation_end", "detail"]


def test_a_superseded_approval_is_not_a_change(cli: Cli, approved: Path) -> None:
    (path,) = sorted((approved / "decisions").rglob("*.yaml"))
    result = decide(cli, approved, "amara-okafor-2026-10", "--supersedes", path.stem,
                    "--override-reason", "Evidence withdrawn", outcome="deferred")
    assert result.code == 0, result.err  # type: ignore[attr-defined]
    assert export(cli, approved, "2026-01-01", "2027-12-31") == []


def test_out_file_and_bad_format(cli: Cli, approved: Path, tmp_path: Path) -> None:
    out = tmp_path / "changes.csv"
    args = ("export", "changes", "--from", "2026-12-01", "--to", "2026-12-31", "--out",
            str(out))
    assert cli(*args, cwd=approved).code == 0
    assert out.read_text().startswith("person,name,program,change,")
    assert cli(*args, cwd=approved).code == 4  # never over an existing file
    assert cli(*args, "--force", cwd=approved).code == 0
    assert cli("export", "changes", "--format", "xml", cwd=approved).code == 2
    assert cli("export", "changes", "--from", "2027-01-01", "--to", "2026-01-01",
               cwd=approved).code == 2
