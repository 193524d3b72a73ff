"""The table the benchmark prints: one row per figure, with what it is compared with and the
issue's target; with ``--baseline``, the baseline's value, this tree's, and the change,
marking a figure more than 10% worse. Also the lines describing the machine."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import yaml

from .processes import ColdWarm, Run
from .versions import BASELINE, CURRENT

WORSE_BEYOND = 10.0  # percent: a figure this much worse than the baseline is a regression
LOWER, HIGHER, SAME = "lower", "higher", "same"  # which way a figure is better


@dataclass
class Row:
    figure: str
    value: str  # this tree's
    reference: str = ""  # what the figure is compared with, and its value
    ratio: str = ""
    target: str = ""  # the target, and whether this run meets it
    note: str = ""
    before: str = ""  # the baseline's value (with --baseline)
    change: str = ""  # from the baseline's to this tree's, "WORSE" beyond WORSE_BEYOND

    @property
    def worse(self) -> bool:
        return self.change.endswith("WORSE")


def change(before: float, after: float, better: str) -> str:
    """The change from ``before`` to ``after`` in percent, marked when it is a regression."""
    if better == SAME:
        return "same" if before == after else "DIFFERS"
    if before == 0:
        return "" if after == 0 else "n/a"
    pct = (after - before) / before * 100
    worse = pct > WORSE_BEYOND if better == LOWER else pct < -WORSE_BEYOND
    return f"{pct:+.1f}%" + (" WORSE" if worse else "")


def row(figure: str, values: Mapping[str, float], show: Callable[[float], str], *,
        better: str = LOWER, reference: str = "", ratio: str = "", target: str = "",
        note: str = "") -> Row:
    """A row for a figure measured on every version: this tree's value shown, and with a
    baseline its value and the change."""
    made = Row(figure, show(values[CURRENT]), reference, ratio, target, note)
    if BASELINE in values:
        made.before = show(values[BASELINE])
        made.change = change(values[BASELINE], values[CURRENT], better)
    return made


def failures(runs: Mapping[str, Run], ok: Sequence[int] = (0,)) -> str:
    """What failed, this tree's run first; empty when every version's run succeeded."""
    found = [f"{'' if k == CURRENT else k + ' '}{r.failed(ok)}" for k, r in
             sorted(runs.items(), key=lambda kv: kv[0] != CURRENT) if r.failed(ok)]
    return "; ".join(found)


def warm_row(name: str, runs: Mapping[str, ColdWarm], what: str, ok: Sequence[int] = (0,),
             limit: float = 10) -> Row:
    """A command warm against cold: the warm time per version, the speed-up of this tree."""
    now = runs[CURRENT]
    failed = failures({k: r.cold for k, r in runs.items()}, ok) or failures(
        {k: r.warm for k, r in runs.items()}, ok)
    speedup = now.cold.seconds / now.warm.seconds
    cache = (f"{len(now.written)} cache file(s) written, e.g. {now.written[0]}" if now.written
             else "no cache file written")
    return row(f"{name}, warm", {k: r.warm.seconds for k, r in runs.items()}, secs,
               reference=f"cold: {secs(now.cold.seconds)}", ratio=faster(speedup),
               target=at_least(speedup, limit), note=failed or f"{what}; {cache}")


def secs(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds < 100 else f"{seconds:,.0f} s"


def millis(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def megabytes(value: float | None) -> str:
    return f"{value / 1024 / 1024:,.0f} MB" if value else "none"


def count(value: float) -> str:
    return f"{value:,.0f}"


def faster(ratio: float) -> str:
    return f"{ratio:.1f}x faster" if ratio >= 1 else f"{1 / ratio:.1f}x slower"


def at_most(ratio: float, limit: float) -> str:
    return f"<= {limit:g}x: {'met' if ratio <= limit else 'NOT MET'}"


def at_least(ratio: float, limit: float) -> str:
    return f">= {limit:g}x: {'met' if ratio >= limit else 'NOT MET'}"


def table(rows: Sequence[Row]) -> str:
    compared = any(r.before for r in rows)
    headers = Row("figure", "after" if compared else "value", "compared with", "ratio",
                  "target", "note", "before", "vs before")
    cols = ("figure", *(("before",) if compared else ()), "value",
            *(("change",) if compared else ()), "reference", "ratio", "target", "note")
    widths = {c: max(len(getattr(r, c)) for r in [headers, *rows]) for c in cols}
    right = {"value", "ratio", "before", "change"}

    def line(r: Row) -> str:
        cells = [f"{getattr(r, c):>{widths[c]}}" if c in right else
                 f"{getattr(r, c):<{widths[c]}}" for c in cols]
        return "  ".join(cells).rstrip()

    return "\n".join([line(headers), "  ".join("-" * widths[c] for c in cols),
                      *(line(r) for r in rows)])


def regressions(rows: Sequence[Row]) -> str:
    """One line naming the figures more than WORSE_BEYOND percent worse, if any were
    compared."""
    if not any(r.before for r in rows):
        return ""
    worse = [f"{r.figure} ({r.change.removesuffix(' WORSE')})" for r in rows if r.worse]
    if not worse:
        return f"no figure is more than {WORSE_BEYOND:g}% worse than the baseline"
    return (f"{len(worse)} figure(s) more than {WORSE_BEYOND:g}% worse than the baseline: "
            + "; ".join(worse))


def machine() -> list[str]:
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            mem = f", {int(fh.readline().split()[1]) / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    git_version = subprocess.run(["git", "--version"], capture_output=True, text=True,
                                 check=False).stdout.strip().removeprefix("git version ")
    return [
        f"platform     {platform.platform()} ({platform.machine()})",
        f"cpu          {_cpu_name()}, {os.cpu_count()} logical CPUs{mem}",
        f"python       {platform.python_implementation()} {sys.version.split()[0]}",
        f"pyyaml       {yaml.__version__}, libyaml "
        f"{'yes' if getattr(yaml, '__with_libyaml__', False) else 'NO'}",
        f"git          {git_version}",
        f"load         {load()} (other processes on the machine skew every figure)",
    ]


def load() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"average {one:.2f} (1 min), {five:.2f} (5 min), {fifteen:.2f} (15 min)"


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown cpu"
