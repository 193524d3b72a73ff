"""The few git operations promoctl needs, through GitPython and the git CLI.

Record content is never passed as a ref name, option or config key (GitPython's advisories
were all of that shape): paths always follow ``--``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from promoctl.base.errors import UserError


class GitError(UserError):
    pass


class Git:
    def __init__(self, start: Path) -> None:
        import git  # only here: GitPython costs ~55 ms to import

        self._git = git
        try:
            self.repo = git.Repo(start, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise GitError(f"{start}: not inside a git repository; decisions must be "
                           "recorded in git so auditors can retrieve them") from None
        self.top = Path(self.repo.working_tree_dir or start).resolve()
        self.git_dir = Path(self.repo.git_dir).resolve()

    def __enter__(self) -> Git:
        return self

    def __exit__(self, *exc: object | TracebackType) -> None:
        self.close()

    def close(self) -> None:
        self.repo.close()  # GitPython leaks cat-file children until closed

    def _run(self, *args: str, **kwargs: Any) -> str:
        try:
            return str(self.repo.git.execute(["git", *args], **kwargs))
        except self._git.GitCommandError as exc:
            stderr = (exc.stderr or "").strip().removeprefix("stderr:").strip(" '\n")
            if "index.lock" in stderr:
                raise GitError("another git process is running in this repository "
                               "(.git/index.lock exists); wait for it and try again. "
                               "promoctl never deletes git's lock") from None
            raise GitError(f"git {args[0]} failed: {stderr or exc}") from None

    def head(self) -> str | None:
        try:
            return self._run("rev-parse", "--verify", "--quiet", "HEAD^{commit}").strip()
        except GitError:
            return None

    def uncommitted(self, paths: list[Path]) -> list[str]:
        """Those of ``paths`` that differ from HEAD: modified, staged, or untracked."""
        rel = [self.relative(p) for p in paths]
        out = self._run("status", "--porcelain=v1", "-z", "--untracked-files=all",
                        "--ignored=no", "--", *rel)
        changed = set()
        for entry in out.split("\0"):
            if len(entry) > 3:
                changed.add(entry[3:])
        return sorted(changed)

    def relative(self, path: Path) -> str:
        return path.resolve().relative_to(self.top).as_posix()

    def identity(self) -> str:
        """``Name <email>`` of the user, as git would record them as author."""
        try:
            ident = self._run("var", "GIT_AUTHOR_IDENT")
        except GitError:
            raise GitError("git does not know who you are: set user.name and user.email "
                           "(git config --global user.name 'Your Name')") from None
        return ident.rsplit(">", 1)[0] + ">"

    def check_can_commit(self) -> str:
        """Everything git could refuse at commit time, checked before anything is written:
        a first commit, no git lock on the index or the branch, a known identity. Returns
        the head commit."""
        head = self.head()
        if head is None:
            raise GitError("the repository has no commits yet; commit the records first")
        locks = [self.git_dir / "index.lock"]
        branch = self.plumb("symbolic-ref", "--quiet", "HEAD", ok=(0, 1)).strip()
        if branch:
            locks.append(self.git_dir / f"{branch}.lock")
        for lock in locks:
            if lock.exists():
                raise GitError(f"another git process is running in this repository "
                               f"({lock.relative_to(self.git_dir.parent)} exists); wait "
                               "for it and try again. promoctl never deletes git's lock")
        self.identity()
        return head

    def plumb(self, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None,
              ok: tuple[int, ...] = (0,)) -> str:
        """Run a git plumbing command in the work tree's top folder."""
        proc = subprocess.run(["git", "-C", str(self.top), *args], input=stdin,
                              capture_output=True, check=False,
                              env={**os.environ, **env} if env else None)
        if proc.returncode not in ok:
            stderr = proc.stderr.decode(errors="replace").strip()
            if "index.lock" in stderr:
                raise GitError("another git process is running in this repository "
                               "(.git/index.lock exists); wait for it and try again. "
                               "promoctl never deletes git's lock")
            raise GitError(f"git {args[0]} failed: {stderr or proc.returncode}")
        return proc.stdout.decode(errors="replace")

    def blob_at(self, rev: str, rel: str) -> bytes | None:
        proc = subprocess.run(["git", "-C", str(self.top), "cat-file", "blob",
                               f"{rev}:{rel}"], capture_output=True, check=False)
        return proc.stdout if proc.returncode == 0 else None

    def commit_file(self, rel: str, message: str, parent: str,
                    step: Callable[[str], None] = lambda _name: None,
                    sign: bool = False) -> str:
        """Commit the work tree's ``rel`` on top of ``parent`` without the user's index.

        The tree is built in a private index from ``parent``, the commit made with
        ``commit-tree`` (which signs when ``sign`` or ``commit.gpgSign``) and the branch moved
        with ``update-ref`` only if it still points at ``parent``: a concurrent commit is
        never lost, and a kill at any moment leaves the branch either before or after.
        Then the user's index learns the new file, so ``git status`` stays clean.
        """
        blob = self.plumb("hash-object", "-w", "--", rel).strip()
        step("blob")
        private = self.git_dir / f"promoctl-index-{os.getpid()}"
        env = {"GIT_INDEX_FILE": str(private)}
        try:
            self.plumb("read-tree", parent, env=env)
            self.plumb("update-index", "--add", "--cacheinfo", f"100644,{blob},{rel}",
                       env=env)
            tree = self.plumb("write-tree", env=env).strip()
        finally:
            private.unlink(missing_ok=True)
        step("tree")
        sha = self.plumb("commit-tree", *(["-S"] if sign else []), tree, "-p", parent,
                         "-F", "-", stdin=message.encode()).strip()
        step("commit")
        try:
            self.plumb("update-ref", "-m", f"promoctl: {message.splitlines()[0]}", "HEAD",
                       sha, parent)
        except GitError:
            if self.head() != parent:
                raise GitError("another commit arrived on this branch while recording; "
                               "nothing was committed, run the command again") from None
            raise
        step("ref")
        self.stage(rel)
        return sha

    def stage(self, rel: str) -> None:
        try:
            self.plumb("update-index", "--add", "--", rel)
        except GitError as exc:
            raise GitError(f"committed, but git's index could not be updated ({exc}); "
                           f"run `git reset -q -- {rel}` so git status shows it "
                           "committed") from None

    def sweep_private_indexes(self) -> None:
        """Private indexes of runs that were killed (the caller holds promoctl's lock)."""
        for leftover in self.git_dir.glob("promoctl-index-*"):
            leftover.unlink(missing_ok=True)
