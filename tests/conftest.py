from __future__ import annotations

import importlib
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import git
import pytest

from promoctl.cli import main

PROJECT = Path(__file__).resolve().parent.parent
EXAMPLES = PROJECT / "examples"
# Files from real exporters, copied in with their source and licence (fixtures/README.md).
INTEROP = PROJECT / "tests" / "fixtures" / "interop"


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
                  ) -> None:
    """Never read or write the user's git config; give commits a fixed identity."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_NAME", "Test Secretary")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "secretary@example.org")
    monkeypatch.delenv("PROMOCTL_REPO", raising=False)


@dataclass
class Result:
    code: int
    out: str
    err: str


Cli = Callable[..., Result]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """Run ``promoctl ARGS`` in-process; exceptions a user could cause must not escape."""

    def run(*args: str | Path, cwd: Path | None = None) -> Result:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err, captured.err
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """A private copy of the bundled example repository."""
    target = tmp_path / "examples"
    shutil.copytree(EXAMPLES, target)
    return target


def git_commit_all(repo_dir: Path, message: str = "records") -> None:
    repo = git.Repo.init(repo_dir) if not (repo_dir / ".git").exists() else git.Repo(repo_dir)
    try:
        repo.git.add("--all")
        repo.git.commit("--quiet", "-m", message)
    finally:
        repo.close()


@pytest.fixture
def git_examples(examples: Path) -> Path:
    """The examples as a git repository with everything committed."""
    git_commit_all(examples, "Import example records")
    return examples


@pytest.fixture(scope="session")
def bench() -> ModuleType:
    """The benchmark's generator of realistic repositories (``benchmarks.generate``: its
    ``Size``, ``generate`` and ``ensure_repo``)."""
    if str(PROJECT) not in sys.path:  # benchmarks/ is a package beside src/, not installed
        sys.path.insert(0, str(PROJECT))
    return importlib.import_module("benchmarks.generate")
