"""One size story: a framework of 10,000 competencies imports, validates and evaluates.

Framework records may be as large as an import may read (16 MiB); other records keep the
1 MiB limit. The generated package has the shape of a whole standards set from CASE.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from promoctl.records import yamlio
from tests.conftest import Cli

NS = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")


def _package(count: int) -> dict[str, Any]:
    doc = str(uuid.uuid5(NS, "doc"))
    items, links = [], []
    for i in range(count):
        ident = str(uuid.uuid5(NS, f"item{i}"))
        parent = doc if i % 100 == 0 else str(uuid.uuid5(NS, f"item{i - i % 100}"))
        items.append({"identifier": ident, "uri": f"https://case.example.org/uri/{ident}",
                      "fullStatement": f"Standard {i}: students explain and apply concept "
                                       f"{i} in context, with reasoning.",
                      "humanCodingScheme": f"STD.{i // 100}.{i % 100}",
                      "CFItemType": "Standard" if i % 100 else "Domain",
                      "educationLevel": ["09", "10"], "language": "en",
                      "lastChangeDateTime": "2024-01-01T00:00:00Z"})
        links.append({"identifier": str(uuid.uuid5(NS, f"a{i}")), "uri": "urn:x",
                      "associationType": "isChildOf",
                      "originNodeURI": {"title": "x", "identifier": ident, "uri": "urn:x"},
                      "destinationNodeURI": {"title": "y", "identifier": parent, "uri": "urn:y"},
                      "sequenceNumber": i % 100 + 1,
                      "lastChangeDateTime": "2024-01-01T00:00:00Z"})
    return {"CFDocument": {"identifier": doc, "uri": "urn:d", "creator": "Generated",
                           "title": "Big Standards", "lastChangeDateTime": "2024-01-01T00:00:00Z"},
            "CFItems": items, "CFAssociations": links}


LADDER = """\
kind: ladder
format: 1
id: big
title: Big
framework: big-standards
levels:
  - {id: one, title: One}
  - id: two
    title: Two
    promotion:
      rubric:
        - {competency: STD.0.1, weight: 1, minimum: 2}
        - {competency: STD.99.99, weight: 1, minimum: 2}
      composite_threshold: 2.5
"""
PERSON = """\
kind: person
format: 1
id: pat-lee
name: Pat Lee
program: Standards
ladder: big
level: one
start_date: 2024-01-08
"""
PACKET = """\
kind: packet
format: 1
id: pat-lee-2026
candidate: pat-lee
target: {ladder: big, level: two}
submitted: 2026-10-01
evidence:
  - {id: r1, type: manager_rating, date: 2026-09-01, competencies: [STD.0.1],
     result: {score: 3}}
  - {id: r2, type: manager_rating, date: 2026-09-01, competencies: [STD.99.99],
     result: {score: 2}}
"""


def test_ten_thousand_competencies_import_validate_and_evaluate(cli: Cli, examples: Path,
                                                                tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text(json.dumps(_package(10_000)))
    result = cli("import", "case", path, cwd=examples)
    assert result.code == 0, result.err
    record = examples / "frameworks" / "big-standards.yaml"
    size = record.stat().st_size
    assert yamlio.MAX_FILE_BYTES < size < yamlio.MAX_FRAMEWORK_BYTES
    (examples / "ladders" / "big.yaml").write_text(LADDER)
    (examples / "people" / "pat-lee.yaml").write_text(PERSON)
    (examples / "packets" / "pat-lee-2026.yaml").write_text(PACKET)
    check = cli("validate", cwd=examples)
    assert check.code == 0, check.out + check.err
    out = json.loads(cli("evaluate", "packets/pat-lee-2026.yaml", "--format", "json",
                         cwd=examples).out)
    (evaluation,) = out["evaluations"]
    assert evaluation["composite_exact"] == "5/2" and evaluation["verdict"] == "READY"


def test_only_framework_records_may_be_larger_than_one_mib(cli: Cli, examples: Path) -> None:
    filler = "# " + "x" * 100 + "\n"
    big_person = (examples / "people" / "hiro-tanaka.yaml")
    big_person.write_text(big_person.read_text() + filler * 11_000)
    result = cli("validate", cwd=examples)
    assert result.code == 3
    assert "people/hiro-tanaka.yaml:0:0: file is 1," in result.out
    assert "records are limited to 1,048,576 bytes (1 MiB)" in result.out
    framework = examples / "frameworks" / "professional-services.yaml"
    framework.write_text(framework.read_text() + filler * 11_000)
    big_person.write_text(big_person.read_text()[:-len(filler) * 11_000])
    assert cli("validate", cwd=examples).code == 0
    framework.write_text(framework.read_text() + filler * 160_000)
    result = cli("validate", cwd=examples)
    assert "framework records are limited to 16,777,216 bytes (16 MiB)" in result.out
