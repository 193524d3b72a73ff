"""Computed results, kept by the content of everything they were computed from: each
packet's evaluation, and governance reports.

Callers make the key (``engine.evaluations``, ``reports.remembered``): a changed byte
in anything a result read gives a new key, a miss, never a stale result. Results are
rows of the store's ``evaluations``, ``names``, ``frameworks``, ``approvals`` and
``reports`` tables (``cachedb``), read a few at a time; a new version of any core
module empties them with the rest.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, NamedTuple, Self

from promoctl.store.cache import code_fingerprint, location, open_store, well_formed_problems
from promoctl.store.cachedb import BATCH, SCHEMA, as_bytes, from_bytes, json_text, loads, peek

# Reports are few and small; keep the latest periods and groupings asked for.
MAX_REPORTS = 16
# Evaluations and packet names not used in a run are kept (another run may evaluate
# other packets, or another date), the newest this many besides those used, so the
# table cannot grow forever.
MAX_UNUSED_EVALUATIONS = 20_000


class Kept(NamedTuple):
    """One evaluation as it is kept: the packet's path, its JSON text as it sits in the
    output's list (``evaluation_view.Shown.nested``, bytes), the display values JSON
    lacks (as JSON text), and whether it is ready."""

    path: str
    nested: bytes
    extras_text: str
    ready: bool


# Answers of whole-repository evaluate runs kept: a few dates, a few work-tree states.
MAX_ANSWERS = 4


class Answer(NamedTuple):
    """What an ``evaluate`` run over the whole repository answered, in a state of the
    work tree (``worktree``): the stat of every path that state does not cover, each
    packet's evaluation key (or, instead, the problems that blocked it) in order, and
    the problems of the repository. Problems are kept as their fields."""

    stats: dict[str, list[int] | None]
    outcomes: list[tuple[str, str | None, list[list[Any]]]]
    problems: list[list[Any]]


class _Results:
    """A table of results in the store, with hit and miss counts for this run."""

    def __init__(self, path: Path) -> None:
        self.store = open_store(path)
        self.used: set[str] = set()
        self.hits = 0
        self.misses = 0

    @classmethod
    def of(cls, root: Path) -> Self:
        """The results of the repository at ``root``, in its store."""
        return cls(location(root))

    def _found(self, key: str, found: Any) -> Any:
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
            self.used.add(key)
        return found


class EvaluationCache(_Results):
    """Evaluations by key; what each packet content names (its candidate and ladder),
    what each ladder content names (its framework), and every person's approvals key
    with the decisions it was computed from: so a cached packet's key is found from the
    content keys alone, without parsing or loading anything. An evaluation of a packet's
    path and as-of date replaces the older one of the same."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.fresh: dict[str, tuple[Kept, str, str]] = {}  # not yet written
        self.names: dict[str, tuple[str, str]] = {}
        self.frameworks: dict[str, str] = {}  # ladder content key -> framework id
        self.read_names: dict[str, tuple[str, str]] | None = None  # every row, when preloaded
        self.read_frameworks: dict[str, str | None] = {}  # rows read (a few ladders)
        self.approvals: tuple[str, dict[str, str]] | None = None  # decisions digest, keys

    def framework_of(self, ladder_key: str) -> str | None:
        found = self.frameworks.get(ladder_key)
        if found is None:
            if ladder_key not in self.read_frameworks:
                rows = self.store.rows("SELECT framework FROM frameworks WHERE ladder = ?",
                                       (ladder_key,))
                self.read_frameworks[ladder_key] = \
                    rows[0][0] if rows and isinstance(rows[0][0], str) else None
            found = self.read_frameworks[ladder_key]
        return found

    def name_framework(self, ladder_key: str, framework: str) -> None:
        if self.framework_of(ladder_key) != framework:
            self.frameworks[ladder_key] = framework

    def approvals_of(self, decisions: str) -> dict[str, str] | None:
        """Every person's approvals key, if computed from the decisions of digest
        ``decisions``."""
        if self.approvals is not None and self.approvals[0] == decisions:
            return self.approvals[1]
        rows = self.store.rows("SELECT body FROM approvals WHERE decisions = ?", (decisions,))
        people = loads(rows[0][0]) if rows and isinstance(rows[0][0], str) else None
        if not isinstance(people, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in people.items()):
            return None
        return people

    def keep_approvals(self, decisions: str, people: dict[str, str]) -> None:
        if self.approvals_of(decisions) is None:
            self.approvals = (decisions, people)

    def preload_names(self) -> None:
        """Read every packet content's names at once (for many packets)."""
        self.read_names = {
            packet: (candidate, ladder) for packet, candidate, ladder in self.store.rows(
                "SELECT packet, candidate, ladder FROM names", ())
            if isinstance(candidate, str) and isinstance(ladder, str)}

    def named(self, packet_key: str) -> tuple[str, str] | None:
        found = self.names.get(packet_key)
        if found is None and self.read_names is not None:
            return self.read_names.get(packet_key)
        if found is None:
            rows = self.store.rows("SELECT candidate, ladder FROM names WHERE packet = ?",
                                   (packet_key,))
            if rows and all(isinstance(v, str) for v in rows[0]):
                found = (rows[0][0], rows[0][1])
        return found

    def name(self, packet_key: str, candidate: str, ladder: str) -> None:
        self.names[packet_key] = (candidate, ladder)

    def get(self, key: str) -> Kept | None:
        fresh = self.fresh.get(key)
        result = fresh[0] if fresh is not None else None
        if result is None:
            rows = self.store.rows(
                "SELECT path, text, extras, ready FROM evaluations WHERE key = ?", (key,))
            if rows and isinstance(rows[0][0], bytes) and isinstance(rows[0][1], bytes) \
                    and isinstance(rows[0][2], str) and rows[0][3] in (0, 1):
                path, text, extras, ready = rows[0]
                result = Kept(from_bytes(path), text, extras, bool(ready))
        return self._found(key, result)  # type: ignore[no-any-return]

    def get_many(self, keys: list[str]) -> dict[str, Kept]:
        """The kept evaluations of ``keys`` that are kept, read a few hundred at a time."""
        found: dict[str, Kept] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            for key, path, text, extras, ready in self.store.rows(
                    "SELECT key, path, text, extras, ready FROM evaluations WHERE key IN "
                    f"({', '.join('?' * len(chunk))})", tuple(chunk)):
                if isinstance(path, bytes) and isinstance(text, bytes) \
                        and isinstance(extras, str) and ready in (0, 1):
                    found[key] = Kept(from_bytes(path), text, extras, bool(ready))
        for key in keys:
            self._found(key, found.get(key))
        return found

    def remember_answer(self, state: str, when: str, answer: Answer) -> None:
        """Keep ``answer`` for ``state`` and ``when`` (the latest ``MAX_ANSWERS``)."""
        body = json_text(answer._asdict())
        self.store.change(lambda con: (
            con.execute("DELETE FROM answers WHERE state = ? AND scope = ?", (state, when)),
            con.execute("INSERT INTO answers VALUES (?, ?, ?)", (state, when, body)),
            con.execute("DELETE FROM answers WHERE rowid NOT IN (SELECT rowid FROM answers "
                        f"ORDER BY rowid DESC LIMIT {MAX_ANSWERS})")))

    def put(self, key: str, result: Kept, packet_key: str, as_of: str) -> None:
        self.fresh[key] = (result, packet_key, as_of)
        self.used.add(key)
        if len(self.fresh) >= BATCH:
            self._flush()

    def _flush(self) -> None:
        fresh, names, frameworks = self.fresh, self.names, self.frameworks
        self.fresh, self.names, self.frameworks = {}, {}, {}
        if fresh or names or frameworks:
            self.store.change(lambda con: _write(con, fresh, names, frameworks))

    def save(self) -> None:
        """Write what is new, and keep the newest rows besides those used."""
        changed = bool(self.fresh or self.names or self.frameworks)
        self._flush()
        approvals, self.approvals = self.approvals, None
        if approvals is not None:
            self.store.change(lambda con: (
                con.execute("DELETE FROM approvals"),
                con.execute("INSERT INTO approvals VALUES (?, ?)",
                            (approvals[0], json_text(approvals[1])))))
        if changed:
            keep = len(self.used) + MAX_UNUSED_EVALUATIONS
            self.store.change(lambda con: _prune(con, keep))
        self.store.release()


def kept_answer(root: Path, state: str, when: str) -> tuple[Answer, dict[str, Kept]] | None:
    """The answer remembered for ``state`` and ``when`` (``EvaluationCache
    .remember_answer``), with those of its evaluations that are kept; None when there is
    none well formed. Read without opening the store (no checks, no writes, no wait:
    opening checks every page of a file of a hundred megabytes), as ``memo`` reads."""
    path, stamp = location(root), (SCHEMA, code_fingerprint())
    rows = peek(path, stamp, "SELECT body FROM answers WHERE state = ? AND scope = ?",
                (state, when))
    body = loads(rows[0][0]) if rows and isinstance(rows[0][0], str) else None
    if not isinstance(body, dict):
        return None
    stats, outcomes, problems = (body.get(k) for k in ("stats", "outcomes", "problems"))
    if not (isinstance(stats, dict) and all(
            row is None or (isinstance(row, list) and all(type(v) is int for v in row))
            for row in stats.values())
            and isinstance(outcomes, list) and all(
                isinstance(o, list) and len(o) == 3 and isinstance(o[0], str)
                and (isinstance(o[1], str) or (o[1] is None and well_formed_problems(o[2])))
                for o in outcomes)
            and well_formed_problems(problems)):
        return None
    answer = Answer(stats, [(d, k, p) for d, k, p in outcomes], problems or [])
    keys = [key for _display, key, _problems in answer.outcomes if key is not None]
    kept = {}
    for key, name, text, extras, ready in peek(
            path, stamp, "SELECT key, path, text, extras, ready FROM evaluations "
            "WHERE key IN (SELECT value FROM json_each(?))", (json_text(keys),)):
        if isinstance(name, bytes) and isinstance(text, bytes) and isinstance(extras, str) \
                and ready in (0, 1):
            kept[key] = Kept(from_bytes(name), text, extras, bool(ready))
    return answer, kept


def _write(con: sqlite3.Connection, fresh: dict[str, tuple[Kept, str, str]],
           names: dict[str, tuple[str, str]], frameworks: dict[str, str]) -> None:
    for key, (kept, packet_key, as_of) in fresh.items():
        path = as_bytes(kept.path)
        con.execute("DELETE FROM evaluations WHERE path = ? AND as_of = ? AND key != ?",
                    (path, as_of, key))
        con.execute("INSERT OR REPLACE INTO evaluations VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (key, path, as_of, packet_key, int(kept.ready), kept.nested,
                     kept.extras_text))
    con.executemany("INSERT OR REPLACE INTO names VALUES (?, ?, ?)",
                    ((key, *found) for key, found in names.items()))
    con.executemany("INSERT OR REPLACE INTO frameworks VALUES (?, ?)", frameworks.items())


def _prune(con: sqlite3.Connection, keep: int) -> None:
    con.execute("DELETE FROM evaluations WHERE rowid IN (SELECT rowid FROM evaluations "
                "ORDER BY rowid DESC LIMIT -1 OFFSET ?)", (keep,))
    con.execute("DELETE FROM names WHERE packet NOT IN (SELECT packet FROM evaluations) "
                "AND rowid IN (SELECT rowid FROM names ORDER BY rowid DESC LIMIT -1 OFFSET ?)",
                (MAX_UNUSED_EVALUATIONS,))


class ReportCache(_Results):
    """Reports' figures as JSON, the latest ``MAX_REPORTS``; ``reports.remembered`` reads
    them back."""

    def get(self, key: str) -> dict[str, Any] | None:
        rows = self.store.rows("SELECT body FROM reports WHERE key = ?", (key,))
        found = loads(rows[0][0]) if rows and isinstance(rows[0][0], str) else None
        return self._found(key, found if isinstance(found, dict) else None)  # type: ignore[no-any-return]

    def put(self, key: str, data: dict[str, Any]) -> None:
        self.used.add(key)
        self.store.change(lambda con: (
            con.execute("INSERT OR REPLACE INTO reports VALUES (?, ?)", (key, json_text(data))),
            con.execute("DELETE FROM reports WHERE rowid IN (SELECT rowid FROM reports "
                        f"ORDER BY rowid DESC LIMIT -1 OFFSET {MAX_REPORTS})")))

    def save(self) -> None:
        self.store.release()
