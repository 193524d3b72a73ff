"""Hostile files, names and templates: each gets a clear, bounded error, never a hang,
a traceback or a leak (issue 16)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import Cli, Result, git_commit_all
from tests.test_decide import decide, only_decision

SECRET = "outside-secret-do-not-print"
PACKET = "packets/community/amara-okafor-2026-10.yaml"


def _fifo(path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    os.mkfifo(path)


def _symlink(target: Path | str, link: Path) -> None:
    try:
        os.symlink(target, link)
    except OSError:
        pytest.skip("no symbolic links here")


# ------------------------------------------------------------------- only regular files


@pytest.mark.parametrize("command", [("validate",), ("evaluate", "--all")])
def test_a_fifo_among_the_records_is_a_problem_not_a_wait(cli: Cli, examples: Path,
                                                          command: tuple[str, ...]) -> None:
    _fifo(examples / "packets" / "pipe.yaml")
    result = cli(*command, cwd=examples)
    assert result.code == 3
    assert "packets/pipe.yaml:0:0: file is a named pipe (FIFO), not a regular file" in (
        result.out + result.err)


def test_a_fifo_named_as_an_artifact_is_a_problem(cli: Cli, examples: Path) -> None:
    _fifo(examples / "artifacts" / "pipe.md")
    packet = examples / PACKET
    packet.write_text(packet.read_text().replace(
        "artifacts/community/amara-okafor-audit-sample.md", "artifacts/pipe.md"))
    for command in (("validate",), ("evaluate", PACKET)):
        result = cli(*command, cwd=examples)
        assert result.code == 3
        assert "artifact 'artifacts/pipe.md' is a named pipe (FIFO), not a regular file" \
            in result.out + result.err


def test_a_link_to_a_folder_out_of_the_repository_is_not_followed_for_artifacts(
        cli: Cli, examples: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "audit.md").write_text(SECRET)
    _symlink(outside, examples / "artifacts" / "linked")
    packet = examples / PACKET
    packet.write_text(packet.read_text().replace(
        "artifacts/community/amara-okafor-audit-sample.md", "artifacts/linked/audit.md"))
    result = cli("validate", cwd=examples)
    assert result.code == 3
    assert "artifact 'artifacts/linked/audit.md' is outside the repository" in result.out


@pytest.mark.parametrize("command", [("validate",), ("evaluate", "--all"),
                                     ("evaluate", "packets/loop-a.yaml")])
def test_a_symlink_loop_is_a_problem(cli: Cli, examples: Path,
                                     command: tuple[str, ...]) -> None:
    _symlink("loop-b.yaml", examples / "packets" / "loop-a.yaml")
    _symlink("loop-a.yaml", examples / "packets" / "loop-b.yaml")
    result = cli(*command, cwd=examples)
    assert result.code == 3
    assert ("packets/loop-a.yaml:0:0: file is a symbolic link that loops (it points back "
            "at itself through other links)") in result.out + result.err


def test_a_record_linked_from_outside_the_repository_is_not_read(
        cli: Cli, examples: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text(f"kind: person\nformat: 1\nid: {SECRET}\n")
    _symlink(outside, examples / "people" / "outside.yaml")
    result = cli("validate", cwd=examples)
    assert result.code == 3
    assert result.out == ("people/outside.yaml:0:0: file is a symbolic link to a file "
                          "outside the repository; promoctl reads only files inside it\n")


# ----------------------------------------------------------------------- file names


def test_a_file_name_that_is_not_utf8_is_printed_escaped(cli: Cli, examples: Path) -> None:
    name = os.fsdecode(b"people/bad\xff.yaml")
    try:
        (examples / name).write_text("kind: person\n")
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system refuses names that are not UTF-8")
    text = cli("validate", cwd=examples)
    assert text.code == 3
    assert text.out.startswith("people/bad\\xff.yaml:1:1: ")
    data = cli("validate", "--format", "json", cwd=examples)
    parsed = json.loads(data.out.encode("utf-8").decode("utf-8"))
    assert {p["path"] for p in parsed["problems"]} == {"people/bad\\xff.yaml"}
    assert cli("evaluate", "--all", cwd=examples).code == 3


def test_a_newline_in_a_file_name_does_not_split_a_problem(cli: Cli, examples: Path) -> None:
    try:
        (examples / "people" / "two\nlines.yaml").write_text("kind: person\n")
    except OSError:
        pytest.skip("this file system refuses newlines in names")
    result = cli("validate", cwd=examples)
    lines = result.out.splitlines()
    assert lines and all(line.startswith("people/two\\nlines.yaml:") for line in lines)


# ------------------------------------------------------------------------ templates


@pytest.fixture
def decided(cli: Cli, git_examples: Path) -> Path:
    assert decide(cli, git_examples, "amara-okafor-2026-10").code == 0
    return git_examples


def _letter(cli: Cli, repo: Path, body: str | None = None) -> Result:
    if body is not None:
        (repo / "templates").mkdir(exist_ok=True)
        (repo / "templates" / "letter.md").write_text(body)
    return cli("render", "letter", only_decision(repo), cwd=repo)


@pytest.mark.parametrize(("body", "message"), [
    ("{% macro m(n) %}{{ m(n) }}{% endmacro %}\n{{ m(1) }}",
     "templates/letter.md:1: the template went past a limit: macros call each other more "
     "than 100 deep"),
    ("x\n{% include 'letter.md' %}", "templates/letter.md:2: the template calls or includes "
     "itself without end"),
    ("{{ 'x' * 100000000000 }}", "templates/letter.md:1: the template went past a limit: a "
     "value of more than 16,777,216 characters"),
    ("{{ ('x' * 1000000) * 1000 }}", "templates/letter.md:1: the template went past a limit"),
    ("\n{% for i in range(100000) %}{% for j in range(100000) %}xxxxxxxxxx{% endfor %}"
     "{% endfor %}", "templates/letter.md:2: the template went past a limit: the document "
     "would be more than 16,777,216 characters"),
    ("{{ 'x'|center(10000000000) }}", "templates/letter.md:1: the template went past a "
     "limit: the number 10000000000 is too large"),
    ("{{ '%099999999d' % 3 }}", "templates/letter.md:1: the template went past a limit: a "
     "format with a width of millions of characters"),
    ("{{ 10 ** 10000000 }}", "templates/letter.md:1: the template went past a limit"),
])
def test_templates_are_bounded(cli: Cli, decided: Path, body: str, message: str) -> None:
    result = _letter(cli, decided, body)
    assert result.code == 4, result.err
    assert message in result.err
    assert result.out == ""


def test_a_template_linked_out_of_the_repository_is_refused(cli: Cli, decided: Path,
                                                             tmp_path: Path) -> None:
    secret = tmp_path / "secret.md"
    secret.write_text(SECRET)
    (decided / "templates").mkdir()
    _symlink(secret, decided / "templates" / "letter.md")
    result = _letter(cli, decided)
    assert result.code == 4
    assert SECRET not in result.out + result.err
    assert "templates/letter.md: leads out of the templates folder through a link" in \
        result.err


def test_a_templates_folder_linked_out_of_the_repository_is_refused(
        cli: Cli, decided: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "letter.md").write_text(SECRET)
    _symlink(elsewhere, decided / "templates")
    result = _letter(cli, decided)
    assert result.code == 4 and SECRET not in result.out
    assert "templates: a link to a folder outside the repository" in \
        result.err


def test_an_include_through_a_linked_folder_is_refused(cli: Cli, decided: Path,
                                                       tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret.md").write_text(SECRET)
    (decided / "templates").mkdir()
    _symlink(elsewhere, decided / "templates" / "sub")
    result = _letter(cli, decided, "{% include 'sub/secret.md' %}")
    assert result.code == 4 and SECRET not in result.out
    assert "templates/sub/secret.md: leads out of the templates folder through a link" in \
        result.err


def test_a_fifo_template_is_refused(cli: Cli, decided: Path) -> None:
    (decided / "templates").mkdir()
    _fifo(decided / "templates" / "letter.md")
    result = _letter(cli, decided)
    assert result.code == 4
    assert "templates/letter.md: is a named pipe (FIFO), not a regular file" in \
        result.err


def test_templates_inside_the_repository_still_include_each_other(cli: Cli,
                                                                  decided: Path) -> None:
    (decided / "templates").mkdir()
    (decided / "templates" / "parts").mkdir()
    (decided / "templates" / "parts" / "sign.md").write_text("-- {{ organisation }}\n")
    git_commit_all(decided, "templates")
    result = _letter(cli, decided, "Dear {{ person.name }}\n{% include 'parts/sign.md' %}")
    assert result.code == 0, result.err
    assert result.out == ("Dear Amara Okafor\n"
                          "-- Example Care & Consulting Group\n")


# ---------------------------------------------------------------------- clean output


@pytest.mark.parametrize(("cell", "written"), [
    ('=HYPERLINK("http://evil.example","x")', "'=HYPERLINK(\"http://evil.example\",\"x\")"),
    ("+1+1", "'+1+1"), ("-1+1", "'-1+1"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("Operations", "Operations"), (-0.5, "-0.5"), (3, "3"),
])
def test_csv_cells_a_spreadsheet_would_run_are_neutralised(cell: object, written: str) -> None:
    import csv
    import io

    from promoctl.base.escape import CsvWriter

    buffer = io.StringIO()
    CsvWriter(buffer).writerow([cell])
    assert next(csv.reader(io.StringIO(buffer.getvalue()))) == [written]


NAMES = {
    "ESC [2J": '"Amara\\e[2J Okafor"',
    "an OSC title": '"Amara\\e]0;pwned\\a Okafor"',
    "a bidirectional override": '"Amara\\u202e Okafor"',
}


@pytest.mark.parametrize("name", NAMES.values(), ids=list(NAMES))
def test_control_characters_in_names_are_validation_errors(cli: Cli, examples: Path,
                                                           name: str) -> None:
    person = examples / "people" / "amara-okafor.yaml"
    person.write_text(person.read_text().replace("name: Amara Okafor", f"name: {name}"))
    result = cli("validate", cwd=examples)
    assert result.code == 3
    (line,) = result.out.splitlines()
    assert line.startswith("people/amara-okafor.yaml:5:7: name: contains the control "
                           "character \\")
    assert "\x1b" not in result.out + result.err
    evaluated = cli("evaluate", "--all", cwd=examples)
    assert evaluated.code == 3 and "\x1b" not in evaluated.out + evaluated.err


def test_control_characters_that_reach_a_terminal_are_escaped(
        capsys: pytest.CaptureFixture[str]) -> None:
    from promoctl.base.escape import TerminalStream

    TerminalStream("stdout").write("\x1b[1mbold\x1b[0m \x1b[2J \x1b]0;title\x07 \u202e\n")
    assert capsys.readouterr().out == "\x1b[1mbold\x1b[0m \\x1b[2J \\x1b]0;title\\x07 \\u202e\n"


def test_rich_markup_in_a_name_is_printed_as_text(cli: Cli, examples: Path) -> None:
    person = examples / "people" / "amara-okafor.yaml"
    person.write_text(person.read_text().replace("name: Amara Okafor",
                                                 'name: "[link=http://evil.example]Amara[/link]"'))
    result = cli("evaluate", PACKET, cwd=examples)
    assert "[link=http://evil.example]Amara[/link]" in result.out


# ------------------------------------------------------------------- bounded messages


def test_a_long_value_is_quoted_in_about_80_characters(cli: Cli, examples: Path) -> None:
    person = examples / "people" / "amara-okafor.yaml"
    person.write_text(person.read_text().replace("kind: person", "kind: " + "x" * (1 << 20)
                                                 + "\nz: 1", 1)[: (1 << 20) - 1])
    result = cli("validate", "people", cwd=examples)
    assert result.code == 3
    # The packet that names the broken person is listed too, under its own path.
    (line,) = [ln for ln in result.out.splitlines() if ln.startswith("people/")]
    assert len(line) < 300 and "(1,048,5" in line


def test_a_huge_whole_number_is_out_of_range(cli: Cli, examples: Path) -> None:
    person = examples / "people" / "amara-okafor.yaml"
    person.write_text(person.read_text().replace("North Homes", "9" * 5000))
    result = cli("validate", "people", cwd=examples)
    assert result.code == 3
    (line,) = result.out.splitlines()
    assert ": the number '9999" in line and "is out of range: it has 5,000 digits" in line
    assert len(line) < 300


def test_problems_per_file_are_capped_with_the_total(cli: Cli, examples: Path) -> None:
    person = examples / "people" / "amara-okafor.yaml"
    person.write_text(person.read_text() + "".join(f"bogus{i}: 1\n" for i in range(50)))
    for extra in ((), ("--format", "json")):
        result = cli("validate", *extra, cwd=examples)
        assert result.code == 3
        if extra:
            messages = [p["message"] for p in json.loads(result.out)["problems"]]
        else:
            messages = [line.split(": ", 1)[1] for line in result.out.splitlines()]
        assert len(messages) == 21
        assert messages[-1] == ("and 30 more problems in this file (50 in all; at most 20 "
                                "are listed per file)")
    assert cli("validate", cwd=examples).err == "50 problem(s) in 1 file(s)\n"


def test_an_import_of_many_bad_statements_is_bounded(cli: Cli, examples: Path,
                                                      tmp_path: Path) -> None:
    statements = tmp_path / "statements.json"
    statements.write_text(json.dumps([{"x": 1}] * 5000))
    result = cli("import", "xapi", statements, "--dry-run", cwd=examples)
    assert result.code == 3
    lines = result.err.splitlines()
    assert len(lines) <= 23
    assert lines[-1].endswith("and 4,980 more problems in this file (5,000 in all; at most "
                              "20 are listed per file)")


# ------------------------------------------------------------- every problem in one run


def test_a_duplicate_key_does_not_hide_the_other_problems(cli: Cli, examples: Path) -> None:
    person = examples / "people" / "amara-okafor.yaml"
    text = person.read_text().replace("name: Amara Okafor", "name: Amara Okafor\nname: A O")
    person.write_text(text.replace("program: Community Services", "program: [x]"))
    result = cli("validate", "people", cwd=examples)
    assert result.code == 3
    assert [line.split(": ", 1)[1] for line in result.out.splitlines()] == [
        "duplicate key 'name' (first given on line 5); YAML would silently keep only the last",
        "program: expected text, found a list",
    ]


def test_a_score_between_two_levels_of_the_scale_is_a_problem(cli: Cli, examples: Path
                                                              ) -> None:
    packet = examples / PACKET
    text = packet.read_text()
    assert "result: {score: 3}" in text
    packet.write_text(text.replace("result: {score: 3}", "result: {score: 2.5}", 1))
    result = cli("validate", cwd=examples)
    assert result.code == 3
    (line,) = result.out.splitlines()
    assert line.endswith("score 2.5 is not a level of the scale of framework "
                         "'community-services'; give one of 1, 2, 3, 4")


# --------------------------------------------------------- right codes, wrong file


@pytest.mark.parametrize(("args", "message"), [
    (("people/amara-okafor.yaml",), "people/amara-okafor.yaml: is a person record, not a "
                                    "packet"),
    (("frameworks",), "no packet records in frameworks"),
])
def test_evaluate_on_what_is_not_a_packet_says_what_it_is(cli: Cli, examples: Path,
                                                          args: tuple[str, ...],
                                                          message: str) -> None:
    (examples / "people" / "broken.yaml").write_text("kind: person\n")  # unrelated
    result = cli("evaluate", *args, cwd=examples)
    assert result.code == 4
    assert result.err.startswith(f"promoctl: error: {message}")


# ------------------------------------------------- whole-repository commands, one bad file


def test_panel_prints_the_pack_then_every_problem(cli: Cli, examples: Path) -> None:
    (examples / "people" / "broken.yaml").write_text("kind: person\n")
    result = cli("panel", cwd=examples)
    assert result.code == 3
    assert result.out.startswith("# Example Care & Consulting Group")
    lines = result.err.splitlines()
    assert lines[0] == ("promoctl: 7 problem(s) in 1 file(s); the pack above leaves out the "
                        "packets they block:")
    assert len(lines) == 8 and all(line.startswith("people/broken.yaml:1:1: missing "
                                                   "required field") for line in lines[1:])


@pytest.mark.parametrize("command", [("due",), ("report",), ("status", "amara-okafor")])
def test_commands_that_need_every_record_valid_print_nothing_else(
        cli: Cli, examples: Path, command: tuple[str, ...]) -> None:
    (examples / "people" / "broken.yaml").write_text("kind: person\n")
    result = cli(*command, cwd=examples)
    assert result.code == 3 and result.out == ""
    assert result.err.startswith("promoctl: error: 7 problem(s) in 1 file(s) of the "
                                 "repository; this command answers only when every record "
                                 "is valid")


def test_schema_and_framework_problems_of_a_packet_in_one_run(cli: Cli, examples: Path
                                                              ) -> None:
    packet = examples / PACKET
    text = packet.read_text().replace("submitted: 2026-10-15", "submitted: 2026-13-15", 1)
    text = text.replace("type: observation", "type: observaton", 1)
    packet.write_text(text.replace("result: {score: 3}", "result: {score: 7}", 1))
    expected = [
        f"{PACKET}:8:12: submitted: '2026-13-15' is not a real date (month must be in 1..12)",
        f"{PACKET}:28:11: unknown evidence type 'observaton' (did you mean 'observation'?)",
        f"{PACKET}:33:21: score 7 is outside the scale of framework 'community-services' "
        "(1 to 4)"]
    assert cli("validate", cwd=examples).out.splitlines() == expected
    assert cli("validate", PACKET, cwd=examples).out.splitlines() == expected
