"""Recording reviews after promotion: probation, competency maintenance, re-checks.

Like decisions, a review is written once, committed alone, and corrected by a new review
that supersedes it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from promoctl.base import locking
from promoctl.base.errors import InvalidRecords, UserError, display_path, shown
from promoctl.base.fsutil import Unreadable, read_regular
from promoctl.base.gitio import Git
from promoctl.decisions import recording
from promoctl.engine import lifecycle, review_rules
from promoctl.engine.evaluate import gate_result
from promoctl.records import repository, yamlio
from promoctl.records.models import REVIEW_OUTCOMES, EvidenceItem, Review

REVIEWS_DIR = "reviews"
HEADER = ("# Review record written by promoctl. Records are immutable: to correct this one,\n"
          "# record a new review with `promoctl review ... --supersedes {id}`.\n")


@dataclass(frozen=True)
class Request:
    person: str
    type: str
    outcome: str
    reviewer: str
    findings: str
    on: date
    evidence: list[dict[str, Any]] = field(default_factory=list)
    supports: list[str] = field(default_factory=list)
    recheck_by: date | None = None
    extended_until: date | None = None
    decision: str | None = None
    supersedes: str | None = None


@dataclass(frozen=True)
class Recorded:
    review: Review
    path: Path
    commit: str | None
    warnings: tuple[str, ...] = ()  # unusual but allowed: shown to whoever records it


def prepare(root: Path, req: Request, recorded_by: str) -> tuple[Review, tuple[str, ...]]:
    """The review to record and warnings about it; refused when it has nothing to
    review on its date (see ``review_rules``)."""
    repo = repository.load_valid(root, packets=False)
    person = repo.person(req.person)
    if person is None:
        raise UserError(f"{req.person}: no such person")
    if req.outcome not in REVIEW_OUTCOMES[req.type]:
        raise UserError(f"a {req.type} review's outcome is one of "
                        f"{', '.join(REVIEW_OUTCOMES[req.type])}, not {req.outcome!r}")
    if not req.findings.strip():
        raise UserError("a review needs its findings: give --findings")
    if req.supersedes is not None and req.supersedes not in repo.reviews:
        raise UserError(f"--supersedes {req.supersedes!r}: no such review")
    if req.decision is not None and req.decision not in repo.decisions:
        raise UserError(f"--decision {req.decision!r}: no such decision")
    # The level and lifecycle on the review's date, as the records then said.
    # (Training is left out: the review rules read the level and its reviews, not what is due.)
    st = lifecycle.status(repo, req.person, req.on, without=req.supersedes)
    ladder = repo.ladder(st.spell.ladder)
    level = ladder.level(st.spell.level) if ladder else None
    assert ladder is not None and level is not None  # validated above
    verdict = review_rules.check(st, level, req.type, req.on, req.decision,
                                 req.outcome)
    if verdict.errors:
        raise UserError("; ".join(verdict.errors))
    decision = verdict.decision
    recheck_by = req.recheck_by
    if req.outcome == "drift":
        if not req.supports:
            raise UserError("drift needs the targeted supports: give --support for each "
                            "(refresher coaching, observation, reduced high-risk authority)")
        days = level.revalidation.recheck_days if level.revalidation else 60
        recheck_by = recheck_by or req.on + timedelta(days=days)
    if req.type == "probation" and req.outcome == "extended":
        if req.extended_until is None:
            raise UserError("an extended probation needs --extended-until")
        if req.extended_until <= req.on:
            raise UserError(f"--extended-until {req.extended_until} is not after the review "
                            f"date {req.on}")
    data: dict[str, Any] = {
        "kind": "review", "format": 1,
        "id": f"{req.on.isoformat()}-{req.person}-{req.type}-{secrets.token_hex(3)}",
        "person": req.person, "type": req.type, "ladder": st.spell.ladder,
        "level": st.spell.level, "date": req.on, "reviewer": req.reviewer,
        "recorded_by": recorded_by, "outcome": req.outcome, "decision": decision,
        "findings": req.findings.strip(), "evidence": req.evidence,
        "supports": req.supports, "recheck_by": recheck_by,
        "extended_until": req.extended_until, "supersedes": req.supersedes,
    }
    review = Review.model_validate(data)
    if req.type == "maintenance" and req.outcome == "sustained" and level.revalidation:
        missing = [g for g in level.revalidation.requires
                   if not gate_result(g, review.evidence, req.on).met]
        if missing:
            raise UserError("a sustained maintenance review needs its evidence: missing "
                            + "; ".join(f"{g.title or g.id} ({g.evidence})" for g in missing)
                            + ". Add it with --evidence-file, or record the outcome found")
    return review, verdict.warnings


def load_evidence(path: Path) -> list[dict[str, Any]]:
    """Evidence items from a YAML file holding a list of them (as in a packet)."""
    try:
        raw = read_regular(path, limit=yamlio.MAX_FILE_BYTES)
    except Unreadable as exc:
        raise UserError(f"{shown(str(path))}: {exc}") from None
    try:
        data = yamlio.parse(raw, path.as_posix()).data
    except yamlio.YamlProblems as exc:
        raise InvalidRecords(exc.problems) from None
    if isinstance(data, dict):
        data = data.get("evidence")
    if not isinstance(data, list):
        raise UserError(f"{path}: expected a list of evidence items (or 'evidence:' with one)")
    for item in data:
        EvidenceItem.model_validate(item)  # errors surface with the review's validation
    return data


def to_yaml(review: Review) -> str:
    body = review.model_dump(mode="python", exclude_none=True, exclude_defaults=False)
    body = {k: v for k, v in body.items() if v not in ([], None)}
    return HEADER.format(id=review.id) + yamlio.dump(body)


def commit_message(review: Review, path: str) -> str:
    lines = [f"Review: {review.type} {review.outcome} for {review.person} at {review.level}",
             "", review.findings, "", f"Record: {path}", "",
             f"Promoctl-Review: {review.id}", f"Promoctl-Person: {review.person}",
             f"Promoctl-Review-Type: {review.type}", f"Promoctl-Outcome: {review.outcome}"]
    if review.decision:
        lines.append(f"Promoctl-Decision: {review.decision}")
    if review.supersedes:
        lines.append(f"Promoctl-Supersedes: {review.supersedes}")
    return "\n".join(lines) + "\n"


def record(root: Path, req: Request, *, commit: bool = True,
           notify: Callable[[str], None] = lambda _note: None) -> Recorded:
    with Git(root) as git, locking.exclusive(git.git_dir / "promoctl.lock"):
        head, sign = recording.begin(git, root, commit, notify)
        review, warnings = prepare(root, req, git.identity())
        path = root / REVIEWS_DIR / str(req.on.year) / f"{review.id}.yaml"
        sha = recording.write_and_commit(git, root, path, to_yaml(review),
                                         commit_message(review, display_path(path, root)),
                                         head, sign)
        return Recorded(review, path, sha, warnings)
