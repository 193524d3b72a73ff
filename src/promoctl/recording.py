"""Writing an immutable record and committing exactly that file."""

from __future__ import annotations

from pathlib import Path

from promoctl.errors import UserError, display_path
from promoctl.fsutil import write_atomic
from promoctl.gitio import Git


def write_and_commit(git: Git, root: Path, path: Path, text: str, message: str,
                     commit: bool) -> str | None:
    """Create ``path`` (never over an existing file); commit it alone unless told not to."""
    write_atomic(path, text.encode())
    if not commit:
        return None
    try:
        return git.commit_only([path], message)
    except UserError as exc:
        raise UserError(f"{display_path(path, root)} was written but not committed: "
                        f"{exc}") from None
