"""Terminal rendering (rich). Only the CLI imports this module."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import IO, TYPE_CHECKING, Any, cast

from promoctl.base.errors import Problem, capped

PIPED_WIDTH = 120
REASONS_MIN = 22  # the Reasons column never gets narrower than this

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from promoctl.engine.evaluation_view import Shown
    from promoctl.engine.lifecycle import DueItem

    out: Console
    err: Console


@cache
def _console(stderr: bool) -> Console:
    from rich.console import Console  # ~50 ms: only for commands that print with it

    from promoctl.base.escape import TerminalStream

    if stderr:
        return Console(file=cast("IO[str]", TerminalStream("stderr")), highlight=False)
    # A terminal uses its own width; piped output the width COLUMNS asks for, else one
    # wide enough that reports do not wrap mid-cell.
    return Console(file=cast("IO[str]", TerminalStream("stdout")), highlight=False,
                   width=None if sys.stdout.isatty() else piped_width())


def piped_width() -> int:
    value = os.environ.get("COLUMNS", "")
    return int(value) if value.isdigit() and 20 <= int(value) <= 10000 else PIPED_WIDTH


def __getattr__(name: str) -> object:
    if name in ("out", "err"):
        return _console(name == "err")
    raise AttributeError(name)


def print_json(data: Any) -> None:
    from promoctl.base.escape import json_text

    sys.stdout.write(json_text(json.dumps(data, indent=2, ensure_ascii=False)) + "\n")


def print_problems(problems: Sequence[Problem], *, to_stderr: bool = False) -> None:
    stream = sys.stderr if to_stderr else sys.stdout
    for problem in capped(problems):
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


def _e(value: Any) -> str:
    """A record's value in rich markup: its brackets are text, not styles."""
    from rich.markup import escape

    return escape(str(value))


def _mark(ok: bool) -> str:
    return "[green]met[/]" if ok else "[red bold]not met[/]"


def evaluation_report(s: Shown) -> None:
    from rich.table import Table

    from promoctl.engine.evaluation_view import not_counted

    d, x = s.data, s.extras
    p = d["candidate"]
    colour = "green" if s.ready else "red"
    console = _console(False)
    console.print(f"[bold]{_e(p['name'])}[/] ({_e(p['id'])}, {_e(p['program'])}) -> "
                  f"{_e(x['ladder_title'])} / {_e(x['level_title'])}")
    console.print(_e(f"packet {s.path} ({d['packet']}), submitted {d['submitted']}, "
                     f"as of {d['as_of']}; framework {d['framework']['id']} "
                     f"{d['framework']['version']}"))
    console.print(f"Verdict: [bold {colour}]{d['verdict']}[/]\n")
    if d["training"]:
        table = Table(title="Mandatory training", title_justify="left")
        for col in ("Training", "Result", "Detail"):
            table.add_column(col, overflow="fold")  # never cut an id
        for t in d["training"]:
            table.add_row(_e(t["title"]), _mark(t["met"]), _e(t["detail"]))
        console.print(table)
    if d["gates"]:
        table = Table(title="Readiness gates", title_justify="left")
        for col in ("Gate", "Result", "Required", "Qualifying", "Not counted"):
            table.add_column(col, overflow="fold")  # never cut an id
        for g in d["gates"]:
            excluded = "\n".join(f"{e['item']}: {e['why']}" for e in g["excluded"]) or "-"
            table.add_row(_e(g["title"] or g["id"]), _mark(g["met"]), _e(g["required"]),
                          _e(", ".join(g["qualifying"]) or "-"), _e(excluded))
        console.print(table)
    table = Table(title="Competencies", title_justify="left")
    for col in ("Competency", "Weight", "Min", "Score", "Sources", "Result"):
        table.add_column(col, overflow="fold")
    for c, cx in zip(d["competencies"], x["competencies"], strict=True):
        sources = "\n".join(f"{src['type']} {sx['score']} x{sx['weight']} ({src['method']})"
                            for src, sx in zip(c["sources"], cx["sources"], strict=True)
                            ) or "none"
        result = "[red bold]insufficient evidence[/]" if c["score"] is None else _mark(c["met"])
        table.add_row(_e(c["name"]), cx["weight"], "-" if cx["minimum"] is None else cx["minimum"],
                      cx["score"], _e(sources), result)
    console.print(table)
    dropped = not_counted(d)
    if dropped:
        table = Table(title="Not counted in the scores", title_justify="left")
        for col in ("Competency", "Evidence", "Why"):
            table.add_column(col, overflow="fold")
        for name, item, why in dropped:
            table.add_row(_e(name), _e(item), _e(why))
        console.print(table)
    console.print(f"Composite {s.summary['composite']} against threshold "
                  f"{s.summary['threshold']}: {_mark(x['composite_met'])}")
    if d["reasons"]:
        console.print("\n[bold]Reasons[/]")
        for r in d["reasons"]:
            console.print(f"  - {r['message']}", markup=False)
    if d["warnings"]:
        console.print("\n[bold yellow]Warnings[/]")
        for w in d["warnings"]:
            console.print(f"  - {w}", markup=False)


def evaluation_summary(rows: Sequence[Shown]) -> None:
    console = _console(False)
    cells = [_summary_cells(s) for s in rows]
    # Lower-priority columns go until the table fits with Reasons at least REASONS_MIN
    # wide; never the verdict or the reasons. Only Reasons wraps, so the width of the
    # others is exact: each takes its widest cell, plus padding and a border (3).
    columns = list(SUMMARY_COLUMNS)
    for col in _DROP_ORDER:
        fixed = sum(max(len(c), *(len(_plain(row[c])) for row in cells)) + 3
                    for c in columns if c != "Reasons")
        if fixed + REASONS_MIN + 4 <= console.width:
            break
        columns.remove(col)
    console.print(_summary_table(cells, columns))
    left_out = [col for col in SUMMARY_COLUMNS if col not in columns]
    if left_out:
        console.print(f"({', '.join(left_out)} left out to fit {console.width} columns; "
                      "--format json or markdown has everything)", markup=False)
    ready = sum(1 for s in rows if s.ready)
    console.print(f"{ready} of {len(rows)} ready")


SUMMARY_COLUMNS = ("Candidate", "Program", "Target level", "Verdict", "Composite",
                   "Threshold", "Reasons")
# Left out in this order when the terminal is too narrow.
_DROP_ORDER = ("Program", "Threshold", "Target level", "Composite")


def _summary_cells(s: Shown) -> dict[str, str]:
    m = s.summary
    colour = "green" if s.ready else "red"
    return {"Candidate": _e(m["name"]), "Program": _e(m["program"]),
            "Target level": _e(m["level"]), "Verdict": f"[{colour}]{m['verdict']}[/]",
            "Composite": m["composite"], "Threshold": m["threshold"],
            "Reasons": _e("\n".join(m["reasons"]) or "-")}


def _plain(cell: str) -> str:
    return cell.split("]", 1)[1].rsplit("[", 1)[0] if cell.startswith("[") else cell


def _summary_table(cells: Sequence[dict[str, str]], columns: Sequence[str]) -> Table:
    from rich.table import Table

    table = Table(title="Evaluation summary", title_justify="left")
    for col in columns:
        if col == "Reasons":
            table.add_column(col, min_width=REASONS_MIN, overflow="fold")
        else:
            table.add_column(col, no_wrap=True)
    for row in cells:
        table.add_row(*(row[col] for col in columns))
    return table


def due_table(items: Sequence[DueItem]) -> None:
    """What is due, one row each; only the detail wraps, so the dates and names line up
    at any width."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    if not items:
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("Due", no_wrap=True)
    table.add_column("", no_wrap=True)
    table.add_column("Person", overflow="fold")
    table.add_column("Kind", no_wrap=True)
    table.add_column("What", overflow="fold", min_width=20)
    for i in items:
        flag = Text("OVERDUE", style="red bold") if i.overdue else Text("due")
        table.add_row(i.due.isoformat(), flag, Text(i.name), i.kind, Text(i.detail))
    _console(False).print(table)
