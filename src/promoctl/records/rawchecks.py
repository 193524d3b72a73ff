"""Cross-record checks of packets that failed their schema, on what their files hold.

A packet with a schema problem is never built, so its evidence types, competencies and
scores were not checked against the framework until the schema problem was fixed: one
fix, then a second round of problems. These checks read what the file holds instead, so
one run reports both."""

from __future__ import annotations

from collections.abc import Container
from decimal import Decimal
from typing import Any

from promoctl.base.errors import Problem
from promoctl.base.fsutil import Unreadable
from promoctl.records import yamlio
from promoctl.records.checks import known_evidence_types, score_problem, unknown
from promoctl.records.loader import Repository, read_file
from promoctl.records.models import Framework


def check_broken_packets(repo: Repository, only: Container[str] | None = None
                         ) -> list[Problem]:
    """The framework checks of each broken packet (those in ``only``, when given)."""
    out: list[Problem] = []
    for display, kind in sorted(repo.broken.items()):
        if kind != "packet" or (only is not None and display not in only):
            continue
        try:
            doc = yamlio.parse(read_file(repo.root / display, repo.root), display,
                               keep_going=True)
        except (Unreadable, yamlio.YamlProblems):
            continue  # its own problems say why
        fw = _framework(repo, doc.data)
        if fw is not None:
            out.extend(_evidence(doc, fw))
    return out


def _framework(repo: Repository, data: Any) -> Framework | None:
    target = data.get("target") if isinstance(data, dict) else None
    ladder_id = target.get("ladder") if isinstance(target, dict) else None
    ladder = repo.ladder(ladder_id) if isinstance(ladder_id, str) else None
    return repo.framework(ladder.framework) if ladder is not None else None


def _evidence(doc: yamlio.Document, fw: Framework) -> list[Problem]:
    evidence = doc.data.get("evidence")
    if not isinstance(evidence, list):
        return []
    out: list[Problem] = []
    types = known_evidence_types(fw)
    competencies = [c.id for c in fw.competencies]

    def problem(loc: tuple[str | int, ...], message: str) -> None:
        line, col = doc.locate(loc)
        out.append(Problem(doc.path, line, col, message))

    for i, item in enumerate(evidence):
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        if isinstance(kind, str) and kind not in types:
            problem(("evidence", i, "type"), unknown("evidence type", kind, types))
        named = item.get("competencies")
        for j, comp in enumerate(named if isinstance(named, list) else []):
            if isinstance(comp, str) and comp not in competencies:
                problem(("evidence", i, "competencies", j),
                        unknown("competency", comp, competencies) + f" in framework {fw.id!r}")
        result = item.get("result")
        score = result.get("score") if isinstance(result, dict) else None
        if isinstance(score, (int, Decimal)) and not isinstance(score, bool):
            message = score_problem(Decimal(score), fw)
            if message:
                problem(("evidence", i, "result", "score"), message)
    return out
