"""Separation of duties: who may not decide on a candidate, and who may not assess them.

People are matched by id (``--panel hr=priya-shah`` names the person record) or by
name, compared without regard to case or surrounding spaces, so typing the manager's
name instead of their id does not get past the check. Someone named by id is matched
by id only: two people may share a name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from promoctl.base.fsutil import Unreadable, read_regular
from promoctl.base.repofiles import MARKER
from promoctl.records.models import Packet, PanelMember, Person
from promoctl.records.settings import Policy, RepositoryConfig, SeparationOfDuties
from promoctl.records.yamlio import MAX_FILE_BYTES

NameOf = Callable[[str], str | None]  # person id -> their name, when known


def policy_from(raw: bytes | None) -> Policy:
    """The policy in ``promoctl.yaml``'s content; the defaults when it has none (a broken
    file is reported by validate, and the defaults are the strict ones)."""
    from promoctl.records.parsing import parse_record

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
    try:  # through the one reader of repository files: a regular file of a record's size
        return policy_from(read_regular(path, Path(path).parent, MAX_FILE_BYTES))
    except Unreadable:
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
    # A member named by person id is that person, not everyone who shares their name.
    return {_norm(member.person)} if member.person else {_norm(member.name)}


@dataclass(frozen=True)
class Parties:
    """Who took part in a packet, as the checks need it."""

    candidate: str
    candidate_name: str
    manager: str | None
    supervisor: str | None
    assessed: dict[str, set[str]]  # assessor -> evidence item ids

    @classmethod
    def of(cls, person: Person, packet: Packet | None) -> Parties:
        return cls(person.id, person.name, person.manager,
                   packet.supervisor if packet else None,
                   _assessed((e.assessor, e.id) for e in (packet.evidence if packet else [])
                             if e.assessor))

    @classmethod
    def from_meta(cls, candidate: str, person: dict[str, Any], packet: dict[str, Any] | None
                  ) -> Parties:
        """From the indexed fields (records.meta_of): validate parses nothing for it."""
        return cls(candidate, str(person.get("name") or candidate), person.get("manager"),
                   (packet or {}).get("supervisor"),
                   _assessed(tuple(pair) for pair in (packet or {}).get("assessors", [])))


def _assessed(pairs: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for assessor, item in pairs:
        out.setdefault(assessor, set()).add(item)
    return out


def breaches(rules: SeparationOfDuties, panel: Iterable[PanelMember], parties: Parties,
             name_of: NameOf) -> list[str]:
    """Every breach of ``rules`` by this panel on this candidate and packet, in words."""
    roles: list[tuple[str, set[str]]] = []
    candidate_keys = {_norm(parties.candidate), _norm(parties.candidate_name)}
    if rules.candidate:
        roles.append(("the candidate", candidate_keys))
    if rules.manager and parties.manager:
        roles.append(("the candidate's manager", _keys(parties.manager, name_of)))
    if rules.supervisor and parties.supervisor:
        roles.append(("the packet's supervisor", _keys(parties.supervisor, name_of)))
    if rules.assessors:
        for assessor, items in sorted(parties.assessed.items()):
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
        for assessor, items in sorted(parties.assessed.items()):
            # An assessor given by person id is matched by id (namesakes are different
            # people); one given by name, by the candidate's id or name.
            same = _norm(assessor) == _norm(parties.candidate) if name_of(assessor) \
                else _norm(assessor) in candidate_keys
            if same:
                out.append(f"evidence {', '.join(sorted(items))} is assessed by the candidate "
                           f"{parties.candidate!r}; separation of duties does not allow it")
    return out
