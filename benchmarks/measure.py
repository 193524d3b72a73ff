"""Every measurement the benchmark can make, by name (``--only NAME,...``), and the rows
describing the repository they run on."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from . import measure_commands, measure_startup, measure_validate
from .context import Context
from .generate import read_manifest
from .processes import git
from .scaling import scaling
from .table import Row


def _scaling(ctx: Context) -> list[Row]:
    ctx.step("decide and audit as decisions grow (throwaway clones)")
    return scaling(ctx.versions, ctx.source, ctx.log, few_root=ctx.few_root)


# In the order they run: peak memory first, while nothing else has run.
FIGURES: dict[str, tuple[Callable[[Context], list[Row]], str]] = {
    "memory": (measure_validate.memory, "peak memory of validate (and at 10x, with --big)"),
    "validate": (measure_validate.validate, "validate cold vs the C loader, warm vs cold"),
    "jsonschema": (measure_validate.jsonschema, "validate cold vs check-jsonschema (runs "
                   "validate too)"),
    "evaluate": (measure_commands.evaluate, "evaluate --all warm vs cold, verdicts"),
    "report": (measure_commands.report, "report warm vs cold"),
    "audit": (measure_commands.audit, "audit vs git log + cat-file + C loader"),
    "startup": (measure_startup.startup, "--help and validate ONE_FILE vs import typer"),
    "precommit": (measure_startup.precommit, "validate FILE just after FILE was edited"),
    "parser": (measure_startup.parser, "promoctl's parser, libyaml vs pure Python"),
    "scaling": (_scaling, "decide and audit as decisions grow (issue 14)"),
}
NEEDS = {"jsonschema": "validate"}


def chosen(only: str | None) -> list[str]:
    """The measurements to run, in their order; ValueError names an unknown one."""
    if only is None:
        names = set(FIGURES)
    else:
        names = {n.strip() for n in only.split(",") if n.strip()}
        unknown = sorted(names - set(FIGURES))
        if unknown:
            raise ValueError(f"unknown figure(s): {', '.join(unknown)} (known: "
                             f"{', '.join(FIGURES)})")
        names |= {NEEDS[n] for n in names if n in NEEDS}
    return [n for n in FIGURES if n in names]


def repository_rows(ctx: Context) -> list[Row]:
    """What was measured on: files, size, history (from this tree's copy)."""
    root = ctx.versions.current.root
    # Reading every file once also puts it in the OS cache, so no figure pays for the disk.
    sizes = {rel: len(p.read_bytes()) for v in ctx.versions
             for rel, p in zip(ctx.files, ctx.paths(v), strict=True)}
    total = sum(sizes.values())
    commits = int(git(root, "rev-list", "--count", "HEAD"))
    ctx.figures.update(files=len(ctx.files), bytes=total, commits=commits)
    mb = 1024 * 1024
    made = (read_manifest(ctx.source) or {}).get("made", {})
    folders = ctx.by_folder
    return [
        Row("record files", f"{len(ctx.files):,}", note=", ".join(
            f"{len(v):,} {k}" for k, v in sorted(folders.items(), key=lambda kv: -len(kv[1]))
            if len(v) > 2) + "; plus config, frameworks, ladders"),
        Row("total size", f"{total / mb:,.1f} MB", note="mean " + ", ".join(
            f"{k.rstrip('s')} {sum(sizes[p] for p in folders[k]) / len(folders[k]) / 1024:.1f}"
            " KB" for k in ("packets", "decisions", "reviews", "people") if folders.get(k))),
        Row("git history", f"{commits:,} commits", note=f"generated in "
            f"{made.get('seconds', '?')} s with one git fast-import"),
    ]


def measure(ctx: Context, names: Sequence[str]) -> list[Row]:
    """The rows of the chosen measurements, in order."""
    rows = repository_rows(ctx)
    for name in names:
        found = FIGURES[name][0](ctx)
        for r in found:  # as they come: a long run stopped early still says something
            ctx.log(f"  {r.figure}: " + "; ".join(part for part in (
                f"{r.before} -> {r.value} ({r.change})" if r.before else r.value,
                r.reference, r.ratio, r.target) if part))
        rows.extend(found)
    return rows


def describe() -> str:
    return "\n".join(f"  {name:<11} {what}" for name, (_f, what) in FIGURES.items())

