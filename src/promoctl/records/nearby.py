"""``validate FILE`` from the reference index: FILE, what it refers to, what refers to
it, and nothing else (what a pre-commit hook runs on every commit).

The index (``store.index``) holds every record of the last whole run that found no
error, with the ids each names, and the basis: the state of the work tree it stands
for. Git tells which tracked files may differ from the basis (``worktree.Asking``),
and the stat of each folder and untracked file the whole run saw tells what else
changed; every other file has the content the index describes. The run then loads only
the given files, the files changed since, the records that refer to the given ones
(``dependents``), and what the checks of those read: the records they name, each
person's decisions, the decisions on the same packets or superseding them, the people
sharing an account, and any record with the same id. Frameworks, ladders and other
kinds are few and always loaded.

It answers only when it finds nothing wrong: a problem's message may draw on records it
did not load (an unknown id's "did you mean"), so then the full run gives the answer.
The tests compare both answers across edits.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from promoctl.base.errors import Problem
from promoctl.base.repofiles import BULK_KINDS, SKIP_DIRS, is_record
from promoctl.records.loader import Repository, read_one
from promoctl.records.models import KINDS
from promoctl.records.parsing import Source
from promoctl.store import index, worktree
from promoctl.store.cache import Cache, artifact_row

# The kinds of which there are thousands; every record of another kind (FEW) is loaded.
BULK = BULK_KINDS
FEW = tuple(sorted(set(KINDS) - set(BULK)))
# The kinds of id the run asks who names: never a ladder or framework (they are
# loaded whole, and nearly every record names one).
ASKED = frozenset({*BULK, "account"})
# More files changed since the basis than this: the index is too far behind to help.
CHANGED_AT_MOST = 200
# Rounds of "what the checks read" from the checked records (a packet's candidate, the
# candidate's decisions, the decisions superseding those).
ROUNDS = 3


# People a record names in a role no run asks who holds (``ASKED``): a panel member or
# an assessor may sit on hundreds of panels, and no check of theirs reads those.
ROLES = {"panel": "person", "assessor": "person"}


def links(kind: str | None, meta: dict[str, Any]) -> set[tuple[str, str]]:
    """The (kind, id) a record names, from its meta (``parsing.meta_of``); accounts as
    ("account", name), panel members and assessors under their role (``ROLES``)."""
    pairs: list[tuple[str, Any]] = [("ladder", meta.get("ladder"))]
    if kind == "packet":
        pairs += [("person", meta.get("candidate")), ("person", meta.get("supervisor"))]
        pairs += [("assessor", assessor) for assessor, _id in meta.get("assessors") or ()]
    elif kind == "person":
        pairs += [("person", meta.get("manager"))]
        pairs += [("account", str(name).strip()) for _home, name in meta.get("accounts") or ()]
    elif kind == "decision":
        pairs += [("person", meta.get("candidate")), ("packet", meta.get("packet")),
                  ("framework", meta.get("framework")), ("decision", meta.get("supersedes"))]
        pairs += [("panel", member) for member in meta.get("panel") or ()]
    elif kind == "review":
        pairs += [("person", meta.get("person")), ("decision", meta.get("decision")),
                  ("review", meta.get("supersedes"))]
    return {(k, str(i)) for k, i in pairs if isinstance(i, str) and i}


def index_rows(repo: Repository) -> Iterator[index.Row]:
    """The index rows of a whole run's repository (every record filed, none broken)."""
    keys = dict(repo.keys.items())  # one read of a table on disk, not one a record
    for display, kind, record_id, meta in repo.summaries():
        key = keys.get(display)
        if key is not None and kind is not None and record_id is not None:
            yield (display, kind, str(record_id), key,
                   sorted(links(kind, meta)) if kind in BULK else [])


def check(root: Path, cache: Cache, wanted: set[str], basis: dict[str, Any],
          asking: worktree.Asking, listed: bytes | None = None) -> list[Problem] | None:
    """The problems of ``validate`` over the ``wanted`` files when the index, written
    with ``basis``, can tell them and they are none; else None (the full run decides).
    ``asking``: git asked what changed since the basis (``listed``: what git status
    listed, when it did not ask that)."""
    store = cache.store
    changes = asking.changes(listed)
    if changes is None:
        return None
    candidates = _changed(root, store, basis, changes)
    if candidates is None:
        return None
    candidates = {name for name in candidates | wanted if is_record(name)}
    if len(candidates) > CHANGED_AT_MOST:
        return None
    present = {name for name in candidates if os.path.lexists(root / name)}
    if not wanted <= present:
        return None
    # The changed files as they are now: their index rows are stale.
    scratch = Repository(root, cache=cache)
    fresh: dict[str, Source | None] = {}
    for name in sorted(present):
        read = read_one(scratch, root / name)
        fresh[name] = read.source
        if read.key is not None and read.entry is not None:
            cache.put(read.key, read.entry)  # the load below finds it parsed
    if any(src is None or src.kind not in BULK for name, src in fresh.items()
           if name in wanted):
        return None  # a broken given file, or a framework or ladder (thousands refer to it)
    # What HEAD holds of a given file is its index row, unless it was listed then or
    # committed since.
    reads = _reads(root, store, wanted, fresh, candidates,
                   set(basis["listed"]) | changes.committed)
    if reads is None:
        return None
    return _checked(root, cache, wanted, *reads)


def _changed(root: Path, store: Any, basis: dict[str, Any], changes: worktree.Changes
             ) -> set[str] | None:
    """The files that may differ from the index: what git lists now or listed then,
    what commits since changed, untracked files whose stat changed, and files added to
    or removed from a folder whose stat changed (None: a folder appeared)."""
    found = set(basis["listed"]) | changes.listed | changes.committed
    now = time.time_ns()
    for name, row in basis["untracked"].items():
        if artifact_row(root / name, now) != row:
            found.add(name)
    folders = basis["folders"]
    for name, row in folders.items():
        if artifact_row(root / name, now) == row:
            continue
        found_there = _added_or_removed(root, name, folders, index.in_folder(store, name))
        if found_there is None:
            return None
        found |= found_there
    return found


def _added_or_removed(root: Path, folder: str, walked: dict[str, Any], known: set[str]
                      ) -> set[str] | None:
    """The record files added to or removed from ``folder`` since the index was
    written; None when a folder was added to it."""
    prefix = "" if folder == "." else folder + "/"
    try:
        now = {prefix + name for name in os.listdir(root / folder)
               if not name.startswith(".") and name not in SKIP_DIRS}
    except OSError:
        return None
    added = now - known - walked.keys()
    for name in added:
        if os.path.isdir(root / name):
            return None
    return {name for name in added if is_record(name)} | (known - now)


def _reads(root: Path, store: Any, wanted: set[str], fresh: dict[str, Source | None],
           stale: set[str], moved: set[str]
           ) -> tuple[set[str], dict[str, set[str]]] | None:
    """The files to load: the given and changed ones, what refers to the given ones,
    what the checks of all those read, and every record not of a bulk kind; with the
    ids the given files had in the last commit (asked of git for those ``moved`` since
    the index was written)."""
    from promoctl.records.dependents import committed_ids

    def named(names: Iterable[str]) -> set[tuple[str, str]]:
        names = set(names)
        out = index.named_by(store, names - stale)
        for name in names & fresh.keys():
            src = fresh[name]
            if src is not None:
                out |= links(src.kind, src.meta)
        return out

    def naming(pairs: set[tuple[str, str]], kinds: tuple[str, ...] = BULK) -> set[str]:
        out = index.naming(store, pairs, kinds) - stale
        return out | {name for name, src in fresh.items() if src is not None
                      and src.kind in kinds and links(src.kind, src.meta) & pairs}

    def own(names: Iterable[str]) -> set[tuple[str, str]]:
        found = {name: (kind, record_id) for name, (kind, record_id, _key)
                 in index.records(store, set(names) - stale).items()}
        for name in set(names) & fresh.keys():
            src = fresh[name]
            if src is not None and src.kind and src.record_id:
                found[name] = (src.kind, str(src.record_id))
        return set(found.values())

    given = own(wanted)
    asked = wanted & moved
    before = committed_ids(root, asked) if asked else {}
    for kind, record_id, _key in index.records(store, wanted - asked).values():
        before.setdefault(kind, set()).add(record_id)
    if any(kind not in BULK for kind in before):
        return None  # a framework or ladder in the last commit: thousands refer to it
    for kind, ids in before.items():
        given |= {(kind, i) for i in ids}
    checked = wanted | naming(given)
    if len(checked) > CHANGED_AT_MOST:
        return None
    load = set(checked) | set(fresh) | (index.of_kinds(store, FEW) - stale)
    frontier = set(checked)
    for _round in range(ROUNDS):
        pairs = named(frontier) | own(frontier)
        records = {(ROLES.get(k, k), i) for k, i in pairs if k != "account"}
        found = index.with_ids(store, records) - stale
        found |= {n for n, s in fresh.items() if s is not None
                  and (s.kind, str(s.record_id)) in records}
        people = {p for p in pairs if p[0] == "person"}  # whose level history is read
        settled = {p for p in records if p[0] in ("packet", "decision")}
        found |= naming(people | settled, ("decision",))
        accounts = {p for p in named(frontier & checked) if p[0] == "account"}
        found |= naming(accounts, ("person",))
        frontier = found - load
        load |= found
        if len(load) > CHANGED_AT_MOST * 5:
            return None
    return load, before


def _checked(root: Path, cache: Cache, wanted: set[str], names: set[str],
             before: dict[str, set[str]]) -> list[Problem] | None:
    """Load ``names`` in the order a whole run reads files, and check the given files
    and those that refer to them; None when that finds a problem."""
    from promoctl.records import checking
    from promoctl.records.dependents import dependents
    from promoctl.records.rawchecks import check_broken_packets
    from promoctl.records.reading import load

    files = [Path(p) for p in sorted(os.path.join(root, n) for n in names)]
    repo = load(root, files, cache=cache, jobs=1)
    checked = wanted | dependents(repo, wanted, before)
    problems = [p for p in repo.problems if p.path in checked]
    problems += checking.check_only(repo, checked)
    problems += check_broken_packets(repo, checked)
    cache.save(prune=False)
    return None if problems else []
