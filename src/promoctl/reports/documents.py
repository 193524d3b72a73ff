"""The data behind each document: letters and plans from decisions, the panel pack."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from promoctl.base.errors import UserError
from promoctl.base.fsutil import Unreadable
from promoctl.engine import evaluation_view, evaluations, labels
from promoctl.history import replay
from promoctl.records import decided, repository
from promoctl.records.loader import MARKER, read_file
from promoctl.records.models import Decision, Framework, Ladder, Person
from promoctl.records.parsing import parse_record
from promoctl.records.settings import LetterSettings, RepositoryConfig


def settings(root: Path) -> RepositoryConfig | None:
    try:
        raw = read_file(root / MARKER, root)
    except Unreadable:  # validated already; a file swapped since: the defaults
        return None
    source, _ = parse_record(raw, MARKER)
    if source is not None and isinstance(source.record, RepositoryConfig):
        return source.record
    return None


def organisation(root: Path) -> str:
    found = settings(root)
    return found.name if found is not None else root.name


def _fill(text: str, values: dict[str, str]) -> str:
    # Plain replacement, not str.format: the text is the user's, and format would let
    # "{name.__class__}" reach into Python objects.
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def letter_closing(config: LetterSettings, person: Person) -> dict[str, Any]:
    """The salutation and the closing block of a letter, from ``promoctl.yaml``."""
    first = person.name.split()[0] if person.name.split() else person.name
    contact = config.contact + (f" ({config.contact_details})" if config.contact_details
                                else "")
    return {
        "salutation": _fill(config.salutation, {"name": person.name, "first_name": first}),
        "questions": _fill(config.questions, {"contact": contact}),
        "appeal": _fill(config.appeal, {"contact": contact}),
        "signatory": config.signatory,
        "signatory_title": config.signatory_title,
    }


def _steps(d: Decision, ladder: Ladder, framework: Framework | None) -> list[dict[str, Any]]:
    """The development plan's steps as a candidate reads them: names, not ids."""
    if d.development_plan is None:
        return []
    return [{"area": labels.step_area(s.kind, s.subject, ladder, d.target.level, framework),
             "action": s.action,
             "evidence": "; ".join(labels.evidence_kind(t.strip())
                                   for t in (s.evidence or "").split(",") if t.strip()),
             "count": s.count, "due": s.due.isoformat()}
            for s in d.development_plan.steps]


def decision_context(root: Path, ref: str) -> dict[str, Any]:
    repo = repository.load_valid(root, packets=False)
    src = decided.find_decision(repo, ref)
    d: Decision = src.record
    replayed = replay.from_git(root, d)
    if replayed.error is not None or replayed.differences:
        why = replayed.error or "; ".join(str(x) for x in replayed.differences[:5]) + (
            f" (and {len(replayed.differences) - 5} more)"
            if len(replayed.differences) > 5 else "")
        raise UserError(f"decision {d.id}: its record disagrees with the replay of the "
                        f"records it was made on, so nothing is rendered from it: {why}. "
                        "Run promoctl audit for the commit and author")
    # Rendered from the replayed values (equal to the record's, checked above).
    d = d.model_copy(update={"evaluation": replayed.evaluation})
    ladder = repo.ladder(d.target.ladder)
    person = repo.person(d.candidate)
    assert ladder is not None and person is not None  # validated above
    level = ladder.level(d.target.level)
    successor = next((s.record.id for s in repo.decisions.values()
                      if s.record.supersedes == d.id), None)
    config = settings(root)
    decision = d.model_dump(mode="json")
    # The override justification is the panel's internal note: it stays in the record
    # and the panel pack, never in what the candidate reads.
    decision["override"] = {"evaluation_verdict": d.override.evaluation_verdict} \
        if d.override else None
    return {
        "organisation": config.name if config else root.name,
        "decision": decision,
        "person": person.model_dump(mode="json"),
        "ladder_title": ladder.title,
        "level_title": level.title if level else d.target.level,
        "role_titles": {r.role: r.title for r in ladder.panel.roles} if ladder.panel else {},
        "superseded_by": successor,
        "steps": _steps(d, ladder, repo.framework(ladder.framework)),
        "closing": letter_closing(config.letters if config else LetterSettings(), person),
        "long_date": labels.long_date,
    }


@dataclass(frozen=True)
class PanelPack:
    context: dict[str, Any]
    problems: list[Any]


def panel_context(root: Path, paths: list[Path], as_of: date | None,
                  progress: repository.Progress | None = None) -> PanelPack:
    """Pending packets (no standing decision) with their evaluations, for the meeting."""
    repo, selected, problems = repository.load_packets(root, paths or [root], progress)
    superseded = decided.superseded_ids(repo)
    standing = {src.record.inputs.packet.id for src in repo.decisions.values()
                if src.record.id not in superseded}
    # A packet that failed to load cannot be matched to a decision: keep it, so its
    # problems are reported rather than the packet silently missing from the pack.
    pending = [d for d in selected
               if d not in repo.packets or repo.packets[d].record.id not in standing]
    outcomes = evaluations.evaluate_loaded(repo, pending, problems, as_of)
    evaluated = [evaluation_view.as_json(o.evaluation, o.display)
                 for o in outcomes if o.evaluation is not None]
    ladder_ids = sorted({e["target"]["ladder"] for e in evaluated})
    ladders = []
    for ladder_id in ladder_ids:
        ladder = repo.ladder(ladder_id)
        if ladder is not None:
            roles = [r.title for r in ladder.panel.roles] if ladder.panel else []
            ladders.append({"id": ladder.id, "title": ladder.title, "roles": roles})
    context = {
        "organisation": organisation(root),
        "meeting": as_of.isoformat() if as_of else "each packet as submitted",
        "ladders": ladders,
        "evaluations": evaluated,
    }
    # Every problem, not only those blocking a packet: the pack is printed first, then all
    # of them (as evaluate does), so a reader sees what the pack leaves out and why.
    listed = set(problems)
    every = [*problems, *(p for o in outcomes if o.evaluation is None
                          for p in o.problems if p not in listed)]
    return PanelPack(context, every)
