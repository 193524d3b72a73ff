"""``promoctl export changes``: the HR feed of level changes."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from promoctl.base.errors import ExitCode
from promoctl.cli.app import RepoOption, _parse_date, workspace_root
from promoctl.cli.interop_commands import export_app
from promoctl.cli.report_commands import _period, _write


@export_app.command("changes")
def export_changes(
    since: Annotated[str | None, typer.Option("--from", metavar="YYYY-MM-DD", help="First "
                                              "effective date (default: a year before "
                                              "--to).")] = None,
    until: Annotated[str | None, typer.Option("--to", metavar="YYYY-MM-DD", help="Last "
                                              "effective date (default: today).")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", metavar="YYYY-MM-DD", help="Read "
                                              "the records as they stood on this date: "
                                              "later decisions and reviews are left out, a "
                                              "lapse for want of a review counts once this "
                                              "date has passed it (default: today).")] = None,
    format: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
    out: Annotated[Path | None, typer.Option("--out", help="Write here (default: standard "
                                             "output).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace --out if it exists.")]
    = False,
    repo: RepoOption = None,
) -> int:
    """Level changes for payroll: promotions, lapses and reinstatements, one row each."""
    from promoctl.cli import output
    from promoctl.interop import changes
    from promoctl.records.repository import load_valid

    if format not in ("csv", "json"):
        raise typer.BadParameter("--format is csv or json")
    start, end = _period(since, until)
    root = workspace_root(repo, Path.cwd())
    with output.progress("loading") as bar:
        loaded = load_valid(root, packets=False, progress=bar)
    today = _parse_date(as_of) or date.today()
    rows = changes.changes(loaded, start, end, today)
    if format == "json":
        text = json.dumps({"format": 1, "from": start.isoformat(), "to": end.isoformat(),
                           "as_of": today.isoformat(),
                           "changes": [c.as_json() for c in rows]}, indent=2,
                          ensure_ascii=False) + "\n"
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(changes.COLUMNS)
        writer.writerows(c.as_row() for c in rows)
        text = buffer.getvalue()
    _write(text, out, force)
    return ExitCode.OK
