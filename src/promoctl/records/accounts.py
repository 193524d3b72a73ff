"""Which person an LMS row or an xAPI actor is: by id, email, ``mbox_sha1sum`` or account.

A person record may list ``accounts`` (``home_page`` and ``name``, as xAPI's
``account.homePage`` and ``account.name``); ``check_accounts`` is the cross-record check
``validate`` runs so that an account, an email or its SHA-1 names at most one person.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from promoctl.base.errors import Problem
from promoctl.base.fsutil import Unreadable, read_regular
from promoctl.records.models import Person
from promoctl.records.parsing import Source
from promoctl.records.yamlio import MAX_FILE_BYTES, YamlProblems


def home_key(home_page: str) -> str:
    """Account home pages compare without case and without a trailing slash."""
    return home_page.strip().rstrip("/").casefold()


def email_sha1(email: str) -> str:
    return hashlib.sha1(f"mailto:{email.strip()}".encode()).hexdigest()


@dataclass
class People:
    """The people of a repository, indexed by everything an LMS may call them."""

    by_id: dict[str, Person] = field(default_factory=dict)
    by_email: dict[str, list[Person]] = field(default_factory=dict)
    by_sha1: dict[str, list[Person]] = field(default_factory=dict)
    by_account: dict[tuple[str, str], list[Person]] = field(default_factory=dict)
    by_account_name: dict[str, list[Person]] = field(default_factory=dict)

    @classmethod
    def of(cls, people: Iterable[Person]) -> People:
        out = cls()
        for person in people:
            out.by_id[person.id] = person
            if person.email:
                out.by_email.setdefault(person.email.strip().casefold(), []).append(person)
                out.by_sha1.setdefault(email_sha1(person.email), []).append(person)
            for account in person.accounts:
                key = (home_key(account.home_page), account.name.strip())
                if person not in out.by_account.get(key, []):
                    out.by_account.setdefault(key, []).append(person)
                names = out.by_account_name.setdefault(account.name.strip(), [])
                if person not in names:
                    names.append(person)
        return out

    def find(self, *, person: str | None = None, email: str | None = None,
             sha1: str | None = None, home_page: str | None = None,
             account: str | None = None) -> tuple[Person | None, str]:
        """The one person these keys name, or None and why not. The keys are tried in
        this order: account (home page and name), person id, email, SHA-1 of the email;
        an account name alone (an LMS username) is tried as an id, an email, then the
        name of an account on any system."""
        if home_page and account:
            found = self.by_account.get((home_key(home_page), account.strip()), [])
            if found:
                return _one(found, f"account {account!r} on {home_page}")
        for key in (person, account):
            if key and key in self.by_id:
                return self.by_id[key], ""
        for address in (email, account):
            if address and "@" in address:
                found = self.by_email.get(address.strip().casefold(), [])
                if found:
                    return _one(found, f"email {address!r}")
        if sha1:
            found = self.by_sha1.get(sha1.strip().lower(), [])
            if found:
                return _one(found, f"mbox_sha1sum {sha1!r}")
        if person and not home_page:  # an LMS username in a CSV
            found = self.by_account_name.get(person.strip(), [])
            if found:
                return _one(found, f"account name {person!r}")
        who = " on ".join(k for k in (account, home_page) if k) if account else \
            (person or email or sha1 or "(nobody)")
        return None, f"unknown person {who!r} (no person with that id, email or account)"


def _one(found: list[Person], what: str) -> tuple[Person | None, str]:
    if len(found) == 1:
        return found[0], ""
    return None, f"{what} belongs to more than one person ({', '.join(p.id for p in found)})"


def _accounts(src: Source, names: set[str] | None = None) -> list[list[str]]:
    """A person's accounts from its meta; a person only indexed (``validate FILE``: not
    parsed, no meta) is read when its text could list one of ``names`` (any account when
    None)."""
    if "ladder" in src.meta or src.path is None:  # parsed or cached: the meta is whole
        return list(src.meta.get("accounts") or ())
    try:
        raw = read_regular(src.path, limit=MAX_FILE_BYTES)
        wanted = [n.encode() for n in names] if names is not None else [b"accounts"]
        if not any(w in raw for w in wanted):
            return []
        person = src.record
    except (Unreadable, ValueError, YamlProblems):  # broken: its own problems say so
        return []
    return [[a.home_page, a.name] for a in getattr(person, "accounts", [])]


def check_accounts(people: Iterable[Source], given: set[str] | None = None) -> list[Problem]:
    """Each account belongs to one person: otherwise an import could not tell whose
    evidence a record is. Each person that shares an account is told whose else it is.
    Reads only each person's ``meta``, not the whole record. With ``given`` (the files of
    ``validate FILE...``), only the accounts of those people are checked."""
    sources = list(people)
    names: set[str] | None = None
    if given is not None:
        names = {name.strip() for src in sources if src.display in given
                 for _home, name in _accounts(src)}
        if not names:
            return []
    listed: dict[tuple[str, str], list[tuple[Source, int]]] = {}
    accounts = {src.display: _accounts(src, names) for src in sources}
    for src in sources:
        for i, (home_page, name) in enumerate(accounts[src.display]):
            listed.setdefault((home_key(home_page), name.strip()), []).append((src, i))
    out: list[Problem] = []
    for entries in listed.values():
        if len(entries) < 2:
            continue
        for src, i in entries:
            home_page, name = accounts[src.display][i]
            others = sorted({str(o.record_id) for o, _ in entries if o is not src})
            if others:
                whose = f"also {' and '.join(others)}'s"
            else:
                whose = "listed twice"
                if i == entries[0][1] and entries[0][0] is src:
                    continue  # the first of a person's duplicates is not the problem
            out.append(src.problem(("accounts", i), f"account {name!r} on {home_page} is "
                                   f"{whose}; each account belongs to one person"))
    return sorted(out)
