"""The core commands: validate, evaluate, decide, render, panel, schema, init."""

from __future__ import annotations

import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from promoctl.base.errors import ExitCode, PromoctlError, capped, shown
from promoctl.cli.app import (
    AsOfOption,
    ProblemFormat,
    RepoOption,
    ReportFormat,
    _parse_date,
    _warn_if_future,
    app,
    workspace_root,
)


@app.command()
def validate(
    paths: Annotated[list[Path] | None, typer.Argument(
        help="Files or folders to report on (default: the whole repository).")] = None,
    format: Annotated[ProblemFormat, typer.Option("--format", help="text or json")]
    = ProblemFormat.text,
    jobs: Annotated[int | None, typer.Option(
        "--jobs", "-j", min=1, help="Processes that parse files (default: one per CPU when "
        "there are many files to parse; the result is the same).")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Fail (exit 3) on warnings too, "
                                         "for CI.")] = False,
    repo: RepoOption = None,
) -> int:
    """Check records: schema, cross-references, scores, artifacts. Lists every problem:
    errors (exit 3) and warnings (exit 0 unless --strict)."""
    from promoctl.base.errors import errors_only, summary
    from promoctl.cli import output
    from promoctl.records import validation

    paths = paths or []
    root = validation.root_for(repo, paths[0] if paths else Path.cwd())
    with output.progress("validating") as bar:
        problems = validation.validate(root, paths, bar, jobs=jobs)
    if format is ProblemFormat.json:
        output.print_json({"format": 1, "problems": [p.as_json() for p in capped(problems)]})
    else:
        output.print_problems(problems)
        sys.stderr.write(f"{summary(problems)}\n")  # as launch's answer from the memo does
    failing = problems if strict else errors_only(problems)
    return ExitCode.INVALID if failing else ExitCode.OK


@app.command()
def evaluate(
    packets: Annotated[list[Path] | None, typer.Argument(
        help="Packet files or folders of packets.", show_default=False)] = None,
    every: Annotated[bool, typer.Option("--all", help="Every packet in the repository.")]
    = False,
    as_of: AsOfOption = None,
    format: Annotated[ReportFormat, typer.Option("--format", help="table, json or markdown")]
    = ReportFormat.table,
    repo: RepoOption = None,
) -> int:
    """Readiness of packets: gates, training floor, rubric scores, composite, verdict."""
    from promoctl.base import repofiles
    from promoctl.cli import output
    from promoctl.engine import evaluation_view, evaluations

    if bool(packets) == every:
        raise typer.BadParameter("give packets or folders, or --all (not both)")
    when = _parse_date(as_of)
    root = repofiles.root_for(repo, packets[0] if packets else Path.cwd())
    packets = packets or [root]
    with output.progress("evaluating") as bar:
        outcomes, problems = evaluations.evaluate_packets(
            root, packets, when, bar, extras=format is not ReportFormat.json)
    if not outcomes:  # nothing to evaluate: refused, whatever else the records hold
        where = ", ".join(str(p) for p in packets) if not every else "the repository"
        raise PromoctlError(f"no packet records in {shown(where)}; give packet files "
                            "(kind: packet), folders of them, or --all")
    done = [o.shown for o in outcomes if o.shown is not None]
    blocked = [o for o in outcomes if o.shown is None]
    if format is ReportFormat.json:
        from promoctl.base.escape import json_text

        document = (when.isoformat() if when else None, done,
                    [{"path": shown(o.display), "problems": [p.as_json() for p in o.problems]}
                     for o in blocked],
                    [p.as_json() for p in capped(problems)])
        pieces = evaluation_view.json_output(*document)
        buffer = getattr(sys.stdout, "buffer", None)
        if pieces is not None and buffer is not None:  # the kept bytes: never decoded
            sys.stdout.flush()
            buffer.writelines(pieces)
        else:
            sys.stdout.write(json_text(evaluation_view.json_document(*document)) + "\n")
    else:
        if format is ReportFormat.markdown:
            if len(outcomes) == 1 and done:
                sys.stdout.write(evaluation_view.to_markdown(done[0]))
            elif done:
                sys.stdout.write(evaluation_view.summary_markdown(done))
        elif len(outcomes) == 1 and done:
            output.evaluation_report(done[0])
        elif done:
            output.evaluation_summary(done)
        listed = set(problems)
        output.print_problems([*problems, *(p for o in blocked for p in o.problems
                                            if p not in listed)], to_stderr=True)
        for o in blocked:
            sys.stderr.write(f"{shown(o.display)}: not evaluated: its records have problems "
                             "(listed above)\n")
    if problems or blocked:
        return ExitCode.INVALID
    return ExitCode.OK if all(s.ready for s in done) else ExitCode.NOT_READY


def _panel_member(value: str) -> tuple[str, str]:
    role, sep, name = value.partition("=")
    if not sep or not role.strip() or not name.strip():
        raise typer.BadParameter(f"{value!r}: give each member as ROLE=NAME, e.g. "
                                 "'hr=Priya Shah'")
    return role.strip(), name.strip()


class Outcome(StrEnum):
    approved = "approved"
    deferred = "deferred"
    declined = "declined"


@app.command()
def decide(
    packet: Annotated[Path, typer.Argument(help="The packet the panel decided on.")],
    outcome: Annotated[Outcome, typer.Option("--outcome", help="approved, deferred or "
                                             "declined")],
    reason: Annotated[list[str], typer.Option("--reason", help="A specific reason for the "
                                              "decision (repeat for several; required).")],
    panel: Annotated[list[str], typer.Option("--panel", metavar="ROLE=NAME", help="A panel "
                                             "member and their role (repeat for each).")],
    effective: Annotated[str | None, typer.Option(
        "--effective", metavar="YYYY-MM-DD",
        help="When an approval takes effect (default: the decision date).")] = None,
    override_reason: Annotated[str | None, typer.Option(
        "--override-reason", help="Required to approve a NOT READY packet or to defer or "
        "decline a READY one.")] = None,
    supersedes: Annotated[str | None, typer.Option(
        "--supersedes", metavar="DECISION_ID", help="Record a correction of this decision "
        "(which stays, marked superseded).")] = None,
    as_of: AsOfOption = None,
    decided_on: Annotated[str | None, typer.Option(
        "--date", metavar="YYYY-MM-DD", help="The panel's date (default: today).")] = None,
    commit: Annotated[bool, typer.Option("--commit/--no-commit", help="Commit the record "
                                         "(only that file) to git.")] = True,
    edit: Annotated[bool, typer.Option("--edit", help="Open the record in $EDITOR before it "
                                       "is written (reasons and plans may be edited).")]
    = False,
    repo: RepoOption = None,
) -> int:
    """Record a panel decision as an immutable YAML record, committed to git."""
    from promoctl.cli import output
    from promoctl.decisions import panel as decisions

    members = [_panel_member(p) for p in panel]
    root = workspace_root(repo, packet)
    _warn_if_future("--date", _parse_date(decided_on))
    request = decisions.Request(
        packet=packet, outcome=outcome.value, reasons=reason, panel=members,
        decided_on=_parse_date(decided_on) or date.today(), as_of=_parse_date(as_of),
        effective=_parse_date(effective), override_reason=override_reason,
        supersedes=supersedes)
    recorded = decisions.record(root, request, commit=commit,
                                edit=_edit_in_editor if edit else None,
                                notify=lambda note: output.err.print(note, markup=False))
    d = recorded.decision
    where = recorded.path.relative_to(root).as_posix()
    output.out.print(f"{d.outcome}: {d.evaluation['candidate']['name']} -> "
                     f"{d.target.level} (evaluated {d.evaluation['verdict']})", markup=False)
    if d.against_evaluation:
        output.out.print("override: the decision goes against the evaluation", markup=False)
    output.out.print(f"decision {d.id} written to {where}", markup=False)
    if recorded.commit:
        output.out.print(f"committed {recorded.commit[:12]}", markup=False)
    else:
        output.out.print("not committed (--no-commit)", markup=False)
    return ExitCode.OK


def _edit_in_editor(text: str) -> str:
    import os
    import shlex
    import subprocess
    import tempfile

    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.TemporaryDirectory() as tmp:
        draft = Path(tmp) / "decision.yaml"
        draft.write_text(text, encoding="utf-8")
        if subprocess.run([*shlex.split(editor), str(draft)], check=False).returncode != 0:
            raise PromoctlError("the editor exited with an error; nothing was recorded")
        return draft.read_text(encoding="utf-8")


class DocFormat(StrEnum):
    markdown = "markdown"
    html = "html"
    pdf = "pdf"


OutOption = Annotated[Path | None, typer.Option("--out", help="Write to this file (default: "
                                                "standard output).")]
ForceOption = Annotated[bool, typer.Option("--force", help="Replace --out if it exists.")]
render_app = typer.Typer(help="Render decision letters and plans from templates.",
                         no_args_is_help=True)
app.add_typer(render_app, name="render")


def _emit(root: Path, name: str, fmt: DocFormat, context: dict[str, object],
          out: Path | None, force: bool) -> None:
    from promoctl.base.fsutil import write_atomic
    from promoctl.reports import render

    text = render.render(root, name, "markdown" if fmt is DocFormat.markdown else "html",
                         context)
    if fmt is DocFormat.pdf:
        if out is None:
            raise typer.BadParameter("PDF output needs --out FILE")
        data = render.html_to_pdf(text)
    else:
        data = text.encode()
    if out is None:
        sys.stdout.write(text)
        return
    write_atomic(out, data, overwrite=force)
    sys.stderr.write(f"wrote {out}\n")


@render_app.command("letter")
def render_letter(
    decision: Annotated[str, typer.Argument(help="Decision id or the path of its file.")],
    format: Annotated[DocFormat, typer.Option("--format")] = DocFormat.markdown,
    out: OutOption = None,
    force: ForceOption = False,
    repo: RepoOption = None,
) -> int:
    """The decision letter: outcome, reasons, next steps or probation terms, the panel."""
    from promoctl.reports import documents

    root = workspace_root(repo, Path(decision) if Path(decision).exists() else Path.cwd())
    _emit(root, "letter", format, documents.decision_context(root, decision), out, force)
    return ExitCode.OK


@render_app.command("plan")
def render_plan(
    decision: Annotated[str, typer.Argument(help="Decision id or the path of its file.")],
    format: Annotated[DocFormat, typer.Option("--format")] = DocFormat.markdown,
    out: OutOption = None,
    force: ForceOption = False,
    repo: RepoOption = None,
) -> int:
    """The development plan (deferred, declined) or probation plan (approved)."""
    from promoctl.reports import documents

    root = workspace_root(repo, Path(decision) if Path(decision).exists() else Path.cwd())
    _emit(root, "plan", format, documents.decision_context(root, decision), out, force)
    return ExitCode.OK


@app.command()
def panel(
    packets: Annotated[list[Path] | None, typer.Argument(
        help="Packets or folders (default: the whole repository).")] = None,
    as_of: AsOfOption = None,
    format: Annotated[DocFormat, typer.Option("--format")] = DocFormat.markdown,
    out: OutOption = None,
    force: ForceOption = False,
    repo: RepoOption = None,
) -> int:
    """The panel pack: every pending packet (no decision yet) with its evaluation."""
    from promoctl.cli import output
    from promoctl.reports import documents

    paths = packets or []
    root = workspace_root(repo, paths[0] if paths else Path.cwd())
    with output.progress("loading") as bar:
        pack = documents.panel_context(root, paths, _parse_date(as_of), bar)
    _emit(root, "panel", format, pack.context, out, force)
    if pack.problems:
        files = len({p.path for p in pack.problems})
        sys.stderr.write(f"promoctl: {len(pack.problems)} problem(s) in {files} file(s); the "
                         "pack above leaves out the packets they block:\n")
        output.print_problems(pack.problems, to_stderr=True)
        return ExitCode.INVALID
    return ExitCode.OK


@app.command()
def schema(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the schemas into.")]
    = Path("schemas"),
    check: Annotated[bool, typer.Option("--check", help="Write nothing; exit 1 when the "
                                        "folder's schemas are missing or stale.")] = False,
) -> int:
    """Write the JSON Schema of every record kind (for editors and other tools)."""
    from promoctl.base.fsutil import write_atomic
    from promoctl.cli import output
    from promoctl.records.schema import schemas

    stale = []
    for name, text in schemas().items():
        target = out / name
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if current == text:
            continue
        stale.append(target)
        if not check:
            write_atomic(target, text.encode(), overwrite=True)
    for target in stale:
        output.err.print(f"{target}: {'stale' if check else 'written'}", markup=False)
    return ExitCode.NOT_READY if check and stale else ExitCode.OK


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="Where to create the repository.")]
    = Path("."),
    name: Annotated[str | None, typer.Option(help="The organisation's name.")] = None,
) -> int:
    """Create a promotion repository with a starter framework, ladder, person and packet."""
    from promoctl.cli import output
    from promoctl.records import scaffold

    created = scaffold.create(folder, name or folder.resolve().name)
    for line in created.messages:
        output.err.print(line, markup=False)
    output.err.print(f"created {len(created.files)} files in {folder}; next: cd {folder} && "
                     "promoctl validate && promoctl evaluate packets", markup=False)
    return ExitCode.OK
