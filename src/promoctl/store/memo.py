"""What recent validate runs found, by the state of the work tree.

A pre-commit hook runs ``validate FILES`` on every commit, and an editor may run it on
every save: when nothing changed since a run that covered those files, its answer is
the answer, found without importing the models or statting every file. "Nothing
changed" is git's state of the tracked files (``worktree``), and the stat of everything
else the run depended on: the files git does not track, every folder it walked (a
file added, removed or renamed there changes the folder's times) and the artifacts it
hashed. A run is remembered only when the tracked files were the same after it as
before, and none of the rest changed since it started.

One small JSON file next to the validation cache, written atomically; corrupt, from
another promoctl, or missing, it is simply empty.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from promoctl.base.errors import Problem
from promoctl.store.cache import (
    artifact_row,
    code_fingerprint,
    location,
    read_stamped,
    well_formed_problems,
    write_stamped,
)

MEMO_NAME = "validate-memo.json"
MEMO_FORMAT = 1
KEEP = 16  # runs: the whole repository's, and a few sets of files


class Memo:
    @classmethod
    def of(cls, root: Path) -> Memo:
        """The memo of the repository at ``root``, next to its validation cache."""
        return cls(location(root).with_name(MEMO_NAME))

    def __init__(self, path: Path) -> None:
        self.path = path
        data = read_stamped(path, MEMO_FORMAT, code_fingerprint())
        runs = data.get("runs") if data is not None else None
        self.runs: list[dict[str, Any]] = [r for r in runs if _well_formed(r)] \
            if isinstance(runs, list) else []

    def answer(self, state: str, wanted: Collection[str] | None, root: Path
               ) -> list[Problem] | None:
        """The problems of a remembered run in the same state that covered ``wanted``
        (every file when None), if no artifact it hashed changed since; else None.

        A run over some files also reports the records that refer to them (see
        ``dependents``): the same run answers with all it found; a wider one only when
        it found nothing outside ``wanted`` (else the referring records' problems, which
        it cannot tell apart, would be lost)."""
        for run in self.runs:
            scope = run["scope"]
            if run["state"] != state or (
                    scope is not None and (wanted is None or not set(wanted) <= set(scope))):
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

    def remember(self, state: str, wanted: Collection[str] | None,
                 problems: Sequence[Problem], stats: dict[str, list[int] | None]) -> None:
        """Remember a run's problems under the state of the tracked files, with the
        stat (``cache.artifact_row``) of every other path it depended on."""
        run = {"state": state, "scope": None if wanted is None else sorted(wanted),
               "stats": stats,
               "problems": [list(p) for p in problems]}
        others = [r for r in self.runs if (r["state"], r["scope"]) != (state, run["scope"])]
        self.runs = [run, *others][:KEEP]
        write_stamped(self.path, MEMO_FORMAT, code_fingerprint(), {"runs": self.runs})


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
