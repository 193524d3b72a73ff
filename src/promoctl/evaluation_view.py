"""The documented shapes of an evaluation: JSON (stable, for machines) and Markdown."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

from promoctl.evaluate import Evaluation, fmt

JSON_FORMAT = 1


def number(value: Fraction | Decimal | None) -> float | int | None:
    """A JSON number rounded to 2 decimals; the exact value goes beside it as a string."""
    if value is None:
        return None
    rounded = float(fmt(value))
    return int(rounded) if rounded.is_integer() else rounded


def exact(value: Fraction | Decimal | None) -> str | None:
    if value is None:
        return None
    f = Fraction(value)
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def as_json(ev: Evaluation, path: str) -> dict[str, Any]:
    packet = ev.packet
    return {
        "packet": packet.id,
        "path": path,
        "candidate": {"id": ev.person.id, "name": ev.person.name,
                      "program": ev.person.program,
                      "current_level": ev.person.level},
        "target": {"ladder": ev.ladder.id, "level": packet.target.level},
        "framework": {"id": ev.framework.id, "version": ev.framework.version},
        "submitted": packet.submitted.isoformat(),
        "as_of": ev.as_of.isoformat(),
        "verdict": ev.verdict,
        "ready": ev.ready,
        "training": [
            {"course": t.course, "title": t.title, "met": t.met,
             "completed_on": t.completed_on.isoformat() if t.completed_on else None,
             "expires_on": t.expires_on.isoformat() if t.expires_on else None,
             "detail": t.detail}
            for t in ev.training
        ],
        "gates": [
            {"id": g.gate.id, "title": g.gate.title, "met": g.met, "required": g.required,
             "qualifying": list(g.qualifying),
             "excluded": [{"item": item, "why": why} for item, why in g.excluded],
             "distinct_assessors": g.distinct_assessors}
            for g in ev.gates
        ],
        "competencies": [
            {"id": c.id, "name": c.name, "weight": number(c.weight),
             "minimum": number(c.minimum), "score": number(c.score),
             "score_exact": exact(c.score), "status": c.status, "met": c.met,
             "sources": [{"type": s.type, "score": number(s.score),
                          "score_exact": exact(s.score), "weight": number(s.weight),
                          "method": s.method, "items": list(s.items)} for s in c.sources],
             "unscored": [{"item": item, "why": why} for item, why in c.unscored]}
            for c in ev.competencies
        ],
        "composite": number(ev.composite),
        "composite_exact": exact(ev.composite),
        "threshold": number(ev.threshold),
        "reasons": [{"kind": r.kind, "subject": r.subject, "message": r.message}
                    for r in ev.reasons],
        "warnings": list(ev.warnings),
        "ignored_evidence": list(ev.ignored),
    }


def _yes(flag: bool) -> str:
    return "met" if flag else "**not met**"


def to_markdown(ev: Evaluation, path: str) -> str:
    p = ev.person
    lines = [
        f"# {p.name} ({p.id}): {ev.verdict}",
        "",
        f"- Packet: `{path}` ({ev.packet.id}), submitted {ev.packet.submitted}",
        f"- Target: {ev.ladder.title} / {_level_title(ev)} (from {p.level}), "
        f"framework {ev.framework.id} {ev.framework.version}",
        f"- As of: {ev.as_of}",
        f"- Composite: {fmt(ev.composite)} against threshold {ev.threshold}",
        "",
    ]
    if ev.training:
        lines += ["## Mandatory training", "", "| Training | Result | Detail |", "|---|---|---|"]
        lines += [f"| {t.title} | {_yes(t.met)} | {t.detail} |" for t in ev.training]
        lines.append("")
    if ev.gates:
        lines += ["## Readiness gates", "", "| Gate | Result | Required | Qualifying | "
                  "Not counted |", "|---|---|---|---|---|"]
        for g in ev.gates:
            excluded = "; ".join(f"{i}: {why}" for i, why in g.excluded) or "-"
            lines.append(f"| {g.gate.title or g.gate.id} | {_yes(g.met)} | {g.required} | "
                         f"{', '.join(g.qualifying) or '-'} | {excluded} |")
        lines.append("")
    lines += ["## Competencies", "", "| Competency | Weight | Minimum | Score | Sources | "
              "Result |", "|---|---|---|---|---|---|"]
    for c in ev.competencies:
        sources = "; ".join(f"{s.type} {fmt(s.score)} ({s.method}, weight {s.weight})"
                            for s in c.sources) or "none"
        result = "insufficient evidence" if c.score is None else _yes(c.met)
        minimum = "-" if c.minimum is None else str(c.minimum)
        lines.append(f"| {c.name} | {c.weight} | {minimum} | {fmt(c.score)} | {sources} | "
                     f"{result} |")
    lines.append("")
    if ev.reasons:
        lines += ["## Reasons", ""] + [f"- {r.message}" for r in ev.reasons] + [""]
    if ev.warnings:
        lines += ["## Warnings", ""] + [f"- {w}" for w in ev.warnings] + [""]
    return "\n".join(lines)


def _level_title(ev: Evaluation) -> str:
    level = ev.ladder.level(ev.packet.target.level)
    return level.title if level else ev.packet.target.level


def summary_markdown(rows: Sequence[tuple[str, Evaluation]]) -> str:
    lines = ["| Candidate | Program | Target | Verdict | Composite | Threshold | Reasons |",
             "|---|---|---|---|---|---|---|"]
    for _path, ev in rows:
        reasons = "; ".join(r.short for r in ev.reasons) or "-"
        lines.append(f"| {ev.person.name} ({ev.person.id}) | {ev.person.program} | "
                     f"{ev.ladder.id}/{ev.packet.target.level} | {ev.verdict} | "
                     f"{fmt(ev.composite)} | {ev.threshold} | {reasons} |")
    return "\n".join(lines) + "\n"
