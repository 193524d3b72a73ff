"""The few git operations promoctl needs, through GitPython and the git CLI.

Record content is never passed as a ref name, option or config key (GitPython's advisories
were all of that shape): paths always follow ``--``.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

from promoctl.errors import UserError


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

    def commit_only(self, paths: list[Path], message: str) -> str:
        """Commit exactly ``paths``; anything else staged stays staged and uncommitted."""
        rel = [self.relative(p) for p in paths]
        if (self.git_dir / "index.lock").exists():
            raise GitError("another git process is running in this repository "
                           "(.git/index.lock exists); wait for it and try again")
        self._run("add", "--", *rel)
        self._run("commit", "--quiet", "--only", "-m", message, "--", *rel)
        return self._run("rev-parse", "HEAD").strip()
