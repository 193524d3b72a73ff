"""Problems are values; errors are for the few things that stop a command outright."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from enum import IntEnum
from pathlib import Path
from typing import NamedTuple


class ExitCode(IntEnum):
    """Documented in README.md ("Exit codes"); scripts depend on these numbers."""

    OK = 0
    NOT_READY = 1  # evaluate: evaluated, and at least one packet is NOT READY
    USAGE = 2  # bad options or arguments (click's own convention)
    INVALID = 3  # the records have problems; they are listed as path:line:col
    REFUSED = 4  # the repository or environment refuses the operation
    INTERNAL = 70  # a bug in promoctl (EX_SOFTWARE)
    INTERRUPTED = 130


ERROR, WARNING = "error", "warning"


class Problem(NamedTuple):
    """One thing wrong with the user's data, located as precisely as we can. (A named
    tuple, not a dataclass: importing dataclasses costs a tenth of what a pre-commit
    validate may take.) An error makes the records invalid; a warning is shown and
    stops nothing (``validate --strict`` fails on it)."""

    path: str
    line: int  # 1-based; 0 when the problem concerns the whole file
    column: int  # 1-based; 0 when unknown
    message: str
    severity: str = ERROR

    def __str__(self) -> str:
        kind = "warning: " if self.severity == WARNING else ""
        # One problem, one line, whatever bytes the file's name or a value holds.
        return (f"{shown(self.path)}:{self.line}:{self.column}: "
                f"{kind}{shown(bounded(self.message))}")

    def as_json(self) -> dict[str, object]:
        return {
            "path": shown(self.path),
            "line": self.line,
            "column": self.column,
            "message": shown(bounded(self.message)),
            "severity": self.severity,
        }


def errors_only(problems: Iterable[Problem]) -> list[Problem]:
    """The problems that make records invalid (warnings stop no command)."""
    return [p for p in problems if p.severity != WARNING]


def summary(problems: Sequence[Problem]) -> str:
    """What validate says last, on stderr."""
    warnings = sum(p.severity == WARNING for p in problems)
    errors = len(problems) - warnings
    files = len({p.path for p in problems})
    if not problems:
        return "all valid"
    if not warnings:
        return f"{errors} problem(s) in {files} file(s)"
    if not errors:
        return f"valid, with {warnings} warning(s) in {files} file(s)"
    return f"{errors} problem(s) and {warnings} warning(s) in {files} file(s)"


QUOTE_CHARS = 80
MESSAGE_CHARS = 600
# C0 and C1 controls but tab and newline, DEL, and the bidirectional overrides that can
# make a line read differently from what it holds (a regular-expression class body; records
# refuse these, output escapes them).
CONTROL_CHARS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
NOT_UTF8_CHARS = "\ud800-\udfff"  # how a byte that was not UTF-8 reaches a str
# One line of output: a newline is escaped too.
_UNSAFE = re.compile(f"[\n{CONTROL_CHARS}{NOT_UTF8_CHARS}]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, as the file system gave it
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return {"\n": "\\n", "\r": "\\r"}.get(char, f"\\x{code:02x}")
    return f"\\u{code:04x}"


def shown(text: str) -> str:
    """``text`` safe to print on one line of a terminal and in UTF-8: control characters,
    bidirectional overrides and bytes that are not UTF-8 become visible escapes."""
    return _UNSAFE.sub(_escape, text) if _UNSAFE.search(text) else text


def quote(value: object, limit: int = QUOTE_CHARS) -> str:
    """``repr(value)`` of at most about ``limit`` characters: a 1 MiB value is not echoed."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit - 1]}\u2026 ({len(str(value)):,} characters)"


def bounded(message: str) -> str:
    """A message of at most ``MESSAGE_CHARS``: the last guard against a long value."""
    if len(message) <= MESSAGE_CHARS:
        return message
    return f"{message[:MESSAGE_CHARS - 1]}\u2026 (message cut at {MESSAGE_CHARS} characters)"


MAX_PER_FILE = 20  # problems listed per file; README "Exit codes" and below it


class Problems(list[Problem]):
    """Problems as they are found, keeping at most ``limit`` per file and counting the
    rest: an import of 700,000 bad statements holds 20 problems, not 700,000."""

    def __init__(self, limit: int = MAX_PER_FILE) -> None:
        super().__init__()
        self.limit = limit
        self.counts: dict[str, int] = {}

    def append(self, problem: Problem) -> None:
        count = self.counts[problem.path] = self.counts.get(problem.path, 0) + 1
        if count <= self.limit:
            super().append(problem)

    def extend(self, problems: Iterable[Problem]) -> None:
        # Another bounded list brings the count of what it left out, so a page's
        # problems gathered into an import's keep their true total.
        listed: dict[str, int] = {}
        for problem in problems:
            listed[problem.path] = listed.get(problem.path, 0) + 1
            self.append(problem)
        for path, total in getattr(problems, "counts", {}).items():
            self.counts[path] = self.counts.get(path, 0) + total - listed.get(path, 0)


def capped(problems: Sequence[Problem], limit: int = MAX_PER_FILE) -> list[Problem]:
    """What to print of ``problems``: at most ``limit`` per file, the last followed by
    "and K more problems in this file (N in all)"."""
    counts: dict[str, int] = dict(getattr(problems, "counts", {}))
    if not counts:
        for problem in problems:
            counts[problem.path] = counts.get(problem.path, 0) + 1
    if all(n <= limit for n in counts.values()):
        return list(problems)
    shown_so_far: dict[str, int] = {}
    out: list[Problem] = []
    for problem in problems:
        n = shown_so_far[problem.path] = shown_so_far.get(problem.path, 0) + 1
        if n <= limit:
            out.append(problem)
        total = counts[problem.path]
        if n == limit and total > limit:
            out.append(Problem(problem.path, 0, 0, f"and {total - limit:,} more problems in "
                               f"this file ({total:,} in all; at most {limit} are listed per "
                               "file)"))
    return out


class PromoctlError(Exception):
    """Base of every error the CLI turns into a message and an exit code."""

    exit_code = ExitCode.REFUSED


class UserError(PromoctlError):
    """The user asked for something that cannot be done (missing file, not a repository)."""


class InvalidRecords(PromoctlError):
    """Records have problems; the command cannot go on with them."""

    exit_code = ExitCode.INVALID

    def __init__(self, problems: list[Problem], message: str | None = None) -> None:
        super().__init__(message or f"{len(problems)} problem(s) found")
        self.problems = problems


def display_path(path: Path, root: Path) -> str:
    """Paths in messages are relative to the repository when they can be, POSIX-style."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
    except (OSError, RuntimeError):  # a symbolic link loop: the name as given, then
        try:
            return Path(os.path.abspath(path)).relative_to(root.resolve()).as_posix()
        except ValueError:
            return path.as_posix()
