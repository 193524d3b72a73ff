"""Probation, time-limited authorisation, re-checks and due items, over dates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli, git_commit_all
from tests.test_decide import decide

EVIDENCE = """\
- id: audit
  type: documentation_audit
  date: {date}
  assessor: quality-lead
  result: {{score: 3}}
- id: obs
  type: observation
  date: {date}
  assessor: noor-said
  result: {{score: 3}}
- id: incidents
  type: incident_review
  date: {date}
  assessor: noor-said
  notes: No incidents; escalation appropriate.
"""


@pytest.fixture
def promoted(cli: Cli, git_examples: Path) -> Path:
    """Amara approved on 2026-11-02 and moved to the new level in her person record."""
    assert decide(cli, git_examples, "amara-okafor-2026-10").code == 0
    person = git_examples / "people" / "amara-okafor.yaml"
    person.write_text(person.read_text().replace("level: support-worker",
                                                 "level: senior-support-worker\n"
                                                 "level_since: 2026-11-02"))
    git_commit_all(git_examples, "Amara moves to Senior Support Worker")
    return git_examples


def status(cli: Cli, repo: Path, as_of: str) -> dict[str, object]:
    result = cli("status", "amara-okafor", "--as-of", as_of, "--format", "json", cwd=repo)
    assert result.code == 0, result.err
    return json.loads(result.out)  # type: ignore[no-any-return]


def review(cli: Cli, repo: Path, *args: str) -> None:
    result = cli("review", "amara-okafor", "--reviewer", "Noor Said", "--findings",
                 "Reviewed against the level's anchors", *args, cwd=repo)
    assert result.code == 0, result.err


def due(cli: Cli, repo: Path, as_of: str, within: int = 30) -> list[tuple[str, str, str, bool]]:
    result = cli("due", "--as-of", as_of, "--within", str(within), "--format", "json",
                 cwd=repo)
    assert result.code == 0, result.err
    return [(i["person"], i["kind"], i["due"], i["overdue"])
            for i in json.loads(result.out)["items"]]


def test_probation_due_then_overdue_then_confirmed(cli: Cli, promoted: Path) -> None:
    st = status(cli, promoted, "2026-12-01")
    assert st["authorization"] == "in-probation"
    assert st["probation"]["review_date"] == "2027-01-31"  # type: ignore[index]
    assert ("amara-okafor", "probation-review", "2027-01-31", False) in due(
        cli, promoted, "2027-01-10")
    assert ("amara-okafor", "probation-review", "2027-01-31", True) in due(
        cli, promoted, "2027-02-15")
    review(cli, promoted, "--kind", "probation", "--outcome", "confirmed", "--date",
           "2027-02-01")
    st = status(cli, promoted, "2027-02-15")
    assert st["authorization"] == "valid"
    assert st["valid_until"] == "2027-05-03"  # effective 2026-11-02 + 182 days
    assert not [i for i in due(cli, promoted, "2027-02-15") if i[1] == "probation-review"]


def test_extended_probation_moves_the_review(cli: Cli, promoted: Path) -> None:
    review(cli, promoted, "--kind", "probation", "--outcome", "extended", "--extended-until",
           "2027-03-15", "--date", "2027-01-31")
    st = status(cli, promoted, "2027-02-15")
    assert st["authorization"] == "in-probation"
    assert st["probation"]["review_date"] == "2027-03-15"  # type: ignore[index]


def test_overdue_revalidation_means_lapsed(cli: Cli, promoted: Path) -> None:
    review(cli, promoted, "--kind", "probation", "--outcome", "confirmed", "--date",
           "2027-02-01")
    st = status(cli, promoted, "2027-06-01")
    assert st["authorization"] == "lapsed"
    assert st["reason"] == "re-validation overdue since 2027-05-03"
    assert ("amara-okafor", "maintenance-review", "2027-05-03", True) in due(
        cli, promoted, "2027-06-01")


def test_drift_then_recheck(cli: Cli, promoted: Path) -> None:
    review(cli, promoted, "--kind", "probation", "--outcome", "confirmed", "--date",
           "2027-02-01")
    review(cli, promoted, "--kind", "maintenance", "--outcome", "drift", "--date",
           "2027-04-20", "--support", "Refresher coaching on escalation", "--support",
           "Temporary reduction of high-risk decision authority")
    st = status(cli, promoted, "2027-05-10")
    assert st["authorization"] == "drift" and st["valid_until"] == "2027-06-19"
    assert ("amara-okafor", "recheck", "2027-06-19", False) in due(cli, promoted,
                                                                   "2027-06-01")
    assert status(cli, promoted, "2027-07-01")["authorization"] == "lapsed"
    review(cli, promoted, "--kind", "recheck", "--outcome", "resolved", "--date",
           "2027-06-10")
    st = status(cli, promoted, "2027-07-01")
    assert st["authorization"] == "valid" and st["valid_until"] == "2027-12-09"


def test_drift_needs_supports(cli: Cli, promoted: Path) -> None:
    result = cli("review", "amara-okafor", "--kind", "maintenance", "--outcome", "drift",
                 "--reviewer", "Noor", "--findings", "late notes", cwd=promoted)
    assert result.code == 4 and "targeted supports" in result.err


def test_sustained_needs_the_required_evidence(cli: Cli, promoted: Path,
                                               tmp_path: Path) -> None:
    refused = cli("review", "amara-okafor", "--kind", "maintenance", "--outcome",
                  "sustained", "--reviewer", "Noor", "--findings", "fine", "--date",
                  "2027-04-20", cwd=promoted)
    assert refused.code == 4
    assert "Small documentation audit sample (documentation_audit)" in refused.err
    evidence = tmp_path / "evidence.yaml"
    evidence.write_text(EVIDENCE.format(date="2027-04-18"))
    review(cli, promoted, "--kind", "maintenance", "--outcome", "sustained", "--date",
           "2027-04-20", "--evidence-file", str(evidence))
    assert cli("validate", cwd=promoted).code == 0
    st = status(cli, promoted, "2027-05-01")
    assert st["valid_until"] == "2027-10-19"  # 2027-04-20 + 182 days


def test_lapsed_outcome(cli: Cli, promoted: Path) -> None:
    review(cli, promoted, "--kind", "maintenance", "--outcome", "lapsed", "--date",
           "2027-04-20")
    st = status(cli, promoted, "2027-04-21")
    assert st["authorization"] == "lapsed"
    assert st["reason"] == "authorisation lapsed on 2027-04-20"


def test_deferral_recheck_and_overdue_plan_steps(cli: Cli, git_examples: Path) -> None:
    assert decide(cli, git_examples, "chloe-martin-2026-10").code == 0
    items = [i for i in due(cli, git_examples, "2027-02-10") if i[0] == "chloe-martin"]
    assert ("chloe-martin", "recheck", "2027-01-31", True) in items
    assert [i for i in items if i[1] == "plan-step"] == [
        ("chloe-martin", "plan-step", "2027-01-31", True)] * 2
    st = json.loads(cli("status", "chloe-martin", "--as-of", "2026-12-01", "--format",
                        "json", cwd=git_examples).out)
    assert [s["subject"] for s in st["open_steps"]] == ["risk-escalation", "composite"]


def test_training_expiry_is_due(cli: Cli, promoted: Path) -> None:
    items = due(cli, promoted, "2027-02-20", within=30)
    assert ("amara-okafor", "training", "2027-03-10", False) in items  # safeguarding


def test_due_csv(cli: Cli, promoted: Path) -> None:
    result = cli("due", "--as-of", "2027-02-15", "--format", "csv", cwd=promoted)
    lines = result.out.splitlines()
    assert lines[0] == "person,name,program,kind,due,overdue,detail,ref"
    assert any(line.startswith("amara-okafor,Amara Okafor,Community Services,"
                               "probation-review,2027-01-31,yes,") for line in lines)


def test_review_is_committed_with_trailers(cli: Cli, promoted: Path) -> None:
    import git

    review(cli, promoted, "--kind", "probation", "--outcome", "confirmed", "--date",
           "2027-02-01")
    repo = git.Repo(promoted)
    message = repo.head.commit.message
    repo.close()
    assert "Promoctl-Review-Type: probation" in message
    assert "Promoctl-Outcome: confirmed" in message
    assert "Promoctl-Decision: 2026-11-02-amara-okafor-" in message


def test_status_as_of_a_past_date_ignores_later_records(cli: Cli, promoted: Path) -> None:
    review(cli, promoted, "--kind", "probation", "--outcome", "confirmed", "--date",
           "2027-02-01")
    before_review = status(cli, promoted, "2027-01-15")
    assert before_review["authorization"] == "in-probation"
    assert before_review["reviews"] == []
    before_decision = status(cli, promoted, "2026-10-01")
    assert before_decision["decisions"] == [] and before_decision["probation"] is None
