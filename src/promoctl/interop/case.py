"""1EdTech CASE 1.0 packages (CFPackage: CFDocument, CFItems, CFAssociations).

Import: the document is the framework, each item a competency, ``isChildOf`` the
hierarchy and ``isRelatedTo`` between items the cross-references. A competency's id is
the item's human coding scheme when that is a usable, unique id, else its identifier; the
CASE identifiers themselves are kept in the descriptions (see ``framework_file``) so that
an export gives back the same identifiers. Export mints identifiers that depend only on
the framework and competency ids (UUID v5) for anything imported from elsewhere, so
exporting twice gives the same identifiers too.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from promoctl.base.errors import InvalidRecords, Problem, Problems
from promoctl.interop import case_fields, html_text
from promoctl.interop.common import MAX_CELL_CHARS, jpath, load_json, valid_id
from promoctl.interop.framework_file import (
    CASE_FIELDS,
    CASE_ID,
    CODE,
    RELATED,
    join_meta,
    related,
    split_meta,
)
from promoctl.records.models import Framework

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://promoctl.invalid/case")
DEFAULT_CATEGORY = "core"
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                   r"[0-9a-fA-F]{12}$")


@dataclass
class _Reader:
    display: str
    problems: list[Problem] = field(default_factory=Problems)
    warnings: list[str] = field(default_factory=list)
    unknown: dict[str, int] = field(default_factory=dict)  # fields CASE does not define

    def problem(self, path: str, message: str) -> None:
        self.problems.append(Problem(self.display, 0, 0, f"{path}: {message}"))

    def mapping(self, value: Any, path: str) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.problem(path, f"expected an object, found {_kind(value)}")
        return None

    def text(self, obj: dict[str, Any], key: str, path: str, *, required: bool = False
             ) -> str | None:
        value = obj.get(key)
        if value is None:
            if required:
                self.problem(jpath_join(path, key), "missing")
            return None
        if not isinstance(value, str):
            self.problem(jpath_join(path, key), f"expected text, found {_kind(value)}")
            return None
        if len(value) > MAX_CELL_CHARS:
            self.problem(jpath_join(path, key), f"text is {len(value):,} characters; at most "
                         f"{MAX_CELL_CHARS:,}")
            return None
        if required and not value.strip():
            self.problem(jpath_join(path, key), "empty")
            return None
        return value

    def link(self, obj: dict[str, Any], key: str, path: str) -> str | None:
        node = obj.get(key)
        if node is None:
            self.problem(jpath_join(path, key), "missing")
            return None
        ref = self.mapping(node, jpath_join(path, key))
        return self.text(ref, "identifier", jpath_join(path, key), required=True) if ref \
            else None


def jpath_join(path: str, key: str) -> str:
    return f"{path}.{key}"


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "a boolean",
            type(None): "null"}.get(type(value), "a number")


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:100].strip("-")


def read_package(raw: bytes, display: str, *, framework_id: str | None = None,
                 version: str = "1") -> tuple[dict[str, Any], list[str]]:
    """A framework record (as data) from a CFPackage, and warnings about what was left out.
    Raises ``InvalidRecords`` naming the JSON path of each problem."""
    reader = _Reader(display)
    package = reader.mapping(load_json(raw, display), "$")
    if package is None:
        raise InvalidRecords(reader.problems)
    doc = reader.mapping(package.get("CFDocument"), jpath("CFDocument"))
    items = package.get("CFItems", [])
    associations = package.get("CFAssociations", [])
    for key, value in (("CFItems", items), ("CFAssociations", associations)):
        if not isinstance(value, list):
            reader.problem(jpath(key), f"expected a list, found {_kind(value)}")
    if doc is None or reader.problems:
        raise InvalidRecords(reader.problems)
    data = _document(doc, reader, framework_id, version)
    comps, by_identifier = _items(items, reader)
    if not comps and not reader.problems:
        reader.problem(jpath("CFItems"), "no items; a framework needs at least one competency")
    _associations(associations, reader, doc_identifier=data.pop("_identifier"),
                  comps=comps, by_identifier=by_identifier)
    if reader.problems:
        raise InvalidRecords(reader.problems)
    if reader.unknown:
        listed = ", ".join(f"{k} x{n}" for k, n in sorted(reader.unknown.items()))
        reader.warnings.append(f"{display}: item fields that are not CASE's not imported: "
                               f"{listed}")
    for key in ("CFRubrics",):
        if package.get(key):
            reader.warnings.append(f"{display}: {key} not imported (promoctl frameworks have "
                                   "one scale and anchors per competency)")
    data["categories"] = list(dict.fromkeys(c["category"] for c in comps.values()))
    data["competencies"] = [_finish(c) for c in _tree_order(comps)]
    return data, reader.warnings


def _document(doc: dict[str, Any], reader: _Reader, framework_id: str | None, version: str
              ) -> dict[str, Any]:
    path = jpath("CFDocument")
    identifier = reader.text(doc, "identifier", path, required=True) or ""
    title = html_text.one_line(reader.text(doc, "title", path, required=True) or "")
    fw_id = framework_id or _slug(title) or identifier
    if not valid_id(fw_id):
        reader.problem(jpath_join(path, "identifier"), f"{fw_id!r} cannot be a promoctl id; "
                       "pass --id")
    doc_version = reader.text(doc, "version", path)
    written = reader.text(doc, "description", path) or ""
    description = html_text.clean(written)
    data: dict[str, Any] = {"kind": "framework", "format": 1, "id": fw_id,
                            "title": title or fw_id,
                            "version": html_text.one_line(doc_version or "") or version}
    meta = {CASE_ID: identifier}
    kept = case_fields.kept(doc, case_fields.DOCUMENT)
    case_fields.original(kept, "description", written, description)
    fields = case_fields.encode(kept)
    if fields:
        meta[CASE_FIELDS] = fields
    data["description"] = join_meta(description, meta)
    data["_identifier"] = identifier
    return data


def _items(items: list[Any], reader: _Reader
           ) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    comps: dict[str, dict[str, Any]] = {}  # by CASE identifier, in file order
    paths: dict[str, str] = {}
    codes: dict[str, int] = {}
    for i, value in enumerate(items):
        path = jpath("CFItems", i)
        item = reader.mapping(value, path)
        if item is None:
            continue
        identifier = reader.text(item, "identifier", path, required=True)
        statement = reader.text(item, "fullStatement", path, required=True)
        code = html_text.one_line(reader.text(item, "humanCodingScheme", path) or "")
        notes = html_text.clean(reader.text(item, "notes", path) or "")
        item_type = reader.text(item, "CFItemType", path)
        if item_type is None and isinstance(item.get("CFItemTypeURI"), dict):
            item_type = reader.text(item["CFItemTypeURI"], "title",
                                    jpath_join(path, "CFItemTypeURI"))
        if identifier is None or statement is None:
            continue
        if identifier in comps:
            reader.problem(jpath_join(path, "identifier"), f"{identifier!r} is also the "
                           f"identifier of {paths[identifier]}")
            continue
        codes[code] = codes.get(code, 0) + 1
        paths[identifier] = path
        fields = case_fields.kept(item, case_fields.ITEM)
        name = _statement_text(statement)
        case_fields.original(fields, "fullStatement", statement, name)
        case_fields.original(fields, "notes", reader.text(item, "notes", path) or "", notes)
        for key in item:
            if key not in case_fields.KNOWN_ITEM:
                reader.unknown[key] = reader.unknown.get(key, 0) + 1
        category = html_text.one_line(item_type or "")
        if not category:
            fields[case_fields.UNTYPED] = None  # so the export writes no type either
        # the statement as written: its line breaks, lists and tables are its meaning
        comps[identifier] = {"_path": path, "_code": code, "_notes": notes,
                             "_identifier": identifier, "_fields": fields,
                             "name": name,
                             "category": category or DEFAULT_CATEGORY}
    for comp in comps.values():
        code = comp["_code"]
        usable = valid_id(code) and codes[code] == 1 and code not in comps
        comp["id"] = code if usable else comp["_identifier"]
        if not valid_id(comp["id"]):
            reader.problem(comp["_path"], f"neither humanCodingScheme {code!r} nor identifier "
                           f"{comp['_identifier']!r} can be a promoctl id")
    by_identifier = {identifier: c["id"] for identifier, c in comps.items()}
    return comps, by_identifier


def _associations(associations: list[Any], reader: _Reader, *, doc_identifier: str,
                  comps: dict[str, dict[str, Any]], by_identifier: dict[str, str]) -> None:
    parent_of: dict[str, tuple[str | None, float, str]] = {}  # child -> parent, order, path
    skipped: dict[str, int] = {}
    for j, value in enumerate(associations):
        path = jpath("CFAssociations", j)
        assoc = reader.mapping(value, path)
        if assoc is None:
            continue
        kind = reader.text(assoc, "associationType", path, required=True)
        origin = reader.link(assoc, "originNodeURI", path)
        target = reader.link(assoc, "destinationNodeURI", path)
        if kind is None or origin is None or target is None:
            continue
        sequence = assoc.get("sequenceNumber")
        if isinstance(sequence, str) and sequence.strip().isdigit():
            sequence = int(sequence)  # OpenSALT 2017 wrote "1"
        order = float(sequence) if isinstance(sequence, int) and not isinstance(
            sequence, bool) else float("inf")
        if kind == "isChildOf":
            if origin not in comps:
                reader.problem(f"{path}.originNodeURI.identifier", f"{origin!r} is not an item "
                               "of this package")
            elif target != doc_identifier and target not in comps:
                reader.problem(f"{path}.destinationNodeURI.identifier", f"unknown parent "
                               f"{target!r}: neither an item of this package nor its document")
            elif origin in parent_of:
                reader.warnings.append(f"{reader.display}: {path}: a second parent for "
                                       f"{by_identifier[origin]!r} ignored (promoctl keeps "
                                       f"the first, {parent_of[origin][2]})")
            else:
                parent = None if target == doc_identifier else target
                parent_of[origin] = (parent, order, path)
        elif kind == "isRelatedTo" and origin in comps and target in comps:
            comps[origin].setdefault("_related", []).append(by_identifier[target])
        else:
            skipped[kind] = skipped.get(kind, 0) + 1
    if skipped:
        listed = ", ".join(f"{k} x{n}" for k, n in sorted(skipped.items()))
        reader.warnings.append(f"{reader.display}: associations not imported (promoctl keeps "
                               f"the hierarchy and cross-references between its own "
                               f"competencies): {listed}")
    for identifier, (parent, order, path) in parent_of.items():
        comps[identifier]["_order"] = order
        if parent is not None:
            comps[identifier]["_parent"] = parent
            comps[identifier]["_parent_id"] = comps[parent]["id"]
            comps[identifier]["_parent_path"] = path
    _find_cycles(comps, reader)


def _find_cycles(comps: dict[str, dict[str, Any]], reader: _Reader) -> None:
    done: set[str] = set()
    for start in comps:
        chain: list[str] = []
        node: str | None = start
        while node is not None and node not in done:
            if node in chain:
                cycle = chain[chain.index(node):]
                names = " -> ".join(comps[n]["id"] for n in [*cycle, node])
                reader.problem(comps[node]["_parent_path"], f"isChildOf makes a cycle: {names}")
                break
            chain.append(node)
            node = comps[node].get("_parent")
        done.update(chain)


def _tree_order(comps: dict[str, dict[str, Any]]) -> Iterator[dict[str, Any]]:
    children: dict[str | None, list[tuple[float, int, str]]] = {}
    for n, (identifier, comp) in enumerate(comps.items()):
        key = (comp.get("_order", float("inf")), n, identifier)
        children.setdefault(comp.get("_parent"), []).append(key)
    stack = [ident for _o, _n, ident in sorted(children.get(None, []), reverse=True)]
    while stack:  # depth first, siblings by sequenceNumber then file order
        identifier = stack.pop()
        yield comps[identifier]
        stack.extend(ident for _o, _n, ident in sorted(children.get(identifier, []),
                                                       reverse=True))


def _finish(comp: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": comp["id"], "name": comp["name"],
                           "category": comp["category"]}
    if "_parent" in comp:
        out["parent"] = comp["_parent_id"]
    meta = {CASE_ID: comp["_identifier"]}
    if comp["_code"] and comp["_code"] != comp["id"]:
        meta[CODE] = comp["_code"]
    fields = case_fields.encode(comp["_fields"])
    if fields:
        meta[CASE_FIELDS] = fields
    if comp.get("_related"):
        meta[RELATED] = ", ".join(comp["_related"])
    out["description"] = join_meta(comp["_notes"], meta)
    return out


# ---------------------------------------------------------------------------------- export


def _identifier(meta_value: str | None, *parts: str) -> str:
    if meta_value and _UUID.match(meta_value):
        return meta_value.lower()
    return str(uuid.uuid5(NAMESPACE, ":".join(("promoctl", *parts))))


def write_package(framework: Framework, *, creator: str | None, when: str,
                  base_uri: str | None = None, default_creator: str = "promoctl"
                  ) -> tuple[dict[str, Any], list[str]]:
    """A CFPackage for ``framework`` (JSON-ready), and warnings about what CASE lacks.
    It is valid for the CASE 1.1 JSON schema and for OpenSALT's CASE 1.0 one: no
    ``CFPackageURI`` or ``CFDocumentURI`` inside a package. The creator is ``creator``,
    else the one the framework was imported with, else ``default_creator``."""
    warnings = []
    kept_uris: dict[str, str] = {}  # identifier -> the uri the package gave it

    def uri(identifier: str) -> str:
        if base_uri:
            return f"{base_uri.rstrip('/')}/{identifier}"
        return kept_uris.get(identifier) or f"urn:uuid:{identifier}"

    def link(identifier: str, title: str) -> dict[str, str]:
        return {"title": title, "identifier": identifier, "uri": uri(identifier)}

    prose, meta = split_meta(framework.description)
    doc_id = _identifier(meta.get(CASE_ID), "framework", framework.id)
    doc_fields = case_fields.decode(meta.get(CASE_FIELDS))
    if isinstance(doc_fields.get("uri"), str):
        kept_uris[doc_id] = doc_fields["uri"]
    for comp in framework.competencies:
        cmeta = split_meta(comp.description)[1]
        kept_uri = case_fields.decode(cmeta.get(CASE_FIELDS)).get("uri")
        if cmeta.get(CASE_ID) and isinstance(kept_uri, str):
            kept_uris[_identifier(cmeta[CASE_ID], "competency", doc_id, comp.id)] = kept_uri
    doc_link = link(doc_id, framework.title)
    document: dict[str, Any] = {"identifier": doc_id, "uri": uri(doc_id),
                                "creator": creator or doc_fields.get("creator")
                                or default_creator,
                                "title": framework.title, "lastChangeDateTime": when,
                                "version": framework.version}
    if prose:
        document["description"] = case_fields.given_back(doc_fields, "description", prose,
                                                         html_text.clean)
    document.update({k: v for k, v in doc_fields.items()
                     if k in case_fields.DOCUMENT and k not in document})
    ids: dict[str, str] = {}
    items = []
    for comp in framework.competencies:
        text, cmeta = split_meta(comp.description)
        ids[comp.id] = _identifier(cmeta.get(CASE_ID), "competency", doc_id, comp.id)
        fields = case_fields.decode(cmeta.get(CASE_FIELDS))
        item: dict[str, Any] = {
            "identifier": ids[comp.id], "uri": uri(ids[comp.id]),
            "fullStatement": case_fields.given_back(fields, "fullStatement", comp.name,
                                                    _statement_text),
            "humanCodingScheme": cmeta.get(CODE) or comp.id}
        if item["humanCodingScheme"] == ids[comp.id]:
            del item["humanCodingScheme"]
        if text:
            item["notes"] = case_fields.given_back(fields, "notes", text, html_text.clean)
        if case_fields.UNTYPED not in fields:  # imported without a type: none is known
            item["CFItemType"] = comp.category
        item.update({k: v for k, v in fields.items() if k in case_fields.ITEM
                     and k not in item})
        item["lastChangeDateTime"] = when
        items.append(item)
    associations = []
    position: dict[str | None, int] = {}
    for comp in framework.competencies:
        position[comp.parent] = position.get(comp.parent, 0) + 1
        target = doc_link if comp.parent is None else link(ids[comp.parent], comp.parent)
        associations.append(_association("isChildOf", link(ids[comp.id], comp.id), target,
                                         doc_link, uri, when, position[comp.parent]))
        for other in related(comp.description):
            if other in ids:
                associations.append(_association("isRelatedTo", link(ids[comp.id], comp.id),
                                                 link(ids[other], other), doc_link, uri, when,
                                                 None))
            else:
                warnings.append(f"{comp.id}: cross-reference to unknown {other!r} not exported")
    if any(c.anchors for c in framework.competencies):
        warnings.append("behavioural anchors and the scale are not part of a CASE package; "
                        "not exported")
    return {"CFDocument": document, "CFItems": items, "CFAssociations": associations}, warnings


def _statement_text(written: str) -> str:
    return html_text.clean(written) or written.strip()


def _association(kind: str, origin: dict[str, str], target: dict[str, str],
                 doc: dict[str, str], uri: Any, when: str, sequence: int | None
                 ) -> dict[str, Any]:
    identifier = str(uuid.uuid5(NAMESPACE, ":".join(
        ("promoctl", "association", doc["identifier"], kind, origin["identifier"],
         target["identifier"]))))
    out: dict[str, Any] = {"identifier": identifier, "uri": uri(identifier),
                           "associationType": kind, "originNodeURI": origin,
                           "destinationNodeURI": target}
    if sequence is not None:
        out["sequenceNumber"] = sequence
    out["lastChangeDateTime"] = when
    return out
