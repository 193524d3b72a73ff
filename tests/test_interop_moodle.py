"""Moodle competency framework CSV: the real OECD export in, the same format out."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import yaml

from promoctl.interop import moodle
from promoctl.interop.framework_file import related, split_meta
from promoctl.records.loader import discover
from promoctl.records.models import Framework
from promoctl.records.parsing import parse_record
from promoctl.records.reading import load
from tests.conftest import INTEROP, Cli

OECD = INTEROP / "moodle" / "oecd-core-competencies.csv"


def _framework(path: Path) -> Framework:
    source, problems = parse_record(path.read_bytes(), path.name)
    assert source is not None, problems
    assert isinstance(source.record, Framework)
    return source.record


def _depth(fw: Framework, comp_id: str) -> int:
    parents = {c.id: c.parent for c in fw.competencies}
    n, node = 1, parents[comp_id]
    while node is not None:
        n, node = n + 1, parents[node]
    return n


@pytest.fixture
def oecd(cli: Cli, examples: Path) -> Path:
    result = cli("import", "moodle-framework", OECD, cwd=examples)
    assert result.code == 0, result.err
    assert "wrote" in result.err and "64 competencies, 4 levels deep" in result.err
    return examples / "frameworks" / "OECD-CORE.yaml"


def test_the_real_export_becomes_a_framework_that_validates(cli: Cli, examples: Path,
                                                            oecd: Path) -> None:
    fw = _framework(oecd)
    assert fw.id == "OECD-CORE" and fw.title == "OECD"
    assert len(fw.competencies) == 64  # 65 data rows, one of them the framework
    assert len({c.id for c in fw.competencies}) == 64
    assert max(_depth(fw, c.id) for c in fw.competencies) == 4
    by_id = {c.id: c for c in fw.competencies}
    assert [c.id for c in fw.competencies if c.parent is None] == ["levels", "competencies"]
    assert by_id["analytical-thinking"].parent == "delivery"
    assert by_id["delivery"].parent == "competencies"
    assert by_id["DR-AT1"].parent == "analytical-thinking"  # spelt as in the source
    assert by_id["acheivement-focus"].name == "Achievement Focus"
    assert by_id["level-1"].parent == "levels"
    assert _depth(fw, "DR-AT1") == 4
    assert [(s.value, s.label, s.description) for s in fw.scale] == [
        (1, "Not yet competent", None), (2, "Competent", "Moodle: default, proficient")]
    assert fw.categories == ["competency"]
    # HTML became text: paragraphs and line breaks kept, no markup, CRLF gone
    prose, _ = split_meta(by_id["analytical-thinking"].description)
    assert prose == ("Analytical Thinking is the ability to identify patterns across "
                     "situations that are not obviously related, and to identify key or "
                     "underlying issues in complex situations.")
    assert fw.description is not None and "<" not in fw.description
    assert fw.description.endswith("• The delivery-related competencies\n"
                                   "• The interpersonal competencies\n"
                                   "• The strategic competencies")
    assert "\r" not in oecd.read_text(encoding="utf-8")
    # names cut at 100 characters by Moodle lose their trailing space
    assert all(c.name == c.name.strip() for c in fw.competencies)
    # cross-references: level-1 lists 39 behaviours, each of them lists level-1
    assert len(related(by_id["level-1"].description)) == 39
    assert related(by_id["DR-AT1"].description) == ["level-1"]
    assert oecd.read_text().startswith(
        "# yaml-language-server: $schema=../schemas/framework.schema.json\n")
    assert cli("validate", cwd=examples).code == 0


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_round_trip_keeps_ids_hierarchy_and_scale(cli: Cli, examples: Path, oecd: Path,
                                                  tmp_path: Path) -> None:
    out = tmp_path / "oecd-export.csv"
    assert cli("export", "moodle-framework", "OECD-CORE", "--out", out, cwd=examples).code == 0
    original = _rows(OECD.read_text(encoding="utf-8"))
    exported = _rows(out.read_text(encoding="utf-8"))
    assert exported[0] == list(moodle.HEADERS) == original[0]
    assert len(exported) == len(original) == 66
    assert all(len(row) == 14 for row in exported)

    def key(row: list[str]) -> tuple[str, str, str, str]:
        return row[1], row[0], row[2].strip(), row[10]

    assert sorted(map(key, exported[1:])) == sorted(map(key, original[1:]))
    framework_row = exported[1]
    assert framework_row[1:3] == ["OECD-CORE", "OECD"] and framework_row[12] == "1"
    assert framework_row[5] == "Not yet competent,Competent"
    config = json.loads(framework_row[6])
    assert config[1:] == [{"id": 2, "scaledefault": 1, "proficient": 1}]
    assert framework_row[13] == "competency,competency,competency,competency"
    # ... and importing the export gives back the very same framework file
    again = tmp_path / "again.yaml"
    assert cli("import", "moodle-framework", out, "--out", again, cwd=tmp_path).code == 0
    assert _framework(again) == _framework(oecd)


def test_export_to_stdout_and_of_a_non_moodle_framework(cli: Cli, examples: Path) -> None:
    result = cli("export", "moodle-framework", "community-services", cwd=examples)
    assert result.code == 0
    rows = _rows(result.out)
    assert rows[1][5] == ("Needs development,Meets expectations,Exceeds expectations,"
                          "Role model")
    # without Moodle flags: the lowest value is the default, the others are proficient
    assert json.loads(rows[1][6])[1:] == [
        {"id": 1, "scaledefault": 1, "proficient": 0},
        {"id": 2, "scaledefault": 0, "proficient": 1},
        {"id": 3, "scaledefault": 0, "proficient": 1},
        {"id": 4, "scaledefault": 0, "proficient": 1}]
    assert {r[1]: r[0] for r in rows[2:]}["risk-escalation"] == "safe-practice"
    assert "anchors are not part of Moodle's CSV" in result.err
    assert "taxonomy" in result.err


def test_never_overwrites_without_force(cli: Cli, examples: Path, oecd: Path) -> None:
    oecd.write_text(oecd.read_text() + "# local note\n")
    again = cli("import", "moodle-framework", OECD, cwd=examples)
    assert again.code == 4 and "already exists; pass --force" in again.err
    assert oecd.read_text().endswith("# local note\n")
    assert cli("import", "moodle-framework", OECD, "--force", cwd=examples).code == 0
    assert not oecd.read_text().endswith("# local note\n")


def test_a_second_framework_with_the_same_id_is_refused(cli: Cli, examples: Path,
                                                        oecd: Path) -> None:
    result = cli("import", "moodle-framework", OECD, "--out",
                 examples / "frameworks" / "copy.yaml", cwd=examples)
    assert result.code == 4
    assert "framework 'OECD-CORE' already exists in frameworks/OECD-CORE.yaml" in result.err
    assert not (examples / "frameworks" / "copy.yaml").exists()


# ------------------------------------------------------------------------ hostile inputs

HEADER = ",".join(f'"{h}"' for h in moodle.HEADERS)
FRAMEWORK = (',FW,"My framework",,1,"No,Yes",'
             '"[{""scaleid"":""1""},{""id"":2,""scaledefault"":1,""proficient"":1}]",,,,,,1,')


def _csv(tmp_path: Path, *rows: str, raw: bytes | None = None) -> Path:
    path = tmp_path / "in.csv"
    path.write_bytes(raw if raw is not None else
                     "\n".join([HEADER, FRAMEWORK, *rows, ""]).encode("utf-8"))
    return path


def _comp(parent: str, ident: str, name: str = "Name", description: str = "") -> str:
    return f'{parent},{ident},"{name}","{description}",1,,,,0,null,,,,'


@pytest.mark.parametrize(("rows", "expected"), [
    ([_comp("", "a"), 'b,c,"unterminated,1,,,,0,null,,,,'],
     "in.csv:4:0: row 4: malformed CSV: unexpected end of data"),
    ([_comp("", "a"), '',
      ',b,"quoted"then text,,1,,,,0,null,,,,'],
     "row 5: malformed CSV: ',' expected after '\"'"),
    ([_comp("", "a"), _comp("nope", "b")],
     "in.csv:4:0: row 4, column 1 (Parent id number): parent id number 'nope' is not a "
     "competency in this file"),
    ([_comp("FW", "a")], "parent id number 'FW' is not a competency in this file (that is "
     "the framework; leave it empty for a top-level competency)"),
    ([_comp("b", "a"), _comp("c", "b"), _comp("a", "c")],
     "column 1 (Parent id number): the hierarchy has a cycle: a -> b -> c -> a"),
    ([_comp("a", "a")], "the hierarchy has a cycle: a -> a"),
    ([_comp("", "a"), _comp("", "a")],
     "in.csv:4:0: row 4, column 2 (Id number): id number 'a' is used twice (first in row 3)"),
    ([_comp("", "x" * 101)], "row 3, column 2 (Id number): id number is 101 characters; "
     "Moodle takes at most 100"),
    ([_comp("", "a", name="")], "row 3, column 3 (Shortname): empty shortname"),
    ([_comp("", "a", description="x" * 70_000)],
     "row 3, column 4 (Description): cell is 70,000 characters; at most 65,536"),
    ([_comp("", "a", description="x" * 200_000)], "a cell is larger than 65,536 characters"),
    ([_comp("", "a") + ",extra"], "row 3: has 15 cells; the header has 14"),
])
def test_hostile_csv_is_refused_naming_the_row(cli: Cli, examples: Path, tmp_path: Path,
                                               rows: list[str], expected: str) -> None:
    result = cli("import", "moodle-framework", _csv(tmp_path, *rows), cwd=examples)
    assert result.code == 3, result.err
    assert expected in result.err
    assert not (examples / "frameworks" / "FW.yaml").exists()


@pytest.mark.parametrize(("raw", "expected"), [
    (b"", "file is empty"),
    (HEADER.encode() + b"\n" + _comp("", "a").encode() + b"\n", "no framework row"),
    (b"id,name\n1,2\n", "row 1: expected Moodle's 14 columns"),
    (HEADER.encode() + b"\n" + FRAMEWORK.encode() + b"\n,a,\xff\xfe,,1,,,,0,null,,,,\n",
     "file is not UTF-8 text (byte 0xff at offset"),
    ("\n".join([HEADER, FRAMEWORK, FRAMEWORK.replace("FW", "FW2")]).encode(),
     "row 3: a second framework row (the first is row 2)"),
    ("\n".join([HEADER, FRAMEWORK.replace('"[{', '"{[')]).encode(),
     "column 7 (Scale configuration): scale configuration is not Moodle's JSON"),
    ("\n".join([HEADER, FRAMEWORK.replace('""id"":2', '""id"":9')]).encode(),
     "scale item id 9 is not one of the 2 scale values"),
])
def test_malformed_files(cli: Cli, examples: Path, tmp_path: Path, raw: bytes,
                         expected: str) -> None:
    result = cli("import", "moodle-framework", _csv(tmp_path, raw=raw), cwd=examples)
    assert result.code == 3, result.err
    assert expected in result.err


def test_scripts_and_active_html_never_reach_the_record(cli: Cli, examples: Path,
                                                       tmp_path: Path) -> None:
    description = ('<p>Plans <b>well</b><script>alert(1)</script><style>p{}</style>'
                   '<img src=x onerror=alert(2) alt=""pic""> <a href=""javascript:evil()"">'
                   'click</a> <a href=""https://example.org/guide"">guide</a></p>'
                   '<iframe src=""https://evil.example""></iframe><ul><li>one</li>'
                   '<li>two</li></ul>\u202e')
    path = _csv(tmp_path, _comp("", "a", name="<b>Safe</b> name", description=description))
    result = cli("import", "moodle-framework", path, cwd=examples)
    assert result.code == 0, result.err
    text = (examples / "frameworks" / "FW.yaml").read_text(encoding="utf-8")
    for bad in ("<", "alert", "javascript", "evil", "onerror", "p{}", "\u202e"):
        assert bad not in text
    comp = _framework(examples / "frameworks" / "FW.yaml").competencies[0]
    assert comp.name == "Safe name"
    assert comp.description == ("Plans well pic click guide (https://example.org/guide)"
                                "\n\n- one\n- two")


def test_warnings_for_what_a_promoctl_framework_cannot_hold(cli: Cli, examples: Path,
                                                            tmp_path: Path) -> None:
    rows = ['a,b,"B",,1,"Bad,Good",,core_competency\\competency_rule_all,2,null,'
            'a%2Cz,,,', _comp("", "a")]
    result = cli("import", "moodle-framework", _csv(tmp_path, *rows), cwd=examples)
    assert result.code == 0, result.err
    assert "row 3: completion rule 'core_competency\\competency_rule_all' not imported" \
        in result.err
    assert "row 3: the competency's own scale is not imported" in result.err
    assert "row 3: cross-references to unknown id numbers dropped: a,z" in result.err


def test_imported_framework_can_be_used_by_a_repository(cli: Cli, examples: Path,
                                                        oecd: Path) -> None:
    repo = load(examples, discover([examples]))
    assert "OECD-CORE" in repo.frameworks and not repo.problems


def test_any_id_number_moodle_takes_imports_and_is_written_back(cli: Cli, examples: Path,
                                                               tmp_path: Path) -> None:
    arabic = "\u0627\u0644\u0643\u0641\u0627\u0621\u0629 1"  # Arabic script, a space
    path = _csv(tmp_path, _comp("", "Compétence 1"), _comp("Compétence 1", arabic),
                f',a b,"Name","",1,,,,0,null,{arabic},,,')
    result = cli("import", "moodle-framework", path, cwd=examples)
    assert result.code == 0, result.err
    fw = yaml.safe_load((examples / "frameworks" / "FW.yaml").read_text(encoding="utf-8"))
    comps = {c["description"].rsplit("Moodle ID number: ", 1)[1].split("\n")[0]: c
             for c in fw["competencies"]}
    assert set(comps) == {"Compétence 1", arabic, "a b"}
    first, second, third = comps["Compétence 1"], comps[arabic], comps["a b"]
    assert first["id"].startswith("Competence-1-") and len(first["id"]) == 21
    # Arabic letters have no ASCII form: the digit and the hash remain
    assert second["id"].startswith("1-") and second["parent"] == first["id"]
    assert third["id"].startswith("a-b-")
    assert f"Cross-references: {second['id']}" in third["description"]
    assert cli("validate", cwd=examples).code == 0

    again = tmp_path / "again"
    again.mkdir()
    assert cli("import", "moodle-framework", path, "--out", again / "FW.yaml",
               cwd=examples).code == 0  # stable: the same ids from the same file
    assert (again / "FW.yaml").read_text().split("kind:", 1)[1] == \
        (examples / "frameworks" / "FW.yaml").read_text().split("kind:", 1)[1]

    out = cli("export", "moodle-framework", "FW", cwd=examples)
    rows = list(csv.reader(io.StringIO(out.out)))
    assert [r[:2] for r in rows[2:]] == [["", "Compétence 1"], ["Compétence 1", arabic],
                                         ["", "a b"]]
    assert rows[4][10] == arabic  # the cross-reference, by Moodle's id number
    assert "Moodle ID number" not in out.out


def test_the_2016_plugins_twelve_columns_import(cli: Cli, examples: Path) -> None:
    path = INTEROP / "moodle" / "lpimportcsv-pharmacy-12-columns.csv"
    result = cli("import", "moodle-framework", path, cwd=examples)
    assert result.code == 0, result.err
    fw = yaml.safe_load((examples / "frameworks" / "Pharmacy.yaml").read_text(encoding="utf-8"))
    assert len(fw["competencies"]) == 209
    # the taxonomy is a JSON object by level: domain, competency, behaviour, ...
    assert fw["categories"] == ["competency", "behaviour", "domain"]  # in file order
    top = [c for c in fw["competencies"] if "parent" not in c]
    assert {c["category"] for c in top} == {"domain"}
    assert cli("validate", cwd=examples).code == 0


@pytest.mark.parametrize(("taxonomy", "expected"), [
    ('"competency,colour"', "taxonomy term(s) 'colour' are not Moodle's"),
    ('"{""1"": ""domain"", ""2"": ""junk""}"', "taxonomy term(s) 'junk' are not Moodle's"),
    ('"{""1"": 5}"', "taxonomy is neither a list of terms nor a JSON object by level"),
])
def test_a_taxonomy_moodle_would_refuse_is_refused(cli: Cli, examples: Path, tmp_path: Path,
                                                   taxonomy: str, expected: str) -> None:
    path = tmp_path / "in.csv"
    path.write_text("\n".join([HEADER, FRAMEWORK + taxonomy, _comp("", "a"), ""]))
    result = cli("import", "moodle-framework", path, cwd=examples)
    assert result.code == 3 and expected in result.err, result.err
    assert "row 2, column 14 (Taxonomy)" in result.err


def test_columns_are_found_by_their_headers(cli: Cli, examples: Path, tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("Is framework,ID number,Short name,Parent ID number,Taxonomy\n"
                    "1,FW,My framework,,\"domain,skill\"\n"
                    ",a,Top,,\n,b,Below,a,\n")
    result = cli("import", "moodle-framework", path, cwd=examples)
    assert result.code == 0, result.err
    fw = yaml.safe_load((examples / "frameworks" / "FW.yaml").read_text(encoding="utf-8"))
    assert [(c["id"], c.get("parent"), c["category"]) for c in fw["competencies"]] == [
        ("a", None, "domain"), ("b", "a", "skill")]
