"""The data behind each document: letters and plans from decisions, the panel pack."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from promoctl import decisions, evaluation_view, workspace
from promoctl.errors import UserError, display_path
from promoctl.fsutil import Unreadable
from promoctl.loader import MARKER, Repository, read_file
from promoctl.models import Decision, RepositoryConfig
from promoctl.records import Source, parse_record


def organisation(root: Path) -> str:
    try:
        raw = read_file(root / MARKER, root)
    except Unreadable:  # validated already; a file swapped since: the folder's name
        return root.name
    source, _ = parse_record(raw, MARKER)
    if source is not None and isinstance(source.record, RepositoryConfig):
        return source.record.name
    return root.name


def find_decision(repo: Repository, ref: str) -> Source:
    """A decision by id, or by the path of its file."""
    if ref in repo.decisions:
        return repo.decisions[ref]
    wanted = display_path(Path(ref), repo.root)
    for src in repo.decisions.values():
        if src.display == wanted:
            return src
    raise UserError(f"{ref}: no such decision (give its id or the path of its file)")


def decision_context(root: Path, ref: str) -> dict[str, Any]:
    repo = workspace.load_valid(root, packets=False)
    src = find_decision(repo, ref)
    d: Decision = src.record
    ladder = repo.ladder(d.target.ladder)
    person = repo.person(d.candidate)
    assert ladder is not None and person is not None  # validated above
    level = ladder.level(d.target.level)
    successor = next((s.record.id for s in repo.decisions.values()
                      if s.record.supersedes == d.id), None)
    return {
        "organisation": organisation(root),
        "decision": d.model_dump(mode="json"),
        "person": person.model_dump(mode="json"),
        "ladder_title": ladder.title,
        "level_title": level.title if level else d.target.level,
        "role_titles": {r.role: r.title for r in ladder.panel.roles} if ladder.panel else {},
        "superseded_by": successor,
    }


@dataclass(frozen=True)
class PanelPack:
    context: dict[str, Any]
    problems: list[Any]


def panel_context(root: Path, paths: list[Path], as_of: date | None) -> PanelPack:
    """Pending packets (no standing decision) with their evaluations, for the meeting."""
    repo, selected, problems = workspace.load_packets(root, paths or [root])
    superseded = decisions.superseded_ids(repo)
    standing = {src.record.inputs.packet.id for src in repo.decisions.values()
                if src.record.id not in superseded}
    # A packet that failed to load cannot be matched to a decision: keep it, so its
    # problems are reported rather than the packet silently missing from the pack.
    pending = [d for d in selected
               if d not in repo.packets or repo.packets[d].record.id not in standing]
    outcomes = workspace.evaluate_loaded(repo, pending, problems, as_of)
    evaluations = [evaluation_view.as_json(o.evaluation, o.display)
                   for o in outcomes if o.evaluation is not None]
    ladder_ids = sorted({e["target"]["ladder"] for e in evaluations})
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
        "evaluations": evaluations,
    }
    # Every problem, not only those blocking a packet: the pack is printed first, then all
    # of them (as evaluate does), so a reader sees what the pack leaves out and why.
    listed = set(problems)
    every = [*problems, *(p for o in outcomes if o.evaluation is None
                          for p in o.problems if p not in listed)]
    return PanelPack(context, every)
