"""Governance figures from the records: a pure function of a loaded repository and a period.

No I/O, no clock. Every figure reads what the records already hold (decisions carry their
evaluation snapshot), so nothing is evaluated and a record is parsed at most once: by the
loader, or on first read when validate's cache let the loader skip it.

The figures are computed by family (``approvals``, ``progression``, ``observations``,
``retention``, ``calibration``) from what ``govrecords`` works out once, and suppressed by
the rules of ``disclosure``. This module builds the report and writes its formats. Rows
name groups (programs, ladders, levels, periods) and pseudonymous codes (panels, raters),
never a person; the codes' key stays in ``Report.key``, which no report format includes.
"""

from __future__ import annotations

import gc
import io
from datetime import date
from typing import Any

from promoctl.base.escape import CsvWriter
from promoctl.records.loader import Repository
from promoctl.reports import approvals, calibration, observations, progression, retention
from promoctl.reports.disclosure import MIN_GROUP_FLOOR, suppress
from promoctl.reports.disclosure import privacy_note as privacy_note
from promoctl.reports.figures import COUNT, RATE, Chart, Column, Figure, Options, P, Report, Row
from promoctl.reports.figures import DIMENSIONS as DIMENSIONS
from promoctl.reports.figures import add_months as add_months
from promoctl.reports.govrecords import Records

__all__ = ["DIMENSIONS", "RATE", "Chart", "Column", "Figure", "Options", "Report", "Row",
           "add_months", "privacy_note"]

JSON_FORMAT = 1


def build(repo: Repository, options: Options) -> Report:
    """Every figure for the period, suppressed for privacy."""
    if options.min_group < MIN_GROUP_FLOOR:
        raise ValueError(f"min_group must be at least {MIN_GROUP_FLOOR}")
    # The figures allocate many small objects next to a large loaded repository: the
    # cyclic collector would rescan that heap again and again (most of the run time at
    # 10,000 decisions), and nothing built here is cyclic garbage.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _build(repo, options)
    finally:
        if collecting:
            gc.enable()


def _build(repo: Repository, options: Options) -> Report:
    rec = Records(repo, options)
    seen = rec.observations()
    figures = [*(approvals.approval(rec, dim) for dim in options.by),
               approvals.approval_trend(rec), progression.time_to_progression(rec),
               approvals.overrides(rec, "panel"), approvals.overrides(rec, "program"),
               *observations.observed(rec, seen), observations.incidents(rec, seen),
               retention.retention(rec), retention.revalidation(rec)]
    rater_figure, rater_key = calibration.calibration(rec)
    figures.append(rater_figure)
    for figure in figures:
        suppress(figure, options.min_group)
    key = {code: identity for identity, code in rec.panel_codes.items()} | rater_key
    return Report(options, figures, key)


# ------------------------------------------------------------------------------- output


def to_cache(report: Report) -> dict[str, Any]:
    """Everything the report's formats and its key render from, as JSON (no person in
    it but the key's, which the report cache holds beside the repository's records).
    ``from_cache`` gives back an equal ``Report``: rows are suppressed and hold no people."""
    o = report.options
    return {
        "options": {"start": o.start.isoformat(), "end": o.end.isoformat(), "by": list(o.by),
                    "min_group": o.min_group, "interval": o.interval,
                    "unaligned": o.unaligned,
                    "recorded_on": o.recorded_on.isoformat() if o.recorded_on else None},
        "figures": [{
            "id": f.id, "title": f.title, "description": f.description,
            "group_by": f.group_by,
            "columns": [[c.key, c.label, c.kind] for c in f.columns],
            "rows": [{"group": r.group, "n": r.n, "values": r.values, "series": r.series,
                      "flag": r.flag, "total": r.total, "suppressed": r.suppressed}
                     for r in f.rows],
            "chart": {"kind": f.chart.kind, "value": list(f.chart.value),
                      "label": f.chart.label, "percent": f.chart.percent},
            "notes": list(f.notes), "partition": f.partition, "series_by": f.series_by,
        } for f in report.figures],
        "key": dict(report.key),
    }


def from_cache(data: Any) -> Report:
    o = data["options"]
    options = Options(date.fromisoformat(o["start"]), date.fromisoformat(o["end"]),
                      tuple(o["by"]), int(o["min_group"]), str(o["interval"]),
                      bool(o["unaligned"]),
                      date.fromisoformat(o["recorded_on"]) if o["recorded_on"] else None)
    figures = []
    for f in data["figures"]:
        chart = f["chart"]
        figures.append(Figure(
            f["id"], f["title"], f["description"], f["group_by"],
            [Column(key, label, kind) for key, label, kind in f["columns"]],
            [Row(r["group"], r["n"], dict(r["values"]), set(), series=r["series"],
                 flag=r["flag"], total=r["total"], suppressed=r["suppressed"])
             for r in f["rows"]],
            Chart(chart["kind"], tuple(chart["value"]), chart["label"], chart["percent"]),
            list(f["notes"]), partition=f["partition"], series_by=f["series_by"]))
    return Report(options, figures, {str(k): str(v) for k, v in data["key"].items()})




def _json_value(value: Any, kind: str) -> Any:
    if value is None or kind in (COUNT, "text"):
        return value
    if kind == P:
        return float(f"{value:.4g}")
    return round(value, 4 if kind == RATE else 2)


def as_json(report: Report) -> dict[str, Any]:
    o = report.options
    return {
        "format": JSON_FORMAT,
        "period": {"from": o.start.isoformat(), "to": o.end.isoformat()},
        "min_group": o.min_group,
        "interval": o.interval,
        "as_recorded_on": o.recorded_on.isoformat() if o.recorded_on else None,
        "privacy": privacy_note(o),
        "figures": [{
            "id": f.id, "title": f.title, "description": f.description,
            "group_by": f.group_by,
            "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in f.columns],
            "rows": [{"group": r.group, "series": r.series, "total": r.total,
                      "suppressed": r.suppressed, "n": r.n,
                      "values": {c.key: _json_value(r.values.get(c.key), c.kind)
                                 for c in f.columns},
                      "flag": r.flag} for r in f.rows],
            "notes": list(f.notes),
        } for f in report.figures],
    }


CSV_HEADER = ("figure", "group_by", "group", "series", "total", "n", "measure", "value", "flag",
              "suppressed")


def to_csv(report: Report) -> str:
    """One line per figure, row and measure ("long" form, for pivot tables)."""
    buffer = io.StringIO()
    writer = CsvWriter(buffer)
    writer.writerow(CSV_HEADER)
    for f in report.figures:
        for r in f.rows:
            head = [f.id, f.group_by, r.group, r.series or "", str(r.total).lower()]
            if r.suppressed:
                writer.writerow([*head, "", "", "", "", "true"])
                continue
            for c in f.columns:
                value = _json_value(r.values.get(c.key), c.kind)
                writer.writerow([*head, r.n, c.key, "" if value is None else value,
                                 r.flag or "", "false"])
    return buffer.getvalue()


def display(value: Any, kind: str) -> str:
    if value is None:
        return "-"
    if kind == RATE:
        return f"{value * 100:.1f}%"
    if kind == P:
        return "<0.001" if value < 0.001 else f"{value:.3f}"
    if kind == "days":
        return f"{value:.0f}"
    if kind == "delta":
        return f"{value:+.2f}"
    if kind in ("score", "number"):
        return f"{value:.2f}"
    return str(value)


def table(figure: Figure) -> tuple[list[str], list[list[str]]]:
    """The figure as text cells: what the terminal and the HTML tables show."""
    series = any(r.series is not None for r in figure.rows)
    header = [figure.group_by, *([figure.series_by] if series else []), "n",
              *(c.label for c in figure.columns), "flag"]
    rows = []
    for r in figure.rows:
        lead = [r.group, *([r.series or ""] if series else [])]
        if r.suppressed:
            rows.append([*lead, "suppressed", *("" for _ in figure.columns), ""])
        else:
            rows.append([*lead, str(r.n), *(display(r.values.get(c.key), c.kind)
                                            for c in figure.columns), r.flag or ""])
    return header, rows


def alignment(figure: Figure) -> list[str]:
    """left or right for each column of ``table(figure)``: text left, numbers right."""
    series = any(r.series is not None for r in figure.rows)
    return ["left"] * (1 + series) + ["right"] + [
        "left" if c.kind == "text" else "right" for c in figure.columns] + ["left"]


def key_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = CsvWriter(buffer)
    writer.writerow(("code", "identity"))
    for code in sorted(report.key, key=lambda c: (c.rstrip("0123456789"),
                                                  int(c[len(c.rstrip("0123456789")):] or 0))):
        writer.writerow((code, report.key[code]))
    return buffer.getvalue()
