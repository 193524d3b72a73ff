"""LMS CSV exports into packets: mapping, deduplication, drafts, and every skipped row said."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from promoctl.records.loader import discover
from promoctl.records.mapping import check_lms_mappings
from promoctl.records.reading import load
from tests.conftest import EXAMPLES, Cli

HIRO = Path("packets/professional/hiro-tanaka-2026-h2.yaml")
HEADER = "Email address,Course,Completion status,Completion date,Grade (%),Project accepted\n"


def _evaluate(cli: Cli, repo: Path, packet: Path) -> dict[str, object]:
    result = cli("evaluate", packet, "--format", "json", cwd=repo)
    assert result.code in (0, 1), result.err
    (evaluation,) = json.loads(result.out)["evaluations"]
    assert isinstance(evaluation, dict)
    return evaluation


def _items(packet: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load(packet.read_text(encoding="utf-8"))
    return [i for i in data["evidence"] if str(i.get("notes", "")).startswith("imported from")]


def test_example_completions_become_evidence_and_change_the_evaluation(
        cli: Cli, examples: Path) -> None:
    before = _evaluate(cli, examples, HIRO)
    comps = {c["id"]: c for c in before["competencies"]}  # type: ignore[attr-defined]
    assert comps["continuous-improvement"]["status"] == "insufficient_evidence"
    old_text = (examples / HIRO).read_text(encoding="utf-8")

    result = cli("import", "lms-csv", "lms/academy-completions.csv", "--map", "academy",
                 cwd=examples)
    assert result.code == 1  # rows were skipped, and each is listed
    assert result.out == f"{HIRO.as_posix()}: + lms-956b29d6bc80 (row 2)\n"
    assert "ignored 1: not completed (status 'In progress'): row 3" in result.err
    assert ("skipped 1: unknown person 'sam.nobody@example.org' (no person with that id, "
            "email or account): row 4") in result.err
    assert "skipped 1: course 'Excel for Consultants' is not in the mapping 'academy': row 5" \
        in result.err
    assert ("imported 1 item(s) into 1 packet(s) with mapping lms/academy-mapping.yaml; 0 "
            "already there, 1 ignored, 2 skipped") in result.err

    new_text = (examples / HIRO).read_text(encoding="utf-8")
    assert new_text.startswith(old_text)  # appended; comments and flow style untouched
    assert new_text[len(old_text):] == (
        "  - id: lms-956b29d6bc80\n"
        "    type: lms_milestone\n"
        "    title: Process Design Workshop\n"
        "    course: Process Design Workshop\n"
        "    date: 2026-09-10\n"
        "    competencies:\n"
        "    - continuous-improvement\n"
        "    result:\n"
        "      completed: true\n"
        "      assessment: 88\n"
        "      project_accepted: true\n"
        "    notes: imported from academy-completions.csv (sha256 da12449d56c6) row 2\n")
    assert cli("validate", cwd=examples).code == 0

    after = _evaluate(cli, examples, HIRO)
    comps = {c["id"]: c for c in after["competencies"]}  # type: ignore[attr-defined]
    assert comps["continuous-improvement"]["score"] == 3.0  # completed + project accepted
    assert comps["continuous-improvement"]["status"] == "met"
    assert after["composite_exact"] == "473/200"  # shown as 2.37
    assert after["verdict"] == "NOT READY"

    again = cli("import", "lms-csv", "lms/academy-completions.csv", "--map", "academy",
                cwd=examples)
    assert again.code == 1 and again.out == ""
    assert "imported 0 item(s) into 0 packet(s)" in again.err and "1 already there" in again.err
    assert (examples / HIRO).read_text(encoding="utf-8") == new_text


def test_dry_run_writes_nothing(cli: Cli, examples: Path) -> None:
    before = (examples / HIRO).read_bytes()
    result = cli("import", "lms-csv", "lms/academy-completions.csv", "--dry-run",
                 cwd=examples)  # the repository's only mapping is used
    assert result.code == 1
    assert "would import 1 item(s)" in result.err and "dry run: nothing written" in result.err
    assert (examples / HIRO).read_bytes() == before


PERSON = """\
kind: person
format: 1
id: ivy-chen
name: Ivy Chen
email: Ivy.Chen@Example.org
program: Advisory
ladder: consulting
level: consultant
manager: maria-gomez
start_date: 2024-01-08
"""


def test_create_draft_packet(cli: Cli, examples: Path, tmp_path: Path) -> None:
    (examples / "people" / "ivy-chen.yaml").write_text(PERSON)
    export = tmp_path / "export.csv"
    export.write_text(HEADER + "ivy.chen@example.org,CCE-101,Completed,2026-10-01,81,\n"
                      "ivy.chen@example.org,APC-300,Failed,2026-10-02,40,no\n"
                      "maria.gomez@example.org,CCE-101,Completed,2026-10-03,90,\n")
    without = cli("import", "lms-csv", export, cwd=examples)
    assert without.code == 1
    assert "ivy-chen has no open packet (pass --create-draft to start one): row 2, row 3" \
        in without.err
    assert "maria-gomez: no level above 'manager'" not in without.err

    result = cli("import", "lms-csv", export, "--create-draft", "--cycle", "2026-h2",
                 "--submitted", "2026-11-01", cwd=examples)
    assert result.code == 1  # maria-gomez is at the top of her ladder
    assert "maria-gomez: no level above 'manager' with promotion rules in ladder " \
           "'consulting' to start a draft packet for: row 4" in result.err
    draft = examples / "packets" / "ivy-chen-2026-h2.yaml"
    assert result.out.startswith("packets/ivy-chen-2026-h2.yaml (new draft): + ")
    text = draft.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../schemas/packet.schema.json\n")
    data = yaml.safe_load(text)
    assert data["target"] == {"ladder": "consulting", "level": "senior-consultant"}
    assert (data["supervisor"], data["cycle"], str(data["submitted"])) == \
        ("maria-gomez", "2026-h2", "2026-11-01")
    results = [(i["course"], i["result"]) for i in data["evidence"]]
    assert results == [
        ("Client Communication Essentials", {"completed": True, "assessment": 81}),
        ("Advanced Platform Certification", {"assessment": 40, "passed": False,
                                             "project_accepted": False})]
    assert cli("validate", cwd=examples).code == 0
    evaluation = _evaluate(cli, examples, draft.relative_to(examples))
    assert evaluation["verdict"] == "NOT READY"
    # the draft is now the open packet: importing again adds nothing
    again = cli("import", "lms-csv", export, "--create-draft", "--cycle", "2026-h2",
                cwd=examples)
    assert "2 already there" in again.err
    assert draft.read_text(encoding="utf-8") == text


MAPPING = """\
kind: lms-mapping
format: 1
id: totara
framework: professional-services
columns: {person: Employee, course: Course Name, date: Done, grade: Score, status: State}
date_format: "%d/%m/%Y"
courses:
  - course: Leading Teams
    milestone: Leading Teams Micro-course
    competencies: [leadership]
"""


def test_custom_columns_date_format_and_row_problems(cli: Cli, examples: Path,
                                                     tmp_path: Path) -> None:
    (examples / "lms" / "totara.yaml").write_text(MAPPING)
    export = tmp_path / "totara.csv"
    export.write_text(
        "Employee;Course Name;Done;Score;State\n"
        "hiro-tanaka;leading  teams;02/10/2026;17/20;Complete (achieved pass grade)\n"
        "hiro-tanaka;Leading Teams;03/10/2026;abc;Completed\n"
        "hiro-tanaka;Leading Teams;2026-10-04;;Completed\n"
        "hiro-tanaka;Leading Teams;05/10/2026;;Archived\n"
        "hiro-tanaka;Leading Teams;;;Completed\n"
        "grace-liu;Leading Teams;06/10/2026;70;Completed\n"
        "grace-liu;Leading Teams;06/10/2026;75;Completed\n"
        "elena-rossi;Leading Teams;;;Not started\n")
    result = cli("import", "lms-csv", export, "--map", "totara", cwd=examples)
    assert result.code == 1
    err = result.err
    assert "grade 'abc' is not a percentage from 0 to 100 (or points as 17/20): row 3" in err
    assert "completion date '2026-10-04' is not a date (the mapping's date_format " \
           "'%d/%m/%Y'): row 4" in err
    assert "status 'Archived' is not one promoctl knows" in err and ": row 5" in err
    assert "completed, but no completion date: row 6" in err
    # two attempts on one day are two items: the rules choose the better
    grace = examples / "packets" / "professional" / "grace-liu-2026-h2.yaml"
    assert [i["result"]["assessment"] for i in _items(grace)] == [70, 75]
    assert "ignored 1: not completed (status 'Not started'): row 9" in err
    (item,) = [i for i in _items(examples / HIRO) if i["date"].isoformat() == "2026-10-02"]
    assert item["result"] == {"completed": True, "assessment": 85, "passed": True}
    assert item["course"] == "Leading Teams" and item["competencies"] == ["leadership"]


def test_malformed_exports_write_nothing(cli: Cli, examples: Path, tmp_path: Path) -> None:
    before = (examples / HIRO).read_bytes()
    cases = {
        HEADER + 'hiro.tanaka@example.org,"Process Design Workshop,Completed,2026-09-10,1,\n':
            "row 2: malformed CSV: unexpected end of data",
        HEADER + "hiro.tanaka@example.org,Process Design Workshop,Completed\n":
            "row 2: has 3 cells; the header has 6",
        "Who,What\nx,y\n": "row 1: no course column (looked for course, course name",
        "": "file is empty",
        HEADER + "a@b.c,Process Design Workshop,Completed,2026-09-10," + "9" * 70_000 + ",\n":
            "row 2, column 5: cell is 70,000 characters",
    }
    for text, expected in cases.items():
        export = tmp_path / "bad.csv"
        export.write_text(text)
        result = cli("import", "lms-csv", export, cwd=examples)
        assert result.code == 3, (text[:80], result.err)
        assert expected in result.err, result.err
    assert (examples / HIRO).read_bytes() == before


def test_an_invalid_mapping_is_reported_and_blocks_the_import(cli: Cli, examples: Path
                                                             ) -> None:
    mapping = examples / "lms" / "academy-mapping.yaml"
    mapping.write_text(mapping.read_text().replace("competencies: [leadership]",
                                                   "competencies: [leadrship]")
                       .replace("course: Process Design Workshop",
                                "course: leading teams"))
    repo = load(examples, discover([examples]))
    problems = [str(p) for p in check_lms_mappings(repo)]
    assert problems == [
        "lms/academy-mapping.yaml:21:20: unknown competency 'leadrship' (did you mean "
        "'leadership'?) in framework 'professional-services'",
        "lms/academy-mapping.yaml:22:13: course 'leading teams' is also mapped in "
        "courses[2]; each LMS course maps once",
    ]
    result = cli("import", "lms-csv", "lms/academy-completions.csv", cwd=examples)
    assert result.code == 3
    assert "lms/academy-mapping.yaml:21:20: unknown competency 'leadrship'" in result.err


def test_validate_reports_mapping_problems(cli: Cli, examples: Path) -> None:
    mapping = examples / "lms" / "academy-mapping.yaml"
    mapping.write_text(mapping.read_text().replace("framework: professional-services",
                                                   "framework: profesional-services"))
    result = cli("validate", cwd=examples)
    assert result.code == 3
    assert "lms/academy-mapping.yaml:8:12: unknown framework 'profesional-services'" in result.out


def test_mapping_schema_errors_are_located(cli: Cli, examples: Path) -> None:
    mapping = examples / "lms" / "academy-mapping.yaml"
    mapping.write_text(mapping.read_text().replace("milestone: Leading", "milestones: Leading"))
    result = cli("validate", cwd=examples)
    assert result.code == 3
    assert "lms/academy-mapping.yaml:20:5: unknown field 'milestones' in courses[2] (did you " \
           "mean 'milestone'?)" in result.out


def test_choosing_the_mapping_and_the_packet(cli: Cli, examples: Path) -> None:
    (examples / "lms" / "totara.yaml").write_text(MAPPING)
    result = cli("import", "lms-csv", "lms/academy-completions.csv", cwd=examples)
    assert result.code == 4 and "name the LMS mapping with --map (mappings: academy, " \
                                "totara)" in result.err
    result = cli("import", "lms-csv", "lms/academy-completions.csv", "--map", "nope",
                 cwd=examples)
    assert result.code == 4 and "no such LMS mapping" in result.err
    second = examples / "packets" / "professional" / "hiro-tanaka-2027-h1.yaml"
    second.write_text((examples / HIRO).read_text().replace("id: hiro-tanaka-2026-h2",
                                                            "id: hiro-tanaka-2027-h1")
                      .replace("cycle: 2026-h2", "cycle: 2027-h1"))
    result = cli("import", "lms-csv", "lms/academy-completions.csv", "--map", "academy",
                 cwd=examples)
    assert "hiro-tanaka has 2 open packets (packets/professional/hiro-tanaka-2026-h2.yaml, " \
           "packets/professional/hiro-tanaka-2027-h1.yaml); choose one with --cycle" \
           in result.err
    result = cli("import", "lms-csv", "lms/academy-completions.csv", "--map", "academy",
                 "--cycle", "2027-h1", cwd=examples)
    assert result.out.startswith("packets/professional/hiro-tanaka-2027-h1.yaml: + ")


def test_flow_style_evidence_is_rewritten_whole_keeping_the_header(cli: Cli, examples: Path
                                                                  ) -> None:
    packet = examples / HIRO
    packet.write_text("# yaml-language-server: $schema=../../../schemas/packet.schema.json\n"
                      "# Hiro's packet\n"
                      "kind: packet\nformat: 1\nid: hiro-tanaka-2026-h2\n"
                      "candidate: hiro-tanaka\n"
                      "target: {ladder: consulting, level: senior-consultant}\n"
                      "submitted: 2026-10-19\nevidence: []\n")
    result = cli("import", "lms-csv", "lms/academy-completions.csv", cwd=examples)
    assert result.code == 1
    text = packet.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../../../schemas/packet.schema."
                           "json\n# Hiro's packet\nkind: packet\n")
    assert [i["id"] for i in _items(packet)] == ["lms-956b29d6bc80"]
    assert cli("validate", packet, cwd=examples).code == 0


def test_examples_mapping_is_valid() -> None:
    repo = load(EXAMPLES, discover([EXAMPLES]))
    assert "academy" in repo.others["lms-mapping"]
    assert check_lms_mappings(repo) == []
