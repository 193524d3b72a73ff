"""Problems are values; errors are for the few things that stop a command outright."""

from __future__ import annotations

import os
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
        return f"{self.path}:{self.line}:{self.column}: {kind}{self.message}"

    def as_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "message": self.message,
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


class PromoctlError(Exception):
    """Base of every error the CLI turns into a message and an exit code."""

    exit_code = ExitCode.REFUSED


class UserError(PromoctlError):
    """The user asked for something that cannot be done (missing file, not a repository)."""


class InvalidRecords(PromoctlError):
    """Records have problems; the command cannot go on with them."""

    exit_code = ExitCode.INVALID

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) found")
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
