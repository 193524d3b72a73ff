"""Caches of computed results: each packet's evaluation, and governance reports.

The validation cache (``cache.py``) lets a warm run skip parsing; these let it skip the
work done on the parsed records too. An evaluation is a pure function of the packet,
its candidate, its ladder, the ladder's framework and the as-of date, so its cache key
is the content hash of each of those files, the packet's path (the JSON names it) and
the as-of date as given (without one, the packet's own submission date, which its
content fixes). A report is a function of every record and its options, so its key
hashes every loaded file's content hash with the options. A changed byte in any of
them gives a new key: a miss, never a stale result.

What is stored is what the views render from: an evaluation's format-1 JSON text with
the few display values JSON lacks (``evaluation_view.Shown``), and a report's figures
as JSON (``report.to_cache``). Fresh results are rendered from that same form, so a
cached run prints the same bytes as a fresh one.

Each cache is one JSON file (never pickle: nothing in it can run code) next to the
validation cache, stamped with a fingerprint of promoctl's code: a new version of any
core module discards it. Files are written atomically, so concurrent runs each write a
consistent file and the last one wins; a corrupt or truncated file is ignored and
rebuilt.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache as memoize
from pathlib import Path
from typing import Any

from promoctl import __version__
from promoctl.base.errors import Problem
from promoctl.base.repofiles import record_files, relative
from promoctl.engine import workspace
from promoctl.engine.evaluate import evaluate
from promoctl.engine.evaluation_view import Shown, shown
from promoctl.records import levels
from promoctl.records.loader import Repository
from promoctl.reports import report as report_
from promoctl.store.cache import Cache, read_stamped, stamped, write_stamped
from promoctl.store.cache import location as cache_location

CACHE_FORMAT = 1
EVALUATE_CACHE = "evaluate-cache.json"
REPORT_CACHE = "report-cache.json"
# Reports are few and small; keep the latest periods and groupings asked for.
MAX_REPORTS = 16
# Evaluations not used in a run are kept (another run may evaluate other packets, or
# another date), up to this many besides those used, so the file cannot grow forever.
MAX_UNUSED_EVALUATIONS = 20_000

Progress = Any  # Callable[[int, int], None] | None, as the loader takes it


@memoize
def code_fingerprint() -> str:
    """Every core module (the command line excepted): what decides an evaluation or a
    report is spread over models, parsing, evaluation, views and statistics, and hashing
    all of them costs a millisecond. Any change to any of them is a miss."""
    here = Path(__file__).parent.parent
    digest = hashlib.sha256(f"{__version__}/{CACHE_FORMAT}".encode())
    for path in sorted(here.rglob("*.py")):
        relative = path.relative_to(here).as_posix()
        if relative.startswith("cli/"):
            continue
        digest.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def location(root: Path, name: str) -> Path:
    """Beside the validation cache: in .git, or the user's cache folder outside git."""
    return cache_location(root).with_name(name)


class _Store:
    """One cache file: ``entries`` by key, plus hit and miss counts for this run."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}
        self.used: set[str] = set()
        self.changed = False
        self.hits = 0
        self.misses = 0
        data = self._read()
        if data is not None:
            self.entries = {k: v for k, v in data["entries"].items() if isinstance(v, dict)}
            self._loaded(data)

    def _read(self) -> dict[str, Any] | None:
        data = read_stamped(self.path, CACHE_FORMAT, code_fingerprint())
        return data if self._valid(data) else None

    @staticmethod
    def _valid(data: Any) -> bool:
        return stamped(data, CACHE_FORMAT, code_fingerprint()) \
            and isinstance(data.get("entries"), dict)

    def _loaded(self, data: dict[str, Any]) -> None:
        """Subclasses pick up their other sections here."""

    def _write(self, **sections: Any) -> None:
        write_stamped(self.path, CACHE_FORMAT, code_fingerprint(), sections)


# --------------------------------------------------------------------------- evaluations


class EvaluationCache(_Store):
    """Evaluations by key; and what each packet content names (its candidate and ladder),
    so a cached packet's dependencies are found without parsing it.

    The file is one line of JSON (the index) and then the evaluations' texts, back to
    back, which the index locates by byte offset: decoding 80 MB of JSON strings with
    their escaped quotes and newlines would be a third of a warm run, and a text is
    written out as it is stored. The index records the texts' total length, so a
    truncated file is recognised and ignored.
    """

    def __init__(self, path: Path) -> None:
        self.names: dict[str, list[str]] = {}
        self.names_used: set[str] = set()
        self.fresh: dict[str, Shown] = {}
        self.blob = memoryview(b"")
        super().__init__(path)

    def _read(self) -> dict[str, Any] | None:
        try:
            raw = self.path.read_bytes()
            end = raw.index(b"\n")
            data = json.loads(raw[:end])
        except (OSError, ValueError, RecursionError):
            return None
        if not isinstance(data, dict) or data.get("blob") != len(raw) - end - 1:
            return None
        self.blob = memoryview(raw)[end + 1:]
        return data if super()._valid(data) else None

    def _loaded(self, data: dict[str, Any]) -> None:
        names = data.get("names")
        if isinstance(names, dict):
            self.names = {k: v for k, v in names.items() if isinstance(v, list)
                          and len(v) == 2 and all(isinstance(i, str) for i in v)}

    def named(self, packet_key: str) -> tuple[str, str] | None:
        found = self.names.get(packet_key)
        if found is None:
            return None
        self.names_used.add(packet_key)
        return found[0], found[1]

    def name(self, packet_key: str, candidate: str, ladder: str) -> None:
        self.names[packet_key] = [candidate, ladder]
        self.names_used.add(packet_key)
        self.changed = True

    def _texts(self, entry: dict[str, Any]) -> tuple[str, str] | None:
        at = entry.get("at")
        if not (isinstance(at, list) and len(at) == 3 and all(isinstance(n, int) for n in at)):
            return None
        start, text, extras = at
        if start < 0 or text < 0 or extras < 0 or start + text + extras > len(self.blob):
            return None
        try:
            return (bytes(self.blob[start:start + text]).decode(),
                    bytes(self.blob[start + text:start + text + extras]).decode())
        except UnicodeDecodeError:
            return None

    def get(self, key: str) -> Shown | None:
        result = self.fresh.get(key)
        entry = self.entries.get(key)
        if result is None and entry is not None and isinstance(entry.get("path"), str) \
                and isinstance(entry.get("ready"), bool):
            texts = self._texts(entry)
            if texts is not None:
                result = Shown(entry["path"], texts[0], texts[1], entry["ready"])
        if result is None:
            self.misses += 1
            return None
        self.hits += 1
        self.used.add(key)
        return result

    def put(self, key: str, result: Shown, packet_key: str, as_of: str) -> None:
        self.entries[key] = {"path": result.path, "as_of": as_of, "packet": packet_key,
                             "ready": result.ready}
        self.fresh[key] = result
        self.used.add(key)
        self.changed = True

    def save(self) -> None:
        """Write if anything changed. An unused entry for the same path and as-of date as
        one used now is an older version of that packet's result: dropped."""
        if not self.changed:
            return
        current = {(e.get("path"), e.get("as_of")) for k, e in self.entries.items()
                   if k in self.used}
        keys = [k for k in self.entries if k in self.used]
        keys += [k for k, e in self.entries.items() if k not in self.used
                 and (e.get("path"), e.get("as_of")) not in current][:MAX_UNUSED_EVALUATIONS]
        index: dict[str, dict[str, Any]] = {}
        chunks: list[bytes] = []
        offset = 0
        for key in keys:
            entry = self.entries[key]
            fresh = self.fresh.get(key)
            texts = (fresh.text, fresh.extras_text) if fresh is not None \
                else self._texts(entry)
            if texts is None:
                continue
            text, extras = texts[0].encode(), texts[1].encode()
            index[key] = {k: v for k, v in entry.items() if k != "at"} | {
                "at": [offset, len(text), len(extras)]}
            chunks += (text, extras)
            offset += len(text) + len(extras)
        wanted = self.names_used | {str(e.get("packet")) for e in index.values()}
        head = {"blob": offset, "entries": index,
                "names": {k: v for k, v in self.names.items() if k in wanted}}
        write_stamped(self.path, CACHE_FORMAT, code_fingerprint(), head, b"".join(chunks))


@dataclass(frozen=True)
class Evaluated:
    """One packet: how it is shown, or the problems that stop it being evaluated."""

    display: str
    shown: Shown | None
    problems: tuple[Problem, ...]


def evaluate_packets(root: Path, paths: Sequence[Path], as_of: date | None,
                     progress: Progress = None) -> tuple[list[Evaluated], list[Problem]]:
    """Evaluate the packets found under ``paths``, through the validation cache and the
    evaluation cache: a warm run parses no packet. Same outcomes and problems as
    ``workspace.evaluate_packets``."""
    repo, selected, problems = workspace.load_packets_cached(root, paths, progress)
    store = EvaluationCache(location(root, EVALUATE_CACHE))
    outcomes = evaluate_loaded(repo, selected, problems, as_of, store)
    store.save()
    return outcomes, problems


def evaluate_loaded(repo: Repository, selected: Sequence[str], problems: Sequence[Problem],
                    as_of: date | None, store: EvaluationCache | None = None
                    ) -> list[Evaluated]:
    """``workspace.evaluate_loaded``'s outcomes, each evaluation taken from ``store``
    when its key is there. Which files block a packet is decided as there, but from the
    records' indexes, so a cached packet and its candidate are never parsed."""
    by_path = workspace.problems_by_path(problems)
    when = as_of.isoformat() if as_of else "submitted"
    held = levels.Index(repo)
    outcomes = []
    for display in sorted(selected):
        src = repo.packets.get(display)
        packet_key = repo.keys.get(display)
        names = store.named(packet_key) if store is not None and packet_key else None
        if src is not None and names is None:
            names = (src.record.candidate, src.record.target.ladder)
            if store is not None and packet_key:
                store.name(packet_key, *names)
        sources, blocking = workspace.evaluation_inputs(repo, display, by_path, names)
        if sources is None:
            outcomes.append(Evaluated(display, None, blocking))
            continue
        src, person, ladder, framework = sources
        inputs = [repo.keys.get(s.display) for s in (src, person, ladder, framework)]
        key = None
        if store is not None and all(inputs):
            # The candidate's level comes from the person file and their approvals.
            key = hashlib.sha256("\n".join(
                [display, when, *(f"{kind}:{k}" for kind, k in zip(
                    ("packet", "person", "ladder", "framework"), inputs, strict=True)),
                 f"approvals:{held.key(str(person.record_id))}"]
            ).encode()).hexdigest()
        result = store.get(key) if store is not None and key is not None else None
        if result is None:
            packet = src.record
            spell = held.at(packet.candidate, as_of or packet.submitted)
            ev = evaluate(packet, person.record, ladder.record, framework.record, as_of,
                          spell.level, spell.ladder)
            result = shown(ev, display)
            if store is not None and key is not None and packet_key:
                store.put(key, result, packet_key, when)
        outcomes.append(Evaluated(display, result, ()))
    return outcomes


# ------------------------------------------------------------------------------- reports


class ReportCache(_Store):
    def get(self, key: str) -> report_.Report | None:
        entry = self.entries.get(key)
        if entry is not None:
            try:
                found = report_.from_cache(entry.get("report"))
            except (KeyError, TypeError, ValueError, AttributeError):
                found = None  # malformed: computed again and replaced
            if found is not None:
                self.hits += 1
                self.used.add(key)
                return found
        self.misses += 1
        return None

    def put(self, key: str, data: dict[str, Any]) -> None:
        # Latest first: the oldest fall off the end.
        self.entries = {key: {"report": data}, **{k: v for k, v in self.entries.items()
                                                  if k != key}}
        self.used.add(key)
        self.changed = True

    def save(self) -> None:
        if self.changed:
            self._write(entries=dict(list(self.entries.items())[:MAX_REPORTS]))


def report_key(repo: Repository, options: report_.Options) -> str | None:
    """Every loaded file's content hash and the options; None when some record was
    loaded without a content hash (no validation cache), so nothing is cached."""
    tables = [repo.frameworks, repo.ladders, repo.people, repo.packets, repo.decisions,
              repo.reviews, *repo.others.values()]
    if any(src.display not in repo.keys for table in tables for src in table.values()):
        return None
    return _report_key(repo.keys, options)


def _report_key(keys: Mapping[str, str], options: report_.Options) -> str:
    shown_options = json.dumps([options.start.isoformat(), options.end.isoformat(),
                                list(options.by), options.min_group, options.interval,
                                options.unaligned, str(options.recorded_on)])
    digest = hashlib.sha256(shown_options.encode())
    for display in sorted(keys):
        digest.update(f"\n{display}\0{keys[display]}".encode())
    return digest.hexdigest()


def unchanged_report(root: Path, options: report_.Options) -> report_.Report | None:
    """The cached report, when no record changed since a whole run (validate, or a
    command that loads and checks everything) found the repository valid: then every
    file's content hash is known from its stat, and nothing need be loaded."""
    cache = Cache(cache_location(root))
    cache.files.preload(cache.store.all_files())
    displays = [(name, relative(name, root)) for name in record_files(root)]
    if cache.unchanged(displays, root) != []:
        return None  # changed, never checked, or invalid (which loading reports)
    keys = {display: cache.files[display][4] for _name, display in displays}
    return ReportCache(location(root, REPORT_CACHE)).get(_report_key(keys, options))


def build_report(repo: Repository, options: report_.Options) -> report_.Report:
    """``report.build``, from the report cache when nothing it reads has changed. A fresh
    report goes through the cached form too, so both print the same bytes."""
    store = ReportCache(location(repo.root, REPORT_CACHE))
    key = report_key(repo, options)
    if key is not None:
        cached = store.get(key)
        if cached is not None:
            return cached
    data = report_.to_cache(report_.build(repo, options))
    if key is not None:
        store.put(key, data)
        store.save()
    return report_.from_cache(data)
