"""The governance report as one self-contained HTML page: a chart per figure, tables beneath.

Charts are drawn by matplotlib (imported here only, so no other command pays for it)
as SVG written inline into the page: no script, no font or image files, nothing
fetched. Text stays text (``svg.fonttype: none``), so it is searchable and scales with
the page. Output is deterministic: no date or creator metadata, and every id in a chart
is prefixed with the figure's id so several charts can share one page.
"""

from __future__ import annotations

import io
import math
import re
from pathlib import Path
from typing import Any

from promoctl.reports import render
from promoctl.reports.report import (
    RATE,
    Figure,
    Report,
    Row,
    alignment,
    display,
    privacy_note,
    table,
)

BLUE, RED, GREY = "#3b6ea5", "#c0392b", "#777777"
SERIES = ("#3b6ea5", "#e08a2c", "#4f9d69", "#8e5ea2", "#c0392b", "#7f7f7f")
STACK = {"sustained": "#4f9d69", "drift": "#e08a2c", "lapsed": "#c0392b"}
RC: Any = {  # matplotlib types its keys as literals; these are checked at run time
    "svg.fonttype": "none",
    "svg.hashsalt": "promoctl",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "legend.frameon": False,
}
MAX_BARS, MAX_TICKS = 25, 12
# Value labels on a white ground: readable where they cross a reference line.
LABEL_BOX = {"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"}
NO_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}
_IDS = re.compile(r'(\bid="|url\(#|xlink:href="#)([^")]+)')


def _label(text: str) -> str:
    # A '$' in a program's name would otherwise start matplotlib's mathtext.
    return text.replace("$", r"\$")


def _shown(figure: Figure) -> list[Row]:
    return [r for r in figure.rows if not r.suppressed and not r.total]


def charted(figure: Figure) -> list[Row]:
    """The rows a bar chart draws: all of them up to MAX_BARS, else the flagged ones and
    then the largest, in table order (the table beneath lists every row)."""
    key = figure.chart.value[0]
    rows = [r for r in _shown(figure) if not math.isnan(_number(r, key))]
    if figure.chart.kind != "bar" or len(rows) <= MAX_BARS:
        return rows
    keep = set(map(id, sorted(rows, key=lambda r: (r.flag is None, -(r.n or 0)))[:MAX_BARS]))
    return [r for r in rows if id(r) in keep]


def _number(row: Row, key: str) -> float:
    value = row.values.get(key)
    return float(value) if isinstance(value, (int, float)) else math.nan


def _legend(ax: Any) -> None:
    """The legend in a row above the plot, where it cannot cover a bar, point or label."""
    handles, _labels = ax.get_legend_handles_labels()
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.02), ncol=min(len(handles), 4),
              fontsize=8, borderaxespad=0)


def _bars(ax: Any, figure: Figure) -> bool:
    rows = charted(figure)
    if not rows:
        return False
    key, scale = figure.chart.value[0], 100.0 if figure.chart.percent else 1.0
    series = list(dict.fromkeys(r.series for r in rows if r.series is not None))
    groups = list(dict.fromkeys(r.group for r in rows))
    height = 0.8 / max(len(series), 1)
    labelled: set[str] = set()
    for r in rows:
        y: float = groups.index(r.group)
        value = _number(r, key) * scale
        colour, label = (RED if r.flag else BLUE), None
        if r.series is not None:
            y += series.index(r.series) * height
            colour = SERIES[series.index(r.series) % len(SERIES)]
            label = None if r.series in labelled else _label(r.series)
            labelled.add(r.series)
        ax.barh(y, value, height=height * 0.9, color=colour, label=label)
        text = display(r.values.get(key), figure.columns[[c.key for c in figure.columns]
                                                          .index(key)].kind)
        flag = f", {r.flag}" if r.flag else ""
        # Beyond the bar's end, on its own side of zero, so a label never sits on a bar.
        ax.annotate(_label(f"{text} (n={r.n}{flag})"), (value, y),
                    xytext=(3 if value >= 0 else -3, 0), textcoords="offset points",
                    va="center", ha="left" if value >= 0 else "right", bbox=LABEL_BOX)
    offset = (len(series) - 1) * height / 2 if series else 0
    ax.set_yticks([i + offset for i in range(len(groups))], [_label(g) for g in groups])
    ax.invert_yaxis()
    ax.axvline(0, color=GREY, linewidth=0.8)
    total = next((r for r in figure.rows if r.total and not r.suppressed), None)
    if total is not None and not math.isnan(_number(total, key)):
        ax.axvline(_number(total, key) * scale, color=GREY, linestyle="--", linewidth=1,
                   label="all")
    if series or total is not None:
        _legend(ax)
    ax.set_xlabel(figure.chart.label + (" (%)" if figure.chart.percent else ""))
    values = [_number(r, key) * scale for r in rows]
    low, high = min(0.0, *values), max(0.0, *values)
    # Room for the value labels beside the bars.
    ax.set_xlim(low - 0.4 * (high - low) * (low < 0), high + 0.4 * (high - low or 1))
    if figure.chart.percent:
        ax.set_xticks(range(0, 101, 20))
    return True


def _lines(ax: Any, figure: Figure) -> bool:
    key, scale = figure.chart.value[0], 100.0 if figure.chart.percent else 1.0
    times = sorted({r.group for r in figure.rows if not r.total})
    series = list(dict.fromkeys(r.series or "" for r in figure.rows if not r.total))
    drawn = False
    for i, name in enumerate(series):
        points = {r.group: r for r in _shown(figure) if (r.series or "") == name}
        ys = [_number(points[t], key) * scale if t in points else math.nan for t in times]
        if all(math.isnan(y) for y in ys):
            continue
        drawn = True
        ax.plot(range(len(times)), ys, marker="o", color=SERIES[i % len(SERIES)],
                label=_label(name) if name else None)
        for x, t in enumerate(times):
            if t in points and not math.isnan(ys[x]):
                ax.annotate(f"n={points[t].n}", (x, ys[x]), xytext=(0, 6),
                            textcoords="offset points", ha="center", fontsize=7)
    if not drawn:
        return False
    step = math.ceil(len(times) / MAX_TICKS)  # a label on every step-th period
    ax.set_xticks(range(0, len(times), step), [_label(t) for t in times[::step]],
                  rotation=45 if step > 1 else 0, ha="right" if step > 1 else "center")
    ax.set_ylabel(figure.chart.label + (" (%)" if figure.chart.percent else ""))
    # From zero, so a small change does not look like a large one.
    ax.set_ylim(0, 108 if figure.chart.percent else None)
    if any(series):
        _legend(ax)
    return True


def _boxes(ax: Any, figure: Figure) -> bool:
    """A box (Q1 to Q3) with whiskers (P10 to P90) where the row may show them, else its
    median alone as a dot: a box or whisker is drawn only from quantiles disclosure
    allows."""
    p10, q1, median, q3, p90 = figure.chart.value
    rows = [r for r in _shown(figure) if not math.isnan(_number(r, median))]
    if not rows:
        return False
    boxes, dots = [], []
    for x, r in enumerate(rows, 1):
        low, high = _number(r, q1), _number(r, q3)
        if math.isnan(low) or math.isnan(high):
            dots.append((x, _number(r, median)))
            continue
        whislo, whishi = _number(r, p10), _number(r, p90)
        boxes.append((x, {"med": _number(r, median), "q1": low, "q3": high,
                          "whislo": low if math.isnan(whislo) else whislo,
                          "whishi": high if math.isnan(whishi) else whishi}))
    for x, stat in boxes:  # caps only where there are whiskers
        ax.bxp([stat], positions=[x], showfliers=False, patch_artist=True,
               showcaps=stat["whislo"] < stat["q1"] or stat["whishi"] > stat["q3"],
               boxprops={"facecolor": "#dbe6f1", "edgecolor": BLUE},
               medianprops={"color": RED, "linewidth": 2})
    if dots:
        ax.plot([x for x, _y in dots], [y for _x, y in dots], "o", color=RED,
                label="median only (too few people for quartiles)")
        _legend(ax)
    ax.set_xticks(range(1, len(rows) + 1), [_label(f"{r.group}\n(n={r.n})") for r in rows])
    ax.set_xlim(0.4, len(rows) + 0.6)
    ax.set_ylabel(figure.chart.label)
    return True


def _stacked(ax: Any, figure: Figure) -> bool:
    rows = [r for r in _shown(figure) if r.n]
    if not rows:
        return False
    left = [0.0] * len(rows)
    for key in figure.chart.value:
        widths = [_number(r, key) for r in rows]
        ax.barh(range(len(rows)), widths, left=left, color=STACK.get(key, GREY), label=key)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    for y, r in enumerate(rows):
        ax.annotate(f"n={r.n}", (left[y], y), xytext=(3, 0), textcoords="offset points",
                    va="center", bbox=LABEL_BOX)
    ax.set_yticks(range(len(rows)), [_label(r.group) for r in rows])
    ax.invert_yaxis()
    ax.set_xlim(0, max(left) * 1.25)
    ax.set_xlabel(figure.chart.label)
    _legend(ax)
    return True


DRAW = {"bar": _bars, "line": _lines, "box": _boxes, "stacked": _stacked}


def draw(figure: Figure) -> Any:
    """The figure's chart as a laid-out matplotlib figure, or None when nothing can be
    drawn."""
    import matplotlib
    from matplotlib.figure import Figure as Canvas

    with matplotlib.rc_context(RC):
        bars = len(charted(figure)) or 1
        tall = figure.chart.kind in ("bar", "stacked")
        # A legend above the plot takes a line of its own.
        fig = Canvas(figsize=(7.5, max(2.1, 1.2 + 0.3 * bars) if tall else 3.2))
        ax = fig.add_subplot()
        if not DRAW[figure.chart.kind](ax, figure):
            return None
        fig.tight_layout()
    return fig


def chart_svg(figure: Figure) -> str | None:
    """The figure's chart as an inline SVG element, or None when nothing can be drawn."""
    import matplotlib

    fig = draw(figure)
    if fig is None:
        return None
    with matplotlib.rc_context(RC):
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata=NO_METADATA)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    # Inline SVG needs no namespace declarations (the HTML parser knows SVG), and without
    # them the page holds no URL at all.
    svg = re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", svg)
    return _IDS.sub(lambda m: f"{m.group(1)}{figure.id}-{m.group(2)}", svg)


def context(report: Report, organisation: str) -> dict[str, Any]:
    from markupsafe import Markup

    o = report.options
    figures = []
    for f in report.figures:
        svg = chart_svg(f)
        header, cells = table(f)
        align = alignment(f)
        figures.append({
            "id": f.id, "title": f.title, "description": f.description, "notes": f.notes,
            # matplotlib escapes the text it writes into the SVG (<, >, & and quotes)
            "chart": Markup(svg) if svg else None,
            "header": list(zip(header, align, strict=True)),
            "align": align,
            "rows": [{"cells": c, "total": r.total, "suppressed": r.suppressed,
                      "flagged": bool(r.flag)} for c, r in zip(cells, f.rows, strict=True)],
            "suppressed": sum(r.suppressed for r in f.rows),
            "charted": len(charted(f)) if svg else 0,
            "shown": len(_shown(f)),
            "rates": any(c.kind == RATE for c in f.columns),
        })
    return {"organisation": organisation, "start": o.start.isoformat(),
            "end": o.end.isoformat(), "min_group": o.min_group, "interval": o.interval,
            "privacy": privacy_note(o), "figures": figures}


def render_page(root: Path | None, report: Report, organisation: str) -> str:
    """The page, from the ``dashboard.html`` template (a repository may override it)."""
    return render.render(root, "dashboard", "html", context(report, organisation))
