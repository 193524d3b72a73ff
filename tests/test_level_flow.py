"""A promotion recorded with `decide` reaches every lifecycle answer from its effective
date, and not before, with no hand edit of the person file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli, git_commit_all
from tests.test_decide import PS_PANEL, decide

SENIOR = "senior-support-worker"


@pytest.fixture
def approved(cli: Cli, git_examples: Path) -> Path:
    """Amara approved on 2026-11-02, effective 2026-12-01; her person file untouched."""
    result = decide(cli, git_examples, "amara-okafor-2026-10", "--effective", "2026-12-01")
    assert result.code == 0, result.err  # type: ignore[attr-defined]
    return git_examples


def status(cli: Cli, repo: Path, as_of: str) -> dict[str, object]:
    result = cli("status", "amara-okafor", "--as-of", as_of, "--format", "json", cwd=repo)
    assert result.code == 0, result.err
    return json.loads(result.out)  # type: ignore[no-any-return]


def test_status_follows_the_decision_from_its_effective_date(cli: Cli, approved: Path
                                                             ) -> None:
    person = (approved / "people" / "amara-okafor.yaml").read_text()
    after = status(cli, approved, "2027-01-15")
    assert after["person"]["level"] == SENIOR  # type: ignore[index]
    assert after["person"]["level_since"] == "2026-12-01"  # type: ignore[index]
    ref = str(after["person"]["level_ref"])  # type: ignore[index]
    assert ref.startswith("2026-11-02-amara-okafor-")
    assert after["authorization"] == "in-probation"
    assert after["probation"]["review_date"] == "2027-03-01"  # type: ignore[index]
    # Decided but not yet effective: still the old level, no probation.
    before = status(cli, approved, "2026-11-20")
    assert before["person"]["level"] == "support-worker"  # type: ignore[index]
    assert before["authorization"] == "not-required"
    # Before the decision was made, the records said nothing of it.
    past = status(cli, approved, "2026-10-20")
    assert past["person"]["level"] == "support-worker"  # type: ignore[index]
    assert past["decisions"] == []
    text = " ".join(cli("status", "amara-okafor", "--as-of", "2027-01-15", cwd=approved
                        ).out.split())
    assert f"support-work / {SENIOR} since 2026-12-01 (decision 2026-11-02-amara" in text
    assert (approved / "people" / "amara-okafor.yaml").read_text() == person


def test_due_lists_the_probation_review_and_revalidation(cli: Cli, approved: Path) -> None:
    result = cli("due", "--as-of", "2027-03-15", "--within", "30", "--format", "json",
                 cwd=approved)
    assert result.code == 0, result.err
    items = {(i["person"], i["kind"], i["due"], i["overdue"])
             for i in json.loads(result.out)["items"]}
    assert ("amara-okafor", "probation-review", "2027-03-01", True) in items
    later = cli("due", "--as-of", "2027-05-20", "--within", "30", "--format", "json",
                cwd=approved)
    kinds = {(i["person"], i["kind"], i["due"]) for i in json.loads(later.out)["items"]}
    # six-monthly re-validation: 182 days from the effective date
    assert ("amara-okafor", "maintenance-review", "2027-06-01") in kinds
    early = cli("due", "--as-of", "2026-11-20", "--within", "30", "--format", "json",
                cwd=approved)
    assert not [i for i in json.loads(early.out)["items"] if i["person"] == "amara-okafor"
                and i["kind"] in ("probation-review", "maintenance-review")]


def test_one_on_one_and_evaluate_see_the_level_held_then(cli: Cli, approved: Path) -> None:
    out = cli("one-on-one", "amara-okafor", "--as-of", "2027-01-15", cwd=approved)
    assert out.code == 0, out.err
    assert "- Role: Senior Support Worker, Support Work" in out.out
    assert "- Working towards: Practice Lead" in out.out
    assert "probation review on 2027-03-01" in out.out
    before = cli("one-on-one", "amara-okafor", "--as-of", "2026-11-20", cwd=approved).out
    assert "- Role: Support Worker, Support Work" in before
    assert "- Working towards: Senior Support Worker" in before
    ev = cli("evaluate", approved / "packets" / "community" / "amara-okafor-2026-10.yaml",
             "--format", "json", cwd=approved)
    (shown,) = json.loads(ev.out)["evaluations"]
    assert shown["candidate"]["current_level"] == "support-worker"  # on its as-of date


def test_a_new_packet_for_the_level_now_held_is_refused(cli: Cli, approved: Path) -> None:
    src = approved / "packets" / "community" / "amara-okafor-2026-10.yaml"
    again = src.with_name("amara-okafor-2027-04.yaml")
    again.write_text(src.read_text().replace("id: amara-okafor-2026-10",
                                             "id: amara-okafor-2027-04"))
    result = cli("validate", cwd=approved)
    assert result.code == 3
    assert f"amara-okafor is already at level '{SENIOR}' (from 2026-12-01, decision " \
        in result.out + result.err


def test_a_draft_packet_from_the_lms_starts_from_the_level_held(cli: Cli, git_examples: Path,
                                                               tmp_path: Path) -> None:
    packet = git_examples / "packets" / "professional" / "elena-rossi-2026-h2.yaml"
    result = cli("decide", packet, "--outcome", "approved", "--reason", "Ready", *PS_PANEL,
                 "--date", "2026-11-02", cwd=git_examples)
    assert result.code == 0, result.err
    export = tmp_path / "export.csv"
    export.write_text("email,course,status,completed,grade,project\n"
                      "elena.rossi@example.org,CCE-101,Completed,2026-11-20,81,\n")
    result = cli("import", "lms-csv", export, "--create-draft", "--cycle", "2027-h1",
                 "--submitted", "2026-12-01", cwd=git_examples)
    # Her person file still says consultant; the decision made her a senior consultant.
    assert "elena-rossi: no level above 'senior-consultant' with promotion rules in ladder " \
        "'consulting'" in result.err


def test_history_of_a_person_shows_when_the_promotion_took_effect(cli: Cli, approved: Path
                                                                  ) -> None:
    result = cli("history", "amara-okafor", "--format", "json", cwd=approved)
    assert result.code == 0, result.err
    events = [e for e in json.loads(result.out)["events"]
              if e["event"] == "promotion effective"]
    assert [(e["date"], e["from"], e["to"]) for e in events] == [
        ("2026-12-01", "support-worker", SENIOR)]


def test_a_past_date_does_not_use_todays_hand_edited_person_file(cli: Cli, approved: Path
                                                                 ) -> None:
    person = approved / "people" / "amara-okafor.yaml"
    person.write_text(person.read_text().replace(
        "level: support-worker", f"level: {SENIOR}\nlevel_since: 2026-12-01"))
    git_commit_all(approved, "HR applies the promotion by hand, as before")
    past = status(cli, approved, "2026-10-20")
    assert past["person"]["level"] == "support-worker"  # type: ignore[index]
    assert past["authorization"] == "not-required"
    assert "overdue" not in str(past["reason"])
    now = status(cli, approved, "2027-01-15")
    assert now["person"]["level"] == SENIOR  # type: ignore[index]
    assert now["authorization"] == "in-probation"
    assert cli("validate", cwd=approved).out == ""  # consistent: no warning
