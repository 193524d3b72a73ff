"""Computed results, kept by the content of everything they were computed from: each
packet's evaluation, and governance reports.

Callers make the key (``engine.evaluations``, ``reports.remembered``): a changed byte
in anything a result read gives a new key, a miss, never a stale result. What is kept
is plain text and JSON (never pickle: nothing in it can run code), stamped with a
fingerprint of promoctl's code, so a new version of any core module discards it.
Files are written atomically, so concurrent runs each write a consistent file and the
last one wins; a corrupt or truncated file is ignored and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache as memoize
from pathlib import Path
from typing import Any, NamedTuple

from promoctl import __version__
from promoctl.store.cache import location as cache_location
from promoctl.store.cache import read_stamped, stamped, write_stamped

CACHE_FORMAT = 1
EVALUATE_CACHE = "evaluate-cache.json"
REPORT_CACHE = "report-cache.json"
# Reports are few and small; keep the latest periods and groupings asked for.
MAX_REPORTS = 16
# Evaluations not used in a run are kept (another run may evaluate other packets, or
# another date), up to this many besides those used, so the file cannot grow forever.
MAX_UNUSED_EVALUATIONS = 20_000



class Kept(NamedTuple):
    """One evaluation as it is kept: the packet's path, its JSON text, the display values
    JSON lacks (as JSON text), and whether it is ready."""

    path: str
    text: str
    extras_text: str
    ready: bool


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
    """Evaluations by key; what each packet content names (its candidate and ladder),
    what each ladder content names (its framework), and every person's approvals key
    with the decisions it was computed from: so a cached packet's key is found from the
    content keys alone, without parsing or loading anything.

    The file is one line of JSON (the index) and then the evaluations' texts, back to
    back, which the index locates by byte offset: decoding 80 MB of JSON strings with
    their escaped quotes and newlines would be a third of a warm run, and a text is
    written out as it is stored. The index records the texts' total length, so a
    truncated file is recognised and ignored.
    """

    def __init__(self, path: Path) -> None:
        self.names: dict[str, list[str]] = {}
        self.names_used: set[str] = set()
        self.frameworks: dict[str, str] = {}  # ladder content key -> framework id
        self.approvals: dict[str, Any] = {}  # {"decisions": digest, "people": {id: key}}
        self.fresh: dict[str, Kept] = {}
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
        frameworks = data.get("frameworks")
        if isinstance(frameworks, dict):
            self.frameworks = {k: v for k, v in frameworks.items() if isinstance(v, str)}
        approvals = data.get("approvals")
        if isinstance(approvals, dict) and isinstance(approvals.get("decisions"), str) \
                and isinstance(approvals.get("people"), dict) \
                and all(isinstance(v, str) for v in approvals["people"].values()):
            self.approvals = approvals

    def framework_of(self, ladder_key: str) -> str | None:
        return self.frameworks.get(ladder_key)

    def name_framework(self, ladder_key: str, framework: str) -> None:
        if self.frameworks.get(ladder_key) != framework:
            self.frameworks[ladder_key] = framework
            self.changed = True

    def approvals_of(self, decisions: str) -> dict[str, str] | None:
        """Every person's approvals key, if computed from the decisions of digest
        ``decisions``."""
        if self.approvals.get("decisions") != decisions:
            return None
        people: dict[str, str] = self.approvals["people"]
        return people

    def keep_approvals(self, decisions: str, people: dict[str, str]) -> None:
        if self.approvals.get("decisions") != decisions:
            self.approvals = {"decisions": decisions, "people": people}
            self.changed = True

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

    def get(self, key: str) -> Kept | None:
        result = self.fresh.get(key)
        entry = self.entries.get(key)
        if result is None and entry is not None and isinstance(entry.get("path"), str) \
                and isinstance(entry.get("ready"), bool):
            texts = self._texts(entry)
            if texts is not None:
                result = Kept(entry["path"], texts[0], texts[1], entry["ready"])
        if result is None:
            self.misses += 1
            return None
        self.hits += 1
        self.used.add(key)
        return result

    def put(self, key: str, result: Kept, packet_key: str, as_of: str) -> None:
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
                "names": {k: v for k, v in self.names.items() if k in wanted},
                "frameworks": self.frameworks, "approvals": self.approvals}
        write_stamped(self.path, CACHE_FORMAT, code_fingerprint(), head, b"".join(chunks))


# ------------------------------------------------------------------------------- reports


class ReportCache(_Store):
    """Reports' figures as JSON, latest first; ``reports.remembered`` reads them back."""

    def get(self, key: str) -> dict[str, Any] | None:
        entry = self.entries.get(key)
        found = entry.get("report") if entry is not None else None
        if isinstance(found, dict):
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
