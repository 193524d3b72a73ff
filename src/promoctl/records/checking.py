"""Running the checks over a repository: every record's own checks, the ones that read
many records (supersession, level history, LMS mappings, accounts) and those of packets
that failed to load, each record's result reused while nothing it read has changed.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Container, Iterable, Mapping, MutableMapping
from functools import partial
from pathlib import Path
from typing import Any

from promoctl.base.errors import WARNING, Problem
from promoctl.base.fsutil import Unreadable, chunks
from promoctl.records import duties, levels
from promoctl.records.accounts import check_accounts
from promoctl.records.checks import (
    check_decision,
    check_framework,
    check_ladder,
    check_packet,
    check_person,
    check_review,
    dangling,
    level_key,
    people_named,
    unknown,
)
from promoctl.records.loader import Repository
from promoctl.records.mapping import check_lms_mappings
from promoctl.records.parsing import Source
from promoctl.records.rawchecks import check_broken_packets
from promoctl.store.recent import MISSING


def check_supersession(repo: Repository) -> list[Problem]:
    """Supersession chains, from each decision's few indexed fields (no parsing)."""
    out = []
    superseded_by: dict[str, str] = {}
    for src in _by_display(repo.decisions, repo):
        old, own = src.meta.get("supersedes"), src.record_id
        if old is None:
            continue
        if old == own:
            out.append(src.problem(("supersedes",), "a decision cannot supersede itself"))
        elif dangling(repo, "decision", old, repo.decisions):
            out.append(src.problem(("supersedes",), unknown("decision", old,
                                                            repo.decisions)))
        elif old in superseded_by:
            out.append(src.problem(("supersedes",), f"decision {old!r} is already "
                                   f"superseded by {superseded_by[old]!r}"))
        else:
            superseded_by[old] = str(own)
    # packet id -> [display, id] of its first decision
    first: MutableMapping[str, Any] = {} if repo.spill is None else repo.spill.map("first")
    for src in _by_display(repo.decisions, repo):
        if src.record_id in superseded_by:
            continue
        packet_id = src.meta.get("packet")
        if packet_id is None:
            continue
        if packet_id in first:
            display, other = first[packet_id]
            out.append(src.problem(("inputs", "packet", "id"), f"packet {packet_id!r} already "
                                   f"has decision {other!r} ({display}); a "
                                   "second decision must supersede it"))
        else:
            first[packet_id] = [src.display, src.record_id]
    return out


def check_level_history(repo: Repository, held: levels.Index | None = None
                        ) -> list[Problem]:
    """Approvals that do not read as a move up from the level the person then held
    (warnings, located at the decision): usually a person file edited by hand."""
    held = held or levels.Index(repo)
    out: list[Problem] = []
    for person_id in sorted(held.moves):
        try:
            history = held.history(person_id)
        except KeyError:  # an unknown or broken person: reported of its own
            continue
        for ref, message in history.conflicts:
            src = repo.decisions.get(ref)
            if src is not None:
                out.append(src.problem(("target", "level"), message)._replace(
                    severity=WARNING))
    return out


def _by_display(table: Mapping[str, Source], repo: Repository) -> Iterable[Source]:
    """A table's records in the order of their files' paths. Tables on disk are filled
    in that order, and are read back one record at a time."""
    if repo.spill is not None:
        return table.values()
    return sorted(table.values(), key=lambda s: s.display)


def _cached(repo: Repository, src: Source, check: Callable[[], list[Problem]],
            extra: str = "") -> list[Problem]:
    """A record's cross-checks, reused while nothing they read has changed.

    The dependency key is the content hash of every record the checks read (two levels
    deep: a packet reads its ladder, which reads its framework) plus ``extra``. Only a
    clean result is reused: a problem's message may name other records (did you mean),
    so records with problems are always checked afresh.
    """
    cache, key = repo.cache, repo.keys.get(src.display)
    entry = cache.entries.get(key) if cache is not None and key is not None else None
    if cache is None or entry is None or key is None:
        return check()
    parts = [extra]
    for kind, record_id in entry.get("refs", []):
        parts.extend(_dependency(repo, kind, record_id, 1))
    for relative in entry.get("artifacts", []):
        parts.append(f"artifact:{relative}:{_file_hash(repo.root, relative)}")
    dependency_key = hashlib.sha256("\n".join(parts).encode()).hexdigest()
    previous = entry.get("checks")
    if isinstance(previous, dict) and previous.get("dep") == dependency_key:
        return []
    problems = check()
    if not problems:
        cache.entries[key] = {**entry, "checks": {"dep": dependency_key}}
    elif "checks" in entry:
        cache.entries[key] = {k: v for k, v in entry.items() if k != "checks"}
    return problems


def _dependency(repo: Repository, kind: str, record_id: str, depth: int) -> tuple[str, ...]:
    """What one referenced record contributes to a dependency key (memoised per run:
    thousands of packets read the same ladder and framework)."""
    memo_key = (kind, record_id, depth)
    found = repo.dep_memo.get(memo_key)
    if found is not MISSING:
        return found  # type: ignore[no-any-return]
    dep = repo.table(kind).get(record_id)
    dep_key = repo.keys.get(dep.display) if dep is not None else None
    if dep is None or dep_key is None:
        broken = record_id in repo.broken_ids.get(kind, set())
        parts: tuple[str, ...] = (f"{kind}:{record_id}:{'broken' if broken else 'missing'}",)
    else:
        parts = (f"{kind}:{record_id}:{dep_key}",)
        if depth < 2 and repo.cache is not None:
            for sub_kind, sub_id in (repo.cache.entries.get(dep_key) or {}).get("refs", []):
                parts += _dependency(repo, sub_kind, sub_id, depth + 1)
    repo.dep_memo.put(memo_key, parts)
    return parts


def _file_hash(root: Path, relative: str) -> str:
    try:
        digest = hashlib.sha256()
        for chunk in chunks(os.path.join(root, relative), root):
            digest.update(chunk)
        return digest.hexdigest()
    except (Unreadable, ValueError):
        return "unreadable"


def check_repository(repo: Repository) -> list[Problem]:
    """Every cross-record problem, for every loaded record."""
    held = levels.Index(repo)
    out = check_records(repo) + check_packets(repo, list(repo.packets.values()), held=held)
    out.extend(check_level_history(repo, held))
    out.extend(check_lms_mappings(repo))  # not cached: its references are not indexed
    out.extend(check_accounts(repo.people.values()))
    return out + check_broken_packets(repo)


def decided_packets(repo: Repository) -> Container[str]:
    """The ids of the packets a decision was made on."""
    ids = (str(s.meta.get("packet")) for s in repo.decisions.values())
    if repo.spill is None:
        return frozenset(ids)
    decided = repo.spill.set("decided")
    for packet_id in ids:
        decided.add(packet_id)
    return decided


def check_packets(repo: Repository, sources: list[Source], *, release: bool = False,
                  decided: Container[str] | None = None, held: levels.Index | None = None
                  ) -> list[Problem]:
    """Cross-checks of packets; ``release`` drops each parsed packet once checked, so
    memory does not grow with their number (validate needs nothing more from them)."""
    if decided is None:
        decided = decided_packets(repo)
    held = held or levels.Index(repo)
    out: list[Problem] = []
    for src in sources:
        flag = f"decided:{src.record_id in decided}"
        for person_id in people_named(repo, src):
            flag += ";" + level_key(repo, person_id, held)
        out.extend(_cached(repo, src, partial(check_packet, src, repo, decided, held), flag))
        if release:
            src.release()
    return out


def check_one(repo: Repository, src: Source) -> list[Problem]:
    """One record's own cross-checks (not packets', which need the decided set)."""
    checkers: dict[str, Callable[[Source], list[Problem]]] = {
        "framework": check_framework,
        "ladder": lambda s: check_ladder(s, repo),
        "person": lambda s: check_person(s, repo),
        "decision": lambda s: check_decision(s, repo),
        "review": lambda s: check_review(s, repo),
    }
    check = checkers.get(src.kind or "")
    extra = duties.policy_key(repo.root) if src.kind == "decision" else ""
    return _cached(repo, src, partial(check, src), extra) if check else []


def check_only(repo: Repository, displays: set[str]) -> list[Problem]:
    """The checks of just these files (``validate FILES``, as a pre-commit hook runs it)."""
    out: list[Problem] = []
    decided = decided_packets(repo)
    held = levels.Index(repo)
    for kind in ("framework", "ladder", "person", "decision", "review", "packet"):
        for src in list(repo.table(kind).values()):
            if src.display not in displays:
                continue
            if kind == "packet":
                out.extend(check_packets(repo, [src], decided=decided, held=held))
            else:
                out.extend(check_one(repo, src))
    out.extend(p for p in check_supersession(repo) + check_lms_mappings(repo)
               + check_accounts(repo.people.values(), displays)
               + check_level_history(repo, held) if p.path in displays)
    return out


def check_records(repo: Repository) -> list[Problem]:
    """Cross-checks of every loaded record except packets."""
    out: list[Problem] = []
    for src in repo.frameworks.values():
        out.extend(_cached(repo, src, partial(check_framework, src)))
    for src in repo.ladders.values():
        out.extend(_cached(repo, src, partial(check_ladder, src, repo)))
    for src in repo.people.values():
        out.extend(_cached(repo, src, partial(check_person, src, repo)))
    policy = duties.policy_key(repo.root)  # decisions are checked against the policy
    for src in repo.decisions.values():
        out.extend(_cached(repo, src, partial(check_decision, src, repo), policy))
    for src in repo.reviews.values():
        out.extend(_cached(repo, src, partial(check_review, src, repo)))
    out.extend(check_supersession(repo))
    return out
