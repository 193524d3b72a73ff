"""Adversarial records: wrong shapes and types become located problems with useful words.

``parse_record`` is the core entry point (bytes in, record or problems out); the CLI tests
at the end check that ``validate`` reports every problem of every file, as text or JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promoctl.records import yamlio
from promoctl.records.parsing import Source, parse_record
from tests.conftest import Cli

LIBYAML = yamlio.HAVE_LIBYAML

PERSON = """\
kind: person
format: 1
id: tess
name: Tess Tester
program: Testing
team: North
ladder: support-work
level: support-worker
start_date: 2024-01-15
"""

FRAMEWORK = """\
kind: framework
format: 1
id: t-fw
title: Test framework
version: "1.0"
competencies:
  - id: alpha
    name: Alpha
"""

LADDER = """\
kind: ladder
format: 1
id: t-ladder
title: Test ladder
framework: t-fw
levels:
  - id: junior
    title: Junior
  - id: senior
    title: Senior
    promotion:
      rubric:
        - {competency: alpha, weight: 60}
      composite_threshold: 2.5
      source_weights: {observation: 50}
      gates:
        - {id: seen, evidence: observation, min_count: 1}
"""

PACKET = """\
kind: packet
format: 1
id: t-packet
candidate: tess
target: {ladder: t-ladder, level: senior}
submitted: 2026-10-15
evidence:
  - id: obs-1
    type: observation
    date: 2026-09-01
    result: {score: 3, completed: true}
"""

BASE = {"person": PERSON, "framework": FRAMEWORK, "ladder": LADDER, "packet": PACKET}


def edit(kind: str, old: str, new: str) -> str:
    text = BASE[kind]
    assert text.count(old) == 1, f"{old!r} must occur once in the {kind} template"
    return text.replace(old, new)


def parse_ok(text: str) -> Source:
    source, problems = parse_record(text.encode(), "rec.yaml")
    assert problems == [] and source is not None, problems
    return source


def parse_bad(text: str) -> list[str]:
    source, problems = parse_record(text.encode(), "rec.yaml")
    assert source is None and problems, "expected problems"
    return [str(p) for p in problems]


def only_problem(text: str) -> str:
    (line,) = parse_bad(text)
    return line


@pytest.mark.parametrize("kind", sorted(BASE))
def test_templates_are_valid(kind: str) -> None:
    parse_ok(BASE[kind])


# ------------------------------------------------------------------------- shape and kind


@pytest.mark.parametrize(("text", "expected"), [
    ("- kind: person\n",
     "rec.yaml:1:1: expected a mapping with a 'kind' field at the top of the file, found a "
     "list"),
    ("person\n",
     "rec.yaml:1:1: expected a mapping with a 'kind' field at the top of the file, found the "
     "value 'person'"),
    ("~\n",
     "rec.yaml:1:1: expected a mapping with a 'kind' field at the top of the file, found "
     "nothing"),
])
def test_top_level_must_be_a_mapping(text: str, expected: str) -> None:
    assert only_problem(text) == expected


KINDS_LIST = ("expected one of: decision, framework, ladder, lms-mapping, packet, person, "
              "repository, review")


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("kind: person", "kind: persno",
     f"rec.yaml:1:7: unknown kind 'persno' (did you mean 'person'?); {KINDS_LIST}"),
    ("kind: person", "kind: Person",
     f"rec.yaml:1:7: unknown kind 'Person' (did you mean 'person'?); {KINDS_LIST}"),
    ("kind: person", "kind: employee", f"rec.yaml:1:7: unknown kind 'employee'; {KINDS_LIST}"),
    ("kind: person", "kind: 7", f"rec.yaml:1:7: unknown kind 7; {KINDS_LIST}"),
    ("kind: person", "kind: [person]", f"rec.yaml:1:7: unknown kind ['person']; {KINDS_LIST}"),
    ("kind: person\n", "", f"rec.yaml:1:1: missing 'kind'; {KINDS_LIST}"),
])
def test_unknown_or_missing_kind(old: str, new: str, expected: str) -> None:
    assert only_problem(edit("person", old, new)) == expected


# ------------------------------------------------------------------------ unknown fields


@pytest.mark.parametrize(("kind", "old", "new", "expected"), [
    ("person", "team: North", "team: North\nemial: t@example.org",
     "rec.yaml:7:1: unknown field 'emial' in the record (did you mean 'email'?)"),
    ("person", "start_date:", "startdate:",
     "rec.yaml:9:1: unknown field 'startdate' in the record (did you mean 'start_date'?)"),
    ("packet", "level: senior}", "levle: senior}",
     "rec.yaml:5:28: unknown field 'levle' in target (did you mean 'level'?)"),
    ("packet", "    date: 2026-09-01", "    date: 2026-09-01\n    competences: [alpha]",
     "rec.yaml:11:5: unknown field 'competences' in evidence[0] (did you mean "
     "'competencies'?)"),
    ("packet", "completed: true}", "completed: true, pased: true}",
     "rec.yaml:11:41: unknown field 'pased' in evidence[0].result (did you mean 'passed'?)"),
    ("ladder", "min_count: 1}", "min_cuont: 1}",
     "rec.yaml:17:45: unknown field 'min_cuont' in levels[1].promotion.gates[0] (did you "
     "mean 'min_count'?)"),
    ("ladder", "weight: 60}", "wieght: 60}",
     "rec.yaml:13:31: unknown field 'wieght' in levels[1].promotion.rubric[0] (did you mean "
     "'weight'?)"),
    ("framework", "    name: Alpha", "    name: Alpha\n    anchor: {1: low}",
     "rec.yaml:9:5: unknown field 'anchor' in competencies[0] (did you mean 'anchors'?)"),
])
def test_unknown_field_is_located_at_its_key_with_a_hint(kind: str, old: str, new: str,
                                                         expected: str) -> None:
    problems = parse_bad(edit(kind, old, new))
    assert expected in problems


def test_unknown_field_without_a_close_match_has_no_hint() -> None:
    assert only_problem(PERSON + "zzqx: 1\n") == "rec.yaml:10:1: unknown field 'zzqx' in the " \
                                                 "record"


def test_missing_required_field_is_located_at_its_parent() -> None:
    assert parse_bad(edit("person", "program: Testing\n", "")) == [
        "rec.yaml:1:1: missing required field 'program'"]
    assert parse_bad(edit("packet", "{ladder: t-ladder, level: senior}", "{ladder: t-ladder}")) \
        == ["rec.yaml:5:9: missing required field 'target.level'"]


# ---------------------------------------------------------------------------- wrong types


@pytest.mark.parametrize(("kind", "old", "new", "where", "message"), [
    # numbers
    ("ladder", "weight: 60", "weight: 0", "13:39",
     "levels[1].promotion.rubric[0].weight: must be more than 0, found 0"),
    ("ladder", "weight: 60", "weight: -5", "13:39",
     "levels[1].promotion.rubric[0].weight: must be more than 0, found -5"),
    ("ladder", "weight: 60", "weight: 0.0", "13:39",
     "levels[1].promotion.rubric[0].weight: must be more than 0, found 0.0"),
    ("ladder", "weight: 60", "weight: heavy", "13:39",
     "levels[1].promotion.rubric[0].weight: expected a number, got 'heavy'"),
    ("ladder", "weight: 60", "weight: '60'", "13:39",
     "levels[1].promotion.rubric[0].weight: expected a number, got '60'"),
    ("ladder", "weight: 60", "weight: 007", "13:39",
     "levels[1].promotion.rubric[0].weight: expected a number, got '007'"),
    ("ladder", "weight: 60", "weight: true", "13:39",
     "levels[1].promotion.rubric[0].weight: expected a number, got true"),
    ("ladder", "weight: 60", "weight: .inf", "13:39",
     "levels[1].promotion.rubric[0].weight: expected a number, got '.inf'"),
    ("ladder", "observation: 50", "observation: 0", "15:37",
     "levels[1].promotion.source_weights.observation: must be more than 0, found 0"),
    ("ladder", "observation: 50", "observation: -1", "15:37",
     "levels[1].promotion.source_weights.observation: must be more than 0, found -1"),
    ("ladder", "composite_threshold: 2.5", "composite_threshold: high", "14:28",
     "levels[1].promotion.composite_threshold: expected a number, got 'high'"),
    ("packet", "score: 3,", "score: '3',", "11:21",
     "evidence[0].result.score: expected a number, got '3'"),
    # whole numbers
    ("ladder", "min_count: 1}", "min_count: 007}", "17:56",
     "levels[1].promotion.gates[0].min_count: expected a whole number, found '007'"),
    ("ladder", "min_count: 1}", "min_count: 0}", "17:56",
     "levels[1].promotion.gates[0].min_count: must be 1 or more, found 0"),
    ("ladder", "min_count: 1}", "min_count: yes}", "17:56",
     "levels[1].promotion.gates[0].min_count: expected a whole number, found 'yes'"),
    ("ladder", "min_count: 1}", "min_count: true}", "17:56",
     "levels[1].promotion.gates[0].min_count: expected a whole number, found true"),
    ("ladder", "min_count: 1}", "min_count: 1.0}", "17:56",
     "levels[1].promotion.gates[0].min_count: expected a whole number, found 1.0"),
    # booleans
    ("ladder", "min_count: 1}", "min_count: 1, require_pass: yes}", "17:73",
     "levels[1].promotion.gates[0].require_pass: expected true or false, found 'yes'"
     " (promoctl reads yes, no, on and off as text; write true or false)"),
    ("ladder", "min_count: 1}", "min_count: 1, require_pass: on}", "17:73",
     "levels[1].promotion.gates[0].require_pass: expected true or false, found 'on'"
     " (promoctl reads yes, no, on and off as text; write true or false)"),
    ("ladder", "min_count: 1}", "min_count: 1, require_pass: 1}", "17:73",
     "levels[1].promotion.gates[0].require_pass: expected true or false, found 1"
     " (promoctl reads yes, no, on and off as text; write true or false)"),
    ("packet", "completed: true", "completed: yes", "11:35",
     "evidence[0].result.completed: expected true or false, found 'yes'"
     " (promoctl reads yes, no, on and off as text; write true or false)"),
    ("packet", "completed: true", "completed: no", "11:35",
     "evidence[0].result.completed: expected true or false, found 'no'"
     " (promoctl reads yes, no, on and off as text; write true or false)"),
    ("packet", "completed: true", "completed: 'true'", "11:35",
     "evidence[0].result.completed: expected true or false, found 'true'"
     " (promoctl reads yes, no, on and off as text; write true or false)"),
    # text, lists and mappings
    ("person", "name: Tess Tester", "name: [Tess, Tester]", "4:7",
     "name: expected text, found a list"),
    ("person", "name: Tess Tester", "name: {first: Tess}", "4:7",
     "name: expected text, found a mapping"),
    ("person", "name: Tess Tester", "name: ''", "4:7",
     "name: must not be empty"),
    ("person", "id: tess", "id: tess tester", "3:5",
     "id: 'tess tester' is not a valid id: use letters, digits, '.', '_' and '-', starting "
     "with a letter or digit"),
    ("person", "id: tess", "id: -tess", "3:5",
     "id: '-tess' is not a valid id: use letters, digits, '.', '_' and '-', starting with a "
     "letter or digit"),
    ("person", "ladder: support-work", "ladder: [support-work]", "7:9",
     "ladder: expected text, found a list"),
    ("packet", "target: {ladder: t-ladder, level: senior}", "target: [t-ladder, senior]", "5:9",
     "target: expected a mapping of fields, found a list"),
    ("packet", "result: {score: 3, completed: true}", "result: [3, true]", "11:13",
     "evidence[0].result: expected a mapping of fields, found a list"),
    ("packet", "    date: 2026-09-01", "    date: 2026-09-01\n    competencies: {alpha: 1}",
     "11:19", "evidence[0].competencies: expected a list, found a mapping"),
    # format
    ("person", "format: 1", "format: 2", "2:9", "format: expected 1, found 2"),
    ("person", "format: 1", "format: '1'", "2:9", "format: must be the whole number 1"),
    ("person", "format: 1", "format: 01", "2:9", "format: must be the whole number 1"),
])
def test_wrong_type_is_located_with_a_reason(kind: str, old: str, new: str, where: str,
                                             message: str) -> None:
    problems = parse_bad(edit(kind, old, new))
    assert len(problems) == 1, problems
    assert problems[0] == f"rec.yaml:{where}: {message}"


def test_every_problem_in_one_record_is_reported() -> None:
    text = edit("packet", "    result: {score: 3, completed: true}",
                "    result: {score: high, completed: yes}\n    bogus: 1")
    text = text.replace("submitted: 2026-10-15", "submitted: 2026-13-01")
    assert sorted(parse_bad(text)) == [
        "rec.yaml:11:21: evidence[0].result.score: expected a number, got 'high'",
        "rec.yaml:11:38: evidence[0].result.completed: expected true or false, found 'yes' "
        "(promoctl reads yes, no, on and off as text; write true or false)",
        "rec.yaml:12:5: unknown field 'bogus' in evidence[0]",
        "rec.yaml:6:12: submitted: '2026-13-01' is not a real date (month must be in 1..12)",
    ]


# ------------------------------------------------------------------------------------ dates


@pytest.mark.parametrize(("value", "message"), [
    ("2024-02-30", "start_date: '2024-02-30' is not a real date (day is out of range for month)"),
    ("2023-02-29", "start_date: '2023-02-29' is not a real date (day is out of range for month)"),
    ("2024-13-01", "start_date: '2024-13-01' is not a real date (month must be in 1..12)"),
    ("2024-00-10", "start_date: '2024-00-10' is not a real date (month must be in 1..12)"),
    ("2024-1-5", "start_date: expected a date as YYYY-MM-DD, got '2024-1-5'"),
    ("15/01/2024", "start_date: expected a date as YYYY-MM-DD, got '15/01/2024'"),
    ("2024-01-15T09:00:00", "start_date: expected a date as YYYY-MM-DD, got "
                            "'2024-01-15T09:00:00'"),
    ("20240115", "start_date: expected a date as YYYY-MM-DD, got 20240115"),
    ("'2024-02-30'", "start_date: '2024-02-30' is not a real date"),
])
def test_impossible_or_malformed_date_is_located_at_its_line(value: str, message: str) -> None:
    line = only_problem(edit("person", "start_date: 2024-01-15", f"start_date: {value}"))
    assert line.startswith(f"rec.yaml:9:13: {message}")


def test_impossible_date_deep_in_a_packet() -> None:
    assert only_problem(edit("packet", "date: 2026-09-01", "date: 2026-09-31")) == (
        "rec.yaml:10:11: evidence[0].date: '2026-09-31' is not a real date (day is out of "
        "range for month)")


def test_leap_day_and_quoted_dates_are_fine() -> None:
    person = parse_ok(edit("person", "start_date: 2024-01-15", "start_date: '2024-02-29'"))
    assert str(person.record.start_date) == "2024-02-29"


# ----------------------------------------------------------------------- YAML 1.1 surprises


@pytest.mark.parametrize("text", ["no", "No", "NO", "yes", "on", "off", "y", "n", "2024-01-01",
                                  "12:30", "007", "0x1F", "1_000", ".nan", "~x"])
def test_yaml_1_1_lookalikes_stay_the_text_typed(text: str) -> None:
    person = parse_ok(edit("person", "name: Tess Tester", f"name: {text}")
                      .replace("team: North", f"team: {text}"))
    assert person.record.name == text
    assert person.record.team == text


@pytest.mark.parametrize("typed", ["3.10", "1e3", "2026", "true", "null"])
def test_number_or_boolean_where_text_is_expected_is_an_error(typed: str) -> None:
    # Never silently coerced: version 3.10 must not become "3.1" or 3.1.
    line = only_problem(edit("framework", 'version: "1.0"', f"version: {typed}"))
    assert line.startswith("rec.yaml:5:10: version: ")


@pytest.mark.parametrize(("typed", "reads_as"), [
    ("3.10", "number"), ("1e3", "number"), ("2026", "number"), ("true", "boolean"),
])
def test_number_where_text_is_expected_says_put_it_in_quotes(typed: str, reads_as: str
                                                             ) -> None:
    line = only_problem(edit("framework", 'version: "1.0"', f"version: {typed}"))
    assert line == (f"rec.yaml:5:10: version: expected text, but YAML reads the unquoted "
                    f"{typed!r} as a {reads_as}; put it in quotes: '{typed}'")


def test_quoted_version_is_kept_exactly() -> None:
    framework = parse_ok(edit("framework", 'version: "1.0"', 'version: "3.10"'))
    assert framework.record.version == "3.10"


@pytest.mark.parametrize("value", ["true", "1.0"])
def test_format_must_be_the_whole_number_one(value: str) -> None:
    line = only_problem(edit("person", "format: 1", f"format: {value}"))
    assert line.startswith("rec.yaml:2:9: format: must be the whole number 1 (found ")


# ------------------------------------------------------------------------------ frameworks


@pytest.mark.parametrize("addition", [
    "scale:\n  - {value: 1, label: Low}\n  - {value: 2, label: High}\n",
    "categories: [core, technical]\n",
])
def test_framework_may_declare_its_own_scale_and_categories(addition: str) -> None:
    parse_ok(FRAMEWORK.replace("competencies:\n", addition + "competencies:\n"))


@pytest.mark.parametrize(("key", "col"), [("true", 7), ("1.5", 7), ("[1]", 7)])
def test_anchor_keys_that_are_not_whole_numbers(key: str, col: int) -> None:
    text = edit("framework", "    name: Alpha", f"    name: Alpha\n    anchors:\n      {key}: x")
    assert only_problem(text) == f"rec.yaml:10:{col}: mapping keys must be plain text or whole " \
                                 "numbers"


def test_text_anchor_key_is_located_at_the_key() -> None:
    text = edit("framework", "    name: Alpha", "    name: Alpha\n    anchors:\n      '2': x")
    assert only_problem(text).startswith("rec.yaml:10:7: ")


@pytest.mark.parametrize(("old", "new", "where"), [
    ("weight: 60", "weight: 1E400000000", "13:39"),
    ("weight: 60", "weight: 1e-400000000", "13:39"),
    ("composite_threshold: 2.5", "composite_threshold: 1e999999999999", "14:28"),
])
def test_numbers_with_absurd_exponents_are_refused(old: str, new: str, where: str) -> None:
    assert only_problem(edit("ladder", old, new)).startswith(f"rec.yaml:{where}: levels[1]")


# ------------------------------------------------------------------------- through the CLI


def _validate(cli: Cli, repo: Path, *args: str) -> tuple[list[str], str]:
    result = cli("validate", "--repo", repo, *args)
    assert result.code == 3, (result.out, result.err)
    return result.out.splitlines(), result.err


def test_all_problems_of_all_files_in_one_run(cli: Cli, examples: Path) -> None:
    (examples / "people" / "tess.yaml").write_text(
        edit("person", "start_date: 2024-01-15", "start_date: 2024-02-30"))
    (examples / "people" / "una.yaml").write_text(
        edit("person", "id: tess", "id: una").replace("name: Tess Tester", "name: [Una]")
        .replace("team: North", "team: North\nteem: South"))
    lines, err = _validate(cli, examples)
    assert lines == [
        "people/tess.yaml:9:13: start_date: '2024-02-30' is not a real date (day is out of "
        "range for month)",
        "people/una.yaml:4:7: name: expected text, found a list",
        "people/una.yaml:7:1: unknown field 'teem' in the record (did you mean 'team'?)",
    ]
    assert "3 problem(s) in 2 file(s)" in err


def test_validate_json_format(cli: Cli, examples: Path) -> None:
    (examples / "people" / "tess.yaml").write_text(
        edit("person", "start_date: 2024-01-15", "start_date: 2024-02-30"))
    (examples / "people" / "dup.yaml").write_text(PERSON + "team: South\n")
    result = cli("validate", "--repo", examples, "--format", "json")
    assert result.code == 3
    data = json.loads(result.out)
    assert data == {"format": 1, "problems": [
        {"path": "people/dup.yaml", "line": 10, "column": 1,
         "message": "duplicate key 'team' (first given on line 6); YAML would silently keep "
                    "only the last", "severity": "error"},
        {"path": "people/tess.yaml", "line": 9, "column": 13,
         "message": "start_date: '2024-02-30' is not a real date (day is out of range for "
                    "month)", "severity": "error"},
    ]}
    assert all(list(p) == ["path", "line", "column", "message", "severity"]
               for p in data["problems"])


def test_validate_json_format_when_all_valid(cli: Cli, examples: Path) -> None:
    result = cli("validate", "--repo", examples, "--format", "json")
    assert result.code == 0
    assert json.loads(result.out) == {"format": 1, "problems": []}


def test_validate_one_path_reports_only_that_file(cli: Cli, examples: Path) -> None:
    bad = examples / "people" / "tess.yaml"
    bad.write_text(edit("person", "format: 1", "format: 2"))
    (examples / "people" / "una.yaml").write_text("kind: person\nname: [\n")
    lines, _ = _validate(cli, examples, str(bad))
    assert lines == ["people/tess.yaml:2:9: format: expected 1, found 2"]


def test_repository_record_outside_the_root_marker(cli: Cli, examples: Path) -> None:
    (examples / "people" / "second-root.yaml").write_text(
        "kind: repository\nformat: 1\nname: Impostor\n")
    lines, _ = _validate(cli, examples)
    assert lines == ["people/second-root.yaml:1:7: a repository record belongs only in "
                     "promoctl.yaml at the repository's root"]
