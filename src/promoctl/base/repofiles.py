"""Which files are a repository's records: its root, its record files, their names.

Kept apart from the loader (and free of pydantic) so a run that finds nothing changed can
answer without importing the models.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from promoctl.base.errors import UserError, display_path

MARKER = "promoctl.yaml"
RECORD_SUFFIXES = (".yaml", ".yml")
# Folders that hold things other than records.
SKIP_DIRS = frozenset({"templates", "schemas", "artifacts", "node_modules"})
# The kinds of record of which a repository holds thousands (every other kind is few:
# frameworks, ladders, LMS mappings, and nearly every record refers to one of them).
BULK_KINDS = ("person", "packet", "decision", "review")


def find_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` holding ``promoctl.yaml``."""
    here = Path(os.path.realpath(start))  # never raises, even on a link loop
    if here.is_file():
        here = here.parent
    for folder in (here, *here.parents):
        if (folder / MARKER).is_file():
            return folder
    raise UserError(f"{start}: not inside a promotion repository (no {MARKER} here or in any "
                    "parent folder); run 'promoctl init' to create one, or pass --repo")


def root_for(repo_option: Path | None, hint: Path) -> Path:
    """The repository ``--repo`` names, or the one ``hint`` is in."""
    if repo_option is not None:
        if not repo_option.is_dir():
            raise UserError(f"{repo_option}: --repo must be a folder")
        return repo_option.resolve()
    return find_root(hint)


def discover(paths: Iterable[Path]) -> list[Path]:
    """Record files under ``paths`` (files are taken as given), sorted for determinism."""
    found: dict[str, Path] = {}  # by text: hashing a Path parses it again
    for path in paths:
        if path.is_dir():
            found.update((name, Path(name)) for name in record_files(path))
        elif os.path.lexists(path):  # a file, or a link the loader will say is broken
            found[str(path)] = path
        else:
            raise UserError(f"{path}: no such file or folder")
    return sorted(found.values(), key=lambda p: p.as_posix())


def record_files(folder: Path, folders: list[str] | None = None) -> list[str]:
    """The record files under ``folder``, as text (making 45,000 paths costs 0.4 s),
    in the order ``discover`` gives; the folders walked are added to ``folders``."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        if folders is not None:
            folders.append(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in SKIP_DIRS)
        found.extend(os.path.join(dirpath, name) for name in filenames
                     if name.endswith(RECORD_SUFFIXES) and not name.startswith("."))
    if os.sep != "/":
        return sorted(found, key=lambda name: name.replace(os.sep, "/"))
    return sorted(found)


def is_record(display: str) -> bool:
    """Whether ``record_files`` of the root would list the file shown as ``display``."""
    parts = display.split("/")
    return not display.startswith("/") and all(
        part and not part.startswith(".") for part in parts) \
        and not any(part in SKIP_DIRS for part in parts[:-1]) \
        and parts[-1].endswith(RECORD_SUFFIXES)


def relative(path: Path | str, root: Path) -> str:
    """``display_path`` for files found under ``root``: no resolving (a syscall per file)
    and no pathlib parsing, which cost more than reading a cached file's stat."""
    text, prefix = str(path), str(root).rstrip(os.sep) + os.sep
    if text.startswith(prefix):
        rest = text[len(prefix):]
        return rest.replace(os.sep, "/") if os.sep != "/" else rest
    return display_path(Path(path), root)


_KIND_LINE = re.compile(rb"^kind:[ \t]*['\"]?([A-Za-z_-]+)", re.MULTILINE)
_ID_LINE = re.compile(rb"^id:[ \t]*['\"]?([A-Za-z0-9][A-Za-z0-9._-]*)", re.MULTILINE)


def _peek(pattern: re.Pattern[bytes], raw: bytes) -> str | None:
    match = pattern.search(raw)
    return match.group(1).decode() if match else None


def peek_kind(raw: bytes) -> str | None:
    """The record kind from a top-level ``kind:`` line, without parsing the file."""
    return _peek(_KIND_LINE, raw)


def peek_id(raw: bytes) -> str | None:
    """The record id from a top-level ``id:`` line, without parsing the file."""
    return _peek(_ID_LINE, raw)
