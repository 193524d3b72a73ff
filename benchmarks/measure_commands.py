"""Figures of the commands that read the whole repository: ``evaluate --all`` and ``report``
warm against cold, and ``audit`` against the least an audit must do with git and PyYAML's
C loader. Verdict counts come from ``evaluate``'s own JSON output."""

from __future__ import annotations

import collections
import json
from typing import Any

from .context import Context
from .processes import clear_caches, cold_warm, run
from .references import audit_reference
from .sizes import HISTORY_END, HISTORY_START
from .table import HIGHER, SAME, Row, at_most, count, failures, row, secs, warm_row
from .versions import CURRENT, Version

NOT_EVALUATED = "not evaluated (problems)"


def _evaluate_args(version: Version) -> list[str]:
    helped = run([*version.cmd(), "evaluate", "--help"], version.root, version.env())
    return ["evaluate", "--all", "--format", "json"] if "--all" in helped.out else \
        ["evaluate", "packets", "--format", "json"]


def evaluate(ctx: Context) -> list[Row]:
    """``evaluate --all`` cold, then warm (target: 30x faster); then once more, untimed,
    for the verdicts each version gives."""
    args = {v.label: _evaluate_args(v) for v in ctx.versions}
    shown = " ".join(["promoctl", *args[CURRENT]])
    ctx.step(f"{shown}, cold then warm")
    runs = cold_warm(ctx.versions, lambda v: args[v.label])
    now = runs[CURRENT]
    ctx.figures.update(evaluate_cold=now.cold.seconds, evaluate_warm=now.warm.seconds)
    rows = [warm_row("evaluate --all", runs, f"{shown} > /dev/null", ok=(0, 1), limit=30)]

    ctx.step("evaluate --all once more on each version, for its verdicts")
    verdicts: dict[str, collections.Counter[str]] = {}
    reasons: collections.Counter[str] = collections.Counter()
    for v in ctx.versions.each():
        done = run([*v.cmd(), *args[v.label]], v.root, v.env())
        try:
            answer: dict[str, Any] = json.loads(done.out)
        except ValueError:
            rows.append(Row(f"verdicts, {v.name}", "unknown",
                            note=done.failed((0, 1)) or "unreadable evaluate output"))
            continue
        found = collections.Counter(e["verdict"] for e in answer["evaluations"])
        found[NOT_EVALUATED] = len(ctx.packets) - len(answer["evaluations"])
        verdicts[v.label] = found
        if v.label == CURRENT:
            reasons.update(r["kind"] for e in answer["evaluations"] for r in e["reasons"])
        del answer
    mine = verdicts.get(CURRENT, collections.Counter())
    evaluated = {k: found.total() - found[NOT_EVALUATED] for k, found in verdicts.items()}
    rows.append(row("packets evaluated / s", {k: n / runs[k].cold.seconds
                                              for k, n in evaluated.items()},
                    count, better=HIGHER,
                    note=f"{evaluated.get(CURRENT, 0):,} packets in the cold {shown} "
                    f"({secs(now.cold.seconds)}, loading included)"))
    for verdict in sorted({k for found in verdicts.values() for k in found}):
        if verdict == NOT_EVALUATED and not any(f[verdict] for f in verdicts.values()):
            continue
        share = mine.get(verdict, 0) / max(len(ctx.packets), 1)
        rows.append(row(f"verdict {verdict}", {k: f.get(verdict, 0)
                                               for k, f in verdicts.items()},
                        count, better=SAME, note=f"{share:.0%} of packets"))
    ctx.figures.update(verdicts=dict(mine), reasons=dict(reasons))
    return rows


def report_args(version: Version) -> list[str] | None:
    """``report`` over the whole history as JSON, in the options this version has; None
    when it has no report command."""
    helped = run([*version.cmd(), "report", "--help"], version.root, version.env())
    if helped.code != 0:
        return None
    extra = ["--format", "json"] if "--format" in helped.out and "json" in helped.out else []
    if "--from" in helped.out and "--to" in helped.out:  # the whole history
        extra += ["--from", HISTORY_START.isoformat(), "--to", HISTORY_END.isoformat()]
        if "--allow-unaligned" in helped.out:  # the same period as earlier runs measured
            extra.append("--allow-unaligned")
    return ["report", *extra]


def report(ctx: Context) -> list[Row]:
    """``report`` cold, then warm."""
    args = {v.label: report_args(v) for v in ctx.versions}
    missing = [v.name for v in ctx.versions if args[v.label] is None]
    if missing:
        return [Row("report, warm", "skipped", note=f"no report command in {missing}")]
    ctx.step("report, cold then warm")
    runs = cold_warm(ctx.versions, lambda v: args[v.label] or [])
    ctx.figures.update(report_cold=runs[CURRENT].cold.seconds,
                       report_warm=runs[CURRENT].warm.seconds)
    return [warm_row("report", runs, "promoctl " + " ".join(args[CURRENT] or []))]


def audit(ctx: Context) -> list[Row]:
    """``audit`` of every decision, caches cleared, against the reference."""
    ctx.step("promoctl audit (fresh process, caches cleared)")
    audited = {}
    for v in ctx.versions.each():
        clear_caches(v)
        audited[v.label] = run([*v.cmd(), "audit", "--format", "json"], v.root, v.env())
    ctx.step("audit reference: git log + git cat-file --batch + C loader")
    aref = audit_reference(ctx.versions.current.root)
    now = audited[CURRENT]
    ctx.figures.update(audit=now.seconds, audit_reference=aref)
    try:
        result = json.loads(now.out)
        severities = collections.Counter(f["severity"] for f in result["findings"])
        checks = collections.Counter(f["check"] for f in result["findings"]
                                     if f["severity"] == "fail")
        n_decisions = result["decisions"]
        note = (f"{n_decisions:,} decisions, {result['replayed']:,} replayed, "
                f"{severities.get('fail', 0):,} fail" + (f" ({dict(checks)})" if checks else "")
                + f", {severities.get('note', 0):,} note findings")
        ctx.figures["audit_findings"] = dict(severities)
    except (ValueError, KeyError):
        n_decisions = aref["decisions"]
        note = now.failed((0, 1)) or "unreadable audit output"
    failed = failures(audited, (0, 1))
    ratio = now.seconds / aref["seconds"]
    return [
        row("audit, all decisions", {k: r.seconds for k, r in audited.items()}, secs,
            reference=f"git log + cat-file + C loader: {secs(aref['seconds'])}",
            ratio=f"{ratio:.1f}x", target=at_most(ratio, 2),
            note=f"{failed}; {note}" if failed else note),
        row("decisions audited / s", {k: n_decisions / r.seconds for k, r in audited.items()},
            count, better=HIGHER,
            reference=f"reference: {aref['decisions'] / aref['seconds']:,.0f}/s",
            note=f"reference: log pass {aref['log']:.2f} s, {aref['reads']:,} blob reads, "
            f"{aref['parsed']:,} distinct blobs parsed"),
    ]
