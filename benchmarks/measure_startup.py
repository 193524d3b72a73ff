"""Figures of short runs, against ``python -c "import typer"`` measured in the same run:
``promoctl --help``, ``validate ONE_FILE`` with nothing changed, and ``validate ONE_FILE``
just after that file was edited (what a pre-commit hook runs), for a packet and for a
ladder, which many records refer to. Also promoctl's parser, libyaml against pure Python."""

from __future__ import annotations

import re
import statistics
import sys
import time
from collections.abc import Callable

from .context import Context
from .probes import parser_probe
from .processes import Job, Run, clear_caches, git, medians, run, version_jobs
from .table import Row, at_most, failures, faster, millis, row, secs
from .versions import CURRENT, Version

PRECOMMIT_SECONDS = 0.3  # issue 18: a pre-commit run answers within this ...
PRECOMMIT_TYPER = 4.0  # ... and within this many times ``import typer``
_EDITABLE = re.compile(r"(?m)^( *(?:- )?(?:title|notes): )([A-Za-z].*\S)$")


def _typer_job(ctx: Context) -> Job:
    current = ctx.versions.current
    return Job("typer", [sys.executable, "-c", "import typer"], current.root, current.env())


def startup(ctx: Context) -> list[Row]:
    """``--help`` and ``validate ONE_FILE`` (nothing changed since the last run)."""
    one = ctx.packets[0]
    ctx.step(f"start-up: import typer, promoctl --help (median of {ctx.repeats})")
    helped = medians([_typer_job(ctx), *version_jobs(ctx.versions, ["--help"])], ctx.repeats)
    typer_s = helped.pop("typer")[0]
    ctx.step(f"validate ONE_FILE, cold once, then unchanged (median of {ctx.repeats})")
    for v in ctx.versions:
        clear_caches(v)
    # promoctl trusts no stat taken within 2 s of a change (git clean just removed files)
    time.sleep(2.1)
    one_cold = {v.label: run([*v.cmd(), "validate", one], v.root, v.env(), keep_output=False)
                for v in ctx.versions.each()}
    ones = medians(version_jobs(ctx.versions, ["validate", one]), ctx.repeats)
    ctx.figures.update(import_typer=typer_s, help=helped[CURRENT][0],
                       validate_one=ones[CURRENT][0],
                       validate_one_cold=one_cold[CURRENT].seconds)
    rows = []
    for name, found, what in (
            ("promoctl --help", helped, "fresh process"),
            ("validate ONE_FILE", ones, f"promoctl validate {one}, nothing changed since the "
             f"last run (answered from its memo); cold (cache cleared): "
             f"{secs(one_cold[CURRENT].seconds)}")):
        ratio = found[CURRENT][0] / typer_s
        rows.append(row(name, {k: t for k, (t, _first) in found.items()}, millis,
                        reference=f"import typer: {millis(typer_s)}", ratio=f"{ratio:.1f}x",
                        target=at_most(ratio, 2),
                        note=failures({k: first for k, (_t, first) in found.items()})
                        or f"{what}, median wall time"))
    return rows


def edited(text: str, i: int) -> str:
    """``text`` with a value changed, as an author edits a record: the first title or
    notes line gets a suffix (a different one each run); else a comment is added."""
    found = _EDITABLE.search(text)
    if found is None:
        return f"{text}# edited for the benchmark ({i})\n"
    return f"{text[:found.end(2)]} (edited for the benchmark, {i}){text[found.end(2):]}"


def _editor(version: Version, rel: str, original: bytes) -> Callable[[int], None]:
    """Before run ``i``: the file edited and staged, as a pre-commit hook finds it."""
    def edit(i: int) -> None:
        (version.root / rel).write_bytes(edited(original.decode(), i).encode())
        git(version.root, "add", "--", rel)

    return edit


def after_edits(ctx: Context, rel: str) -> dict[str, tuple[float, Run]]:
    """Median wall time of ``validate REL`` per version just after REL was edited and
    staged (a different edit each run), the versions interleaved; REL is restored, in the
    work tree and the index, afterwards."""
    originals = {v.label: (v.root / rel).read_bytes() for v in ctx.versions}
    jobs = [Job(v.label, [*v.cmd(), "validate", rel], v.root, v.env(),
                before=_editor(v, rel, originals[v.label])) for v in ctx.versions]
    try:
        return medians(jobs, ctx.repeats)
    finally:
        for v in ctx.versions:
            (v.root / rel).write_bytes(originals[v.label])
            git(v.root, "reset", "--quiet", "--", rel)


def precommit(ctx: Context) -> list[Row]:
    """``validate FILE`` just after FILE was edited, on a warm cache: a packet, then the
    ladder it is on (thousands of packets and decisions refer to it)."""
    packet = ctx.packets[0]
    text = (ctx.versions.current.root / packet).read_text(encoding="utf-8")
    found = re.search(r"ladder: ([\w-]+)", text)
    ladder = f"ladders/{found.group(1)}.yaml" if found else sorted(ctx.by_folder["ladders"])[0]
    ctx.step("validate on each version, so the pre-commit runs start warm")
    for v in ctx.versions.each():
        run([*v.cmd(), "validate"], v.root, v.env(), keep_output=False)
    ctx.step(f"import typer (median of {ctx.repeats})")
    typer_s = medians([_typer_job(ctx)], ctx.repeats)["typer"][0]
    rows = []
    for what, rel in (("a packet", packet), ("a ladder", ladder)):
        ctx.step(f"validate FILE just after FILE was edited: {rel} (median of {ctx.repeats})")
        times = after_edits(ctx, rel)
        seconds = times[CURRENT][0]
        ratio = seconds / typer_s
        met = seconds <= PRECOMMIT_SECONDS and ratio <= PRECOMMIT_TYPER
        ctx.figures[f"validate_edited_{what.split()[-1]}"] = seconds
        rows.append(row(f"validate ONE_FILE, that file just edited (a pre-commit run), "
                        f"{what}", {k: t for k, (t, _first) in times.items()}, millis,
                        reference=f"import typer: {millis(typer_s)}", ratio=f"{ratio:.1f}x",
                        target=f"<= {PRECOMMIT_SECONDS:g} s and <= {PRECOMMIT_TYPER:g}x: "
                        f"{'met' if met else 'NOT MET'}",
                        note=failures({k: first for k, (_t, first) in times.items()})
                        or f"promoctl validate {rel}, the file edited and staged before each "
                        "run (a different edit each time), warm cache; median wall time"))
    return rows


def parser(ctx: Context, rounds: int = 3) -> list[Row]:
    """promoctl's YAML parser with libyaml against pure Python, the same sampled packets;
    the medians of ``rounds`` fresh processes per version, interleaved."""
    ctx.step(f"promoctl parser, libyaml vs pure Python (median of {rounds})")
    probes: dict[str, list[dict[str, float]]] = {v.label: [] for v in ctx.versions}
    for _ in range(rounds):
        for v in ctx.versions.each():
            probes[v.label].append(parser_probe(v, ctx.paths(v, "packets"), v.root, ctx.seed))
    fast = {k: statistics.median(p["fast"] / p["files"] for p in found)
            for k, found in probes.items()}
    pure = statistics.median(p["pure"] / p["files"] for p in probes[CURRENT])
    now = probes[CURRENT][0]
    ctx.figures.update(parse_fast=fast[CURRENT], parse_pure=pure)
    return [row("promoctl parser, libyaml", fast, lambda s: f"{s * 1000:.2f} ms/packet",
                reference=f"pure Python: {pure * 1000:.2f} ms/packet",
                ratio=faster(pure / fast[CURRENT]),
                note=f"{now['files']:.0f} sampled packets, I/O excluded, median of {rounds}; "
                "promoctl uses " + ("libyaml" if now["libyaml"]
                                    else "the pure-Python parser (no libyaml)"))]
