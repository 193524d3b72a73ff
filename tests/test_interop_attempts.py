"""Every attempt is evidence: cmi5's real statements (a failure at 82, then a pass at 91
on the same day), voiding, pages, people by account, Totara's CSV."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from promoctl.interop.evidence import legacy_item_id
from promoctl.records.settings import LmsCourse
from tests.conftest import Cli

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "interop"
CMI5 = FIXTURES / "cmi5"
HIRO = Path("packets/professional/hiro-tanaka-2026-h2.yaml")
AU = "http://example.org/cmi5/au-lms-id/4756b42214cb0cb4825b3c9b5c15053d6a6cf7f5"
MAPPING = f"""\
kind: lms-mapping
format: 1
id: geology
framework: professional-services
courses:
  - course: {AU}
    aliases: ["http://course-repository.example.edu/identifiers/courses/02baafcf"]
    milestone: Introduction to Geology
    competencies: [continuous-improvement]
"""
STATEMENTS = ("04-failed_statement.json", "05-passed_statement.json",
              "06-completed_statement.json", "07-satisfied_statement.json")


@pytest.fixture
def repo(examples: Path) -> Path:
    (examples / "lms" / "geology.yaml").write_text(MAPPING)
    person = examples / "people" / "hiro-tanaka.yaml"
    person.write_text(person.read_text(encoding="utf-8")
                      + "accounts:\n  - {home_page: 'http://example.org', name: Learner}\n")
    return examples


def _statement(name: str) -> dict[str, Any]:
    """The cmi5 example, moved to a day inside Hiro's packet (same time of day)."""
    data: dict[str, Any] = json.loads((CMI5 / name).read_text(encoding="utf-8"))
    data["timestamp"] = data["timestamp"].replace("2016-06-09", "2026-09-09")
    return data


def _items(packet: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load(packet.read_text(encoding="utf-8"))
    return [i for i in data["evidence"] if str(i.get("notes", "")).startswith("imported from")]


def _lms_score(cli: Cli, repo: Path) -> Any:
    out = json.loads(cli("evaluate", HIRO, "--format", "json", cwd=repo).out)
    (comp,) = [c for c in out["evaluations"][0]["competencies"]
               if c["id"] == "continuous-improvement"]
    return comp["score"]


EXPECTED = [
    {"assessment": 82, "raw_score": {"raw": 82, "min": 0, "max": 100}, "passed": False},
    {"completed": True, "assessment": 91, "raw_score": {"raw": 91, "min": 0, "max": 100},
     "passed": True},
    {"completed": True},
    {"completed": True},
]


def test_a_failure_then_a_pass_on_the_same_day_are_both_kept(cli: Cli, repo: Path,
                                                              tmp_path: Path) -> None:
    path = tmp_path / "session.json"
    path.write_text(json.dumps([_statement(n) for n in STATEMENTS]))
    result = cli("import", "xapi", path, "--map", "geology", cwd=repo)
    assert result.code == 0, result.err
    assert "imported 4 item(s) into 1 packet(s)" in result.err
    items = _items(repo / HIRO)
    assert [i["result"] for i in items] == EXPECTED
    assert items[0]["notes"].endswith("statement $[0] (id 45bc4094-8574-4af3-b944-6ee65e294a7c)")
    assert cli("validate", cwd=repo).code == 0
    assert _lms_score(cli, repo) == 2.0  # the pass at 91 counts: completed, 80 or more
    agenda = cli("one-on-one", "hiro-tanaka", "--as-of", "2026-10-01", cwd=repo).out
    assert "| Introduction to Geology | lms_milestone | assessment 82%, points 82/100, " \
           "not passed |" in agenda

    again = cli("import", "xapi", path, "--map", "geology", cwd=repo)
    assert again.code == 0 and "imported 0 item(s)" in again.err
    assert "4 already there" in again.err


def test_one_file_at_a_time_gives_the_same_items(cli: Cli, repo: Path, tmp_path: Path
                                                 ) -> None:
    paths = []
    for name in STATEMENTS:
        paths.append(tmp_path / name)
        paths[-1].write_text(json.dumps(_statement(name)))
        result = cli("import", "xapi", paths[-1], "--map", "geology", cwd=repo)
        assert result.code == 0 and "imported 1 item(s)" in result.err, result.err
        assert "warning" not in result.err
    assert [i["result"] for i in _items(repo / HIRO)] == EXPECTED
    # a folder of the same pages, and the files listed, add nothing
    folder = cli("import", "xapi", tmp_path, "--map", "geology", cwd=repo)
    assert "imported 0 item(s)" in folder.err and "4 already there" in folder.err
    listed = cli("import", "xapi", *paths[:2], "--map", "geology", cwd=repo)
    assert "2 already there" in listed.err
    assert "already there: 05-passed_statement.json statement $" not in listed.err


def test_voided_statements_are_followed(cli: Cli, repo: Path, tmp_path: Path) -> None:
    passed = _statement("05-passed_statement.json")
    void = {"id": "7b4c2a5e-9d1f-4b1a-8c3e-2f6d5e4a3b21",
            "actor": passed["actor"],
            "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
            "object": {"objectType": "StatementRef", "id": passed["id"]},
            "timestamp": "2026-09-10T08:00:00Z"}
    both = tmp_path / "both.json"
    both.write_text(json.dumps({"statements": [passed, void], "more": ""}))
    result = cli("import", "xapi", both, "--map", "geology", cwd=repo)
    assert result.code == 0, result.err
    assert "ignored 1: voided by a later statement: statement $.statements[0] (id " \
           "565a4f58-0dfa-4c51-bf74-4bb802f68f6e)" in result.err
    assert _items(repo / HIRO) == []

    alone = tmp_path / "passed.json"
    alone.write_text(json.dumps(passed))
    assert cli("import", "xapi", alone, "--map", "geology", cwd=repo).code == 0
    (item,) = _items(repo / HIRO)
    later = tmp_path / "void.json"
    later.write_text(json.dumps([void]))
    result = cli("import", "xapi", later, "--map", "geology", cwd=repo)
    assert result.code == 1
    assert (f"skipped 1: voids statement 565a4f58-0dfa-4c51-bf74-4bb802f68f6e, imported "
            f"earlier as item {item['id']} in {HIRO.as_posix()}; remove that item by hand "
            "(promoctl never deletes evidence): statement $[0]") in result.err
    assert len(_items(repo / HIRO)) == 1


def test_more_links_between_saved_pages(cli: Cli, repo: Path, tmp_path: Path) -> None:
    first, second = (_statement(n) for n in STATEMENTS[:2])
    (tmp_path / "page-2.json").write_text(json.dumps({"statements": [second], "more": ""}))
    (tmp_path / "page-1.json").write_text(json.dumps({"statements": [first],
                                                      "more": "page-2.json"}))
    result = cli("import", "xapi", tmp_path / "page-1.json", "--map", "geology", cwd=repo)
    assert result.code == 0, result.err
    assert "imported 2 item(s)" in result.err
    assert "page-2.json statement $.statements[0]" in result.out

    lrs = tmp_path / "lrs"
    lrs.mkdir()
    (lrs / "1.json").write_text(json.dumps({
        "statements": [_statement(STATEMENTS[2])],
        "more": "/xapi/statements?more=abc"}))
    result = cli("import", "xapi", lrs, "--map", "geology", cwd=repo)
    assert "warning: 1.json: the LRS has more statements (/xapi/statements?more=abc) and " \
           "none of the files given is the last page" in result.err


def test_scores_verbs_and_the_mappings_own_verbs(cli: Cli, repo: Path, tmp_path: Path
                                                 ) -> None:
    base = _statement("06-completed_statement.json")

    def variant(verb: str, result: dict[str, Any], n: int) -> dict[str, Any]:
        return {**base, "id": f"00000000-0000-4000-8000-00000000000{n}", "verb": {"id": verb},
                "result": result}

    statements = [
        variant("https://w3id.org/xapi/tla/verbs/scored", {"score": {"raw": 7}}, 1),
        variant("http://adlnet.gov/expapi/verbs/mastered", {}, 2),
        variant("https://w3id.org/xapi/tla/verbs/achieved", {}, 3),
        variant("http://id.tincanapi.com/verb/earned", {}, 4),
        variant("http://adlnet.gov/expapi/verbs/scored",
                {"score": {"raw": 3, "min": 1, "max": 5}, "success": True}, 5),
    ]
    path = tmp_path / "verbs.json"
    path.write_text(json.dumps(statements))
    result = cli("import", "xapi", path, "--map", "geology", cwd=repo)
    assert "ignored 1: verb 'earned' is not imported (a mapping's verbs can add it)" \
        in result.err
    assert [i["result"] for i in _items(repo / HIRO)] == [
        {"raw_score": {"raw": 7}},  # raw alone: kept, no percentage
        {"completed": True, "passed": True},
        {"completed": True, "passed": True},
        {"assessment": 50, "raw_score": {"raw": 3, "min": 1, "max": 5}, "passed": True}]

    mapping = repo / "lms" / "geology.yaml"
    mapping.write_text(mapping.read_text().replace(
        "courses:", "verbs:\n  - {id: 'http://id.tincanapi.com/verb/earned', "
        "completed: true}\ncourses:"))
    result = cli("import", "xapi", path, "--map", "geology", cwd=repo)
    assert "imported 1 item(s)" in result.err and "4 already there" in result.err
    assert _items(repo / HIRO)[-1]["result"] == {"completed": True}


def test_items_imported_before_each_attempt_was_kept_are_not_added_again(
        cli: Cli, repo: Path, tmp_path: Path) -> None:
    course = LmsCourse(course=AU, milestone="Introduction to Geology")
    from datetime import date
    old_id = legacy_item_id("hiro-tanaka", course, date(2026, 9, 9))
    packet = repo / HIRO
    packet.write_text(packet.read_text(encoding="utf-8") + (
        f"  - id: {old_id}\n    type: lms_milestone\n    title: Introduction to Geology\n"
        f"    course: {AU}\n    date: 2026-09-09\n"
        "    competencies: [continuous-improvement]\n    result: {completed: true}\n"
        "    notes: imported by an earlier promoctl\n"))
    path = tmp_path / "completed.json"
    path.write_text(json.dumps(_statement("06-completed_statement.json")))
    result = cli("import", "xapi", path, "--map", "geology", cwd=repo)
    assert "imported 0 item(s)" in result.err and "1 already there" in result.err


def test_accounts_are_unique_and_name_one_person(cli: Cli, repo: Path) -> None:
    grace = repo / "people" / "grace-liu.yaml"
    grace.write_text(grace.read_text(encoding="utf-8") + (
        "accounts:\n  - {home_page: 'HTTP://EXAMPLE.ORG/', name: Learner}\n"
        "  - {home_page: 'https://lms.example.org', name: '42'}\n"
        "  - {home_page: 'https://lms.example.org/', name: '42'}\n"))
    result = cli("validate", cwd=repo)
    assert result.code != 0
    lines = result.out.splitlines()
    assert [ln.split(" each account")[0] for ln in lines] == [
        "people/grace-liu.yaml:14:5: account 'Learner' on HTTP://EXAMPLE.ORG/ is also "
        "hiro-tanaka's;",
        "people/grace-liu.yaml:16:5: account '42' on https://lms.example.org/ is listed twice;",
        "people/hiro-tanaka.yaml:14:5: account 'Learner' on http://example.org is also "
        "grace-liu's;"]
    assert all(ln.endswith("; each account belongs to one person") for ln in lines)
    assert "3 problem(s) in 2 file(s)" in result.err
    pre_commit = cli("validate", "people/grace-liu.yaml", cwd=repo)
    assert "is also hiro-tanaka's" in pre_commit.out


def test_totara_upload_course_records(cli: Cli, repo: Path) -> None:
    (repo / "lms" / "totara.yaml").write_text("""\
kind: lms-mapping
format: 1
id: totara
framework: professional-services
courses:
  - course: Course 1
    aliases: [C1]
    milestone: Leading Teams Micro-course
    competencies: [leadership]
""")
    person = repo / "people" / "hiro-tanaka.yaml"
    person.write_text(person.read_text(encoding="utf-8")
                      + "  - {home_page: 'https://totara.example.org', name: learner1}\n")
    path = FIXTURES / "totara" / "course_completion_2.csv"
    result = cli("import", "lms-csv", path, "--map", "totara", cwd=repo)
    assert result.code == 1  # its second row is evidence of no course: skipped, listed
    assert "skipped 1: course 'thisisevidence' is not in the mapping 'totara': row 3" \
        in result.err
    (item,) = _items(repo / HIRO)  # learner1, by the short name C1
    assert (item["course"], item["result"]) == ("Course 1", {"completed": True,
                                                             "assessment": 100})
    # by the ID number, with the custom-fields layout
    mapping = repo / "lms" / "totara.yaml"
    mapping.write_text(mapping.read_text().replace("aliases: [C1]",
                                                   "aliases: [butthereisnoinfo]"))
    custom = FIXTURES / "totara" / "course_evidence_custom_fields_1.csv"
    result = cli("import", "lms-csv", custom, "--map", "totara", cwd=repo)
    # the same row (person, course, date, grade) in another layout: already there
    assert result.code == 0 and "1 already there" in result.err, result.err


def test_a_pre_commit_run_sees_what_a_change_breaks_in_other_files(cli: Cli, repo: Path
                                                                   ) -> None:
    # a cold run: no cache from an earlier validate, other records only indexed
    grace = repo / "people" / "grace-liu.yaml"
    grace.write_text(grace.read_text(encoding="utf-8")
                     + "accounts:\n  - {home_page: 'http://example.org/', name: Learner}\n")
    result = cli("validate", "people/grace-liu.yaml", cwd=repo)
    assert "people/grace-liu.yaml:14:5: account 'Learner' on http://example.org/ is also " \
           "hiro-tanaka's" in result.out
    # hiro's record refers to nothing of grace's: listed because the account is shared
    assert "people/hiro-tanaka.yaml" not in result.out
