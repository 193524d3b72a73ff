"""What recent validate runs found, by the state of the work tree.

A pre-commit hook runs ``validate FILES`` on every commit, and an editor may run it on
every save: when nothing changed since a run that covered those files, its answer is
the answer, found without importing the models or statting every file. "Nothing
changed" is git's state of the tracked files (``worktree``), and the stat of everything
else the run depended on: the files git does not track, every folder it walked (a
file added, removed or renamed there changes the folder's times) and the artifacts it
hashed. A run is remembered only when the tracked files were the same after it as
before, and none of the rest changed since it started.

The runs are rows of the store's ``memo`` table, read here with a connection of its
own and none of the store's checks (a damaged or foreign database is simply empty);
they are written through the store, by the run that opened it.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from promoctl.base.errors import Problem
from promoctl.store.cache import artifact_row, code_fingerprint, location, well_formed_problems
from promoctl.store.cachedb import SCHEMA, Store, json_text, loads, peek

KEEP = 16  # runs: the whole repository's, and a few sets of files


class Memo:
    @classmethod
    def of(cls, root: Path) -> Memo:
        """The memo of the repository at ``root``, in its store."""
        return cls(location(root))

    def __init__(self, path: Path) -> None:
        self.path = path

    def runs(self, state: str) -> list[dict[str, Any]]:
        """The remembered runs in ``state``, latest first."""
        found = peek(self.path, (SCHEMA, code_fingerprint()),
                     "SELECT body FROM memo WHERE state = ? ORDER BY rowid DESC", (state,))
        return [run for run in map(loads, (row[0] for row in found))
                if _well_formed(run) and run["state"] == state]

    def answer(self, state: str, wanted: Collection[str] | None, root: Path
               ) -> list[Problem] | None:
        """The problems of a remembered run in the same state that covered ``wanted``
        (every file when None), if no artifact it hashed changed since; else None.

        A run over some files also reports the records that refer to them (see
        ``dependents``): the same run answers with all it found; a wider one only when
        it found nothing outside ``wanted`` (else the referring records' problems, which
        it cannot tell apart, would be lost)."""
        for run in self.runs(state):
            scope = run["scope"]
            if (scope is not None and (wanted is None or not set(wanted) <= set(scope))):
                continue
            now = time.time_ns()
            if any(artifact_row(root / relative, now) != row
                   for relative, row in run["stats"].items()):
                continue
            if wanted is not None and (scope is None or set(scope) != set(wanted)) \
                    and any(p[0] not in wanted for p in run["problems"]):
                continue
            return [Problem(*p) for p in run["problems"]]
        return None

    @staticmethod
    def remember(store: Store, state: str, wanted: Collection[str] | None,
                 problems: Sequence[Problem], stats: dict[str, list[int] | None]) -> None:
        """Remember a run's problems under the state of the tracked files, with the
        stat (``cache.artifact_row``) of every other path it depended on, in ``store``
        (the latest ``KEEP`` runs are kept, one for each state and scope)."""
        scope = None if wanted is None else sorted(wanted)
        body = json_text({"state": state, "scope": scope, "stats": stats,
                          "problems": [list(p) for p in problems]})
        scope_text = None if scope is None else json_text(scope)
        store.change(lambda con: (
            con.execute("DELETE FROM memo WHERE state = ? AND scope IS ?", (state, scope_text)),
            con.execute("INSERT INTO memo VALUES (?, ?, ?)", (state, scope_text, body)),
            con.execute("DELETE FROM memo WHERE rowid NOT IN "
                        f"(SELECT rowid FROM memo ORDER BY rowid DESC LIMIT {KEEP})")))
        store.release()


def _well_formed(run: Any) -> bool:
    if not isinstance(run, dict) or not isinstance(run.get("state"), str):
        return False
    scope, stats, problems = run.get("scope"), run.get("stats"), run.get("problems")
    return (scope is None or (isinstance(scope, list)
                              and all(isinstance(s, str) for s in scope))) \
        and isinstance(stats, dict) and all(
            row is None or (isinstance(row, list) and all(isinstance(v, int) for v in row))
            for row in stats.values()) \
        and well_formed_problems(problems)
