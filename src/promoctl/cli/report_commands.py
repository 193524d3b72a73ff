"""Commands for report and one-on-one."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from promoctl.base.errors import ExitCode
from promoctl.cli.app import RepoOption, _parse_date, app, workspace_root
from promoctl.reports.disclosure import MIN_GROUP_FLOOR

if TYPE_CHECKING:
    from promoctl.reports.report import Options, Report


class ReportFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    html = "html"


class Dimension(StrEnum):
    program = "program"
    ladder = "ladder"
    level = "level"
    panel = "panel"


class Interval(StrEnum):
    quarter = "quarter"
    month = "month"


class AgendaFormat(StrEnum):
    markdown = "markdown"
    html = "html"


Out = Annotated[Path | None, typer.Option("--out", help="Write to this file (default: "
                                          "standard output).")]
Force = Annotated[bool, typer.Option("--force", help="Replace --out (and --key) if it "
                                     "exists.")]


def _write(text: str, out: Path | None, force: bool) -> None:
    from promoctl.base.fsutil import write_atomic

    if out is None:
        sys.stdout.write(text)
        return
    write_atomic(out, text.encode(), overwrite=force)
    sys.stderr.write(f"wrote {out}\n")


def _period(start: str | None, end: str | None) -> tuple[date, date]:
    """Any period (an HR export's, which discloses nothing): --from to --to, by default
    the twelve months to today."""
    from promoctl.reports.figures import add_months

    last = _parse_date(end) or date.today()
    first = _parse_date(start) or add_months(last, -12) + timedelta(days=1)
    if first > last:
        raise typer.BadParameter(f"--from {first} is after --to {last}")
    return first, last


def _report_period(start: str | None, end: str | None, interval: str, unaligned: bool
                   ) -> tuple[date, date, bool]:
    """A report's period, by default the last calendar year, and whether it is outside
    the rules (refused unless ``unaligned``): an ended calendar year, quarter or month."""
    from promoctl.reports import disclosure, figures

    first, last = _parse_date(start), _parse_date(end)
    if first is None and last is None:
        return *disclosure.default_period(date.today(), interval), False
    if last is None:  # a year from --from
        assert first is not None
        last = figures.add_months(first, 12) - timedelta(days=1)
    if first is None:  # the year to --to
        first = figures.add_months(last + timedelta(days=1), -12)
    if first > last:
        raise typer.BadParameter(f"--from {first} is after --to {last}")
    problem = disclosure.period_problem(first, last, interval, date.today())
    if problem is not None:
        if not unaligned:
            raise typer.BadParameter(problem)
        risk = problem.removesuffix(" Give --allow-unaligned to accept that risk.")
        sys.stderr.write(f"warning: {risk}\n")
    return first, last, problem is not None


def _current(root: Path, options: Options) -> Report:
    """The report on the records as they stand, from the report cache when it can."""
    from promoctl.cli import output
    from promoctl.records.repository import load_valid
    from promoctl.reports import remembered

    # Nothing changed since the repository was last found valid: the cached figures.
    result = remembered.unchanged_report(root, options)
    if result is None:
        # With validate's cache warm, records are parsed only when a figure reads them.
        with output.progress("loading") as bar:
            loaded = load_valid(root, progress=bar)
        # Unchanged records and options: the figures come from the report cache.
        result = remembered.build_report(loaded, options)
    return result


@app.command("report")
def report_command(
    start: Annotated[str | None, typer.Option(
        "--from", metavar="YYYY-MM-DD", help="First day of the period: 1 January, or the "
        "first of a quarter or month (default: the year before --to, or 1 January of last "
        "year).")] = None,
    end: Annotated[str | None, typer.Option(
        "--to", metavar="YYYY-MM-DD", help="Last day of the period, before today: 31 "
        "December, or the last of the same quarter or month (default: a year after "
        "--from, or 31 December of last year).")] = None,
    by: Annotated[list[Dimension] | None, typer.Option(
        "--by", help="Group approval rates by program, ladder, level or panel (repeat for "
        "several; default: program).")] = None,
    format: Annotated[ReportFormat, typer.Option("--format", help="table, json, csv or "
                                                 "html (one self-contained page with "
                                                 "charts)")] = ReportFormat.table,
    interval: Annotated[Interval, typer.Option("--interval", help="Trend periods: quarter "
                                               "or month.")] = Interval.quarter,
    min_group: Annotated[int, typer.Option(
        "--min-group", help="Suppress groups covering fewer people than "
        f"this (at least {MIN_GROUP_FLOOR}).")] = 5,
    allow_unaligned: Annotated[bool, typer.Option(
        "--allow-unaligned", help="Accept a period that has not ended, or that is not "
        "one calendar year, one quarter or (with --interval month) one month, though "
        "reports can then be subtracted from each other.")] = False,
    as_recorded_on: Annotated[str | None, typer.Option(
        "--as-recorded-on", metavar="YYYY-MM-DD", help="Report on the records as they were "
        "committed in git on this day (default: as they stand now, corrections "
        "included).")] = None,
    out: Out = None,
    force: Force = False,
    key: Annotated[Path | None, typer.Option(
        "--key", help="Also write who the panel and rater codes are to this separate file "
        "(for whoever runs the calibration session; the report itself names no one).")]
    = None,
    repo: RepoOption = None,
) -> int:
    """Governance figures: approval rates with inconsistency flags, time to progression,
    overrides, audits, escalations, incidents, retention, re-validation, rater calibration."""
    from promoctl.base.fsutil import write_atomic
    from promoctl.cli import output, report_table
    from promoctl.reports import report

    if min_group < MIN_GROUP_FLOOR:
        raise typer.BadParameter(
            f"{min_group} is below the floor of {MIN_GROUP_FLOOR}: a row of fewer people "
            "shows one or two people's own figures", param_hint="--min-group")
    first, last, outside = _report_period(start, end, interval.value, allow_unaligned)
    recorded_on = _parse_date(as_recorded_on)
    dims = tuple(dict.fromkeys(d.value for d in by)) if by else ("program",)
    root = workspace_root(repo, Path.cwd())
    options = report.Options(first, last, dims, min_group, interval.value,
                             unaligned=outside, recorded_on=recorded_on)
    if recorded_on is not None:
        from promoctl.reports.recorded import load_checked, records_on

        with records_on(root, recorded_on) as (then, _commit):
            result = report.build(load_checked(then), options)
    else:
        result = _current(root, options)
    if format is ReportFormat.json:
        import json

        _write(json.dumps(report.as_json(result), indent=2, ensure_ascii=False) + "\n", out,
               force)
    elif format is ReportFormat.csv:
        _write(report.to_csv(result), out, force)
    elif format is ReportFormat.html:
        from promoctl.reports import dashboard
        from promoctl.reports.documents import organisation

        _write(dashboard.render_page(root, result, organisation(root)), out, force)
    elif out is None:
        report_table.print_tables(output.out, result)
    else:
        import io

        from rich.console import Console

        buffer = io.StringIO()
        report_table.print_tables(Console(file=buffer, width=120, highlight=False,
                                          color_system=None), result)
        _write(buffer.getvalue(), out, force)
    if key is not None:
        write_atomic(key, report.key_csv(result).encode(), overwrite=force)
        sys.stderr.write(f"wrote the key to the codes to {key}; keep it apart from the "
                         "report\n")
    return ExitCode.OK


@app.command("one-on-one")
def one_on_one(
    person: Annotated[str, typer.Argument(help="The person's id.")],
    as_of: Annotated[str | None, typer.Option(
        "--as-of", metavar="YYYY-MM-DD", help="The 1:1's date (default: today).")] = None,
    since: Annotated[str | None, typer.Option(
        "--since", metavar="YYYY-MM-DD", help="The last 1:1's date (default: 30 days before "
        "--as-of).")] = None,
    format: Annotated[AgendaFormat, typer.Option("--format", help="markdown or html")]
    = AgendaFormat.markdown,
    out: Out = None,
    force: Force = False,
    repo: RepoOption = None,
) -> int:
    """A 1:1 agenda: milestones since the last 1:1, scores, artifacts, gaps against the
    next level, open development-plan steps and the next review."""
    from promoctl.reports import agenda, render

    root = workspace_root(repo, Path.cwd())
    context = agenda.agenda_context(root, person, _parse_date(as_of) or date.today(),
                                    _parse_date(since))
    _write(render.render(root, "one_on_one", format.value, context), out, force)
    return ExitCode.OK
