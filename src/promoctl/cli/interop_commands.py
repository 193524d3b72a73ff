"""Commands for import and export (LMS, Moodle, CASE, xAPI)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from promoctl.base.errors import ExitCode
from promoctl.cli.app import RepoOption, _parse_date, app, workspace_root

if TYPE_CHECKING:
    from promoctl.interop.evidence import Options, Report
    from promoctl.interop.framework_file import Written

import_app = typer.Typer(help="Bring frameworks (Moodle CSV, CASE) and LMS evidence (CSV, "
                         "xAPI) into the repository.", no_args_is_help=True)
export_app = typer.Typer(help="Write a framework as Moodle's CSV or a 1EdTech CASE package.",
                         no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")

InFile = Annotated[Path, typer.Argument(help="The file to import.", show_default=False)]
FrameworkRef = Annotated[str, typer.Argument(help="The framework: its id, or its file.",
                                             show_default=False)]
Out = Annotated[Path | None, typer.Option(
    "--out", help="Write here (imports: default frameworks/ID.yaml in the repository; "
    "exports: default standard output).")]
Force = Annotated[bool, typer.Option("--force", help="Replace the file if it exists.")]
Version = Annotated[str, typer.Option("--framework-version", help="The framework's version "
                                      "when the file has none.")]
MapOption = Annotated[str | None, typer.Option(
    "--map", metavar="MAPPING", help="The LMS mapping: its file or id (default: the "
    "repository's only one).")]
DraftOption = Annotated[bool, typer.Option(
    "--create-draft", help="Start a draft packet for a person who has no open packet "
    "(target: the next level of their ladder).")]
SubmittedOption = Annotated[str | None, typer.Option(
    "--submitted", metavar="YYYY-MM-DD", help="A draft packet's submission date (default: "
    "today).")]
CycleOption = Annotated[str | None, typer.Option(
    "--cycle", help="Only packets of this cycle; a draft packet's cycle.")]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Report what would be "
                                            "imported; write nothing.")]


def _say(line: str) -> None:
    # Plain lines (no wrapping at the terminal's width), so they can be grepped.
    sys.stderr.write(line + "\n")


def _wrote(written: Written) -> int:
    from promoctl.interop.framework_file import depth

    for warning in written.warnings:
        _say(f"warning: {warning}")
    fw = written.framework
    _say(f"wrote {written.path}: framework {fw.id!r}, "
         f"{len(fw.competencies)} competencies, {depth(fw)} levels deep, scale "
         f"{', '.join(s.label for s in fw.scale)}")
    return ExitCode.OK


@import_app.command("moodle-framework")
def import_moodle_framework(file: InFile, out: Out = None, force: Force = False,
                            version: Version = "1", repo: RepoOption = None) -> int:
    """A competency framework exported from Moodle (Site administration > Competencies >
    Export competency framework) as a framework record."""
    from promoctl.interop import api

    return _wrote(api.import_moodle(file, out=out, repo=repo, force=force, version=version))


@import_app.command("case")
def import_case(
    file: InFile, out: Out = None, force: Force = False, version: Version = "1",
    framework_id: Annotated[str | None, typer.Option(
        "--id", help="The framework's id (default: from the CASE document's title).")] = None,
    repo: RepoOption = None,
) -> int:
    """A 1EdTech CASE package (CFPackage JSON) as a framework record."""
    from promoctl.interop import api

    return _wrote(api.import_case(file, out=out, repo=repo, force=force, version=version,
                                  framework_id=framework_id))


def _emit(text: str, warnings: list[str], out: Path | None, force: bool) -> int:
    from promoctl.interop.common import write_record

    for warning in warnings:
        _say(f"warning: {warning}")
    if out is None:
        sys.stdout.write(text)
    else:
        write_record(out, text.encode("utf-8"), force=force)
        _say(f"wrote {out}")
    return ExitCode.OK


@export_app.command("moodle-framework")
def export_moodle_framework(framework: FrameworkRef, out: Out = None, force: Force = False,
                            repo: RepoOption = None) -> int:
    """A framework as Moodle's competency framework CSV, for Moodle's import tool."""
    from promoctl.interop import api

    return _emit(*api.export_moodle(framework, repo), out, force)


@export_app.command("case")
def export_case(
    framework: FrameworkRef, out: Out = None, force: Force = False,
    base_uri: Annotated[str | None, typer.Option(
        "--base-uri", help="Prefix of the uri of each node (default: urn:uuid:ID).")] = None,
    creator: Annotated[str | None, typer.Option(
        "--creator", help="CFDocument creator (default: the repository's name).")] = None,
    when: Annotated[str | None, typer.Option(
        "--date", metavar="DATETIME", help="lastChangeDateTime (default: now, UTC).")] = None,
    repo: RepoOption = None,
) -> int:
    """A framework as a 1EdTech CASE 1.0 package (CFDocument, CFItems, CFAssociations)."""
    from promoctl.interop import api

    return _emit(*api.export_case(framework, repo, creator=creator, when=when,
                                  base_uri=base_uri), out, force)


def _where(wheres: list[str]) -> str:
    shown = ", ".join(wheres[:8])
    return shown + (f" and {len(wheres) - 8} more" if len(wheres) > 8 else "")


def _report(report: Report, dry_run: bool) -> int:
    batch = report.batch
    packets = sorted({p for p, _i, _w in report.imported})
    for packet in packets:
        items = [f"{i} ({w})" for p, i, w in report.imported if p == packet]
        created = " (new draft)" if packet in report.created else ""
        sys.stdout.write(f"{packet}{created}: + {', '.join(items)}\n")
    for warning in batch.warnings:
        _say(f"warning: {warning}")
    for reason, wheres in batch.ignored.items():
        _say(f"ignored {len(wheres)}: {reason}: {_where(wheres)}")
    for reason, wheres in batch.skipped.items():
        _say(f"skipped {len(wheres)}: {reason}: {_where(wheres)}")
    skipped = sum(len(w) for w in batch.skipped.values())
    ignored = sum(len(w) for w in batch.ignored.values())
    verb = "would import" if dry_run else "imported"
    _say(f"{verb} {len(report.imported)} item(s) into {len(packets)} packet(s) "
         f"with mapping {report.mapping}; {len(report.already)} already there, "
         f"{ignored} ignored, {skipped} skipped"
         + ("; dry run: nothing written" if dry_run else ""))
    return ExitCode.NOT_READY if skipped else ExitCode.OK


def _options(create_draft: bool, submitted: str | None, cycle: str | None,
             dry_run: bool) -> Options:
    from promoctl.interop.evidence import Options

    return Options(create_draft=create_draft, submitted=_parse_date(submitted), cycle=cycle,
                   dry_run=dry_run)


@import_app.command("lms-csv")
def import_lms_csv(
    file: InFile, mapping: MapOption = None, create_draft: DraftOption = False,
    submitted: SubmittedOption = None, cycle: CycleOption = None,
    dry_run: DryRunOption = False, repo: RepoOption = None,
) -> int:
    """Course completions and grades from an LMS CSV export, as lms_milestone evidence in
    the people's packets. Exit 1 when rows were skipped (each is listed)."""
    from promoctl.interop import api

    options = _options(create_draft, submitted, cycle, dry_run)
    root = workspace_root(repo, _hint(mapping))
    return _report(api.import_lms_csv(root, file, mapping, options), dry_run)


@import_app.command("xapi")
def import_xapi(
    files: Annotated[list[Path], typer.Argument(
        help="Files of statements, or folders of them (their *.json files).",
        show_default=False)],
    mapping: MapOption = None, create_draft: DraftOption = False,
    submitted: SubmittedOption = None, cycle: CycleOption = None,
    dry_run: DryRunOption = False, repo: RepoOption = None,
) -> int:
    """xAPI statements (completed, passed, failed, satisfied, scored, achieved, mastered;
    voided followed) as lms_milestone evidence in the people's packets, one item per
    statement. Exit 1 when statements were skipped (each is listed)."""
    from promoctl.interop import api

    options = _options(create_draft, submitted, cycle, dry_run)
    root = workspace_root(repo, _hint(mapping))
    return _report(api.import_xapi(root, files, mapping, options), dry_run)


def _hint(mapping: str | None) -> Path:
    return Path(mapping) if mapping is not None and Path(mapping).exists() else Path.cwd()
