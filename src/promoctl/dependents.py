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
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from promoctl.loader import Repository
from promoctl.records import Source
from promoctl.yamlio import YamlProblems

MAPPING = "lms-mapping"
_LINE = re.compile(rb"^(kind|id):[ \t]*['\"]?([A-Za-z0-9][A-Za-z0-9._-]*)", re.MULTILINE)


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
        lines: dict[bytes, bytes] = {m[1]: m[2] for m in _LINE.finditer(out[at:at + size])}
        at += size + 1
        if b"kind" in lines and b"id" in lines:
            found.setdefault(lines[b"kind"].decode(), set()).add(lines[b"id"].decode())
    return found


def _record(src: Source) -> Any:
    try:
        return src.record
    except (YamlProblems, ValidationError, OSError):
        return None  # broken: its own problems say so


def _names(src: Source, ids: set[str]) -> bool:
    """Whether the file could refer to one of ``ids`` (a parsed record always could)."""
    if not ids:
        return False
    if src.path is None:
        return True
    try:
        raw = src.path.read_bytes()
    except OSError:
        return False
    return any(i.encode() in raw for i in ids)


def _ids(sources: Iterable[Source], displays: set[str]) -> set[str]:
    return {str(s.record_id) for s in sources if s.display in displays and s.record_id}


def dependents(repo: Repository, displays: set[str]) -> set[str]:
    """The displays of the records that refer to the records in ``displays`` (by their
    ids now and in the last commit)."""
    before = committed_ids(repo.root, displays)
    frameworks = _ids(repo.frameworks.values(), displays) | before.get("framework", set())
    ladders = _ids(repo.ladders.values(), displays) | before.get("ladder", set())
    people = _ids(repo.people.values(), displays) | before.get("person", set())
    packets = _ids(repo.packets.values(), displays) | before.get("packet", set())
    decisions = _ids(repo.decisions.values(), displays) | before.get("decision", set())
    out: set[str] = set()
    for src in repo.ladders.values():
        ladder = _record(src)
        if ladder is not None and ladder.framework in frameworks:
            out.add(src.display)
            ladders.add(ladder.id)
    for src in repo.others.get(MAPPING, {}).values() if frameworks else ():
        mapping = _record(src)
        if mapping is not None and mapping.framework in frameworks:
            out.add(src.display)
    for src in repo.people.values():
        if _names(src, ladders | people):
            person = _record(src)
            if person is not None and (person.ladder in ladders or person.manager in people):
                out.add(src.display)
    for src in repo.packets.values():
        if _names(src, ladders | people):
            packet = _record(src)
            if packet is not None and (packet.target.ladder in ladders
                                       or packet.candidate in people
                                       or packet.supervisor in people):
                out.add(src.display)
    for src in repo.decisions.values():
        decision = _record(src)
        if decision is not None and (
                decision.target.ladder in ladders or decision.candidate in people
                or decision.inputs.packet.id in packets
                or decision.inputs.framework.id in frameworks
                or decision.supersedes in decisions):
            out.add(src.display)
    for src in repo.reviews.values():
        review = _record(src)
        if review is not None and (review.ladder in ladders or review.person in people
                                   or review.decision in decisions
                                   or review.supersedes in _ids(repo.reviews.values(),
                                                                displays)):
            out.add(src.display)
    return out - displays
