"""1EdTech CASE packages: the real OpenSALT export in and out, identifiers kept."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator, Draft201909Validator

from promoctl.interop.framework_file import CASE_ID, split_meta
from promoctl.records.models import Framework
from promoctl.records.parsing import parse_record
from tests.conftest import INTEROP, Cli

PACKAGE = INTEROP / "case" / "what-standards-could-be.cfpackage.json"
WHEN = "2026-11-01T09:00:00+00:00"


def _framework(path: Path) -> Framework:
    source, problems = parse_record(path.read_bytes(), path.name)
    assert source is not None, problems
    assert isinstance(source.record, Framework)
    return source.record


def _children(package: dict[str, Any]) -> set[tuple[str, str]]:
    return {(a["originNodeURI"]["identifier"], a["destinationNodeURI"]["identifier"])
            for a in package["CFAssociations"] if a["associationType"] == "isChildOf"}


@pytest.fixture
def imported(cli: Cli, examples: Path) -> Path:
    result = cli("import", "case", PACKAGE, cwd=examples)
    assert result.code == 0, result.err
    assert "16 competencies, 3 levels deep" in result.err
    assert ("associations not imported (promoctl keeps the hierarchy and cross-references "
            "between its own competencies): exactMatchOf x16, exemplar x2, isRelatedTo x2, "
            "precedes x3") in result.err
    return examples / "frameworks" / "what-standards-could-be.yaml"


def test_import_the_real_package(cli: Cli, examples: Path, imported: Path) -> None:
    fw = _framework(imported)
    assert (fw.id, fw.title) == ("what-standards-could-be", "What Standards Could Be")
    meta = split_meta(fw.description)[1]
    assert meta[CASE_ID] == "20c5134f-423d-4097-a971-3dd5152bf507"
    assert json.loads(meta["CASE fields"]) == {
        "adoptionStatus": "Draft", "creator": "Brandon Dorman",
        "uri": "http://opensalt-staging.opened.com/uri/20c5134f-423d-4097-a971-3dd5152bf507"}
    assert len(fw.competencies) == 16
    assert fw.categories == ["Cluster", "Standard", "Component"]
    by_id = {c.id: c for c in fw.competencies}
    assert [c.id for c in fw.competencies if c.parent is None] == [
        "CCSS.Math.Content.6.RP.A", "CCSS.Math.Content.7.RP.A"]  # by sequenceNumber
    assert by_id["CCSS.Math.Content.6.RP.A.3a"].parent == "CCSS.Math.Content.6.RP.A.3"
    assert by_id["CCSS.Math.Content.6.RP.A.3"].parent == "CCSS.Math.Content.6.RP.A"
    assert by_id["CCSS.Math.Content.6.RP.A.3a"].category == "Component"
    unit_rates = split_meta(by_id["CCSS.Math.Content.7.RP.A.1"].description)[0]
    assert "fraction (1/2)/(1/4) miles per hour" in unit_rates
    first = by_id["CCSS.Math.Content.6.RP.A.1"]
    assert first.name.startswith("Understand the concept of a ratio")
    prose, meta = split_meta(first.description)
    assert prose.startswith('For example, "The ratio of wings to beaks')
    assert meta[CASE_ID] == "b6f61076-aa12-450b-8f9d-b86bc071f85e"
    assert json.loads(meta["CASE fields"])["listEnumeration"] == "1."
    # depth first: a parent always comes before its children
    seen: set[str] = set()
    for comp in fw.competencies:
        assert comp.parent is None or comp.parent in seen
        seen.add(comp.id)
    assert cli("validate", cwd=examples).code == 0


def test_reexport_keeps_the_identifiers(cli: Cli, examples: Path, imported: Path) -> None:
    original = json.loads(PACKAGE.read_text(encoding="utf-8"))
    result = cli("export", "case", "what-standards-could-be", "--date", WHEN, cwd=examples)
    assert result.code == 0, result.err
    package = json.loads(result.out)
    doc = package["CFDocument"]
    assert doc["identifier"] == original["CFDocument"]["identifier"]
    # the creator the package named, not the repository's name
    assert (doc["title"], doc["creator"], doc["lastChangeDateTime"]) == (
        "What Standards Could Be", "Brandon Dorman", WHEN)
    assert {k: v for k, v in original["CFDocument"].items() if doc.get(k) != v} == {
        "lastChangeDateTime": "2017-05-25T18:05:33",
        "CFPackageURI": original["CFDocument"]["CFPackageURI"]}
    assert {i["identifier"] for i in package["CFItems"]} == \
        {i["identifier"] for i in original["CFItems"]}
    assert _children(package) == _children(original)
    theirs = {i["identifier"]: i for i in original["CFItems"]}
    for item in package["CFItems"]:
        source = theirs[item["identifier"]]
        # every CASE field comes back as the package wrote it (the notes with their
        # <sup>/<sub> markup too), but CFDocumentURI, which CASE 1.1 has no place for in
        # a package, and the fields that are not CASE's
        assert {k for k, v in source.items() if item.get(k) != v} == {
            "CFDocumentURI", "lastChangeDateTime", "educationalLevel", "CFItemAssociationURI"}
    for assoc in package["CFAssociations"]:
        assert {"identifier", "uri", "associationType", "originNodeURI",
                "destinationNodeURI", "lastChangeDateTime"} <= set(assoc)
        assert "CFDocumentURI" not in assoc
    again = cli("export", "case", "what-standards-could-be", "--date", WHEN, cwd=examples)
    assert again.out == result.out  # deterministic, association identifiers included
    _valid(package)
    by_creator = cli("export", "case", "what-standards-could-be", "--date", WHEN,
                     "--creator", "Someone Else", cwd=examples)
    assert json.loads(by_creator.out)["CFDocument"]["creator"] == "Someone Else"


SCHEMAS = INTEROP / "case" / "schemas"


def _valid(package: dict[str, Any], *, only_1_1: bool = False) -> None:
    """The package passes 1EdTech's CASE 1.1 JSON schema and OpenSALT's CASE 1.0 one."""
    for name, validator in (("case-v1p1-cfpackage.json", Draft201909Validator),
                            ("case-v1p0-cfpackage-schema.json", Draft7Validator)
                            )[:1 if only_1_1 else 2]:
        schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in
                  validator(schema, format_checker=validator.FORMAT_CHECKER).iter_errors(
                      package)]
        assert errors == [], (name, errors[:5])


def test_the_schemas_catch_what_the_old_export_wrote() -> None:
    """The check can fail: CFDocumentURI on an association is refused by CASE 1.1."""
    original = json.loads(PACKAGE.read_text(encoding="utf-8"))
    with pytest.raises(AssertionError, match="CFDocumentURI"):
        _valid({"CFDocument": {k: v for k, v in original["CFDocument"].items()
                               if k != "CFPackageURI"},
                "CFAssociations": [original["CFAssociations"][0]]})


def test_items_without_a_type_and_text_as_written(cli: Cli, examples: Path,
                                                  tmp_path: Path) -> None:
    doc_id, item_id, other_id = (f"c739fefe-4f94-4a75-9203-e8621a7c2a1{n}" for n in "abc")
    doc = {"identifier": doc_id, "uri": f"urn:uuid:{doc_id}", "creator": "Test",
           "title": "Algebra", "lastChangeDateTime": "2024-01-01T00:00:00Z",
           "language": "en", "frameworkType": "Standards", "caseVersion": "1.1",
           "extensions": {"publisherNote": "kept"}}
    statement = ("Solve each:\n\n- linear equations\n- quadratics\n\n"
                 "| Degree | Method |\n| --- | --- |\n| 1 | isolate x |")
    items = [
        {"identifier": item_id, "uri": f"urn:uuid:{item_id}", "fullStatement": statement,
         "lastChangeDateTime": "2024-01-01T00:00:00Z", "abbreviatedStatement": "Solve",
         "educationLevel": ["09", "10"], "language": "en", "listEnumeration": "a"},
        {"identifier": other_id, "uri": f"urn:uuid:{other_id}",
         "fullStatement": "Know that 3<sup>2</sup> \u00d7 3<sup>\u20135</sup> = "
                          "3<sup>\u20133</sup> and 5<sup>1/3</sup> is the cube root of 5",
         "humanCodingScheme": "N-RN.1", "CFItemType": "Standard",
         "lastChangeDateTime": "2024-01-01T00:00:00Z"}]
    assoc = [{"identifier": str(uuid.uuid4()), "uri": "urn:x", "associationType": "isChildOf",
              "originNodeURI": {"title": "x", "identifier": i, "uri": f"urn:uuid:{i}"},
              "destinationNodeURI": {"title": "d", "identifier": doc_id, "uri": "urn:d"},
              "lastChangeDateTime": "2024-01-01T00:00:00Z"} for i in (item_id, other_id)]
    path = tmp_path / "algebra.json"
    path.write_text(json.dumps({"CFDocument": doc, "CFItems": items,
                                "CFAssociations": assoc}), encoding="utf-8")
    assert cli("import", "case", path, cwd=examples).code == 0
    fw = _framework(examples / "frameworks" / "algebra.yaml")
    untyped, typed = fw.competencies
    assert untyped.name == statement  # line breaks, the list and the table as written
    assert typed.name == ("Know that 3\u00b2 \u00d7 3\u207b\u2075 = 3\u207b\u00b3 and "
                          "5^(1/3) is the cube root of 5")
    assert untyped.category == "core"  # promoctl needs a category ...
    out = json.loads(cli("export", "case", "algebra", "--date", WHEN, cwd=examples).out)
    first, second = out["CFItems"]
    assert "CFItemType" not in first  # ... but no type is known, so none is written
    assert second["CFItemType"] == "Standard"
    assert first["fullStatement"] == statement
    assert second["fullStatement"] == items[1]["fullStatement"]  # the HTML, given back
    for key in ("abbreviatedStatement", "educationLevel", "language", "listEnumeration"):
        assert first[key] == items[0][key]
    assert {k: out["CFDocument"][k] for k in ("language", "frameworkType", "caseVersion",
                                              "creator", "extensions")} == \
        {"language": "en", "frameworkType": "Standards", "caseVersion": "1.1",
         "creator": "Test", "extensions": {"publisherNote": "kept"}}
    _valid(out, only_1_1=True)  # a CASE 1.1 package (caseVersion, frameworkType) stays one

    # an edited statement is exported as edited, not as the package had it
    record = examples / "frameworks" / "algebra.yaml"
    record.write_text(record.read_text(encoding="utf-8").replace("5^(1/3)", "5^(1/2)"),
                      encoding="utf-8")
    out = json.loads(cli("export", "case", "algebra", "--date", WHEN, cwd=examples).out)
    assert out["CFItems"][1]["fullStatement"].endswith("5^(1/2) is the cube root of 5")


def test_a_promoctl_framework_round_trips_through_case(cli: Cli, examples: Path,
                                                      tmp_path: Path) -> None:
    out = tmp_path / "community.json"
    assert cli("export", "case", "community-services", "--out", out, "--date", WHEN,
               "--base-uri", "https://frameworks.example.org/case/", cwd=examples).code == 0
    package = json.loads(out.read_text())
    assert package["CFDocument"]["uri"].startswith("https://frameworks.example.org/case/")
    back = tmp_path / "back.yaml"
    result = cli("import", "case", out, "--id", "community-services", "--out", back,
                 "--framework-version", "2026.1", cwd=tmp_path)
    assert result.code == 0, result.err
    original = _framework(examples / "frameworks" / "community-services.yaml")
    copy = _framework(back)
    assert [(c.id, c.parent, c.name, c.category) for c in copy.competencies] == \
        [(c.id, c.parent, c.name, c.category) for c in original.competencies]
    assert copy.version == "2026.1"
    second = tmp_path / "second.json"
    assert cli("export", "case", back, "--out", second, "--date", WHEN, "--base-uri",
               "https://frameworks.example.org/case/", cwd=tmp_path).code == 0
    assert json.loads(second.read_text())["CFItems"] == package["CFItems"]
    assert _children(json.loads(second.read_text())) == _children(package)


def _write(tmp_path: Path, package: Any) -> Path:
    path = tmp_path / "in.json"
    path.write_text(package if isinstance(package, str) else json.dumps(package))
    return path


def _package(items: list[dict[str, Any]], associations: list[dict[str, Any]]
             ) -> dict[str, Any]:
    return {"CFDocument": {"identifier": "doc-1", "title": "Doc"}, "CFItems": items,
            "CFAssociations": associations}


def _item(ident: str, **extra: Any) -> dict[str, Any]:
    return {"identifier": ident, "fullStatement": f"Statement {ident}", **extra}


def _child(origin: str, parent: str) -> dict[str, Any]:
    return {"associationType": "isChildOf", "originNodeURI": {"identifier": origin},
            "destinationNodeURI": {"identifier": parent}}


@pytest.mark.parametrize(("package", "expected"), [
    ('{"CFDocument": {"identifier": "x", }', "in.json:1:36: invalid JSON: Expecting "
     "property name enclosed in double quotes"),
    ('{"CFDocument": {}, "CFDocument": {}}', "duplicate key 'CFDocument'"),
    ("[" * 100_000 + "]" * 100_000, "JSON nesting is deeper than 64 levels"),
    ("[]", "$: expected an object, found a list"),
    ({"CFDocument": {"identifier": "d", "title": "T"}, "CFItems": {}},
     "$.CFItems: expected a list, found an object"),
    (_package([_item("a"), {"identifier": "b"}], []), "$.CFItems[1].fullStatement: missing"),
    (_package([_item("a"), _item("a")], []),
     "$.CFItems[1].identifier: 'a' is also the identifier of $.CFItems[0]"),
    (_package([_item("a", fullStatement=7)], []),
     "$.CFItems[0].fullStatement: expected text, found a number"),
    (_package([_item("a")], [_child("a", "ghost")]),
     "$.CFAssociations[0].destinationNodeURI.identifier: unknown parent 'ghost': neither "
     "an item of this package nor its document"),
    (_package([_item("a")], [_child("ghost", "a")]),
     "$.CFAssociations[0].originNodeURI.identifier: 'ghost' is not an item of this package"),
    (_package([_item("a"), _item("b"), _item("c")],
              [_child("a", "b"), _child("b", "c"), _child("c", "a")]),
     "isChildOf makes a cycle: a -> b -> c -> a"),
    (_package([_item("a", notes="x" * 70_000)], []),
     "$.CFItems[0].notes: text is 70,000 characters; at most 65,536"),
    (_package([], []), "$.CFItems: no items; a framework needs at least one competency"),
    (_package([_item("not an id")], []), "neither humanCodingScheme '' nor identifier "
     "'not an id' can be a promoctl id"),
    (_package([_item("a")], [{"associationType": "isChildOf",
                              "originNodeURI": "a"}]),
     "$.CFAssociations[0].originNodeURI: expected an object, found text"),
])
def test_hostile_packages_name_the_json_path(cli: Cli, examples: Path, tmp_path: Path,
                                             package: Any, expected: str) -> None:
    result = cli("import", "case", _write(tmp_path, package), cwd=examples)
    assert result.code == 3, result.err
    assert expected in result.err


def test_html_in_case_text_is_made_safe(cli: Cli, tmp_path: Path) -> None:
    package = _package([_item("a", fullStatement="<b>Bold</b> claim<script>x()</script>",
                              notes="<p>One</p><p>Two <img src=x onerror=y()></p>")], [])
    out = tmp_path / "fw.yaml"
    result = cli("import", "case", _write(tmp_path, package), "--out", out, cwd=tmp_path)
    assert result.code == 0, result.err
    comp = _framework(out).competencies[0]
    assert comp.name == "Bold claim"
    assert split_meta(comp.description)[0] == "One\n\nTwo"


def test_missing_file_and_missing_framework(cli: Cli, examples: Path) -> None:
    result = cli("import", "case", examples / "nope.json", cwd=examples)
    assert result.code == 4 and "no such file" in result.err
    result = cli("export", "case", "no-such-framework", cwd=examples)
    assert result.code == 4 and "no such framework file or id" in result.err
