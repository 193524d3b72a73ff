"""Find a promotion repository's record files and load them, collecting every problem."""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from promoctl.errors import Problem, UserError, display_path
from promoctl.models import (
    Decision,
    Framework,
    Ladder,
    Packet,
    Person,
    RepositoryConfig,
    Review,
)
from promoctl.records import Source, parse_record

MARKER = "promoctl.yaml"
RECORD_SUFFIXES = (".yaml", ".yml")
# Folders that hold things other than records.
SKIP_DIRS = frozenset({"templates", "schemas", "artifacts", "node_modules"})


def find_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` holding ``promoctl.yaml``."""
    here = start.resolve()
    if here.is_file():
        here = here.parent
    for folder in (here, *here.parents):
        if (folder / MARKER).is_file():
            return folder
    raise UserError(f"{start}: not inside a promotion repository (no {MARKER} here or in any "
                    "parent folder); run 'promoctl init' to create one, or pass --repo")


def discover(paths: Iterable[Path]) -> list[Path]:
    """Record files under ``paths`` (files are taken as given), sorted for determinism."""
    found: set[Path] = set()
    for path in paths:
        if path.is_dir():
            for dirpath, dirnames, filenames in os.walk(path):
                dirnames[:] = sorted(d for d in dirnames
                                     if not d.startswith(".") and d not in SKIP_DIRS)
                for name in filenames:
                    if name.endswith(RECORD_SUFFIXES) and not name.startswith("."):
                        found.add(Path(dirpath, name))
        elif path.exists():
            found.add(path)
        else:
            raise UserError(f"{path}: no such file or folder")
    return sorted(found, key=lambda p: p.as_posix())


@dataclass
class Repository:
    root: Path
    frameworks: dict[str, Source] = field(default_factory=dict)
    ladders: dict[str, Source] = field(default_factory=dict)
    people: dict[str, Source] = field(default_factory=dict)
    packets: dict[str, Source] = field(default_factory=dict)  # by display path
    packet_ids: dict[str, Source] = field(default_factory=dict)
    decisions: dict[str, Source] = field(default_factory=dict)
    reviews: dict[str, Source] = field(default_factory=dict)
    others: dict[str, dict[str, Source]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # Files that failed to read, parse or validate -> the kind their 'kind:' line names
    broken: dict[str, str | None] = field(default_factory=dict)
    # kind -> ids of records that exist but are broken: references to them are not
    # "unknown" (the broken file's own problems say what is wrong)
    broken_ids: dict[str, set[str]] = field(default_factory=dict)
    skip: Callable[[str, str | None], bool] | None = None

    def framework(self, framework_id: str) -> Framework | None:
        src = self.frameworks.get(framework_id)
        return src.record if src else None

    def ladder(self, ladder_id: str) -> Ladder | None:
        src = self.ladders.get(ladder_id)
        return src.record if src else None

    def person(self, person_id: str) -> Person | None:
        src = self.people.get(person_id)
        return src.record if src else None


_KIND_LINE = re.compile(rb"^kind:[ \t]*['\"]?([A-Za-z_-]+)", re.MULTILINE)
_ID_LINE = re.compile(rb"^id:[ \t]*['\"]?([A-Za-z0-9][A-Za-z0-9._-]*)", re.MULTILINE)


def _peek(pattern: re.Pattern[bytes], raw: bytes) -> str | None:
    match = pattern.search(raw)
    return match.group(1).decode() if match else None


def peek_kind(raw: bytes) -> str | None:
    """The record kind from a top-level ``kind:`` line, without parsing the file."""
    return _peek(_KIND_LINE, raw)


def load(root: Path, files: list[Path],
         progress: Callable[[int, int], None] | None = None,
         skip: Callable[[str, str | None], bool] | None = None) -> Repository:
    """Load ``files``; ``skip(display, peeked_kind)`` leaves files out before parsing."""
    repo = Repository(root=root, skip=skip)
    # Loading builds many objects and frees none: the cyclic garbage collector would
    # rescan the growing heap again and again (half the run time at 10,000 packets).
    collecting = gc.isenabled()
    gc.disable()
    try:
        for n, path in enumerate(files, 1):
            _load_one(repo, path)
            if progress:
                progress(n, len(files))
    finally:
        if collecting:
            gc.enable()
    return repo


def _load_one(repo: Repository, path: Path) -> None:
    root = repo.root
    try:  # files found under root need no resolving (a syscall per file)
        display = path.relative_to(root).as_posix()
    except ValueError:
        display = display_path(path, root)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        repo.problems.append(Problem(display, 0, 0, f"cannot read file: {exc.strerror}"))
        repo.broken[display] = None
        return
    kind = peek_kind(raw)
    if repo.skip is not None and repo.skip(display, kind):
        return
    source, problems = parse_record(raw, display)
    repo.problems.extend(problems)
    if source is None:
        repo.broken[display] = kind
        record_id = _peek(_ID_LINE, raw)
        if kind and record_id:
            repo.broken_ids.setdefault(kind, set()).add(record_id)
    else:
        _add(repo, source)


def _add(repo: Repository, source: Source) -> None:
    record = source.record
    if isinstance(record, RepositoryConfig):
        if source.display != MARKER:
            repo.problems.append(source.problem(("kind",), f"a repository record belongs only "
                                                f"in {MARKER} at the repository's root"))
        return
    if isinstance(record, Packet):
        # Keyed by path so evaluate can address a file; ids must be unique all the same.
        if record.id in repo.packet_ids:
            first = repo.packet_ids[record.id]
            repo.problems.append(source.problem(("id",), _dup("packet", record.id, first)))
            return
        repo.packet_ids[record.id] = source
        table = repo.packets
        key = source.display
    else:
        if isinstance(record, Framework):
            table = repo.frameworks
        elif isinstance(record, Ladder):
            table = repo.ladders
        elif isinstance(record, Decision):
            table = repo.decisions
        elif isinstance(record, Review):
            table = repo.reviews
        elif isinstance(record, Person):
            table = repo.people
        else:  # kinds other modules define (e.g. an LMS mapping), keyed by kind then id
            table = repo.others.setdefault(record.kind, {})
        key = record.id
        if key in table:
            kind = record.kind
            repo.problems.append(source.problem(("id",), _dup(kind, key, table[key])))
            return
    table[key] = source


def _dup(kind: str, record_id: str, first: Source) -> str:
    line, col = first.doc.locate(("id",))
    return f"duplicate {kind} id {record_id!r}: also defined at {first.display}:{line}:{col}"
