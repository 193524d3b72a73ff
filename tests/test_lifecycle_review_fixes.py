"""Regressions from the review of the lifecycle after the panel (issue 15)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from tests.conftest import Cli, git_commit_all
from tests.test_decide import PS_PANEL, decide, only_decision, packet_path, read


def test_promotion_effective_before_the_held_level_is_refused(cli: Cli,
                                                              git_examples: Path) -> None:
    result = decide(cli, git_examples, "amara-okafor-2026-10", "--effective", "2019-01-01")
    assert result.code == 4, result.out
    assert "--effective 2019-01-01" in result.err and "2022-09-12" in result.err
    assert not list((git_examples / "decisions").rglob("*.yaml"))


def test_validate_warns_about_an_approval_effective_before_the_held_level(
        cli: Cli, git_examples: Path) -> None:
    assert decide(cli, git_examples, "amara-okafor-2026-10").code == 0
    path = only_decision(git_examples)
    path.write_text(path.read_text().replace("effective: 2026-11-02", "effective: 2019-01-01"))
    git_commit_all(git_examples, "backdated by hand")
    result = cli("validate", cwd=git_examples)
    assert "2019-01-01" in result.out and "not applied" in result.out


def _status(cli: Cli, repo: Path, person: str, as_of: str) -> dict[str, Any]:
    result = cli("status", person, "--as-of", as_of, "--format", "json", cwd=repo)
    assert result.code == 0, result.err
    data: dict[str, Any] = json.loads(result.out)
    return data


def test_a_past_as_of_does_not_apply_a_correction_recorded_later(cli: Cli,
                                                                  git_examples: Path) -> None:
    first = cli("decide", packet_path(git_examples, "grace-liu-2026-h2"), "--outcome",
                "approved", "--reason", "Good", "--override-reason", "Panel saw more",
                *PS_PANEL, "--date", "2026-11-05", cwd=git_examples)
    assert first.code == 0, first.err
    approval = read(only_decision(git_examples))["id"]
    again = cli("decide", packet_path(git_examples, "grace-liu-2026-h2"), "--outcome",
                "deferred", "--reason", "Corrected", "--supersedes", approval, *PS_PANEL,
                "--date", "2026-11-25", cwd=git_examples)
    assert again.code == 0, again.err
    assert _status(cli, git_examples, "grace-liu", "2026-11-20")["person"]["level"] \
        == "senior-consultant"
    assert _status(cli, git_examples, "grace-liu", "2026-11-26")["person"]["level"] \
        == "consultant"


def test_a_person_file_edited_without_level_since_keeps_the_level_before(
        cli: Cli, git_examples: Path) -> None:
    assert decide(cli, git_examples, "amara-okafor-2026-10").code == 0
    person = git_examples / "people" / "amara-okafor.yaml"
    person.write_text(person.read_text().replace("level: support-worker",
                                                 "level: senior-support-worker"))
    git_commit_all(git_examples, "HR moves Amara without level_since")
    before = _status(cli, git_examples, "amara-okafor", "2026-10-20")
    assert before["person"]["level"] == "support-worker"
    assert before["authorization"] != "lapsed"
    after = _status(cli, git_examples, "amara-okafor", "2026-11-20")
    assert after["person"]["level"] == "senior-support-worker"
    assert after["person"]["level_since"] == "2026-11-02"
    assert "level_since: 2026-11-02" in cli("validate", cwd=git_examples).out


def test_dates_after_today_are_warned_about(cli: Cli, git_examples: Path) -> None:
    future = (date.today() + timedelta(days=400)).isoformat()
    result = decide(cli, git_examples, "amara-okafor-2026-10", "--date", future)
    assert result.code == 0, result.err
    assert f"warning: --date {future} is after today" in result.err
    later = (date.today() + timedelta(days=420)).isoformat()
    result = cli("review", "amara-okafor", "--kind", "maintenance", "--outcome", "lapsed",
                 "--reviewer", "Noor Said", "--findings", "Not maintained", "--date", later,
                 cwd=git_examples)
    assert result.code == 0, result.err
    assert f"warning: --date {later} is after today" in result.err


def _review(cli: Cli, repo: Path, person: str, *args: str) -> Any:
    return cli("review", person, "--reviewer", "Noor Said", "--findings",
               "Reviewed against the level's anchors", *args, cwd=repo)


def test_a_drift_cannot_follow_a_lapse(cli: Cli, git_examples: Path) -> None:
    assert decide(cli, git_examples, "amara-okafor-2026-10", "--effective",
                  "2026-12-01").code == 0
    for args in (("--kind", "probation", "--outcome", "confirmed", "--date", "2027-02-01"),
                 ("--kind", "maintenance", "--outcome", "lapsed", "--date", "2027-05-25")):
        result = _review(cli, git_examples, "amara-okafor", *args)
        assert result.code == 0, result.err
    drift = _review(cli, git_examples, "amara-okafor", "--kind", "maintenance", "--outcome",
                    "drift", "--support", "coaching", "--date", "2027-06-15")
    assert drift.code == 4
    assert "lapsed on 2027-05-25" in drift.err
    assert _status(cli, git_examples, "amara-okafor", "2027-06-20")["authorization"] \
        == "lapsed"


def test_a_recorded_plan_recheck_is_no_longer_due(cli: Cli, git_examples: Path) -> None:
    assert decide(cli, git_examples, "chloe-martin-2026-10").code == 0
    result = _review(cli, git_examples, "chloe-martin", "--kind", "recheck", "--outcome",
                     "unresolved", "--date", "2027-02-01")
    assert result.code == 0, result.err
    due = cli("due", "--as-of", "2027-02-10", "--within", "30", "--format", "json",
              cwd=git_examples)
    assert due.code == 0, due.err
    assert not [i for i in json.loads(due.out)["items"]
                if i["person"] == "chloe-martin" and i["kind"] in ("recheck", "plan-step")]
    st = _status(cli, git_examples, "chloe-martin", "2027-02-10")
    assert st["authorization"] != "lapsed"  # the plan's re-check is not the level's


def test_export_changes_as_of_leaves_out_decisions_recorded_later(cli: Cli,
                                                                   git_examples: Path) -> None:
    assert decide(cli, git_examples, "amara-okafor-2026-10").code == 0  # recorded 2026-11-02

    def people(as_of: str) -> list[str]:
        result = cli("export", "changes", "--from", "2026-01-01", "--to", "2026-12-31",
                     "--as-of", as_of, "--format", "json", cwd=git_examples)
        assert result.code == 0, result.err
        return [c["person"] for c in json.loads(result.out)["changes"]]

    assert people("2026-10-30") == []
    assert people("2026-11-02") == ["amara-okafor"]


def _letter(cli: Cli, repo: Path) -> str:
    result = cli("render", "letter", str(only_decision(repo)), cwd=repo)
    assert result.code == 0, result.err
    return result.out


def test_markdown_letter_paragraphs_and_headings_are_separated(cli: Cli,
                                                                git_examples: Path) -> None:
    assert decide(cli, git_examples, "chloe-martin-2026-10", "--override-reason",
                  "The panel saw more", outcome="approved").code == 0
    text = _letter(cli, git_examples)
    assert "is required.\n\nThe panel's decision takes account" in text
    assert "as its reasons above explain.\n\n## Probation terms" in text


def test_markdown_letter_next_steps_follow_a_blank_line(cli: Cli, git_examples: Path) -> None:
    assert decide(cli, git_examples, "farid-haddad-2026-h2").code == 0
    assert "is required.\n\n## Next steps" in _letter(cli, git_examples)


def test_an_unknown_review_outcome_is_a_usage_error(cli: Cli, git_examples: Path) -> None:
    result = _review(cli, git_examples, "amara-okafor", "--kind", "maintenance", "--outcome",
                     "bogus", "--date", "2026-11-20")
    assert result.code == 2
    assert "sustained, drift, lapsed" in result.err and "'bogus'" in result.err


def test_a_confirmed_probation_takes_no_extension_date(cli: Cli, git_examples: Path) -> None:
    assert decide(cli, git_examples, "amara-okafor-2026-10").code == 0
    result = _review(cli, git_examples, "amara-okafor", "--kind", "probation", "--outcome",
                     "confirmed", "--extended-until", "2027-04-01", "--date", "2027-01-31")
    assert result.code == 2
    assert "--extended-until goes only with" in result.err
    assert not (git_examples / "reviews").exists() or not list(
        (git_examples / "reviews").rglob("*.yaml"))


def test_status_says_valid_until_and_no_until_for_a_lapse(cli: Cli,
                                                           git_examples: Path) -> None:
    assert decide(cli, git_examples, "amara-okafor-2026-10").code == 0
    assert _review(cli, git_examples, "amara-okafor", "--kind", "probation", "--outcome",
                   "confirmed", "--date", "2027-01-31").code == 0

    def line(as_of: str) -> str:
        result = cli("status", "amara-okafor", "--as-of", as_of, cwd=git_examples)
        assert result.code == 0, result.err
        (found,) = [x for x in result.out.splitlines() if x.startswith("authorisation:")]
        return found

    assert line("2027-02-15") == ("authorisation: valid until 2027-05-03 "
                                  "(re-validation due by 2027-05-03)")
    lapsed = line("2027-06-01")
    assert lapsed.startswith("authorisation: lapsed (re-validation overdue since 2027-05-03")
    assert " until" not in lapsed.replace("overdue since", "")


def test_due_details_name_areas_and_levels_not_ids(cli: Cli, git_examples: Path) -> None:
    assert decide(cli, git_examples, "chloe-martin-2026-10").code == 0
    result = cli("due", "--as-of", "2027-02-10", "--within", "30", "--format", "json",
                 cwd=git_examples)
    assert result.code == 0, result.err
    details = [i["detail"] for i in json.loads(result.out)["items"]
               if i["person"] == "chloe-martin"]
    assert "re-check of the development plan for Senior Support Worker" in details
    steps = [d for d in details if not d.startswith("re-check")]
    assert steps and any(d.startswith("Recognises and escalates risk triggers: ")
                         for d in steps)
    assert not [d for d in steps if d.split(" ", 1)[0] in ("competency", "composite", "gate",
                                                              "training")]


def test_validate_flags_unknown_placeholders_in_letter_settings(cli: Cli,
                                                                examples: Path) -> None:
    config = examples / "promoctl.yaml"
    config.write_text(config.read_text().replace('salutation: "Dear {first_name},"',
                                                 'salutation: "Hi {unknown},"'))
    result = cli("validate", cwd=examples)
    assert result.code == 3
    assert "promoctl.yaml:10:" in result.out
    assert "unknown placeholder(s) {unknown}" in result.out


def test_plans_give_a_route_for_questions_and_corrections_say_what_they_replace(
        cli: Cli, git_examples: Path) -> None:
    assert decide(cli, git_examples, "farid-haddad-2026-h2").code == 0
    first = read(only_decision(git_examples))["id"]
    again = cli("decide", packet_path(git_examples, "farid-haddad-2026-h2"), "--outcome",
                "declined", "--reason", "Corrected", "--supersedes", first, *PS_PANEL,
                "--date", "2026-11-03", cwd=git_examples)
    assert again.code == 0, again.err
    (second,) = [p for p in (git_examples / "decisions").rglob("*.yaml") if first not in p.name]
    for fmt in ("markdown", "html"):
        plan = cli("render", "plan", str(second), "--format", fmt, cwd=git_examples)
        assert plan.code == 0, plan.err
        assert "Questions" in plan.out and "people@example.org" in plan.out
        assert "Priya Shah, HR Business Partner" in plan.out
        assert f"Replaces the plan of decision {first}" in plan.out
        assert "from an assessor other than those so far, for" in plan.out
        assert "assessor(s)" not in plan.out
        letter = cli("render", "letter", str(second), "--format", fmt, cwd=git_examples)
        assert f"This letter replaces the letter about decision {first}" in letter.out
    markdown = cli("render", "letter", str(second), cwd=git_examples).out
    assert "- **Decision:** Declined\n\n> This letter replaces" in markdown
