"""The versions of promoctl a run measures, each on its own copy of the repository.

Without ``--baseline`` there is one: the working tree's ``src/``. With ``--baseline REV``
there are two: REV's ``src/``, exported with ``git archive`` (nothing is installed: every
run puts its version's ``src/`` first on PYTHONPATH), and the working tree's. Each version
gets its own copy of the synthetic repository and its own XDG_CACHE_HOME, so what one
version remembers in ``.git/promoctl/`` is never read by the other, even where the two
use the same file names. Each version is started through the console entry point its own
``pyproject.toml`` names, with a launcher like the one pip writes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .sizes import MANIFEST, PROJECT

BASELINE, CURRENT = "baseline", "current"

_LAUNCHER = """import sys
from {module} import {function}
sys.argv[0] = "promoctl"
sys.exit({function}())
"""


@dataclass
class Version:
    """One version of promoctl and the repository copy it is measured on."""

    label: str  # BASELINE or CURRENT
    name: str  # what the table calls it: a short commit id, or "working tree"
    src: Path  # put first on PYTHONPATH
    entry: str  # the console entry point, "module:function"
    launcher: Path
    root: Path  # this version's own copy of the repository
    cache_home: Path  # this version's own XDG_CACHE_HOME

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(self.src), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
            XDG_CACHE_HOME=str(self.cache_home))
        env.pop("PROMOCTL_REPO", None)
        env.update(extra or {})
        return env

    def cmd(self) -> list[str]:
        """How to start this version's ``promoctl``."""
        return [sys.executable, str(self.launcher)]


class Versions:
    """The versions measured; ``each()`` alternates their order from one call to the next,
    so neither always runs first (on a cold disk cache, or as the machine's load drifts)."""

    def __init__(self, items: Sequence[Version]) -> None:
        self.items = list(items)
        self._turn = 0

    def __iter__(self) -> Iterator[Version]:
        return iter(self.items)

    def each(self) -> list[Version]:
        order = self.items if self._turn % 2 == 0 else self.items[::-1]
        self._turn += 1
        return order

    @property
    def current(self) -> Version:
        return next(v for v in self.items if v.label == CURRENT)

    @property
    def compared(self) -> bool:
        return len(self.items) > 1


def entry_point(pyproject: Path) -> str:
    """The ``promoctl`` console script's target in ``pyproject``."""
    with pyproject.open("rb") as fh:
        data = tomllib.load(fh)
    entry = data.get("project", {}).get("scripts", {}).get("promoctl")
    if not isinstance(entry, str) or ":" not in entry:
        raise SystemExit(f"{pyproject}: no [project.scripts] promoctl entry point")
    return entry


def export_baseline(rev: str, into: Path) -> tuple[str, Path, str]:
    """REV's ``src/`` and ``pyproject.toml`` under ``into``: (short id, src, entry point)."""
    found = subprocess.run(["git", "-C", str(PROJECT), "rev-parse", "--verify", "-q",
                            f"{rev}^{{commit}}"], capture_output=True, text=True, check=False)
    if found.returncode != 0:
        raise SystemExit(f"--baseline {rev}: not a commit of {PROJECT}")
    sha = found.stdout.strip()
    into.mkdir(parents=True)
    archive = into / "src.tar"
    with archive.open("wb") as fh:
        subprocess.run(["git", "-C", str(PROJECT), "archive", "--format=tar", sha, "src",
                        "pyproject.toml"], stdout=fh, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    archive.unlink()
    return sha[:7], into / "src", entry_point(into / "pyproject.toml")


def clear_repository(root: Path, *, untracked: bool = True) -> None:
    """Forget whatever an earlier run cached in ``root``: promoctl's own entries in .git
    (its lock excepted) and, in a copy of ours, untracked and ignored files (the manifest
    excepted)."""
    if untracked:
        subprocess.run(["git", "-C", str(root), "clean", "-fdxq", "-e", f"/{MANIFEST}"],
                       check=True)
    for entry in (root / ".git").iterdir():
        if entry.name.startswith("promoctl") and not entry.name.endswith(".lock"):
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()


def copy_repository(source: Path, target: Path) -> Path:
    """A copy of the repository to measure on (the source is only ever read), without
    what any earlier run cached in it: ``cp -a`` keeps the files' times, and git's index is
    refreshed so no measured run pays for the new inode numbers."""
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cp", "-a", str(source), str(target)], check=True)
    clear_repository(target)
    subprocess.run(["git", "-C", str(target), "update-index", "-q", "--refresh"],
                   capture_output=True, check=False)
    return target


def prepare(source: Path, work: Path, baseline: str | None) -> Versions:
    """The versions to measure, each with its launcher and its own repository copy."""
    specs = []
    if baseline is not None:
        name, src, entry = export_baseline(baseline, work / BASELINE / "promoctl")
        specs.append((BASELINE, f"baseline {name}", src, entry))
    specs.append((CURRENT, "working tree", PROJECT / "src",
                  entry_point(PROJECT / "pyproject.toml")))
    items = []
    for label, name, src, entry in specs:
        module, _, function = entry.partition(":")
        launcher = work / label / "promoctl-launcher.py"
        launcher.parent.mkdir(parents=True, exist_ok=True)
        launcher.write_text(_LAUNCHER.format(module=module, function=function))
        _compile(src)
        root = copy_repository(source, work / label / "repo")
        cache_home = work / label / "cache"
        cache_home.mkdir()
        items.append(Version(label, name, src, entry, launcher, root, cache_home))
    return Versions(items)


def _compile(src: Path) -> None:
    """Byte-compile a version's modules first, as an installed promoctl is: a shell with
    PYTHONDONTWRITEBYTECODE set would otherwise compile every module on every run."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(src)], check=True,
                   capture_output=True)


def remove(work: Path) -> None:
    shutil.rmtree(work, ignore_errors=True)
