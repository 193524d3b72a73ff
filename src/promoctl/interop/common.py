"""What the importers share: reading input files within limits, JSON with located errors,
and writing records that are checked before they reach the disk."""

from __future__ import annotations

import json
import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from promoctl.base.errors import InvalidRecords, Problem, UserError, shown
from promoctl.base.fsutil import TooLarge, Unreadable, read_regular, write_atomic
from promoctl.records import yamlio
from promoctl.records.loader import find_root
from promoctl.records.parsing import Source, parse_record

MAX_INPUT_BYTES = 16 * 1024 * 1024
MAX_CELL_CHARS = 64 * 1024  # one CSV cell or JSON string
MAX_JSON_DEPTH = 64
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
ID_MAX = 100


def read_input(path: Path, limit: int = MAX_INPUT_BYTES) -> bytes:
    """An import's file: a regular file (never a FIFO or device to wait on), within
    ``limit``."""
    try:
        return read_regular(path, limit=limit)
    except TooLarge as exc:
        raise InvalidRecords([Problem(path.as_posix(), 0, 0, f"file is {exc.size:,} bytes; "
                                      f"imports are limited to {limit:,} bytes")]) from None
    except Unreadable as exc:
        if str(exc) == "does not exist":
            raise UserError(f"{shown(path.as_posix())}: no such file") from None
        raise UserError(f"{shown(path.as_posix())}: {exc}") from None


def decode(raw: bytes, display: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InvalidRecords([Problem(display, line, 0, f"file is not UTF-8 text (byte "
                                      f"0x{raw[exc.start]:02x} at offset {exc.start}); "
                                      "export it as UTF-8")]) from None


def valid_id(value: str) -> bool:
    return len(value) <= ID_MAX and bool(ID_PATTERN.match(value))


# ------------------------------------------------------------------------------------ JSON


class _Duplicate(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Duplicate(f"duplicate key {key!r} in one object; JSON readers disagree on "
                             "which value wins")
        out[key] = value
    return out


def _depth_ok(text: str) -> bool:
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:  # linear, and no recursion: json.loads itself recurses
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                return False
        elif ch in "]}":
            depth -= 1
    return True


def load_json(raw: bytes, display: str) -> Any:
    text = decode(raw, display)
    if not _depth_ok(text):
        raise InvalidRecords([Problem(display, 0, 0, f"JSON nesting is deeper than "
                                      f"{MAX_JSON_DEPTH} levels")])
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_float=Decimal,
                          parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise InvalidRecords([Problem(display, exc.lineno, exc.colno,
                                      f"invalid JSON: {exc.msg}")]) from None
    except _Duplicate as exc:
        raise InvalidRecords([Problem(display, 0, 0, f"invalid JSON: {exc}")]) from None
    except (ValueError, RecursionError) as exc:
        raise InvalidRecords([Problem(display, 0, 0, f"invalid JSON: {exc}")]) from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def jpath(*parts: str | int) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


# --------------------------------------------------------------------------------- records


def repository_root(start: Path) -> Path | None:
    try:
        return find_root(start)
    except UserError:
        return None


def schema_comment(root: Path | None, target: Path, kind: str) -> str:
    """The editor hint line, with the schema path relative to where the record is."""
    if root is None:
        return ""
    try:
        rel = os.path.relpath(root.resolve() / "schemas" / f"{kind}.schema.json",
                              target.resolve().parent)
    except ValueError:  # another drive on Windows
        return ""
    return f"# yaml-language-server: $schema={Path(rel).as_posix()}\n"


def render_record(data: dict[str, Any], display: str, header: str = "") -> tuple[bytes, Source]:
    """YAML text for ``data``, read back and validated exactly as ``validate`` would."""
    text = header + yamlio.dump(data)
    raw = text.encode("utf-8")
    source, problems = parse_record(raw, display)
    if source is None:
        raise InvalidRecords(problems)
    return raw, source


def write_record(target: Path, raw: bytes, *, force: bool) -> None:
    if target.exists() and not force:
        raise UserError(f"{target}: already exists; pass --force to replace it")
    write_atomic(target, raw, overwrite=force)
