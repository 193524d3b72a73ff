"""Terminal rendering (rich). Only the CLI imports this module."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

from promoctl.errors import Problem

if TYPE_CHECKING:
    from rich.console import Console

    from promoctl.evaluate import Evaluation

    out: Console
    err: Console


@cache
def _console(stderr: bool) -> Console:
    from rich.console import Console  # ~50 ms: only for commands that print with it

    if stderr:
        return Console(stderr=True, highlight=False)
    # Wide enough that piped reports do not wrap mid-cell; a terminal uses its own width.
    return Console(highlight=False, width=None if sys.stdout.isatty() else 120)


def __getattr__(name: str) -> object:
    if name in ("out", "err"):
        return _console(name == "err")
    raise AttributeError(name)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def print_problems(problems: Sequence[Problem], *, to_stderr: bool = False) -> None:
    stream = sys.stderr if to_stderr else sys.stdout
    for problem in problems:
        stream.write(f"{problem}\n")


@contextmanager
def progress(label: str, minimum: int = 50) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr for long runs, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress

    with Progress(console=_console(True), transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            if total >= minimum:
                bar.update(task, completed=done, total=total)

        yield update


def _mark(ok: bool) -> str:
    return "[green]met[/]" if ok else "[red bold]not met[/]"


def evaluation_report(ev: Evaluation, path: str) -> None:
    from rich.table import Table

    from promoctl.evaluate import fmt

    p = ev.person
    colour = "green" if ev.ready else "red"
    level = ev.ladder.level(ev.packet.target.level)
    _console(False).print(f"[bold]{p.name}[/] ({p.id}, {p.program}) -> {ev.ladder.title} / "
              f"{level.title if level else ev.packet.target.level}")
    _console(False).print(f"packet {path} ({ev.packet.id}), submitted {ev.packet.submitted}, "
              f"as of {ev.as_of}; framework {ev.framework.id} {ev.framework.version}")
    _console(False).print(f"Verdict: [bold {colour}]{ev.verdict}[/]\n")
    if ev.training:
        table = Table(title="Mandatory training", title_justify="left")
        for col in ("Training", "Result", "Detail"):
            table.add_column(col)
        for t in ev.training:
            table.add_row(t.title, _mark(t.met), t.detail)
        _console(False).print(table)
    if ev.gates:
        table = Table(title="Readiness gates", title_justify="left")
        for col in ("Gate", "Result", "Required", "Qualifying", "Not counted"):
            table.add_column(col)
        for g in ev.gates:
            excluded = "\n".join(f"{i}: {why}" for i, why in g.excluded) or "-"
            table.add_row(g.gate.title or g.gate.id, _mark(g.met), g.required,
                          ", ".join(g.qualifying) or "-", excluded)
        _console(False).print(table)
    table = Table(title="Competencies", title_justify="left")
    for col in ("Competency", "Weight", "Min", "Score", "Sources", "Result"):
        table.add_column(col)
    for c in ev.competencies:
        sources = "\n".join(f"{s.type} {fmt(s.score)} x{s.weight} ({s.method})"
                            for s in c.sources) or "none"
        result = "[red bold]insufficient evidence[/]" if c.score is None else _mark(c.met)
        table.add_row(c.name, str(c.weight), "-" if c.minimum is None else str(c.minimum),
                      fmt(c.score), sources, result)
    _console(False).print(table)
    _console(False).print(f"Composite {fmt(ev.composite)} against threshold {ev.threshold}: "
              f"{_mark(ev.composite is not None and ev.composite >= ev.threshold)}")
    if ev.reasons:
        _console(False).print("\n[bold]Reasons[/]")
        for r in ev.reasons:
            _console(False).print(f"  - {r.message}", markup=False)
    if ev.warnings:
        _console(False).print("\n[bold yellow]Warnings[/]")
        for w in ev.warnings:
            _console(False).print(f"  - {w}", markup=False)


def evaluation_summary(rows: Sequence[tuple[str, Evaluation]]) -> None:
    from rich.table import Table

    from promoctl.evaluate import fmt

    table = Table(title="Evaluation summary", title_justify="left")
    for col in ("Candidate", "Program", "Target level", "Verdict", "Composite", "Threshold"):
        table.add_column(col, no_wrap=True)
    table.add_column("Reasons")
    for _path, ev in rows:
        colour = "green" if ev.ready else "red"
        reasons = "\n".join(r.short for r in ev.reasons) or "-"
        table.add_row(ev.person.name, ev.person.program, ev.packet.target.level,
                      f"[{colour}]{ev.verdict}[/]", fmt(ev.composite), str(ev.threshold),
                      reasons)
    _console(False).print(table)
    ready = sum(1 for _, ev in rows if ev.ready)
    _console(False).print(f"{ready} of {len(rows)} ready")
