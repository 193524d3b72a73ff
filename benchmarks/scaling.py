"""Issue 14's flat costs, in throwaway clones: ``audit``'s peak memory at the head against
the commit where a tenth of the decisions existed, and one ``decide`` here against a
repository generated with the same people and packets and 1% of the decisions. Each
version gets its own clones; the runs are interleaved so a change in the machine's load
falls on all of them."""

from __future__ import annotations

import dataclasses
import json
import re
import statistics
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .generate import ensure_repo, read_manifest
from .probes import entry_probe
from .processes import git, run
from .sizes import Size
from .table import Row, at_most, megabytes, row, secs
from .versions import CURRENT, Version, Versions


def _decided_at(clone: Path) -> list[tuple[str, int]]:
    """(commit, decision records added so far) for each commit adding any, oldest first."""
    out = git(clone, "log", "--reverse", "--diff-filter=A", "--format=%x1e%H",
              "--name-only", "--", "decisions")
    total, found = 0, []
    for chunk in out.split("\x1e")[1:]:
        lines = [line for line in chunk.splitlines() if line.strip()]
        total += sum(1 for line in lines[1:] if line.endswith(".yaml"))
        found.append((lines[0], total))
    return found


def _pending_packet(clone: Path) -> Path:
    """A packet no decision names (decide on it is the measured operation): one left
    pending, else a copy, under a new id, of one whose candidate was not promoted."""
    lines = git(clone, "grep", "-h", "-e", "^outcome: ", "-e", "^  packet: ", "HEAD", "--",
                "decisions").splitlines()
    outcome, outcomes = "", {}
    for line in lines:  # each record's outcome comes before its snapshot's packet
        if line.startswith("outcome: "):
            outcome = line.split(": ", 1)[1].strip()
        else:
            outcomes.setdefault(line.split(": ", 1)[1].strip(), set()).add(outcome)
    packets = sorted((clone / "packets").rglob("*.yaml"))
    pending = [p for p in packets if p.stem not in outcomes]
    if pending:
        return pending[0]
    source = next(p for p in packets if "approved" not in outcomes[p.stem])
    text = source.read_text(encoding="utf-8")
    found = re.search(r"(?m)^id: (\S+)$", text)
    assert found is not None
    target = source.with_name(f"{found.group(1)}-bench.yaml")
    target.write_text(text.replace(found.group(0), f"id: {found.group(1)}-bench", 1),
                      encoding="utf-8")
    git(clone, "add", "--", str(target))
    git(clone, "commit", "--quiet", "-m", "benchmark: a pending packet")
    return target


def _decider(version: Version, packet: Path) -> Callable[[], float]:
    """After warming the cache: a function timing one ``decide`` (committing) on
    ``packet`` in the version's clone, undone after each run."""
    clone, env, promoctl = version.root, version.env(), version.cmd()
    checked = run([*promoctl, "validate"], clone, env, keep_output=False)
    if checked.code != 0:
        raise RuntimeError(f"{version.name}: validate failed: {checked.err[-1000:]}")
    panel = ["--panel", "operations-lead=Independent Chair", "--panel",
             "quality=Independent Quality", "--panel", "hr=Independent HR"] \
        if "community" in packet.parts else [
            "--panel", "practice-lead=Independent Chair", "--panel",
            "peer-reviewer=Independent Peer", "--panel", "hr=Independent HR"]
    # deferred is an override for a READY packet: ask evaluate which it is
    ready = json.loads(run([*promoctl, "evaluate", str(packet), "--format", "json"], clone,
                           env).out)["evaluations"][0]["ready"]
    override = ["--override-reason", "benchmark"] if ready else []

    def once() -> float:
        done = run([*promoctl, "decide", str(packet), "--outcome", "deferred", "--reason",
                    "benchmark", *override, *panel], clone, env)
        if done.code != 0:
            raise RuntimeError(f"{version.name}: decide failed: {done.err[-1000:]}")
        git(clone, "reset", "--quiet", "--hard", "HEAD~1")
        return done.seconds

    return once


def _clone(source: Path, target: Path) -> Path:
    subprocess.run(["git", "clone", "--quiet", str(source), str(target)], check=True)
    for key, value in (("user.name", "Bench Secretary"), ("user.email", "bench@example.org"),
                       ("gc.auto", "0")):
        git(target, "config", key, value)
    return target


def _on_clone(version: Version, source: Path, where: Path) -> Version:
    """The version, measured on a clone of ``source`` of its own."""
    (where / "cache").mkdir(parents=True)
    return dataclasses.replace(version, root=_clone(source, where / "repo"),
                               cache_home=where / "cache")


def _audit_peak(version: Version) -> dict[str, Any]:
    found, done = entry_probe(version, ["audit", "--format", "json"], version.root)
    try:
        result = json.loads(done.out)
        found["decisions"] = result["decisions"]
        found["failed"] = sum(1 for f in result["findings"] if f["severity"] == "fail")
    except (ValueError, KeyError) as exc:
        raise RuntimeError(f"{version.name}: audit failed: {done.err[-1000:]}") from exc
    return found


def few_decisions_root(root: Path) -> Path:
    return root.parent / f"{root.name}-few-decisions"


def scaling(versions: Versions, root: Path, log: Callable[[str], None], runs: int = 3,
            few_root: Path | None = None) -> list[Row]:
    """The scaling rows; ``root`` and ``few_root`` (made when missing) are only cloned."""
    wanted = read_manifest(root) or {}
    few_size = Size(wanted["people"], wanted["packets"], max(wanted["decisions"] // 100, 1),
                    max(wanted["reviews"] // 100, 1), max(wanted["commits"] // 100, 1))
    few_root = few_root or few_decisions_root(root)
    log(f"scaling: a repository with {few_size.decisions:,} decisions ({few_root})")
    ensure_repo(few_root, few_size, wanted["seed"], log)
    rows = []
    with tempfile.TemporaryDirectory(prefix="promoctl-bench-scaling-") as tmp:
        clones = {v.label: _on_clone(v, root, Path(tmp) / v.label / "many") for v in versions}
        history_points = _decided_at(clones[CURRENT].root)
        n_all = history_points[-1][1]
        tenth, n_tenth = next((sha, n) for sha, n in history_points if n >= n_all // 10)

        log(f"scaling: audit peak memory at {n_all:,} decisions")
        big = {v.label: _audit_peak(clones[v.label]) for v in versions.each()}
        log(f"scaling: audit peak memory at {n_tenth:,} decisions")
        for clone in clones.values():
            git(clone.root, "checkout", "--quiet", tenth)
        small = {v.label: _audit_peak(clones[v.label]) for v in versions.each()}
        for clone in clones.values():
            git(clone.root, "checkout", "--quiet", "-")
        now, then = big[CURRENT], small[CURRENT]
        ratio = now["peak"] / then["peak"]
        failed = any(b["failed"] or s["failed"] for b, s in zip(big.values(), small.values(),
                                                                 strict=True))
        rows.append(row(f"audit peak memory, {now['decisions']:,} decisions",
                        {k: b["peak"] for k, b in big.items()}, megabytes,
                        reference=f"{then['decisions']:,} decisions: {megabytes(then['peak'])}",
                        ratio=f"{ratio:.2f}x", target=at_most(ratio, 1.5),
                        note=f"audit {secs(now['seconds'])} vs {secs(then['seconds'])}"
                        + ("; AUDIT FAILED: the generator is out of step" if failed else "")))

        fews = {v.label: _on_clone(v, few_root, Path(tmp) / v.label / "few") for v in versions}
        points = _decided_at(fews[CURRENT].root)
        keep = points[-1][1] if points else 0
        log(f"scaling: decide at {n_all:,} and at {keep:,} existing decisions, interleaved")
        many = {k: _decider(c, _pending_packet(c.root)) for k, c in clones.items()}
        few = {k: _decider(c, _pending_packet(c.root)) for k, c in fews.items()}
        t_many: dict[str, list[float]] = {v.label: [] for v in versions}
        t_few: dict[str, list[float]] = {v.label: [] for v in versions}
        for _ in range(runs):
            for v in versions:
                t_many[v.label].append(many[v.label]())
                t_few[v.label].append(few[v.label]())
    m_many = {k: statistics.median(t) for k, t in t_many.items()}
    m_few = statistics.median(t_few[CURRENT])
    ratio = m_many[CURRENT] / m_few
    rows.append(row(f"decide, {n_all:,} existing decisions", m_many, secs,
                    reference=f"{keep:,} existing decisions: {secs(m_few)}",
                    ratio=f"{ratio:.2f}x", target=at_most(ratio, 1.5),
                    note=f"medians of {runs}, interleaved, committing, warm cache; same "
                    f"{wanted['people']:,} people and {wanted['packets']:,} packets"))
    return rows
