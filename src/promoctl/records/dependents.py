"""The records that refer to given records: what ``validate FILE...`` checks as well, so
that a pre-commit run sees what a change breaks in other files.

A framework is referred to by its ladders and LMS mappings (and so, through a ladder, by
everything that refers to that ladder); a ladder by the people on it, the packets that
target it, and the decisions and reviews made on it; a person by the people they
manage, the packets they are the candidate or supervisor of, and their decisions and
reviews; a packet by its decisions; a decision by the reviews that follow it up and the
decisions and reviews that supersede it. A record that is only indexed is read when its
bytes name one of the ids (a cheap search), and parsed only then. A given record's id in
the last commit counts too: renaming a person breaks the packets that name the old id.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from promoctl.base.fsutil import Unreadable
from promoctl.records import yamlio
from promoctl.records.loader import Repository, peek_id, peek_kind, read_file
from promoctl.records.parsing import Source
from promoctl.records.yamlio import YamlProblems

MAPPING = "lms-mapping"


def committed_ids(root: Path, displays: Iterable[str]) -> dict[str, set[str]]:
    """The ids (by kind) the given files had in the last commit; empty outside git."""
    import subprocess

    names = sorted(displays)
    request = "".join(f"HEAD:{name}\n" for name in names).encode()
    try:
        out = subprocess.run(["git", "cat-file", "--batch"], cwd=root, input=request,
                             capture_output=True, check=False, timeout=60,
                             env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"}).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    found: dict[str, set[str]] = {}
    at = 0
    for _name in names:
        end = out.find(b"\n", at)
        if end < 0:
            break
        header = out[at:end].split()
        at = end + 1
        if len(header) != 3 or header[1] != b"blob":
            continue  # missing (a new file) or not a file
        size = int(header[2])
        blob = out[at:at + size]
        at += size + 1
        kind, record_id = peek_kind(blob), peek_id(blob)
        if kind is not None and record_id is not None:
            found.setdefault(kind, set()).add(record_id)
    return found


def _get(record: Any, *keys: str) -> Any:
    """``record.a.b`` of a model, or ``record["a"]["b"]`` of a file's YAML data."""
    for key in keys:
        record = record.get(key) if isinstance(record, dict) else getattr(record, key, None)
    return record


class _Unreadable:
    """A file whose YAML does not parse: it may refer to anything its text names."""


def _fields(raw: bytes | None, src: Source | None, display: str) -> Any:
    """The record's YAML data (from ``raw``, the file's bytes, read once), else the record
    in memory, else _Unreadable."""
    if raw is None:
        try:
            return src.record if src is not None else _Unreadable()
        except (YamlProblems, ValidationError, Unreadable):
            return _Unreadable()
    try:
        return yamlio.parse(raw, display).data
    except YamlProblems:
        return _Unreadable()


def _from_meta(src: Source | None, kind: str) -> dict[str, Any] | None:
    """What a parsed or cached record refers to, from its meta (``parsing.meta_of``):
    no file read, nothing parsed. None when the meta does not say."""
    if src is None or "ladder" not in src.meta:
        return None
    meta = src.meta
    if kind == "packet":
        return {"target": {"ladder": meta["ladder"]}, "candidate": meta.get("candidate"),
                "supervisor": meta.get("supervisor")}
    if kind == "person" and "manager" in meta:
        return {"ladder": meta["ladder"], "manager": meta["manager"]}
    if kind == "decision" and "framework" in meta:
        return {"target": {"ladder": meta["ladder"]}, "candidate": meta.get("candidate"),
                "inputs": {"packet": {"id": meta.get("packet")},
                           "framework": {"id": meta["framework"]}},
                "supersedes": meta.get("supersedes")}
    if kind == "review" and "person" in meta:
        return {key: meta.get(key) for key in ("ladder", "person", "decision", "supersedes")}
    return None


def _read(path: Path, root: Path) -> bytes | None:
    """A candidate's bytes through the one reader of repository files (never a wait on a
    FIFO, never a link out of the repository); None when it cannot be read."""
    try:
        return read_file(path, root)
    except Unreadable:
        return None


def _ids(sources: Iterable[Source], displays: set[str]) -> set[str]:
    return {str(s.record_id) for s in sources if s.display in displays and s.record_id}


def dependents(repo: Repository, displays: set[str],
               before: dict[str, set[str]] | None = None) -> set[str]:
    """The displays of the records that refer to the records in ``displays`` (by their
    ids now and in the last commit, ``before`` when known), broken ones included."""
    if before is None:
        before = committed_ids(repo.root, displays)
    frameworks = _ids(repo.frameworks.values(), displays) | before.get("framework", set())
    ladders = _ids(repo.ladders.values(), displays) | before.get("ladder", set())
    people = _ids(repo.people.values(), displays) | before.get("person", set())
    packets = _ids(repo.packets.values(), displays) | before.get("packet", set())
    decisions = _ids(repo.decisions.values(), displays) | before.get("decision", set())
    reviews = _ids(repo.reviews.values(), displays) | before.get("review", set())
    out: set[str] = set()
    for ladder in repo.ladders.values():
        # Ladders are few and loaded whole: the record in memory, no file read.
        if _get(_fields(None, ladder, ladder.display), "framework") in frameworks:
            out.add(ladder.display)
            ladders.add(str(ladder.record_id))
    tests: dict[str, Callable[[Any], bool]] = {
        "ladder": lambda r: _get(r, "framework") in frameworks,
        MAPPING: lambda r: _get(r, "framework") in frameworks,
        "person": lambda r: _get(r, "ladder") in ladders or _get(r, "manager") in people,
        "packet": lambda r: _get(r, "target", "ladder") in ladders
        or _get(r, "candidate") in people or _get(r, "supervisor") in people,
        "decision": lambda r: _get(r, "target", "ladder") in ladders
        or _get(r, "candidate") in people or _get(r, "supervisor") in people
        or _get(r, "inputs", "packet", "id") in packets
        or _get(r, "inputs", "framework", "id") in frameworks
        or _get(r, "supersedes") in decisions,
        "review": lambda r: _get(r, "ladder") in ladders or _get(r, "person") in people
        or _get(r, "decision") in decisions or _get(r, "supersedes") in reviews,
    }
    # the ids each kind can name, so a file is read only when it could refer to one
    names = {"ladder": frameworks, MAPPING: frameworks, "person": ladders | people,
             "packet": ladders | people,
             "decision": ladders | people | packets | frameworks | decisions,
             "review": ladders | people | decisions | reviews}
    candidates: list[tuple[str, str | None, Source | None]] = [
        (src.display, kind, src) for kind, table in (
            ("person", repo.people), ("packet", repo.packets),
            ("decision", repo.decisions), ("review", repo.reviews),
            (MAPPING, repo.others.get(MAPPING, {}))) for src in table.values()]
    candidates += [(display, kind, None) for display, kind in repo.broken.items()]
    for display, kind, src in candidates:
        if display in out or display in displays or kind not in tests:
            continue
        path = src.path if src is not None else repo.root / display
        fields = _from_meta(src, str(kind))
        if fields is None:
            ids = names[str(kind)]
            if not ids:
                continue
            # A file is parsed only when its text names one of the ids.
            raw = _read(path, repo.root) if path is not None else None
            if path is not None and (raw is None or not any(i.encode() in raw for i in ids)):
                continue
            fields = _fields(raw, src, display)
        if isinstance(fields, _Unreadable) or tests[kind](fields):
            out.add(display)
    return out - displays
