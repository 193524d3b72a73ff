"""Load a promotion repository's record files, collecting every problem."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from promoctl.base.errors import Problem
from promoctl.base.fsutil import TooLarge, Unreadable, read_regular, reason
from promoctl.base.repofiles import MARKER as MARKER
from promoctl.base.repofiles import SKIP_DIRS as SKIP_DIRS
from promoctl.base.repofiles import discover as discover
from promoctl.base.repofiles import find_root as find_root
from promoctl.base.repofiles import peek_id as peek_id
from promoctl.base.repofiles import peek_kind as peek_kind
from promoctl.base.repofiles import relative
from promoctl.records.models import Framework, Ladder, Person
from promoctl.records.parsing import Source, parse_record
from promoctl.records.yamlio import MAX_FRAMEWORK_BYTES, YamlProblems, too_large
from promoctl.store.cache import Cache
from promoctl.store.recent import Recent
from promoctl.store.spill import Spill, SpillList, SpillMap

Table = MutableMapping[str, Source]


@dataclass
class Repository:
    root: Path
    frameworks: Table = field(default_factory=dict)
    ladders: Table = field(default_factory=dict)
    people: Table = field(default_factory=dict)
    packets: Table = field(default_factory=dict)  # by display path
    packet_ids: Table = field(default_factory=dict)
    decisions: Table = field(default_factory=dict)
    reviews: Table = field(default_factory=dict)
    others: dict[str, Table] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # Files that failed to read, parse or validate -> the kind their 'kind:' line names
    broken: dict[str, str | None] = field(default_factory=dict)
    # kind -> ids of records that exist but are broken: references to them are not
    # "unknown" (the broken file's own problems say what is wrong)
    broken_ids: dict[str, set[str]] = field(default_factory=dict)
    skip: Callable[[str, str | None], bool] | None = None
    cache: Cache | None = None
    keys: MutableMapping[str, str] = field(default_factory=dict)  # display -> content hash
    # left out by ``skip``, in order: [path, the kind its 'kind:' line names, content key]
    skipped: list[Any] | SpillList = field(default_factory=list)
    dep_memo: Recent = field(default_factory=Recent)  # see checking._dependency
    index_only: Callable[[str, str | None], bool] | None = None
    spill: Spill | None = None  # where the tables are, when they are on disk

    @classmethod
    def spilled(cls, root: Path, spill: Spill, **options: Any) -> Repository:
        """A repository whose per-record tables are on disk (see ``spill``): frameworks
        and ladders, few and read by every check, stay in memory."""
        def table(name: str) -> Table:
            return spill.map(name, _source_row, _source)

        return cls(root, people=table("people"), packets=table("packets"),
                   packet_ids=table("packet_ids"), decisions=table("decisions"),
                   reviews=table("reviews"), keys=spill.texts("keys"),
                   skipped=spill.list("skipped"), spill=spill, **options)

    def table(self, kind: str) -> Table:
        """Records of ``kind`` by id (packets by id too, though ``packets`` is by path)."""
        tables = {"framework": self.frameworks, "ladder": self.ladders, "person": self.people,
                  "decision": self.decisions, "review": self.reviews,
                  "packet": self.packet_ids}
        if kind in tables:
            return tables[kind]
        return self.others.setdefault(kind, {})

    def summaries(self) -> Iterator[tuple[str, str | None, str | None, dict[str, Any]]]:
        """(display, kind, id, meta) of every filed record; those of tables on disk
        without making a source of each (a path each costs more than its JSON)."""
        for table in (self.frameworks, self.ladders, self.people, self.packet_ids,
                      self.decisions, self.reviews, *self.others.values()):
            if isinstance(table, SpillMap):
                for row in table.encoded():
                    display, _path, kind, record_id, meta = json.loads(row)
                    yield display, kind, record_id, meta
            else:
                yield from ((s.display, s.kind, s.record_id, s.meta) for s in table.values())

    def framework(self, framework_id: str) -> Framework | None:
        return self._record("framework", framework_id)  # type: ignore[no-any-return]

    def ladder(self, ladder_id: str) -> Ladder | None:
        return self._record("ladder", ladder_id)  # type: ignore[no-any-return]

    def person(self, person_id: str) -> Person | None:
        return self._record("person", person_id)  # type: ignore[no-any-return]

    def _record(self, kind: str, record_id: str) -> Any:
        src = self.table(kind).get(record_id)
        if src is None:
            return None
        try:
            return src.record
        except (YamlProblems, ValidationError):
            # Only an indexed, never-validated file can fail here; it is broken, and
            # its own problems are reported when it is validated.
            self.broken_ids.setdefault(kind, set()).add(record_id)
            return None


def _source_row(src: Source) -> str:
    return json.dumps([src.display, None if src.path is None else str(src.path), src.kind,
                       src.record_id, src.meta], separators=(",", ":"))


def _source(row: str) -> Source:
    """A source as a table on disk gives it back: its record loads from its file."""
    display, path, kind, record_id, meta = json.loads(row)
    return Source(display, None, None, None if path is None else Path(path), kind,
                  record_id, meta)


@dataclass(slots=True)
class Read:
    """What one file says about itself, learnt without looking at any other record (so
    another process can learn it): ``file_one`` then files it in the repository."""

    display: str
    kind: str | None = None  # as its top-level 'kind:' line names it
    key: str | None = None  # its content hash, when there is a cache
    skipped: bool = False
    unfiled: bool = False  # indexed, but names no kind or id to file it by
    source: Source | None = None
    problems: list[Problem] = field(default_factory=list)
    broken_id: str | None = None  # the 'id:' line of a file that failed
    entry: dict[str, Any] | None = None  # a new cache entry, when the file was parsed
    stat: list[Any] | None = None  # for the cache's stat index


def read_one(repo: Repository, path: Path, key: str | None = None) -> Read:
    """Read, hash and parse one file, or find it in the cache; changes nothing but the
    cache's hit counts. ``key``, its content hash from an earlier read in this run, lets
    a cached file be taken without reading it again."""
    cache = repo.cache
    display = relative(path, repo.root)
    if key is not None and cache is not None:
        entry = cache.get(key)
        if entry is not None and not entry["own"]:
            return Read(display, entry["kind"], key, source=_cached(display, path, entry))
    try:
        # stat before reading: a change after the stat is then seen as a change next time
        now = time.time_ns()
        stat = os.stat(path) if cache is not None else None
        known = cache.by_stat(display, stat) if cache is not None and stat else None
        if known is not None and not unread(repo, display, *known):
            known = None
        raw = None if known else read_file(path, repo.root)
    except (OSError, Unreadable) as exc:
        return Read(display, problems=[unreadable(display, exc)])
    row = None
    if known is not None:
        key, kind, peeked_id = known
    else:
        assert raw is not None
        kind, peeked_id = peek_kind(raw), peek_id(raw)
        if cache is not None and stat is not None:
            key = cache.key(raw)
            row = cache.stat_row(stat, key, kind, peeked_id, now)
    if repo.skip is not None and repo.skip(display, kind):
        return Read(display, kind, key, skipped=True, stat=row)
    entry = cache.get(key) if cache is not None and key is not None else None
    if entry is not None:
        if entry["own"]:
            problems = [Problem(display, line, col, message)
                        for line, col, message in entry["own"]]
            return Read(display, kind, key, problems=problems, broken_id=entry["id"], stat=row)
        return Read(display, kind, key, source=_cached(display, path, entry), stat=row)
    if repo.index_only is not None and repo.index_only(display, kind):
        if kind is None or peeked_id is None:
            return Read(display, kind, key, unfiled=True, stat=row)
        return Read(display, kind, key, source=Source(display, None, None, path, kind,
                                                       peeked_id, {}), stat=row)
    if raw is None:  # its entry was there a moment ago (see unread); it is gone now
        try:
            raw = read_file(path, repo.root)
        except Unreadable as exc:
            return Read(display, problems=[unreadable(display, exc)])
    source, problems = parse_record(raw, display, path)
    return Read(display, kind, key, source=source, problems=problems, stat=row,
                broken_id=None if source else peeked_id,
                entry=_entry(source, problems, kind, raw) if key is not None else None)


def read_file(path: Path, root: Path | None) -> bytes:
    """A record file's bytes: only a regular file, inside ``root``, of a record's size
    (the framework's larger limit here; ``yamlio.decode`` holds each kind to its own)."""
    return read_regular(path, root, MAX_FRAMEWORK_BYTES)


def unreadable(display: str, exc: OSError | Unreadable) -> Problem:
    if isinstance(exc, TooLarge):
        return Problem(display, 0, 0, too_large(exc.size, MAX_FRAMEWORK_BYTES))
    return Problem(display, 0, 0, "file " + (reason(exc) if isinstance(exc, OSError)
                                             else str(exc)))


def unread(repo: Repository, display: str, key: str, kind: str | None,
            _record_id: str | None) -> bool:
    """Whether a file known by its stat can be dealt with without reading it: it is
    skipped, only indexed, or its entry is at hand (checked last: it loads the entries)."""
    return (repo.skip is not None and repo.skip(display, kind)) \
        or (repo.index_only is not None and repo.index_only(display, kind)) \
        or (repo.cache is not None and key in repo.cache.entries)


def _cached(display: str, path: Path, entry: dict[str, Any]) -> Source:
    return Source(display, None, None, path, entry["kind"], entry["id"], entry.get("meta") or {})


def file_one(repo: Repository, path: Path, read: Read) -> Source | None:
    """File what ``read_one`` learnt: problems, broken ids, the record by kind and id."""
    display, cache = read.display, repo.cache
    if cache is not None:
        cache.remember(display, read.stat)
    if read.skipped:
        repo.skipped.append((str(path), read.kind, read.key))
        return None
    if cache is not None and read.key is not None:
        repo.keys[display] = read.key
        if read.entry is not None:
            cache.put(read.key, read.entry)
        else:
            cache.used.add(read.key)  # the read may have been another process's
    if read.unfiled:
        return None
    repo.problems.extend(read.problems)
    if read.source is None:
        repo.broken[display] = read.kind
        if read.kind and read.broken_id:
            repo.broken_ids.setdefault(read.kind, set()).add(read.broken_id)
        return None
    return read.source if _add(repo, read.source) else None


def _entry(source: Source | None, problems: list[Problem], kind: str | None, raw: bytes
           ) -> dict[str, Any]:
    if source is None:
        return {"kind": kind, "id": peek_id(raw), "own":
                [[p.line, p.column, p.message] for p in problems], "refs": []}
    return {"kind": source.kind, "id": source.record_id, "own": [], "meta": source.meta,
            "refs": references(source.record), "artifacts": artifact_paths(source.record)}


def references(record: Any) -> list[list[str]]:
    """The records whose content this record's cross-checks read, as [kind, id] pairs."""
    kind = record.kind
    refs: list[tuple[str, str | None]] = []
    if kind == "ladder":
        refs = [("framework", record.framework)]
    elif kind == "person":
        refs = [("ladder", record.ladder), ("person", record.manager)]
    elif kind == "packet":
        refs = [("person", record.candidate), ("person", record.supervisor),
                ("ladder", record.target.ladder)]
    elif kind == "decision":
        # Not the packet: decide loads only the packet it decides on, and a dependency
        # missing there would make it re-check every decision (audit checks the packet
        # as it was decided on).
        refs = [("person", record.candidate), ("ladder", record.target.ladder),
                *[("person", m.person) for m in record.panel]]
    elif kind == "review":
        refs = [("person", record.person), ("ladder", record.ladder),
                ("decision", record.decision), ("review", record.supersedes)]
    return [[k, i] for k, i in refs if i is not None]


def artifact_paths(record: Any) -> list[str]:
    if record.kind != "packet":
        return []
    return sorted({a.path for item in record.evidence for a in item.artifacts})


def _add(repo: Repository, source: Source) -> bool:
    """File the source by kind and id; False when it is a duplicate or not filed."""
    # By kind and id only: a source served from the cache is not parsed to be filed.
    kind, record_id = source.kind, source.record_id
    if kind == "repository":
        if source.display != MARKER:
            repo.problems.append(source.problem(("kind",), f"a repository record belongs only "
                                                f"in {MARKER} at the repository's root"))
        return False
    assert kind is not None and record_id is not None  # every other kind has an id
    if kind == "packet":
        # Keyed by path so evaluate can address a file; ids must be unique all the same.
        if record_id in repo.packet_ids:
            first = repo.packet_ids[record_id]
            repo.problems.append(source.problem(("id",), _dup("packet", record_id, first)))
            return False
        repo.packet_ids[record_id] = source
        repo.packets[source.display] = source
        return True
    table = repo.table(kind)
    if record_id in table:
        repo.problems.append(source.problem(("id",), _dup(kind, record_id, table[record_id])))
        return False
    table[record_id] = source
    return True


def _dup(kind: str, record_id: str, first: Source) -> str:
    line, col = first.doc.locate(("id",))
    return f"duplicate {kind} id {record_id!r}: also defined at {first.display}:{line}:{col}"
