"""Timing fresh processes: one run, medians of runs interleaved across versions, cold then
warm pairs, and the caches a run leaves behind (and how they are cleared)."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .sizes import MANIFEST
from .versions import Version, Versions, clear_repository


def git(root: Path, *args: str) -> str:
    proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {root}: {proc.stderr.strip()}")
    return proc.stdout


@dataclass
class Run:
    seconds: float
    code: int
    out: str
    err: str

    def failed(self, ok: Sequence[int] = (0,)) -> str | None:
        if self.code in ok:
            return None
        last = (self.err.strip().splitlines() or ["(no output)"])[-1]
        return f"FAILED (exit {self.code}): {last[:150]}"


def run(cmd: Sequence[str], cwd: Path, env: dict[str, str] | None = None, *,
        keep_output: bool = True) -> Run:
    """Wall time of one fresh process."""
    t0 = time.perf_counter()
    proc = subprocess.run(list(cmd), cwd=cwd, env=env, text=True, check=False,
                          stdout=subprocess.PIPE if keep_output else subprocess.DEVNULL,
                          stderr=subprocess.PIPE)
    return Run(time.perf_counter() - t0, proc.returncode, proc.stdout or "", proc.stderr)


@dataclass
class Job:
    """One command timed repeatedly: a version's, or a reference's (``import typer``)."""

    key: str
    cmd: list[str]
    cwd: Path
    env: dict[str, str] | None = None
    before: Callable[[int], None] | None = None  # called with the run's number, untimed


def medians(jobs: Sequence[Job], runs: int) -> dict[str, tuple[float, Run]]:
    """Median wall time of each job over ``runs`` fresh processes, the jobs interleaved
    (a, b, a, b, ...) so a change in the machine's load falls on all of them; fewer runs
    when one is long. Also each job's first run, for its exit code."""
    times: dict[str, list[float]] = {job.key: [] for job in jobs}
    first: dict[str, Run] = {}
    i = 0
    while i < runs:
        for job in jobs:
            if job.before is not None:
                job.before(i)
            done = run(job.cmd, job.cwd, job.env, keep_output=False)
            first.setdefault(job.key, done)
            times[job.key].append(done.seconds)
        if i == 0 and max(t[0] for t in times.values()) > 5:
            runs = min(runs, 3)
        i += 1
    return {key: (statistics.median(values), first[key]) for key, values in times.items()}


def version_jobs(versions: Versions, args: Sequence[str]) -> list[Job]:
    return [Job(v.label, [*v.cmd(), *args], v.root, v.env()) for v in versions]


def clear_caches(version: Version, root: Path | None = None) -> None:
    """What a cold run starts from: the version's repository copy cleared (or only
    promoctl's caches in ``root``, a repository that is not a copy of ours), and an empty
    XDG_CACHE_HOME."""
    clear_repository(root or version.root, untracked=root is None)
    shutil.rmtree(version.cache_home, ignore_errors=True)
    version.cache_home.mkdir(parents=True)


def cache_files(root: Path, cache_home: Path) -> list[str]:
    """Files a run left behind: in the work tree, in .git, under XDG_CACHE_HOME."""
    found = [p for p in git(root, "ls-files", "--others", "-z").split("\0")
             if p and p != MANIFEST]
    found += [f".git/{e.name}" for e in (root / ".git").iterdir()
              if e.name.startswith("promoctl") and not e.name.endswith(".lock")]
    found += [f"$XDG_CACHE_HOME/{p.relative_to(cache_home)}" for p in cache_home.rglob("*")
              if p.is_file()]
    return found


@dataclass
class ColdWarm:
    cold: Run
    warm: Run
    written: list[str]  # the cache files the cold run left


def cold_warm(versions: Versions, args: Sequence[str] | Callable[[Version], Sequence[str]]
              ) -> dict[str, ColdWarm]:
    """The same command in two fresh processes per version: first with every cache
    cleared, then again. The versions' cold runs follow each other, then their warm runs.
    ``args`` may depend on the version (an option an older version spells otherwise)."""
    def cmd(v: Version) -> list[str]:
        return [*v.cmd(), *(args(v) if callable(args) else args)]

    for v in versions:
        clear_caches(v)
    cold, written = {}, {}
    for v in versions.each():
        cold[v.label] = run(cmd(v), v.root, v.env(), keep_output=False)
        written[v.label] = cache_files(v.root, v.cache_home)
    warm = {v.label: run(cmd(v), v.root, v.env(), keep_output=False)
            for v in versions.each()}
    return {v.label: ColdWarm(cold[v.label], warm[v.label], written[v.label])
            for v in versions}
