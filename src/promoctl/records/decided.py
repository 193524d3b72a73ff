"""Which decisions stand, and finding one: questions about the decisions a repository
holds, answered from their indexed fields (no decision record is parsed, so commands
stay flat in cost however many decisions there are)."""

from __future__ import annotations

from pathlib import Path

from promoctl.base.errors import UserError, display_path
from promoctl.records.loader import Repository
from promoctl.records.parsing import Source


def superseded_ids(repo: Repository) -> set[str]:
    # From the indexed fields: no decision record is parsed (decide stays flat in cost
    # however many decisions the repository holds).
    return {str(src.meta["supersedes"]) for src in repo.decisions.values()
            if src.meta.get("supersedes")}


def find_decision(repo: Repository, ref: str) -> Source:
    """A decision by id, or by the path of its file."""
    if ref in repo.decisions:
        return repo.decisions[ref]
    wanted = display_path(Path(ref), repo.root)
    for src in repo.decisions.values():
        if src.display == wanted:
            return src
    raise UserError(f"{ref}: no such decision (give its id or the path of its file)")
