"""Moodle's competency framework CSV (admin tool "Import competency framework").

Fourteen columns as Moodle writes them: parent id number, id number, shortname,
description, description format, scale values, scale configuration, rule type, rule
outcome, rule config, cross-referenced id numbers, exported id, is framework, taxonomy.
The 2016 plugin wrote twelve (no cross-references, no exported id, and the taxonomy as a
JSON object by level). Columns are found by their header; a file whose headers are not
Moodle's English ones is read by position when it has fourteen columns. One row (is
framework = 1) is the framework; the others are competencies.

Moodle takes any ID number of up to 100 characters; one that cannot be a promoctl id
(spaces, accents, other scripts) becomes a stable slug of itself, and the ID number is
kept in the description (``Moodle ID number: ...``) so that an export writes it back.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from promoctl.base.errors import InvalidRecords, Problem, Problems
from promoctl.interop import html_text
from promoctl.interop.common import MAX_CELL_CHARS, decode, valid_id
from promoctl.interop.framework_file import (
    MOODLE_ID,
    RELATED,
    join_meta,
    related,
    scale_flags,
    split_meta,
)
from promoctl.records.models import DEFAULT_SCALE, Framework

HEADERS = ("Parent id number", "Id number", "Shortname", "Description", "Description format",
           "Scale values", "Scale configuration", "Rule type (optional)",
           "Rule outcome (optional)", "Rule config (optional)",
           "Cross referenced competency id numbers", "Exported id (optional)",
           "Is framework", "Taxonomy")
(PARENT, IDNUMBER, SHORTNAME, DESCRIPTION, FORMAT, SCALE, SCALE_CONFIG, RULE_TYPE,
 RULE_OUTCOME, RULE_CONFIG, RELATED_IDS, EXPORT_ID, IS_FRAMEWORK, TAXONOMY) = range(14)
# core_competency\competency::get_taxonomies_list()
TAXONOMIES = ("behaviour", "competency", "concept", "domain", "indicator", "level", "outcome",
              "practice", "proficiency", "skill", "value")
DEFAULT_TAXONOMY = "competency"
SHORTNAME_MAX = 100  # Moodle cuts longer names on import
IDNUMBER_MAX = 100  # Moodle's idnumber column
FORMAT_HTML = "1"
# Header names, compared without case, spacing and "(optional)": Moodle's, and the 2016
# plugin's ("Parent ID number", "Rule type", ...).
_NAMES = {"parent id number": PARENT, "id number": IDNUMBER, "shortname": SHORTNAME,
          "short name": SHORTNAME, "description": DESCRIPTION,
          "description format": FORMAT, "scale values": SCALE,
          "scale configuration": SCALE_CONFIG, "rule type": RULE_TYPE,
          "rule outcome": RULE_OUTCOME, "rule config": RULE_CONFIG,
          "cross referenced competency id numbers": RELATED_IDS,
          "exported id": EXPORT_ID, "is framework": IS_FRAMEWORK, "taxonomy": TAXONOMY}
_REQUIRED = (IDNUMBER, SHORTNAME, IS_FRAMEWORK)


def _header_name(cell: str) -> str:
    return re.sub(r"\s+", " ", cell.replace("(optional)", "")).strip().casefold()


def slug(idnumber: str) -> str:
    """A promoctl id for a Moodle ID number: itself when it can be one, else its letters
    and digits (accents dropped) and a short hash of it, so that it is stable and two ID
    numbers never share one."""
    if valid_id(idnumber):
        return idnumber
    ascii_text = unicodedata.normalize("NFKD", idnumber).encode("ascii", "ignore").decode()
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_text).strip("-._")[:80].strip("-._")
    digest = hashlib.sha256(idnumber.encode()).hexdigest()[:8]
    return f"{base}-{digest}" if base else f"id-{digest}"


@dataclass
class _Row:
    number: int  # the CSV record, the header being row 1 (as a spreadsheet counts)
    line: int
    cells: list[str]
    positions: dict[int, int] = field(default_factory=dict)  # column -> its place here

    def __getitem__(self, column: int) -> str:
        at = self.positions.get(column, column) if self.positions else column
        return self.cells[at] if 0 <= at < len(self.cells) and (
            not self.positions or column in self.positions) else ""


@dataclass
class _Reader:
    display: str
    problems: list[Problem] = field(default_factory=Problems)
    warnings: list[str] = field(default_factory=list)

    def problem(self, row: _Row | None, message: str, column: int | None = None) -> None:
        where = f"row {row.number}" if row else "file"
        if column is not None:
            at = row.positions.get(column, column) if row and row.positions else column
            where += f", column {at + 1} ({HEADERS[column]})"
        self.problems.append(Problem(self.display, row.line if row else 0, 0,
                                     f"{where}: {message}"))

    def warn(self, row: _Row, message: str) -> None:
        self.warnings.append(f"{self.display}: row {row.number}: {message}")


def _rows(text: str, reader: _Reader) -> list[_Row]:
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)  # Moodle lets the exporter choose
    parsed = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[_Row] = []
    number, line = 0, 1
    try:
        for cells in parsed:
            number += 1
            row = _Row(number, line, cells)
            line = parsed.line_num + 1
            if cells:
                rows.append(row)
    except csv.Error as exc:
        message = str(exc)
        if "field larger than field limit" in message:
            message = f"a cell is larger than {MAX_CELL_CHARS:,} characters"
        reader.problem(_Row(number + 1, line, []), f"malformed CSV: {message} (check the "
                       "quoting: a quote inside a quoted cell must be doubled)")
    return rows


def read_framework(raw: bytes, display: str, version: str = "1") -> tuple[dict[str, Any],
                                                                          list[str]]:
    """A framework record (as data) from Moodle's CSV, and the warnings about what a
    promoctl framework cannot hold. Raises ``InvalidRecords`` naming each bad row."""
    reader = _Reader(display)
    rows = _rows(decode(raw, display), reader)
    if reader.problems:
        raise InvalidRecords(reader.problems)
    if not rows:
        raise InvalidRecords([Problem(display, 0, 0, "file is empty; expected Moodle's "
                                      "competency framework CSV")])
    header, body = rows[0], rows[1:]
    positions = _positions(header, display)
    for row in body:
        row.positions = positions
        if len(row.cells) != len(header.cells):
            reader.problem(row, f"has {len(row.cells)} cells; the header has "
                           f"{len(header.cells)}")
        for column, at in positions.items():
            if at < len(row.cells) and len(row.cells[at]) > MAX_CELL_CHARS:
                reader.problem(row, f"cell is {len(row.cells[at]):,} characters; at most "
                               f"{MAX_CELL_CHARS:,}", column)
    if reader.problems:
        raise InvalidRecords(reader.problems)
    framework_rows = [r for r in body if _truthy(r[IS_FRAMEWORK])]
    if not framework_rows:
        raise InvalidRecords([Problem(display, 0, 0, "no framework row (a row with "
                                      "'Is framework' = 1)")])
    for extra in framework_rows[1:]:
        reader.problem(extra, f"a second framework row (the first is row "
                       f"{framework_rows[0].number}); import one framework per file")
    data = _framework(framework_rows[0], reader, version)
    comps = [r for r in body if not _truthy(r[IS_FRAMEWORK])]
    competencies = _competencies(comps, reader, data)
    if reader.problems:
        raise InvalidRecords(reader.problems)
    data["competencies"] = competencies
    return data, reader.warnings


def _positions(header: _Row, display: str) -> dict[int, int]:
    """Where each of Moodle's columns is in this file."""
    found: dict[int, int] = {}
    for at, cell in enumerate(header.cells):
        column = _NAMES.get(_header_name(cell))
        if column is not None and column not in found:
            found[column] = at
    if all(c in found for c in _REQUIRED):
        return found
    if len(header.cells) == len(HEADERS):  # Moodle in another language: by position
        return {c: c for c in range(len(HEADERS))}
    missing = ", ".join(HEADERS[c] for c in _REQUIRED if c not in found)
    raise InvalidRecords([Problem(display, 1, 0, f"row 1: expected Moodle's {len(HEADERS)} "
                                  f"columns ({', '.join(HEADERS)}), or the 2016 plugin's 12, "
                                  f"by their headers; found {len(header.cells)} columns, "
                                  f"without {missing}")])


def _truthy(cell: str) -> bool:
    return cell.strip().lower() not in ("", "0", "false", "no")


def _idnumber(row: _Row, reader: _Reader) -> str | None:
    """The row's ID number, if Moodle would take it."""
    idnumber = row[IDNUMBER].strip()
    if not idnumber:
        reader.problem(row, "empty id number", IDNUMBER)
        return None
    if len(idnumber) > IDNUMBER_MAX:
        reader.problem(row, f"id number is {len(idnumber)} characters; Moodle takes at most "
                       f"{IDNUMBER_MAX}", IDNUMBER)
        return None
    return idnumber


def _framework(row: _Row, reader: _Reader, version: str) -> dict[str, Any]:
    idnumber = _idnumber(row, reader) or ""
    fw_id = slug(idnumber)
    data: dict[str, Any] = {"kind": "framework", "format": 1, "id": fw_id,
                            "title": html_text.one_line(row[SHORTNAME]) or fw_id,
                            "version": version}
    description = join_meta(html_text.clean(row[DESCRIPTION]),
                            {MOODLE_ID: idnumber} if fw_id != idnumber else {})
    if description:
        data["description"] = description
    data["scale"] = _scale(row, reader)
    data["_taxonomy"] = _taxonomy_terms(row, reader)
    data["_idnumber"] = idnumber
    return data


def _taxonomy_terms(row: _Row, reader: _Reader) -> list[str]:
    """The term of each level: a comma list, or the 2016 plugin's JSON object by level.
    A term Moodle does not know is refused, as Moodle refuses it."""
    text = row[TAXONOMY].strip()
    if text.startswith("{"):
        try:
            levels = json.loads(text)
            if not isinstance(levels, dict) or not all(
                    str(k).isdigit() and isinstance(v, str) for k, v in levels.items()):
                raise ValueError("expected {\"1\": \"term\", ...}")
        except (ValueError, RecursionError) as exc:
            reader.problem(row, f"taxonomy is neither a list of terms nor a JSON object "
                           f"by level: {exc}", TAXONOMY)
            return []
        count = max((int(k) for k in levels), default=0)
        terms = [levels.get(str(n), "").strip() for n in range(1, count + 1)]
    else:
        terms = [t.strip() for t in text.split(",")] if text else []
    unknown = [t for t in terms if t and t not in TAXONOMIES]
    if unknown:
        reader.problem(row, f"taxonomy term(s) {', '.join(map(repr, unknown))} are not "
                       f"Moodle's ({', '.join(TAXONOMIES)})", TAXONOMY)
        return []
    return [t or DEFAULT_TAXONOMY for t in terms]


def _scale(row: _Row, reader: _Reader) -> list[dict[str, Any]]:
    raw_values = row[SCALE].strip()
    if not raw_values:
        reader.warn(row, "the framework has no scale; promoctl's default scale is used")
        return [s.model_dump(exclude_none=True) for s in DEFAULT_SCALE]
    labels = [html_text.one_line(v) for v in raw_values.split(",")]
    if not all(labels):
        reader.problem(row, f"empty scale value in {raw_values!r}", SCALE)
        return []
    flags: dict[int, list[str]] = {}
    try:
        config = json.loads(row[SCALE_CONFIG]) if row[SCALE_CONFIG].strip() else []
        if not isinstance(config, list):
            raise ValueError("expected a JSON list")
        for item in config[1:]:  # the first element names Moodle's scale id
            if not isinstance(item, dict) or type(item.get("id")) is not int:
                raise ValueError(f"expected {{\"id\": N, ...}}, found {item!r}")
            position = item["id"]
            if not 1 <= position <= len(labels):
                raise ValueError(f"scale item id {position} is not one of the "
                                 f"{len(labels)} scale values")
            flags[position] = [name for name, key in (("default", "scaledefault"),
                                                      ("proficient", "proficient"))
                               if item.get(key) in (1, "1", True)]
    except (ValueError, RecursionError) as exc:
        reader.problem(row, f"scale configuration is not Moodle's JSON: {exc}", SCALE_CONFIG)
        return []
    if not any("proficient" in f for f in flags.values()):
        reader.warn(row, "the scale configuration marks no value as proficient")
    scale = []
    for position, label in enumerate(labels, 1):
        value: dict[str, Any] = {"value": position, "label": label}
        if flags.get(position):
            value["description"] = f"Moodle: {', '.join(flags[position])}"
        scale.append(value)
    return scale


def _competencies(rows: list[_Row], reader: _Reader, fw: dict[str, Any]) -> list[dict[str, Any]]:
    by_id: dict[str, _Row] = {}  # by Moodle ID number
    for row in rows:
        comp_id = _idnumber(row, reader)
        if comp_id is None:
            pass
        elif comp_id in by_id or comp_id == fw["_idnumber"]:
            first = by_id[comp_id].number if comp_id in by_id else "of the framework"
            reader.problem(row, f"id number {comp_id!r} is used twice (first in row {first})",
                           IDNUMBER)
        else:
            by_id[comp_id] = row
        if not html_text.one_line(row[SHORTNAME]):
            reader.problem(row, "empty shortname", SHORTNAME)
    parents = {cid: row[PARENT].strip() or None for cid, row in by_id.items()}
    for cid, parent in parents.items():
        if parent is not None and parent not in parents:
            where = " (that is the framework; leave it empty for a top-level competency)" \
                if parent == fw["_idnumber"] else ""
            reader.problem(by_id[cid], f"parent id number {parent!r} is not a competency in "
                           f"this file{where}", PARENT)
    depths = _depths(parents, by_id, reader)
    taxonomy: list[str] = fw.pop("_taxonomy")
    fw.pop("_idnumber")
    fw_scale = ",".join(s["label"] for s in fw["scale"])
    ids = {idnumber: slug(idnumber) for idnumber in by_id}
    _distinct(ids, by_id, reader)
    out = []
    for cid, row in by_id.items():
        meta = {MOODLE_ID: cid} if ids[cid] != cid else {}
        refs = [r.replace("%2C", ",").strip() for r in row[RELATED_IDS].split(",")]
        refs = [r for r in refs if r]
        unknown = [r for r in refs if r not in by_id]
        if unknown:
            reader.warn(row, f"cross-references to unknown id numbers dropped: "
                        f"{', '.join(unknown)}")
        if refs := [ids[r] for r in refs if r in by_id]:
            meta[RELATED] = ", ".join(refs)
        if row[RULE_TYPE].strip():
            reader.warn(row, f"completion rule '{row[RULE_TYPE].strip()}' not imported "
                        "(promoctl evaluates evidence, not Moodle rules)")
        own_scale = ",".join(html_text.one_line(v) for v in row[SCALE].split(","))
        if row[SCALE].strip() and own_scale != fw_scale:
            reader.warn(row, "the competency's own scale is not imported; promoctl uses "
                        "the framework's scale for every competency")
        depth = depths.get(cid, 1)
        comp: dict[str, Any] = {
            "id": ids[cid], "name": html_text.one_line(row[SHORTNAME]),
            "category": taxonomy[depth - 1] if depth <= len(taxonomy) else DEFAULT_TAXONOMY,
        }
        parent = parents[cid]
        if parent is not None and parent in ids:
            comp["parent"] = ids[parent]
        description = join_meta(html_text.clean(row[DESCRIPTION]), meta)
        if description:
            comp["description"] = description
        out.append(comp)
    fw["categories"] = list(dict.fromkeys(c["category"] for c in out)) or [DEFAULT_TAXONOMY]
    return out


def _distinct(ids: dict[str, str], rows: dict[str, _Row], reader: _Reader) -> None:
    """Two ID numbers that make the same promoctl id (``A-1`` and a slug of ``A 1`` that
    happens to match) cannot both be kept."""
    seen: dict[str, str] = {}
    for idnumber, promoctl_id in ids.items():
        if promoctl_id in seen:
            reader.problem(rows[idnumber], f"id number {idnumber!r} gives the promoctl id "
                           f"{promoctl_id!r}, as id number {seen[promoctl_id]!r} does",
                           IDNUMBER)
        seen[promoctl_id] = idnumber


def _depths(parents: dict[str, str | None], rows: dict[str, _Row], reader: _Reader
            ) -> dict[str, int]:
    depths: dict[str, int] = {}
    reported: set[str] = set()
    for start in parents:
        chain: list[str] = []
        node: str | None = start
        while node is not None and node in parents and node not in depths:
            if node in chain:
                cycle = chain[chain.index(node):]
                if not reported & set(cycle):
                    reported.update(cycle)
                    path = " -> ".join([*cycle, node])
                    reader.problem(rows[node], f"the hierarchy has a cycle: {path}", PARENT)
                for n in chain:
                    depths[n] = 1
                break
            chain.append(node)
            node = parents[node]
        else:
            base = depths.get(node, 0) if node is not None else 0
            for n in reversed(chain):
                base += 1
                depths[n] = base
    return depths


# ---------------------------------------------------------------------------------- export


def write_csv(framework: Framework, display: str) -> tuple[str, list[str]]:
    """Moodle's CSV for ``framework``, and warnings about what Moodle cannot hold."""
    warnings: list[str] = []
    problems = []
    labels = [s.label for s in framework.scale]
    for i, label in enumerate(labels):
        if "," in label:
            problems.append(Problem(display, 0, 0, f"scale[{i}].label {label!r}: Moodle "
                                    "separates scale values with commas; remove the comma"))
    if problems:
        raise InvalidRecords(problems)
    parents = {c.id: c.parent for c in framework.competencies}
    depth: dict[str, int] = {}
    for comp in framework.competencies:
        n, node = 1, comp.parent
        while node is not None and n <= len(parents):
            n, node = n + 1, parents.get(node)
        depth[comp.id] = n
    taxonomy = _taxonomy(framework, depth, warnings)
    idnumber = {c.id: _original_id(c.id, c.description) for c in framework.competencies}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADERS)
    fw_prose, _ = split_meta(framework.description)
    writer.writerow(["", _original_id(framework.id, framework.description), framework.title,
                     html_text.to_html(fw_prose),
                     FORMAT_HTML, ",".join(labels), _scale_config(framework), "", "", "",
                     "", "", "1", ",".join(taxonomy)])
    for n, comp in enumerate(framework.competencies, 1):
        if len(comp.name) > SHORTNAME_MAX:
            warnings.append(f"{comp.id}: Moodle cuts names to {SHORTNAME_MAX} characters")
        prose, _meta = split_meta(comp.description)
        refs = ",".join(idnumber.get(r, r).replace(",", "%2C")
                        for r in related(comp.description))
        parent = idnumber.get(comp.parent, comp.parent) if comp.parent else ""
        writer.writerow([parent, idnumber[comp.id], comp.name, html_text.to_html(prose),
                         FORMAT_HTML, "", "", "", "0", "null", refs, str(n), "", ""])
    if any(c.anchors for c in framework.competencies):
        warnings.append("behavioural anchors are not part of Moodle's CSV; not exported")
    return out.getvalue(), warnings


def _original_id(promoctl_id: str, description: str | None) -> str:
    return split_meta(description)[1].get(MOODLE_ID) or promoctl_id


def _scale_config(framework: Framework) -> str:
    flags = {s.value: scale_flags(s) for s in framework.scale}
    positions = {s.value: i for i, s in enumerate(framework.scale, 1)}
    default = [v for v, f in flags.items() if "default" in f] or [framework.scale[0].value]
    proficient = [v for v, f in flags.items() if "proficient" in f] or \
        [s.value for s in framework.scale[1:]] or [framework.scale[0].value]
    items: list[dict[str, Any]] = [{"scaleid": "0"}]  # Moodle finds or creates the scale
    for value in positions:
        if value in default or value in proficient:
            items.append({"id": positions[value], "scaledefault": int(value in default),
                          "proficient": int(value in proficient)})
    return json.dumps(items, separators=(",", ":"))


def _taxonomy(framework: Framework, depth: dict[str, int], warnings: list[str]) -> list[str]:
    levels = max(depth.values(), default=0)
    out = []
    for level in range(1, levels + 1):
        used = {c.category for c in framework.competencies if depth[c.id] == level}
        term = used.pop() if len(used) == 1 else ""
        if term not in TAXONOMIES:
            term = DEFAULT_TAXONOMY
            warnings.append(f"level {level}: categories are not one of Moodle's taxonomy "
                            f"terms ({', '.join(TAXONOMIES)}); '{DEFAULT_TAXONOMY}' written")
        out.append(term)
    return out
