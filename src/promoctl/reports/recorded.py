"""The repository's records as they were committed on a day, for a report of a closed
period as it stood then (``report --as-recorded-on``).

The last commit of HEAD's first-parent history committed on or before the end of the day
(UTC) is read from git's objects into a temporary folder: the work tree and the index
are never touched.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

from promoctl.base.errors import InvalidRecords, UserError
from promoctl.history.gitlog import toplevel
from promoctl.records import checking
from promoctl.records.loader import Repository, discover
from promoctl.records.reading import load


def commit_on(top: Path, day: date) -> str:
    """The commit HEAD stood at at the end of ``day`` (UTC)."""
    before = f"{day + timedelta(days=1)}T00:00:00Z"
    proc = subprocess.run(["git", "-C", str(top), "rev-list", "-1", "--first-parent",
                           f"--before={before}", "HEAD", "--"],
                          capture_output=True, text=True, check=False)
    sha = proc.stdout.strip()
    if proc.returncode != 0 or not sha:
        raise UserError(f"no commit on or before {day}: the records were not yet in git")
    return sha


@contextmanager
def records_on(root: Path, day: date) -> Iterator[tuple[Path, str]]:
    """A temporary copy of the repository at ``root`` as committed on ``day``, and the
    commit it is."""
    top = toplevel(root)
    prefix = root.resolve().relative_to(top.resolve()).as_posix()
    sha = commit_on(top, day)
    proc = subprocess.run(["git", "-C", str(top), "archive", "--format=tar", sha, "--",
                           "." if prefix == "." else prefix],
                          capture_output=True, check=False)
    if proc.returncode != 0:
        raise UserError(f"{root}: not part of the repository at {sha[:12]} ({day})")
    with tempfile.TemporaryDirectory(prefix="promoctl-recorded-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as archive:
            # The data filter refuses links and paths that leave the folder.
            archive.extractall(tmp, filter="data")
        yield Path(tmp) / prefix, sha


def load_checked(root: Path) -> Repository:
    """The repository at ``root``, refused if anything in it is invalid. Without the
    validation cache: a copy read once would only leave a cache folder behind."""
    repo = load(root, discover([root]))
    problems = sorted(set(repo.problems + checking.check_repository(repo)))
    if problems:
        raise InvalidRecords(problems)
    return repo
