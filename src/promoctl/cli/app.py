"""The command line's ``app`` and what its commands share: options, dates, the root."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from promoctl import __version__
from promoctl.base.errors import quote, shown

app = typer.Typer(
    name="promoctl",
    help="Evidence-based, consistent and auditable promotion decisions from YAML records.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=True,
)

RepoOption = Annotated[
    Path | None,
    typer.Option("--repo", help="The promotion repository (default: found from the "
                 "current folder upwards, by its promoctl.yaml).", envvar="PROMOCTL_REPO",
                 show_default=False),
]


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    from promoctl.base.limits import MAX_DATE, MIN_DATE

    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{shown(quote(value))} is not a date as YYYY-MM-DD") \
            from None
    if not MIN_DATE <= parsed <= MAX_DATE:
        raise typer.BadParameter(f"{value} is out of range: dates are from {MIN_DATE} to "
                                 f"{MAX_DATE}")
    return parsed


AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", metavar="YYYY-MM-DD",
                 help="Evaluate as on this date (default: each packet's submission date)."),
]


class ProblemFormat(StrEnum):
    text = "text"
    json = "json"


class ReportFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"


def _version(value: bool) -> None:
    if value:
        print(f"promoctl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """promoctl keeps promotion records honest: validate, evaluate, decide, audit."""


def _warn_if_future(option: str, when: date | None) -> None:
    """Records are of what happened: a date after today is usually a typo, though
    a panel may be recorded ahead of a known date."""
    from promoctl.cli import output

    if when is not None and when > date.today():
        output.err.print(f"warning: {option} {when} is after today ({date.today()}); the "
                         "record counts from that date", markup=False)


def workspace_root(repo: Path | None, hint: Path) -> Path:
    from promoctl.base import repofiles

    return repofiles.root_for(repo, hint)
