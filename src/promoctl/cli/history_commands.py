"""Commands for the audit trail and the lifecycle after promotion (issue 4)."""

from __future__ import annotations

import io
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from promoctl.base.errors import ExitCode
from promoctl.base.escape import CsvWriter
from promoctl.cli.app import (
    AsOfOption,
    ProblemFormat,
    RepoOption,
    _parse_date,
    _warn_if_future,
    app,
    workspace_root,
)

if TYPE_CHECKING:
    pass


def _root(repo: Path | None) -> Path:
    return workspace_root(repo, Path.cwd())


@app.command()
def history(
    ref: Annotated[str, typer.Argument(metavar="DECISION|PERSON",
                                       help="A decision id or path, or a person id.")],
    format: Annotated[ProblemFormat, typer.Option("--format", help="text or json")]
    = ProblemFormat.text,
    repo: RepoOption = None,
) -> int:
    """The git history of a decision and its inputs, or of a person, field by field."""
    from promoctl.cli import output
    from promoctl.history import trail

    root = workspace_root(repo, Path(ref) if Path(ref).exists() else Path.cwd())
    result = trail.trail_for(root, ref)
    if format is ProblemFormat.json:
        output.print_json({"format": 1, "subject": result.subject,
                           "events": result.events,
                           "commits": [e.as_json() for e in result.entries]})
        return ExitCode.OK
    output.out.print(f"History of {result.subject}", markup=False)
    for event in result.events:
        details = ", ".join(f"{k} {v}" for k, v in event.items()
                            if k not in ("date", "event") and v is not None)
        output.out.print(f"  {event.get('date', '')} {event['event']}"
                         + (f" ({details})" if details else ""), markup=False)
    last = None
    for e in result.entries:
        if e.sha != last:
            output.out.print(f"\n{e.sha[:12]} {e.date} {e.author}\n  {e.subject}",
                             markup=False)
            for note in e.notes:
                output.out.print(f"  note: {note}", markup=False)
            last = e.sha
        verb = {"A": "added", "D": "deleted"}.get(e.status, "changed")
        output.out.print(f"  {e.role} {e.path} {verb}", markup=False)
        for change in e.changes:
            output.out.print(f"    {change}", markup=False)
    return ExitCode.OK


@app.command()
def audit(
    since: Annotated[str | None, typer.Option("--since", metavar="YYYY-MM-DD",
                                              help="Only decisions made on or after this "
                                              "date.")] = None,
    format: Annotated[str, typer.Option("--format", help="table or json")] = "table",
    seal: Annotated[bool, typer.Option("--seal", help="When the audit passes, record this "
                                       "state as a seal: an annotated tag (signed if git "
                                       "signing is set up) that later audits check.")]
    = False,
    repo: RepoOption = None,
) -> int:
    """Check every decision against git: unchanged, inputs intact, evaluation replays."""
    from promoctl.cli import output
    from promoctl.decisions.panel import DECISIONS_DIR
    from promoctl.history import audit as audit_core
    from promoctl.history import seals

    if format not in ("table", "json"):
        raise typer.BadParameter("--format is table or json")
    if seal and since:
        raise typer.BadParameter("--seal vouches for every decision; it cannot be combined "
                                 "with --since")
    root = _root(repo)
    with output.progress("auditing") as bar:
        result = audit_core.audit(root, _parse_date(since), bar)
    sealed: tuple[str, bool] | None = None
    if seal and not result.failed:
        sealed = seals.create(root, DECISIONS_DIR)
    if format == "json":
        output.print_json({"format": 1, "decisions": result.decisions,
                           "replayed": result.replayed, "seals": result.seals,
                           "failed": result.failed,
                           "sealed": sealed[0] if sealed else None,
                           "findings": [f.as_json() for f in result.findings]})
    else:
        for f in result.findings:
            who = f" [{f.commit[:12]} {f.author} {f.date}]" if f.commit else ""
            output.out.print(f"{f.severity.upper()} {f.decision} {f.check}: {f.message}{who}",
                             markup=False)
        fails = sum(1 for f in result.findings if f.severity == audit_core.FAIL)
        output.err.print(f"{result.decisions} decision(s) audited, {result.replayed} "
                         f"replayed, {result.seals} seal(s) checked, {fails} integrity "
                         "failure(s)", markup=False)
    if seal and result.failed:
        output.err.print("not sealed: the audit failed", markup=False)
    elif sealed is not None:
        name, created = sealed
        output.err.print(f"sealed as tag {name}; share it with git push origin "
                         f"refs/tags/{name}" if created else
                         f"already sealed at this commit: tag {name}", markup=False)
    return ExitCode.NOT_READY if result.failed else ExitCode.OK


@app.command()
def impact(
    base: Annotated[str, typer.Option("--base", help="The rules before (a git revision).")]
    = "HEAD",
    head: Annotated[str | None, typer.Option("--head", help="The rules after (a git "
                                             "revision; default: the working tree).")] = None,
    since: Annotated[str | None, typer.Option("--from", metavar="YYYY-MM-DD", help="Also "
                                              "re-evaluate decisions made from this date.")]
    = None,
    until: Annotated[str | None, typer.Option("--to", metavar="YYYY-MM-DD")] = None,
    format: Annotated[str, typer.Option("--format", help="table or json")] = "table",
    repo: RepoOption = None,
) -> int:
    """What a framework or ladder change does to pending packets and past decisions."""
    from promoctl.cli import output
    from promoctl.history import impact as impact_core

    if format not in ("table", "json"):
        raise typer.BadParameter("--format is table or json")
    root = _root(repo)
    with output.progress("re-evaluating") as bar:
        result = impact_core.impact(root, base, head, _parse_date(since), _parse_date(until),
                                    bar)
    if format == "json":
        output.print_json(result.as_json())
        return ExitCode.OK
    output.out.print(f"rules: {result.base} -> {result.head}; re-evaluated "
                     f"{result.evaluated} packet(s), {len(result.changes)} changed",
                     markup=False)
    for c in result.changes:
        output.out.print(f"  {c.subject}: {c.before_verdict} -> {c.after_verdict}, composite "
                         f"{c.before_composite} -> {c.after_composite}"
                         + (f" ({'; '.join(c.notes)})" if c.notes else ""), markup=False)
    for key, count in result.counts().items():
        output.out.print(f"  {key}: {count} changed", markup=False)
    return ExitCode.OK


@app.command()
def due(
    as_of: AsOfOption = None,
    within: Annotated[int, typer.Option("--within", metavar="DAYS", min=0, max=36_500,
                                        help="Also what falls due in the next DAYS days.")]
    = 30,
    format: Annotated[str, typer.Option("--format", help="table, json or csv")] = "table",
    repo: RepoOption = None,
) -> int:
    """Reviews, re-checks, plan steps and mandatory training due or overdue."""
    from promoctl.cli import output
    from promoctl.engine import lifecycle
    from promoctl.records.repository import load_valid

    if format not in ("table", "json", "csv"):
        raise typer.BadParameter("--format is table, json or csv")
    root = _root(repo)
    when = _parse_date(as_of) or date.today()
    with output.progress("loading") as bar:
        loaded = load_valid(root, progress=bar)
    items = lifecycle.due(loaded, when, within)
    if format == "json":
        output.print_json({"format": 1, "as_of": when.isoformat(), "within_days": within,
                           "items": [i.as_json() for i in items]})
    elif format == "csv":
        buffer = io.StringIO()
        writer = CsvWriter(buffer)
        writer.writerow(["person", "name", "program", "kind", "due", "overdue", "detail",
                         "ref"])
        for i in items:
            writer.writerow([i.person, i.name, i.program, i.kind, i.due.isoformat(),
                             "yes" if i.overdue else "no", i.detail, i.ref or ""])
        sys.stdout.write(buffer.getvalue())
    else:
        output.due_table(items)
        output.err.print(f"{len(items)} item(s) due by {when} + {within} days", markup=False)
    return ExitCode.OK


@app.command()
def status(
    person: Annotated[str, typer.Argument(help="The person's id.")],
    as_of: AsOfOption = None,
    format: Annotated[ProblemFormat, typer.Option("--format", help="text or json")]
    = ProblemFormat.text,
    repo: RepoOption = None,
) -> int:
    """A person's level, authorisation, probation, open plan steps, decisions and reviews."""
    from promoctl.base.errors import UserError
    from promoctl.cli import output
    from promoctl.engine import lifecycle
    from promoctl.records.repository import load_valid

    root = _root(repo)
    when = _parse_date(as_of) or date.today()
    loaded = load_valid(root)
    if person not in loaded.people:
        raise UserError(f"{person}: no such person")
    st = lifecycle.status(loaded, person, when, lifecycle.training_completions(loaded))
    if format is ProblemFormat.json:
        output.print_json({"format": 1, **st.as_json()})
        return ExitCode.OK
    p, spell = st.person, st.spell
    since = f" since {spell.since}" + (f" (decision {spell.ref})" if spell.ref else "")
    output.out.print(f"{p.name} ({p.id}), {p.program}: {spell.ladder} / {spell.level}{since}",
                     markup=False)
    state = st.authorization  # a lapse or a drift says its date in the reason
    if st.valid_until is not None and state == "valid":
        state = f"valid until {st.valid_until}"
    elif st.valid_until is not None and state == "in-probation":
        state += f", valid until {st.valid_until}"
    output.out.print(f"authorisation: {state}" + (f" ({st.reason})" if st.reason else ""),
                     markup=False)
    if st.probation:
        output.out.print(f"probation: review {st.probation['review_date']}, confirmed "
                         f"{st.probation['confirmed'] or 'not yet'}", markup=False)
    for decision_id, step in st.open_steps:
        output.out.print(f"open step ({decision_id}): {step.action} by {step.due}",
                         markup=False)
    for d in st.decisions:
        output.out.print(f"decision {d.decided_on} {d.outcome} {d.target.level} ({d.id})",
                         markup=False)
    for r in st.reviews:
        output.out.print(f"review {r.date} {r.type} {r.outcome} ({r.id})", markup=False)
    for item in st.due:
        output.out.print(f"{'OVERDUE' if item.overdue else 'due'} {item.due} {item.kind}: "
                         f"{item.detail}", markup=False)
    return ExitCode.OK


@app.command()
def review(
    person: Annotated[str, typer.Argument(help="The person's id.")],
    kind: Annotated[str, typer.Option("--kind", help="probation, maintenance or recheck")],
    outcome: Annotated[str, typer.Option("--outcome", help="probation: confirmed|extended; "
                                         "maintenance: sustained|drift|lapsed; recheck: "
                                         "resolved|unresolved")],
    reviewer: Annotated[str, typer.Option("--reviewer", help="Who carried out the review.")],
    findings: Annotated[str, typer.Option("--findings", help="What the review found.")],
    support: Annotated[list[str] | None, typer.Option(
        "--support", help="A targeted support after drift (repeat).")] = None,
    evidence_file: Annotated[Path | None, typer.Option(
        "--evidence-file", help="YAML list of evidence items (audit sample, observation, "
        "incident review).")] = None,
    recheck_by: Annotated[str | None, typer.Option("--recheck-by", metavar="YYYY-MM-DD")]
    = None,
    extended_until: Annotated[str | None, typer.Option("--extended-until",
                                                       metavar="YYYY-MM-DD")] = None,
    decision: Annotated[str | None, typer.Option("--decision", help="The decision this "
                                                 "review follows up (default: found).")]
    = None,
    supersedes: Annotated[str | None, typer.Option("--supersedes", metavar="REVIEW_ID")]
    = None,
    on: Annotated[str | None, typer.Option("--date", metavar="YYYY-MM-DD",
                                           help="The review date (default: today).")] = None,
    commit: Annotated[bool, typer.Option("--commit/--no-commit")] = True,
    repo: RepoOption = None,
) -> int:
    """Record a probation, maintenance or re-check review (immutable, committed)."""
    from promoctl.cli import output
    from promoctl.decisions import reviews
    from promoctl.records.models import REVIEW_OUTCOMES

    if kind not in REVIEW_OUTCOMES:
        raise typer.BadParameter("--kind is probation, maintenance or recheck")
    if outcome not in REVIEW_OUTCOMES[kind]:
        raise typer.BadParameter(f"a {kind} review's --outcome is one of "
                                 f"{', '.join(REVIEW_OUTCOMES[kind])}, not {outcome!r}")
    if extended_until is not None and (kind, outcome) != ("probation", "extended"):
        raise typer.BadParameter("--extended-until goes only with --kind probation "
                                 "--outcome extended")
    if recheck_by is not None and outcome != "drift":
        raise typer.BadParameter("--recheck-by goes only with --outcome drift")
    root = _root(repo)
    _warn_if_future("--date", _parse_date(on))
    request = reviews.Request(
        person=person, type=kind, outcome=outcome, reviewer=reviewer, findings=findings,
        on=_parse_date(on) or date.today(),
        evidence=reviews.load_evidence(evidence_file) if evidence_file else [],
        supports=support or [], recheck_by=_parse_date(recheck_by),
        extended_until=_parse_date(extended_until), decision=decision,
        supersedes=supersedes)
    recorded = reviews.record(root, request, commit=commit,
                              notify=lambda note: output.err.print(note, markup=False))
    for warning in recorded.warnings:
        output.err.print(f"warning: {warning}", markup=False)
    r = recorded.review
    output.out.print(f"{r.type} review {r.outcome} for {r.person}: {r.id} written to "
                     f"{recorded.path.relative_to(root).as_posix()}", markup=False)
    if r.recheck_by:
        output.out.print(f"re-check by {r.recheck_by}", markup=False)
    output.out.print(f"committed {recorded.commit[:12]}" if recorded.commit
                     else "not committed (--no-commit)", markup=False)
    return ExitCode.OK
