"""Writing an immutable record and committing exactly that file, safe against a crash.

A run writes a journal (``.git/promoctl-pending.json``: the record's path, its sha256,
the head it was prepared on and the commit message), then the record, then the commit.
Killed at any moment, it leaves either nothing or one whole record file, and the journal
tells the next run (under the same lock) which: that run commits the record if nothing
has been committed since, else removes it, and says which. Temporary files live in
``.git/promoctl-tmp`` and are swept by the next run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
from collections.abc import Callable
from pathlib import Path

from promoctl.base.errors import UserError, display_path
from promoctl.base.fsutil import write_atomic
from promoctl.base.gitio import Git

JOURNAL = "promoctl-pending.json"
TMP_DIR = "promoctl-tmp"
# Tests name a step here to be killed with SIGKILL exactly there (see test_crash.py).
KILL_AT = "PROMOCTL_TEST_KILL_AT"


def _step(name: str) -> None:
    if os.environ.get(KILL_AT) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _tmp_dir(git: Git, folder: Path) -> Path | None:
    """Temporary files go under .git when it is on the record's filesystem (a hard link
    cannot cross filesystems), so a killed run leaves nothing in the work tree."""
    probe = folder
    while not probe.exists():
        probe = probe.parent
    if os.stat(probe).st_dev != os.stat(git.git_dir).st_dev:
        return None
    return git.git_dir / TMP_DIR


def recover(git: Git, root: Path, sign: bool = False) -> list[str]:
    """Finish or undo what a killed run left; the caller holds promoctl's lock.

    Returns what was done, in words for the user.
    """
    shutil.rmtree(git.git_dir / TMP_DIR, ignore_errors=True)
    git.sweep_private_indexes()
    journal = git.git_dir / JOURNAL
    try:
        pending = json.loads(journal.read_text(encoding="utf-8"))
        rel, digest, head, message = (pending["path"], pending["sha256"], pending["head"],
                                      pending["message"])
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError):
        journal.unlink(missing_ok=True)
        return ["removed an unreadable journal of an interrupted promoctl run"]
    path = git.top / rel
    shown = display_path(path, root)
    try:
        on_disk = path.read_bytes()
    except FileNotFoundError:
        on_disk = None
    committed = git.blob_at("HEAD", rel)
    notes: list[str] = []
    if committed is not None and hashlib.sha256(committed).hexdigest() == digest:
        if on_disk == committed:
            git.stage(rel)
        notes.append(f"recovered: {shown} was committed by an interrupted run; git's index "
                     "now shows it committed")
    elif on_disk is None:
        notes.append(f"recovered: an interrupted run left nothing of {shown}")
    elif hashlib.sha256(on_disk).hexdigest() != digest:
        notes.append(f"{shown} was left uncommitted by an interrupted run and has been "
                     "edited since; promoctl leaves it to you: commit it or delete it")
    elif git.head() == head:
        git.check_can_commit()
        sha = git.commit_file(rel, message, head, sign=sign)
        notes.append(f"recovered: committed {shown}, which an interrupted run had written "
                     f"but not committed (commit {sha[:12]})")
    else:
        path.unlink()
        notes.append(f"recovered: removed {shown}, which an interrupted run had written "
                     "but not committed; the branch has moved since, so record it again")
    journal.unlink(missing_ok=True)
    return notes


def begin(git: Git, root: Path, commit: bool, notify: Callable[[str], None]
          ) -> tuple[str | None, bool]:
    """What every recording run does first, under promoctl's lock: finish or undo what a
    killed run left, then check everything git could refuse (its locks, the identity,
    signing when the policy requires it). Returns the head to commit on (None with
    ``--no-commit``) and whether to sign."""
    from promoctl.decisions import signing
    from promoctl.records import duties

    rules = duties.load_policy(root).signing
    for note in recover(git, root, sign=rules.required):
        notify(note)
    if not commit:
        return None, False
    head = git.check_can_commit()
    if rules.required:
        signing.check_configured(git, rules)
    return head, rules.required


def write_and_commit(git: Git, root: Path, path: Path, text: str, message: str,
                     head: str | None, sign: bool = False) -> str | None:
    """Create ``path`` (never over an existing file) and commit it alone on ``head``.

    With ``head`` None the file is only written (``--no-commit``). A failure before the
    commit removes the file again: nothing is recorded, and the error says so.
    """
    data = text.encode()
    tmp = _tmp_dir(git, path.parent)
    if head is None:
        write_atomic(path, data, tmp_dir=tmp)
        return None
    rel = git.relative(path)
    journal = git.git_dir / JOURNAL
    write_atomic(journal, json.dumps({"path": rel, "sha256": hashlib.sha256(data).hexdigest(),
                                      "head": head, "message": message}).encode(),
                 overwrite=True, tmp_dir=git.git_dir / TMP_DIR)
    _step("journal")
    written = False
    try:
        write_atomic(path, data, tmp_dir=tmp)
        written = True
        _step("record")
        sha = git.commit_file(rel, message, head, _step, sign=sign)
        _step("staged")
    except UserError as exc:
        if written and _committed(git, rel, data):
            raise  # only git's index is behind; the journal lets the next run finish
        journal.unlink(missing_ok=True)
        if not written:
            raise
        path.unlink(missing_ok=True)
        raise UserError(f"nothing was recorded: {exc}") from None
    finally:
        with contextlib.suppress(OSError):
            (git.git_dir / TMP_DIR).rmdir()
    journal.unlink(missing_ok=True)
    return sha


def _committed(git: Git, rel: str, data: bytes) -> bool:
    return git.blob_at("HEAD", rel) == data
