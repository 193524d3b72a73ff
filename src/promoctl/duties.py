"""Separation of duties: who may not decide on a candidate, and who may not assess them.

People are matched by id (``--panel hr=priya-shah`` names the person record) or by
name, compared without regard to case or surrounding spaces, so typing the manager's
name instead of their id does not get past the check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

from promoctl.models import (
    Packet,
    PanelMember,
    Person,
    Policy,
    RepositoryConfig,
    SeparationOfDuties,
)
from promoctl.repofiles import MARKER

NameOf = Callable[[str], str | None]  # person id -> their name, when known


def policy_from(raw: bytes | None) -> Policy:
    """The policy in ``promoctl.yaml``'s content; the defaults when it has none (a broken
    file is reported by validate, and the defaults are the strict ones)."""
    from promoctl.records import parse_record

    if raw is None:
        return Policy()
    source = parse_record(raw, MARKER)[0]
    if source is not None and isinstance(source.record, RepositoryConfig):
        return source.record.policy
    return Policy()


def load_policy(root: Path) -> Policy:
    """The repository's policy (read once per content: validate asks per decision)."""
    try:
        stat = (root / MARKER).stat()
    except OSError:
        return Policy()
    return _policy_at(str(root / MARKER), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _policy_at(path: str, _mtime_ns: int, _size: int) -> Policy:
    try:
        return policy_from(Path(path).read_bytes())
    except OSError:
        return Policy()


def policy_key(root: Path) -> str:
    """What the policy contributes to a cached check's dependency key."""
    return load_policy(root).model_dump_json()


def _keys(person_id: str | None, name_of: NameOf) -> set[str]:
    if not person_id:
        return set()
    name = name_of(person_id)
    return {_norm(person_id)} | ({_norm(name)} if name else set())


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _member_keys(member: PanelMember) -> set[str]:
    return {_norm(k) for k in (member.person, member.name) if k}


def breaches(rules: SeparationOfDuties, panel: Iterable[PanelMember], candidate: Person,
             packet: Packet | None, name_of: NameOf) -> list[str]:
    """Every breach of ``rules`` by this panel on this candidate and packet, in words."""
    roles: list[tuple[str, set[str]]] = []
    candidate_keys = {_norm(candidate.id), _norm(candidate.name)}
    if rules.candidate:
        roles.append(("the candidate", candidate_keys))
    if rules.manager and candidate.manager:
        roles.append(("the candidate's manager", _keys(candidate.manager, name_of)))
    if packet is not None and rules.supervisor and packet.supervisor:
        roles.append(("the packet's supervisor", _keys(packet.supervisor, name_of)))
    assessed: dict[str, set[str]] = {}  # assessor -> evidence item ids
    if packet is not None:
        for item in packet.evidence:
            if item.assessor:
                assessed.setdefault(item.assessor, set()).add(item.id)
    if rules.assessors:
        for assessor, items in sorted(assessed.items()):
            roles.append((f"assessor of {', '.join(sorted(items))}",
                          _keys(assessor, name_of)))
    out = []
    for member in panel:
        mine = _member_keys(member)
        what = [label for label, keys in roles if mine & keys]
        if what:
            out.append(f"panel member {member.name!r} ({member.role}) is {' and '.join(what)}; "
                       "separation of duties does not allow it")
    if rules.self_assessment:
        for assessor, items in sorted(assessed.items()):
            if _keys(assessor, name_of) & candidate_keys:
                out.append(f"evidence {', '.join(sorted(items))} is assessed by the candidate "
                           f"{candidate.id!r}; separation of duties does not allow it")
    return out
