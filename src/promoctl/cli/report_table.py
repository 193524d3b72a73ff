"""The governance report as terminal tables that fit the console's width.

A table wider than the console would be cut at its right edge, flag column first. So each
table keeps its group, series, n and flag columns and, while it does not fit, leaves out
value columns in ``DROP_ORDER`` (then from the right), and says under it which ones went.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from promoctl.reports.figures import Figure
    from promoctl.reports.report import Report

# Value columns a narrow terminal loses first: detail beside a figure's main measure
# (tests behind a flag, which stays; outer quantiles; breakdowns and denominators).
DROP_ORDER = ("p", "rest_rate", "p10", "p90", "q1", "q3", "held_back_ready",
              "approved_not_ready", "compared", "judged", "scored", "assessed", "headcount",
              "lapsed_now", "type")
# A word in a text cell (group, series, flag) longer than this folds.
TEXT_WIDTH = 16
# Each column's padding (one space either side) and the border to its left; one more
# border closes the table.
COLUMN_FRAME = 3


def _needed(header: str, cells: list[str], text: bool) -> int:
    """The narrowest a column can be with no cell cut: numbers whole, words whole (text
    wraps at its spaces, and folds a word longer than ``TEXT_WIDTH``)."""
    words = max([len(word) for cell in [header, *cells] for word in cell.split()] or [1])
    return min(words, TEXT_WIDTH) if text else max([words, *(len(c) for c in cells)])


def fitted(figure: Figure, width: int, header: list[str], rows: list[list[str]],
           align: list[str]) -> tuple[dict[int, int], list[str]]:
    """The columns of the figure's table (``report.table`` and ``report.alignment``) that
    fit ``width``, each index with the width to give it, and the labels of those left out."""
    needed = [_needed(name, [row[i] for row in rows], align[i] == "left")
              for i, name in enumerate(header)]
    lead = len(header) - len(figure.columns) - 1  # group, series, n
    keys = {lead + k: c.key for k, c in enumerate(figure.columns)}
    order = [i for key in DROP_ORDER for i, k in keys.items() if k == key]
    order += [i for i in sorted(keys, reverse=True) if i not in order]
    kept = list(range(len(header)))
    for index in order:
        if sum(needed[i] + COLUMN_FRAME for i in kept) + 1 <= width:
            break
        kept.remove(index)
    # From each column's natural width (its header on one line, its widest cell), the
    # widest columns give way first, none below what it needs.
    widths = {i: max([len(header[i]), *(len(row[i]) for row in rows)]) for i in kept}
    excess = sum(widths.values()) + COLUMN_FRAME * len(kept) + 1 - width
    while excess > 0:
        slack = [i for i in kept if widths[i] > needed[i]]
        if not slack:
            break
        widest = max(slack, key=lambda i: (widths[i], i))
        widths[widest] -= 1
        excess -= 1
    return widths, [header[i] for i in range(len(header)) if i not in kept]


def _table(figure: Figure, widths: dict[int, int], header: list[str], rows: list[list[str]],
           align: list[str]) -> Table:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"{figure.title} ({figure.id})", title_justify="left")
    for i, width in widths.items():
        # A fixed width, at least what the column needs: headers and text wrap at their
        # spaces, numbers and "suppressed" (in the n column) stay whole.
        table.add_column(header[i], justify="left" if align[i] == "left" else "right",
                         width=width, overflow="fold")
    for row in rows:
        table.add_row(*(Text(row[i]) for i in widths))
    return table


def print_tables(console: Console, r: Report) -> None:
    from promoctl.reports import report

    o = r.options
    console.print(f"Promotion governance report, {o.start} to {o.end}", markup=False)
    console.print(report.privacy_note(o), markup=False)
    for f in r.figures:
        header, rows = report.table(f)
        align = report.alignment(f)
        widths, left_out = fitted(f, console.width, header, rows, align)
        console.print()
        console.print(_table(f, widths, header, rows, align))
        if not f.rows:
            console.print("  no records in the period", markup=False)
        if left_out:
            console.print(f"  ({', '.join(left_out)} left out to fit {console.width} "
                          "columns; --format json, csv or html has every column)",
                          markup=False)
        for note in f.notes:
            console.print(f"  {note}", markup=False, soft_wrap=False)
