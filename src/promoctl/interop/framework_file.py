"""Framework records written by the importers and read by the exporters.

A promoctl framework has no fields for another system's identifiers or for
cross-references between competencies, so the importers keep them as the last paragraph
of the description, one ``Key: value`` line each (``CASE identifier: 0f3c...``,
``Code: 6 RP A``, ``Cross-references: level-1, level-2``, ``Moodle ID number: Compétence
1``); the exporters read them back
from there, which is what keeps identifiers stable through a round trip. Only these keys
are recognised, so ordinary prose is never taken for them. Moodle's scale flags are kept
the same way in a scale value's description (``Moodle: default, proficient``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promoctl.base.errors import InvalidRecords, UserError, display_path
from promoctl.interop.common import render_record, repository_root, schema_comment, write_record
from promoctl.records import checks
from promoctl.records.loader import discover, find_root, peek_kind
from promoctl.records.models import Framework, ScaleValue
from promoctl.records.parsing import parse_record
from promoctl.records.reading import load

CASE_ID = "CASE identifier"
CODE = "Code"
RELATED = "Cross-references"
MOODLE_ID = "Moodle ID number"  # when it could not be the promoctl id as it is
CASE_FIELDS = "CASE fields"  # one line of JSON: see ``case_fields``
_KEYS = (MOODLE_ID, CASE_ID, CODE, CASE_FIELDS, RELATED)
SCALE_FLAGS = "Moodle:"


def split_meta(description: str | None) -> tuple[str, dict[str, str]]:
    """The prose of a description and the interop keys of its last paragraph."""
    if not description:
        return "", {}
    text = description.rstrip()
    head, sep, last = text.rpartition("\n\n")
    meta: dict[str, str] = {}
    for line in last.split("\n"):
        key, colon, value = line.partition(":")
        if not colon or key not in _KEYS or key in meta:
            return text, {}
        meta[key] = value.strip()
    return (head if sep else ""), meta


def join_meta(text: str, meta: dict[str, str]) -> str | None:
    lines = [f"{key}: {meta[key]}" for key in _KEYS if meta.get(key)]
    parts = [p for p in (text.strip(), "\n".join(lines)) if p]
    return "\n\n".join(parts) or None


def related(description: str | None) -> list[str]:
    value = split_meta(description)[1].get(RELATED, "")
    return [v.strip() for v in value.split(",") if v.strip()]


def scale_flags(scale: ScaleValue) -> set[str]:
    text = (scale.description or "").strip()
    if not text.startswith(SCALE_FLAGS):
        return set()
    return {w.strip() for w in text[len(SCALE_FLAGS):].split(",") if w.strip()}


def depth(framework: Framework) -> int:
    parents = {c.id: c.parent for c in framework.competencies}
    deepest = 0
    for comp in framework.competencies:
        n, node, seen = 1, comp.parent, {comp.id}
        while node is not None and node in parents and node not in seen:
            seen.add(node)
            n, node = n + 1, parents[node]
        deepest = max(deepest, n)
    return deepest


@dataclass
class Written:
    path: Path
    framework: Framework
    warnings: list[str] = field(default_factory=list)


def write_framework(data: dict[str, Any], *, out: Path | None, repo: Path | None,
                    force: bool, warnings: list[str]) -> Written:
    """Check the framework as ``validate`` would, then write it atomically."""
    root = repo.resolve() if repo is not None else repository_root(
        out.parent if out is not None else Path.cwd())
    if out is None:
        if root is None:
            raise UserError("not inside a promotion repository (no promoctl.yaml here or "
                            "above); pass --repo, or --out FILE")
        out = root / "frameworks" / f"{data['id']}.yaml"
    display = display_path(out, root) if root is not None else out.as_posix()
    raw, source = render_record(data, display, schema_comment(root, out, "framework"))
    problems = checks.check_framework(source)
    if problems:
        raise InvalidRecords(problems)
    if root is not None:
        _refuse_duplicate_id(root, out, data["id"])
    write_record(out, raw, force=force)
    return Written(out, source.record, warnings)


def _refuse_duplicate_id(root: Path, target: Path, framework_id: str) -> None:
    repo = load(root, discover([root]), skip=lambda _d, kind: kind != "framework")
    existing = repo.frameworks.get(framework_id)
    if existing is not None and (root / existing.display).resolve() != target.resolve():
        raise UserError(f"framework {framework_id!r} already exists in {existing.display}; "
                        "two frameworks cannot share an id")


def load_framework(ref: str, repo: Path | None) -> tuple[Framework, str]:
    """A valid framework by its file or its id in the repository; its display path."""
    candidate = Path(ref)
    if candidate.is_file():
        root = repo.resolve() if repo is not None else repository_root(candidate)
        display = display_path(candidate, root) if root else candidate.as_posix()
        raw = candidate.read_bytes()
        if peek_kind(raw) not in ("framework", None):
            raise UserError(f"{ref}: not a framework record (kind: framework)")
        source, problems = parse_record(raw, display)
        if source is None:
            raise InvalidRecords(problems)
        if not isinstance(source.record, Framework):
            raise UserError(f"{ref}: not a framework record (kind: framework)")
    else:
        root = repo.resolve() if repo is not None else find_root(Path.cwd())
        loaded = load(root, discover([root]), skip=lambda _d, kind: kind != "framework")
        found = loaded.frameworks.get(ref)
        if found is None:
            if ref in loaded.broken_ids.get("framework", set()):
                raise InvalidRecords([p for p in loaded.problems
                                      if loaded.broken.get(p.path) == "framework"])
            known = ", ".join(sorted(loaded.frameworks)) or "none"
            raise UserError(f"{ref}: no such framework file or id (frameworks: {known})")
        source, display = found, found.display
    problems = checks.check_framework(source)
    if problems:
        raise InvalidRecords(problems)
    return source.record, display
