"""Panel decisions: prepared from an evaluation, written once, committed, never edited.

A correction is a new decision that ``supersedes`` the old one (which stays), as
decision-record tools do.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from promoctl.base import locking
from promoctl.base.errors import InvalidRecords, UserError, display_path
from promoctl.base.gitio import Git
from promoctl.decisions import recording, trailers
from promoctl.engine import evaluation_view, evaluations, plans
from promoctl.records import decided, duties, repository, yamlio
from promoctl.records.checks import person_name
from promoctl.records.loader import Repository
from promoctl.records.models import OUTCOMES, Decision, Ladder, PanelMember
from promoctl.records.parsing import Source, parse_record

DECISIONS_DIR = "decisions"
HEADER = ("# Decision record written by promoctl. Records are immutable: to correct this one,\n"
          "# record a new decision with `promoctl decide ... --supersedes {id}`.\n")
# What a secretary may change in --edit before the record is written; the rest is the
# evaluation and its inputs, which must stay exactly as computed.
EDITABLE = frozenset({"reasons", "development_plan", "probation_plan"})


@dataclass(frozen=True)
class Request:
    packet: Path
    outcome: str
    reasons: list[str]
    panel: list[tuple[str, str]]  # (role, name)
    decided_on: date
    as_of: date | None = None
    effective: date | None = None
    override_reason: str | None = None
    supersedes: str | None = None


@dataclass(frozen=True)
class Prepared:
    decision: Decision
    path: Path
    inputs: list[Path]  # files that must be committed for the decision to be auditable


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def active_decisions(repo: Repository, packet_id: str) -> list[Source]:
    """Decisions on this packet that no later decision supersedes."""
    gone = decided.superseded_ids(repo)
    return [src for src in repo.decisions.values()
            if src.meta.get("packet") == packet_id and src.record_id not in gone]


def check_quorum(ladder: Ladder, panel: list[tuple[str, str]]) -> list[str]:
    problems = []
    if not panel:
        problems.append("a decision needs its panel: give --panel ROLE=NAME for each member")
    if ladder.panel is None:
        return problems
    known = {r.role: r.title for r in ladder.panel.roles}
    for role, name in panel:
        if role not in known:
            problems.append(f"panel member {name!r} has role {role!r}, which ladder "
                            f"{ladder.id!r} does not define (roles: {', '.join(known)})")
    present = {role for role, _ in panel}
    missing = [f"{title} ({role})" for role, title in known.items() if role not in present]
    if missing:
        problems.append(f"no quorum: the panel for ladder {ladder.id!r} needs "
                        f"{', '.join(missing)}")
    return problems


def panel_members(repo: Repository, given: list[tuple[str, str]]) -> list[PanelMember]:
    """``--panel ROLE=WHO``: WHO is a person id (the record gives the name) or a name."""
    out = []
    for role, who in given:
        person = repo.person(who) if who in repo.people else None
        out.append(PanelMember(name=person.name, role=role, person=person.id) if person
                   else PanelMember(name=who, role=role))
    return out


def prepare(root: Path, req: Request, git: Git) -> Prepared:
    if req.outcome not in OUTCOMES:
        raise UserError(f"outcome must be one of {', '.join(OUTCOMES)}, not {req.outcome!r}")
    reasons = [r.strip() for r in req.reasons if r.strip()]
    if not reasons:
        raise UserError("a decision needs its specific reasons: give --reason at least once")
    # Through the validation cache: a record seen before is not parsed again, so the
    # cost does not grow with the decisions (and people) the repository holds.
    repo, selected, problems = repository.load_packets_cached(root, [req.packet])
    if len(selected) != 1:
        raise UserError(f"{req.packet}: decide takes exactly one packet file")
    (outcome,) = evaluations.evaluate_loaded(repo, selected, problems, req.as_of)
    if outcome.evaluation is None:
        raise InvalidRecords(list(outcome.problems))
    ev = outcome.evaluation
    packet, ladder = ev.packet, ev.ladder
    inputs, _ = evaluations.evaluation_inputs(repo, outcome.display, {})
    assert inputs is not None  # it was evaluated
    deps = [root / s.display for s in inputs]

    head = git.head()
    if head is None:
        raise UserError("the repository has no commits yet; commit the records first")
    dirty = git.uncommitted(deps)
    if dirty:
        raise UserError("inputs have uncommitted changes, so an auditor could not retrieve "
                        f"what this decision was made on: {', '.join(dirty)}; commit them "
                        "first")

    active = active_decisions(repo, packet.id)
    loose = git.uncommitted([root / src.display for src in active]) if active else []
    if req.supersedes is None and loose:
        raise UserError(f"packet {packet.id!r} has a decision record that is not committed: "
                        f"{', '.join(loose)} (written with --no-commit, or edited since). "
                        "Commit it (git add and git commit) if it stands, or delete the file "
                        "to record the decision afresh")
    if req.supersedes is None and active:
        ids = ", ".join(src.record.id for src in active)
        raise UserError(f"packet {packet.id!r} already has a decision ({ids}); to correct it, "
                        "record a new one with --supersedes ID")
    if req.supersedes is not None:
        old = repo.decisions.get(req.supersedes)
        if old is None:
            raise UserError(f"--supersedes {req.supersedes!r}: no such decision")
        if old.record.candidate != packet.candidate:
            raise UserError(f"--supersedes {req.supersedes!r}: that decision is about "
                            f"{old.record.candidate}, not {packet.candidate}")
        if req.supersedes in decided.superseded_ids(repo):
            raise UserError(f"--supersedes {req.supersedes!r}: already superseded")

    quorum = check_quorum(ladder, req.panel)
    if quorum:
        raise UserError("; ".join(quorum))
    panel = panel_members(repo, req.panel)
    breaches = duties.breaches(duties.load_policy(root).separation_of_duties, panel,
                               duties.Parties.of(ev.person, packet),
                               lambda pid: person_name(repo, pid))
    if breaches:
        raise UserError("; ".join(breaches) + " (policy.separation_of_duties in "
                        "promoctl.yaml)")

    against = (req.outcome == "approved") != ev.ready
    if against and not (req.override_reason or "").strip():
        raise UserError(f"the packet evaluates {ev.verdict} and the outcome is "
                        f"{req.outcome}: going against the evaluation is an override and "
                        "needs --override-reason explaining why")
    if not against and req.override_reason:
        raise UserError(f"--override-reason given, but {req.outcome} agrees with the "
                        f"evaluation ({ev.verdict}); there is nothing to override")

    level = ladder.level(packet.target.level)
    assert level is not None and level.promotion is not None  # checked when evaluating
    effective = req.effective or req.decided_on
    held_since = ev.person.level_since or ev.person.start_date
    if req.outcome == "approved" and effective <= held_since:
        # Level history reads such an approval as one the person file already reflects,
        # so it would silently change nothing.
        raise UserError(f"--effective {effective}: {packet.candidate} holds "
                        f"{ev.person.level!r} since {held_since} (person file), so a "
                        "promotion must take effect after that date")
    data: dict[str, Any] = {
        "kind": "decision",
        "format": 1,
        "id": f"{req.decided_on.isoformat()}-{packet.candidate}-{secrets.token_hex(3)}",
        "candidate": packet.candidate,
        "target": packet.target.model_dump(),
        "outcome": req.outcome,
        "decided_on": req.decided_on,
        "as_of": ev.as_of,
        "effective": effective if req.outcome == "approved" else None,
        "recorded_by": git.identity(),
        "reasons": reasons,
        "panel": [m.model_dump(exclude_none=True) for m in panel],
        "override": {"evaluation_verdict": ev.verdict,
                     "justification": req.override_reason.strip()}
        if against and req.override_reason else None,
        "supersedes": req.supersedes,
        "inputs": {
            "commit": head,
            "packet": _ref(root, outcome.display, packet.id),
            "person": _ref(root, repo.people[packet.candidate].display, ev.person.id),
            "ladder": _ref(root, repo.ladders[ladder.id].display, ladder.id),
            "framework": _ref(root, repo.frameworks[ev.framework.id].display,
                              ev.framework.id, ev.framework.version),
        },
        "evaluation": evaluation_view.as_json(ev, outcome.display),
    }
    if req.outcome == "approved":
        if level.probation is not None:
            data["probation_plan"] = plans.probation_plan(level.probation, effective)
    else:
        data["development_plan"] = plans.development_plan(ev, level.promotion, req.decided_on)
    decision = Decision.model_validate(data)
    path = root / DECISIONS_DIR / str(req.decided_on.year) / f"{decision.id}.yaml"
    return Prepared(decision, path, deps)


def _ref(root: Path, display: str, record_id: str, version: str | None = None
         ) -> dict[str, Any]:
    ref = {"id": record_id, "path": display, "sha256": sha256_file(root / display)}
    if version is not None:
        ref["version"] = version
    return ref


def to_yaml(decision: Decision) -> str:
    # Optional fields left unset are omitted; the snapshot is kept whole, nulls included.
    body = decision.model_dump(mode="python", exclude_none=True)
    body["evaluation"] = decision.evaluation
    return HEADER.format(id=decision.id) + yamlio.dump(body)


def from_edited(original: Decision, text: str, display: str) -> Decision:
    """The decision after a secretary's edit; only EDITABLE fields may differ."""
    source, problems = parse_record(text.encode(), display)
    if problems or source is None:
        raise InvalidRecords(problems)
    edited = source.record
    if not isinstance(edited, Decision):
        raise UserError(f"{display}: the edited file is no longer a decision record")
    changed = [name for name in Decision.model_fields
               if name not in EDITABLE and getattr(edited, name) != getattr(original, name)]
    if changed:
        raise UserError(f"only {', '.join(sorted(EDITABLE))} may be edited before recording; "
                        f"changed: {', '.join(changed)}")
    return edited


def commit_message(decision: Decision, git_path: str) -> str:
    ev = decision.evaluation
    candidate = ev.get("candidate", {}).get("name", decision.candidate)
    lines = [
        f"Decision: {decision.outcome} {candidate} for {decision.target.level}",
        "",
        f"Packet {decision.inputs.packet.path} evaluated {ev.get('verdict')} "
        f"(composite {ev.get('composite')} against {ev.get('threshold')}).",
        "",
        "Reasons:",
        *[f"- {reason}" for reason in decision.reasons],
        "",
        f"Record: {git_path}",
        "",
        *[f"{name}: {value}" for name, value in trailers.for_decision(decision).items()],
    ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Recorded:
    decision: Decision
    path: Path
    commit: str | None


def record(root: Path, req: Request, *, commit: bool = True,
           edit: Callable[[str], str] | None = None,
           notify: Callable[[str], None] = lambda _note: None) -> Recorded:
    """Prepare, optionally edit, write (never over a file) and commit one decision.

    The lock spans the "is this packet decided yet?" check and the write, so two runs in
    one checkout cannot both record a first decision for the same packet. What a killed
    run left is finished or undone first (``notify`` hears which); everything git could
    refuse is checked before anything is written.
    """
    with Git(root) as git, locking.exclusive(git.git_dir / "promoctl.lock"):
        head, sign = recording.begin(git, root, commit, notify)
        prepared = prepare(root, req, git)
        decision = prepared.decision
        text = to_yaml(decision)
        display = display_path(prepared.path, root)
        if edit is not None:
            edited = edit(text)
            if edited != text:
                decision = from_edited(decision, edited, display)
                text = to_yaml(decision)
        sha = recording.write_and_commit(git, root, prepared.path, text,
                                         commit_message(decision, display), head, sign)
        return Recorded(decision, prepared.path, sha)
