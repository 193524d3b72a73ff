"""Adversarial input for the YAML layer: every bad file is a located problem, never a crash.

Most cases call ``yamlio.parse`` directly; the ones a user meets first (bad bytes, huge or
absurdly nested files) also go through ``promoctl validate``. Inputs that could take the
interpreter down if a guard regressed run in a subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from promoctl.base.errors import Problem
from promoctl.records import yamlio
from tests.conftest import Cli

NAME = "rec.yaml"
LIBYAML = yamlio.HAVE_LIBYAML


def problems(raw: bytes, **kw: Any) -> list[str]:
    """The problems ``parse`` raises for ``raw``, as ``path:line:col: message`` lines."""
    with pytest.raises(yamlio.YamlProblems) as info:
        yamlio.parse(raw, NAME, **kw)
    found = info.value.problems
    assert found, "YamlProblems without problems"
    assert all(isinstance(p, Problem) for p in found)
    return [str(p) for p in found]


def only_problem(raw: bytes) -> str:
    (line,) = problems(raw)
    return line


def data(raw: bytes) -> Any:
    return yamlio.parse(raw, NAME).data


def validate(cli: Cli, repo: Path, *extra: str) -> list[str]:
    result = cli("validate", "--repo", repo, *extra)
    assert result.code == 3, (result.out, result.err)
    return result.out.splitlines()


# ---------------------------------------------------------------------------- malformed


@pytest.mark.parametrize(("raw", "expected"), [
    pytest.param(b"kind: person\nname: x\n  team: y\n",
                 "rec.yaml:3:7: this line's indentation does not match the lines above it: "
                 "the fields of one record or item line up, the '-' of one list's items line "
                 "up, and a nested value is indented more than its field",
                 id="bad-indent"),
    pytest.param(b"kind: person\n\tname: x\n",
                 "rec.yaml:2:1: a tab in the indentation: YAML indents with spaces only; "
                 "replace the tab with spaces", id="tab-indent"),
    pytest.param(b"kind: person\nname: x: y\n",
                 "rec.yaml:2:8: a ': ' inside a value: YAML reads it as a second field; put "
                 "the value in quotes", id="colon-in-value"),
    pytest.param(b'kind: person\nname: "Tess\n',
                 "rec.yaml:3:1: the file ends inside a quoted text or a [ ] or { } list; "
                 "close it", id="unclosed-quote"),
    pytest.param(b"kind: person\n---\nkind: packet\n",
                 "rec.yaml:2:1: a second YAML document ('---'): a record file holds one "
                 "record", id="two-documents"),
    pytest.param(b"kind: person\nmanager: *boss\n",
                 "rec.yaml:2:10: YAML aliases (*name) are not allowed in records; write the "
                 "value out", id="undefined-alias"),
    pytest.param(b"kind: person\nname: x\n- y\n",
                 "rec.yaml:3:1: a list item ('- ') where a field was expected: indent it "
                 "under the field whose list it belongs to", id="list-item-in-mapping"),
])
def test_malformed_yaml_is_one_located_problem(raw: bytes, expected: str) -> None:
    assert only_problem(raw) == expected


def test_unclosed_flow_sequence_is_reported_where_libyaml_gives_up() -> None:
    # The problem is found at the end of the file (line 3 of a two-line file); the message
    # still names the construct. (Pointing at the '[' itself would be kinder; see report.)
    line = only_problem(b"kind: person\nname: [Tess\n")
    assert line == ("rec.yaml:3:1: invalid YAML: while parsing a flow sequence did not find "
                    "expected ',' or ']'")


def test_malformed_file_among_good_ones_is_reported_by_validate(cli: Cli,
                                                               examples: Path) -> None:
    (examples / "packets" / "broken.yaml").write_bytes(b"kind: packet\nid: [x\n")
    assert validate(cli, examples) == [
        "packets/broken.yaml:3:1: invalid YAML: while parsing a flow sequence did not find "
        "expected ',' or ']'"]


# ------------------------------------------------------------------------ duplicate keys


def test_duplicate_key_is_rejected_not_last_wins() -> None:
    raw = b"kind: person\nname: Tess\nteam: A\nname: Other\n"
    assert only_problem(raw) == ("rec.yaml:4:1: duplicate key 'name' (first given on line 2); "
                                 "YAML would silently keep only the last")


def test_duplicate_key_quoted_and_plain_is_the_same_key() -> None:
    raw = b'kind: person\nname: Tess\n"name": Other\n'
    assert only_problem(raw).startswith("rec.yaml:3:1: duplicate key 'name' (first given on "
                                        "line 2)")


def test_duplicate_key_in_nested_flow_mapping_is_located_at_the_repeat() -> None:
    raw = b"kind: packet\ntarget: {ladder: a, level: b, ladder: c}\n"
    assert only_problem(raw).startswith("rec.yaml:2:31: duplicate key 'ladder' (first given "
                                        "on line 2)")


def test_every_duplicate_key_is_reported_at_once() -> None:
    raw = (b"kind: packet\nid: a\nid: b\nevidence:\n  - id: x\n    type: t\n"
           b"    type: u\n")
    assert [p.split(": duplicate")[0] for p in problems(raw)] == ["rec.yaml:3:1",
                                                                   "rec.yaml:7:5"]


def test_duplicate_integer_keys_are_rejected() -> None:
    raw = b"anchors:\n  1: low\n  2: mid\n  1: again\n"
    assert only_problem(raw).startswith("rec.yaml:4:3: duplicate key 1 (first given on line 2)")


# -------------------------------------------------------------------------- empty files


@pytest.mark.parametrize("raw", [b"", b"\n\n", b"# only a comment\n", b"\xef\xbb\xbf",
                                 b"   \n  \n"],
                         ids=["zero-bytes", "blank-lines", "comment", "bom-only", "spaces"])
def test_empty_file_is_a_whole_file_problem(raw: bytes) -> None:
    assert only_problem(raw) == ("rec.yaml:0:0: file is empty; expected a record with a "
                                 "'kind' field")


def test_empty_file_reported_by_validate(cli: Cli, examples: Path) -> None:
    (examples / "people" / "empty.yaml").write_bytes(b"")
    assert validate(cli, examples) == [
        "people/empty.yaml:0:0: file is empty; expected a record with a 'kind' field"]


# ------------------------------------------------------------------------------- encoding


@pytest.mark.parametrize(("raw", "expected"), [
    pytest.param(b"kind: person\nname: caf\xe9\n",
                 "rec.yaml:2:10: file is not UTF-8 text (byte 0xe9 at offset 22)", id="latin-1"),
    pytest.param("kind: person\n".encode("utf-16"),
                 "rec.yaml:1:1: file is not UTF-8 text (byte 0xff at offset 0)", id="utf-16"),
    pytest.param(b"kind: person\nname: \xe2\x82\n",
                 "rec.yaml:2:7: file is not UTF-8 text (byte 0xe2 at offset 19)",
                 id="truncated-sequence"),
    pytest.param(b"kind: person\nname: a\x00b\n",  # valid UTF-8, but not a YAML character
                 "rec.yaml:2:8: invalid YAML: control characters are not allowed (character 0)",
                 id="nul-byte"),
])
def test_non_utf8_bytes_are_located(raw: bytes, expected: str) -> None:
    assert only_problem(raw) == expected


def test_non_utf8_column_counts_characters() -> None:
    # 'ééé' is three characters (six bytes); the bad byte is the tenth character.
    raw = "name: ééé".encode() + b"\xff\n"
    assert only_problem(raw).startswith("rec.yaml:1:10: file is not UTF-8 text")


def test_utf8_bom_is_accepted() -> None:
    assert data(b"\xef\xbb\xbfkind: person\n") == {"kind": "person"}


def test_control_character_is_located() -> None:
    assert only_problem(b"kind: person\nname: a\x07b\n") == (
        "rec.yaml:2:8: invalid YAML: control characters are not allowed (character 7)")


def test_control_character_after_multibyte_text_is_located() -> None:
    raw = "kind: person\nname: é\x7f\n".encode()
    assert only_problem(raw) == ("rec.yaml:2:8: invalid YAML: control characters are not "
                                 "allowed (character 127)")


def test_non_utf8_file_reported_by_validate_with_the_others(cli: Cli, examples: Path) -> None:
    (examples / "people" / "latin.yaml").write_bytes(b"kind: person\nname: Zo\xeb\n")
    (examples / "people" / "empty.yaml").write_bytes(b"")
    assert validate(cli, examples) == [
        "people/empty.yaml:0:0: file is empty; expected a record with a 'kind' field",
        "people/latin.yaml:2:9: file is not UTF-8 text (byte 0xeb at offset 21)",
    ]


# ------------------------------------------------------------------------------ file size


def _sized(size: int) -> bytes:
    head = b"kind: person\nnotes: "
    return head + b"a" * (size - len(head) - 1) + b"\n"


def test_file_of_exactly_the_limit_is_read() -> None:
    raw = _sized(yamlio.MAX_FILE_BYTES)
    assert len(raw) == 1024 * 1024
    assert data(raw)["kind"] == "person"


def test_file_one_byte_over_the_limit_is_refused() -> None:
    assert only_problem(_sized(yamlio.MAX_FILE_BYTES + 1)) == (
        "rec.yaml:0:0: file is 1,048,577 bytes; records are limited to 1,048,576 bytes (1 MiB)")


def test_size_is_checked_before_decoding() -> None:
    raw = b"\xff" * (yamlio.MAX_FILE_BYTES + 10)
    assert "records are limited to 1,048,576 bytes" in only_problem(raw)


def test_oversized_file_reported_by_validate(cli: Cli, examples: Path) -> None:
    (examples / "packets" / "huge.yaml").write_bytes(_sized(2 * 1024 * 1024))
    assert validate(cli, examples) == [
        "packets/huge.yaml:0:0: file is 2,097,152 bytes; records are limited to 1,048,576 "
        "bytes (1 MiB)"]


# --------------------------------------------------------------------------------- aliases

ALIAS = "YAML aliases (*name) are not allowed in records; the anchor defined here is " \
        "referenced again"


def test_alias_is_refused_at_its_anchor() -> None:
    raw = b"kind: person\nteam: &t North\nnotes: *t\n"
    assert only_problem(raw) == f"rec.yaml:2:7: {ALIAS}"


def _billion_laughs(levels: int = 10, width: int = 10) -> bytes:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return ("\n".join(lines) + "\n").encode()


def test_billion_laughs_is_refused_without_expansion() -> None:
    # Fully expanded this is 9 * 10**9 strings; it must come back at once with one problem
    # per referenced anchor (l0..l8; l9 is never referenced).
    found = problems(_billion_laughs())
    assert found == [f"rec.yaml:{n}:5: {ALIAS}" for n in range(1, 10)]


def test_wide_alias_fan_out_is_one_problem() -> None:
    raw = b"a: &a [x]\nb: [" + b", ".join([b"*a"] * 100_000) + b"]\n"
    assert problems(raw) == [f"rec.yaml:1:4: {ALIAS}"]


def test_billion_laughs_reported_by_validate(cli: Cli, examples: Path) -> None:
    (examples / "packets" / "lol.yaml").write_bytes(b"kind: packet\n" + _billion_laughs())
    lines = validate(cli, examples)
    assert lines == [f"packets/lol.yaml:{n}:5: {ALIAS}" for n in range(2, 11)]


def test_merge_key_with_alias_is_refused() -> None:
    raw = b"base: &b {weight: 1}\nline:\n  <<: *b\n"
    assert problems(raw) == ["rec.yaml:3:3: YAML merge keys (<<) are not allowed in records"]


def test_merge_key_without_alias_is_refused() -> None:
    raw = b"line:\n  <<: {weight: 1}\n"
    assert only_problem(raw) == "rec.yaml:2:3: YAML merge keys (<<) are not allowed in records"


def test_quoted_merge_key_is_ordinary_text() -> None:
    assert data(b"line:\n  '<<': x\n") == {"line": {"<<": "x"}}


# ------------------------------------------------------------------------------------ tags


@pytest.mark.parametrize(("raw", "expected"), [
    (b"kind: !!python/object:os.system x\n", "1:7: tag !!python/object:os.system"),
    (b"kind: person\nx: !!python/object/apply:os.system ['echo pwned']\n",
     "2:4: tag !!python/object/apply:os.system"),
    (b"kind: person\nx: !!python/object/new:os.system [x]\n",
     "2:4: tag !!python/object/new:os.system"),
    (b"kind: person\nx: !!python/name:os.system\n", "2:4: tag !!python/name:os.system"),
    (b"kind: person\nx: !!python/tuple [1, 2]\n", "2:4: tag !!python/tuple"),
    (b"kind: person\nx: !!binary aGk=\n", "2:4: tag !!binary"),
    (b"kind: person\nx: !!timestamp 2024-01-01\n", "2:4: tag !!timestamp"),
    (b"kind: person\nx: !!set {a, b}\n", "2:4: tag !!set"),
    (b"kind: person\nx: !!omap [a: 1]\n", "2:4: tag !!omap"),
    (b"kind: person\nx: !custom thing\n", "2:4: tag !custom"),
    (b"kind: person\nx: !<tag:example.com,2024:x> y\n", "2:4: tag tag:example.com,2024:x"),
])
def test_tags_outside_the_core_schema_are_refused(raw: bytes, expected: str) -> None:
    assert only_problem(raw) == f"rec.yaml:{expected} is not allowed in records"


def test_python_object_tag_never_runs_code(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    raw = f"x: !!python/object/apply:os.system ['touch {marker}']\n".encode()
    problems(raw)
    assert not marker.exists()


def test_python_object_tag_reported_by_validate(cli: Cli, examples: Path) -> None:
    (examples / "people" / "evil.yaml").write_bytes(
        b"kind: person\nname: !!python/object/apply:os.system ['true']\n")
    assert validate(cli, examples) == [
        "people/evil.yaml:2:7: tag !!python/object/apply:os.system is not allowed in records"]


@pytest.mark.parametrize(("raw", "expected"), [
    (b"x: !!float abc\n", "rec.yaml:1:4: 'abc' is not a valid !!float"),
    (b"x: !!int 0x1F\n", "rec.yaml:1:4: '0x1F' is not a valid !!int"),
])
def test_core_tag_with_impossible_value(raw: bytes, expected: str) -> None:
    assert only_problem(raw) == expected


def test_explicit_str_tag_keeps_text() -> None:
    assert data(b"version: !!str 3.10\n") == {"version": "3.10"}


# ------------------------------------------------------------------------ mapping keys


@pytest.mark.parametrize(("raw", "col"), [
    (b"kind: person\n? [a, b]\n: x\n", 3),
    (b"kind: person\n{a: b}: x\n", 1),
    (b"kind: person\n1.5: x\n", 1),
    (b"kind: person\ntrue: x\n", 1),
    (b"kind: person\n~: x\n", 1),
])
def test_keys_must_be_text_or_whole_numbers(raw: bytes, col: int) -> None:
    assert only_problem(raw) == f"rec.yaml:2:{col}: mapping keys must be plain text or whole " \
                                "numbers"


# ------------------------------------------------------------------- YAML 1.1 surprises


@pytest.mark.parametrize("text", [
    "no", "No", "NO", "yes", "Yes", "on", "On", "off", "OFF", "y", "n", "Y", "N",
    "2024-01-01", "2001-12-14t21:59:43.10-05:00", "12:30", "12:30:00", "1:20:30",
    "007", "0o17", "0x1F", "0b101", "1_000", ".inf", "-.inf", ".nan", "+.5", "1.", ".5",
    "3.10.1", "1e", "=",
])
def test_plain_scalars_that_yaml_1_1_would_coerce_stay_text(text: str) -> None:
    assert data(f"value: {text}\n".encode()) == {"value": text}


@pytest.mark.parametrize(("text", "value"), [
    ("42", 42), ("-7", -7), ("+3", 3), ("0", 0), ("-0", 0),
    ("3.10", Decimal("3.10")), ("1e3", Decimal("1e3")), ("2.5E-2", Decimal("0.025")),
    ("true", True), ("False", False), ("TRUE", True),
    ("~", None), ("null", None), ("NULL", None), ("", None),
])
def test_core_schema_plain_scalars(text: str, value: Any) -> None:
    got = data(f"value: {text}\n".encode())["value"]
    assert got == value and type(got) is type(value)


def test_numbers_with_a_fraction_are_exact_decimals() -> None:
    got = data(b"w: 0.1\n")["w"]
    assert isinstance(got, Decimal) and got + got + got == Decimal("0.3")


@pytest.mark.parametrize("text", ["'no'", '"3.10"', "'2024-02-30'", "'~'", '"true"'])
def test_quoted_scalars_are_always_text(text: str) -> None:
    assert data(f"v: {text}\n".encode()) == {"v": text[1:-1]}


def test_plain_text_of_non_string_scalars_is_kept() -> None:
    doc = yamlio.parse(b"version: 3.10\nflag: true\nname: Tess\n", NAME)
    assert doc.plain_text == {("version",): "3.10", ("flag",): "true"}


def test_pure_parser_keeps_plain_text() -> None:
    doc = yamlio.parse(b"version: 3.10\nflag: true\nname: Tess\n", NAME, pure=True)
    assert doc.plain_text == {("version",): "3.10", ("flag",): "true"}


SCALARS = ["", "~", "null", "Null", "NULL", "nul", "true", "True", "TRUE", "tRue", "false",
           "no", "on", "yes", "0", "-0", "+7", "007", "12", "1_000", "0x1F", "0o7", "3.10",
           "-0.5", "1e3", "1.5E-2", ".5", "5.", ".inf", ".nan", "2024-02-30", "12:30",
           "Tess", "~x", "-x", "+"]


@pytest.mark.skipif(not LIBYAML, reason="needs libyaml")
@pytest.mark.parametrize("plain", SCALARS)
def test_libyaml_resolves_plain_scalars_as_the_pure_parser_does(plain: str) -> None:
    raw = f"v: {plain}\nl: [{plain or '~'}]\n{plain or 'k'}: 1\n".encode()

    def outcome(pure: bool) -> Any:
        try:
            doc = yamlio.parse(raw, NAME, pure=pure)
        except yamlio.YamlProblems as exc:
            return exc.problems
        return doc.data, doc.plain_text

    assert outcome(pure=False) == outcome(pure=True)


def test_libyaml_and_pure_parser_agree_on_the_examples(examples: Path) -> None:
    for path in sorted(examples.rglob("*.yaml")):
        raw = path.read_bytes()
        assert yamlio.parse(raw, NAME).data == yamlio.parse(raw, NAME, pure=True).data, path


# ------------------------------------------------------------------------------- positions


def test_positions_of_values_and_keys() -> None:
    doc = yamlio.parse(b"kind: packet\nevidence:\n  - id: a\n    competencies: [x, y]\n", NAME)
    assert doc.marks[("evidence", 0, "competencies", 1)] == (4, 23)
    assert doc.key_marks[("evidence", 0, "competencies")] == (4, 5)
    assert doc.locate(("evidence", 0, "nope", 3)) == (3, 5)
    assert doc.locate(("evidence", 0, "id"), key=True) == (3, 5)


# ------------------------------------------------------------------------------- nesting

DEEP = "nesting is deeper than 64 levels"


def test_sixty_four_levels_are_allowed() -> None:
    raw = b"x: " + b"[" * 63 + b"]" * 63 + b"\n"  # the mapping plus 63 sequences
    expected: list[Any] = []
    for _ in range(62):
        expected = [expected]
    assert data(raw) == {"x": expected}


@pytest.mark.parametrize(("raw", "where"), [
    (b"x: " + b"[" * 300 + b"]" * 300 + b"\n", "1:67"),
    (b"x: " + b"{a: " * 300 + b"}" * 300 + b"\n", "1:256"),
    (b"- " * 100 + b"x\n", "1:129"),
    (b"- " * 5000 + b"x\n", "1:129"),  # short enough for the builder to find
    (b"- " * 10000 + b"x\n", "1:129"),  # long enough for the exact pre-check
    (b"? " * 100 + b"x\n", "1:129"),
    (b"".join(b"  " * i + b"-\n" for i in range(100)), "65:129"),
])
def test_too_deep_is_one_located_problem(raw: bytes, where: str) -> None:
    assert only_problem(raw) == f"rec.yaml:{where}: {DEEP}"


def test_depth_limit_does_not_depend_on_brackets_elsewhere() -> None:
    deep = b"x: " + b"[" * 64 + b"]" * 64 + b"\n"  # the mapping plus 64 sequences
    padded = deep + b"# " + b"[" * 300 + b"\n"
    assert problems(padded) == [f"rec.yaml:1:67: {DEEP}"]
    assert problems(deep) == [f"rec.yaml:1:67: {DEEP}"]


def test_depth_is_promoctls_answer_past_pyyamls_own_limit() -> None:
    # libyaml (PyYAML >= 6.0.4) refuses 1,000 flow levels itself, in its own words and at
    # column ~1010; the pre-scan cuts the text first, so the answer is the same on any PyYAML.
    body = b"x: " + b"[" * 1500 + b"]" * 1500 + b"\n"
    assert problems(body) == [f"rec.yaml:1:67: {DEEP}"]
    mixed = b"x:\n  y: " + b"{a: " * 1200 + b"1" + b"}" * 1200 + b"\n"
    assert problems(mixed) == [f"rec.yaml:2:{6 + 4 * 62}: {DEEP}"]  # the 63rd brace


def test_brackets_in_quotes_and_comments_are_not_nesting() -> None:
    quoted = b"a: '" + b"[" * 300 + b"''s'\nb: \"" + b"{" * 300 + b"\\\"\"\n"
    commented = b"a: 1 # " + b"[" * 300 + b"\nb: [[1]]\n"
    assert yamlio.parse(quoted, NAME).data["a"] == "[" * 300 + "'s"
    assert yamlio.parse(commented, NAME).data["b"] == [[1]]


HUNDRED_K = 100_000


@pytest.mark.parametrize(("body", "where"), [
    pytest.param(b"evidence: " + b"[" * HUNDRED_K + b"]" * HUNDRED_K + b"\n", "2:74",
                 id="flow-sequences"),
    pytest.param(b"evidence: " + b"[" * HUNDRED_K + b"\n", "2:74", id="unclosed-flow"),
    pytest.param(b"evidence: " + b"{" * HUNDRED_K + b"}" * HUNDRED_K + b"\n", "2:74",
                 id="flow-mappings"),
    pytest.param(b"evidence:\n" + b"- " * HUNDRED_K + b"x\n", "3:127", id="block-sequences"),
    pytest.param(b"evidence:\n" + b"- ? " * (HUNDRED_K // 2) + b"x\n", "3:127",
                 id="block-sequences-and-mappings"),
])
def test_hundred_thousand_levels_do_not_crash_the_interpreter(examples: Path, body: bytes,
                                                              where: str) -> None:
    (examples / "packets" / "deep.yaml").write_bytes(b"kind: packet\n" + body)
    proc = subprocess.run(
        [sys.executable, "-m", "promoctl", "validate", "--repo", str(examples),
         "--format", "json"],
        capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 3, proc.stderr  # a crash would be a negative signal number
    assert "Traceback" not in proc.stderr
    line, col = (int(n) for n in where.split(":"))
    assert json.loads(proc.stdout)["problems"] == [
        {"path": "packets/deep.yaml", "line": line, "column": col, "message": DEEP,
         "severity": "error"}]
