"""Figures of ``validate`` on the whole repository: peak memory in a fresh process (also on
a 10x repository), cold against PyYAML's C loader and against check-jsonschema, warm
against cold."""

from __future__ import annotations

from typing import Any

from .context import Context, record_files
from .probes import memory_probe
from .processes import cold_warm
from .references import SCHEMA_OF, c_reference, check_jsonschema, find_check_jsonschema
from .sizes import BIG_SIZE
from .table import (
    HIGHER,
    SAME,
    Row,
    at_least,
    at_most,
    count,
    failures,
    faster,
    megabytes,
    row,
    secs,
    warm_row,
)
from .versions import CURRENT


def memory(ctx: Context) -> list[Row]:
    """Peak memory of ``validate`` first, while nothing else has run."""
    ctx.step("validate in a fresh process, for peak memory")
    probes = {v.label: memory_probe(v) for v in ctx.versions.each()}
    ctx.figures["probe"] = probes[CURRENT]
    now = probes[CURRENT]
    before, peak = now.get("before"), now.get("peak")
    n_packets = len(ctx.packets)
    rows = [row(f"peak memory, validate, {n_packets:,} packets",
                {k: p.get("peak") or 0 for k, p in probes.items()}, megabytes,
                note=f"peak RSS (VmHWM) of a fresh process running promoctl validate; "
                f"{megabytes(before)} after importing the entry point; largest worker "
                f"{megabytes(now.get('worker_peak'))} (shares the parent's pages); validate "
                f"took {now['seconds']:.1f} s there" if before and peak else "")]
    if ctx.big_root is not None:
        found = record_files(ctx.big_root)
        big_files = len(found)
        big_packets = sum(1 for rel in found if rel.startswith("packets/"))
        ctx.step(f"validate at {big_packets:,} packets, for peak memory")
        # Only read: each version's probe starts from that repository's caches cleared.
        bigs = {v.label: memory_probe(v, ctx.big_root) for v in ctx.versions.each()}
        big = bigs[CURRENT]
        ctx.figures["probe_big"] = big
        growth = big["peak"] / peak if peak else 0
        rows.append(row(f"peak memory, validate, {big_packets:,} packets ({big_files:,} files)",
                        {k: b.get("peak") or 0 for k, b in bigs.items()}, megabytes,
                        reference=f"{n_packets:,} packets: {megabytes(peak)}" if peak else "",
                        ratio=f"{growth:.1f}x" if growth else "",
                        note=f"largest worker {megabytes(big.get('worker_peak'))}; validate "
                        f"took {big['seconds']:.1f} s; code {big['code']}"))
    else:
        rows.append(Row(f"peak memory, validate, {BIG_SIZE.packets:,} packets", "not measured",
                        note="run with --big or --big-dir DIR"))
    codes = {k: float(p.get("code") or 0) for k, p in probes.items()}
    rows.append(row("validate exit code", codes, lambda c: f"{c:.0f}", better=SAME,
                    note="expected 0 (no problems)" if now.get("code") == 0
                    else "EXPECTED 0: the generator is out of step"))
    return rows


def validate(ctx: Context) -> list[Row]:
    """Cold against the C loader on the same files, and warm against cold."""
    current = ctx.versions.current
    ctx.step(f"PyYAML's C loader on all {len(ctx.files):,} record files, in a fresh process")
    ref = c_reference(ctx.paths(current), current.root)
    ref_s = ref.seconds
    ctx.step("promoctl validate, cold then warm (fresh processes)")
    runs = cold_warm(ctx.versions, ["validate"])
    now = runs[CURRENT]
    ctx.figures.update(reference=ref_s, validate_cold=now.cold.seconds,
                       validate_warm=now.warm.seconds)
    ratio = now.cold.seconds / ref_s
    n_packets = len(ctx.packets)
    return [
        row("validate, cold (whole repo)", {k: r.cold.seconds for k, r in runs.items()}, secs,
            reference=f"C loader, same files: {secs(ref_s)}", ratio=f"{ratio:.1f}x",
            target=at_most(ratio, 1.3),
            note=failures({k: r.cold for k, r in runs.items()}) or "promoctl validate, fresh "
            "process; reference: yaml.load(CSafeLoader) on every file, one process"),
        row("record files validated / s", {k: len(ctx.files) / r.cold.seconds
                                           for k, r in runs.items()}, count, better=HIGHER,
            note=f"cold; {n_packets / now.cold.seconds:,.0f} packets/s (every record kind "
            "is loaded)"),
        warm_row("validate", runs, "second fresh process"),
    ]


def jsonschema(ctx: Context) -> list[Row]:
    """check-jsonschema on every record file against validate, cold (measured by
    ``validate``, which runs first)."""
    cold: float | None = ctx.figures.get("validate_cold")
    if not ctx.jsonschema:
        return [Row("validate vs check-jsonschema", "skipped", note="not requested")]
    if cold is None:
        return [Row("validate vs check-jsonschema", "skipped", note="needs the validate "
                    "figures")]
    cmd, how = find_check_jsonschema(ctx.install)
    if cmd is None:
        return [Row("validate vs check-jsonschema", "skipped", note=how)]
    ctx.step("check-jsonschema on every record file with schemas/")
    current = ctx.versions.current
    cj: dict[str, Any] = check_jsonschema(cmd, current.root, [
        (f"{kind}.schema.json", ctx.paths(current, folder)) for folder, kind in SCHEMA_OF
        if ctx.by_folder.get(folder)])
    ctx.figures["check_jsonschema"] = cj
    ratio = cj["seconds"] / cold
    return [Row("validate, cold, vs check-jsonschema", secs(cold),
                f"check-jsonschema: {secs(cj['seconds'])}", faster(ratio), at_least(ratio, 10),
                f"check-jsonschema on the same {cj['files']:,} record files in {cj['runs']} "
                f"runs, {cj['errors']:,} error(s) reported"
                + (f"; {'; '.join(cj['failed'][:2])}" if cj["failed"] else "")
                + (f"; {how}" if how else "") + "; it checks no cross-reference")]

