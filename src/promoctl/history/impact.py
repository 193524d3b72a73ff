"""What a change to frameworks or ladders does, before it is merged.

Every pending packet, and every decision of a chosen period, is evaluated under the rules
at ``base`` and at ``head`` (default: the working tree); those whose verdict, composite or
reasons change are listed, with counts by program and ladder level. Historical records are
read from git objects with the same reader the audit uses.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from promoctl.engine.evaluate import Evaluation, evaluate, fmt
from promoctl.history import gitlog
from promoctl.records import decided
from promoctl.records.loader import Repository, discover
from promoctl.records.models import Framework, Ladder, Packet, Person
from promoctl.records.parsing import parse_record
from promoctl.records.reading import load


@dataclass(frozen=True)
class Rules:
    frameworks: dict[str, Framework]
    ladders: dict[str, Ladder]


@dataclass(frozen=True)
class Change:
    subject: str
    kind: str  # pending or decision
    program: str
    ladder: str
    level: str
    before_verdict: str
    after_verdict: str
    before_composite: str
    after_composite: str
    notes: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"subject": self.subject, "kind": self.kind, "program": self.program,
                "ladder": self.ladder, "level": self.level,
                "before": {"verdict": self.before_verdict, "composite": self.before_composite},
                "after": {"verdict": self.after_verdict, "composite": self.after_composite},
                "notes": list(self.notes)}


@dataclass
class ImpactResult:
    base: str
    head: str
    evaluated: int = 0
    changes: list[Change] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: Counter[str] = Counter()
        for c in self.changes:
            out[f"program {c.program}"] += 1
            out[f"ladder level {c.ladder}/{c.level}"] += 1
        return dict(sorted(out.items()))

    def as_json(self) -> dict[str, Any]:
        return {"format": 1, "base": self.base, "head": self.head,
                "evaluated": self.evaluated, "changed": len(self.changes),
                "counts": self.counts(), "changes": [c.as_json() for c in self.changes]}


def rules_at(top: Path, prefix: str, rev: str, blobs: gitlog.BlobReader) -> Rules:
    paths = [p for p in gitlog.files_at(top, rev, "^kind: *['\"]?(framework|ladder)")
             if p.startswith(prefix)]
    contents = blobs.read_many([(rev, p) for p in paths])
    frameworks: dict[str, Framework] = {}
    ladders: dict[str, Ladder] = {}
    for p in paths:
        raw = contents[f"{rev}:{p}"]
        source = parse_record(raw, p)[0] if raw is not None else None
        if source is None:
            continue
        if isinstance(source.record, Framework):
            frameworks[source.record.id] = source.record
        elif isinstance(source.record, Ladder):
            ladders[source.record.id] = source.record
    return Rules(frameworks, ladders)


def rules_of(repo: Repository) -> Rules:
    return Rules({k: s.record for k, s in repo.frameworks.items()},
                 {k: s.record for k, s in repo.ladders.items()})


def _evaluate(rules: Rules, packet: Packet, person: Person, as_of: date | None
              ) -> Evaluation | str:
    ladder = rules.ladders.get(packet.target.ladder)
    if ladder is None:
        return f"ladder {packet.target.ladder!r} does not exist"
    level = ladder.level(packet.target.level)
    if level is None or level.promotion is None:
        return f"level {packet.target.level!r} has no promotion rules"
    framework = rules.frameworks.get(ladder.framework)
    if framework is None:
        return f"framework {ladder.framework!r} does not exist"
    return evaluate(packet, person, ladder, framework, as_of)


def _compare(subject: str, kind: str, packet: Packet, person: Person, as_of: date | None,
             before: Rules, after: Rules, result: ImpactResult) -> None:
    result.evaluated += 1
    a = _evaluate(before, packet, person, as_of)
    b = _evaluate(after, packet, person, as_of)

    def summary(ev: Evaluation | str) -> tuple[str, str, list[str]]:
        if isinstance(ev, str):
            return "not evaluable", "-", [ev]
        return ev.verdict, fmt(ev.composite), [r.message for r in ev.reasons]

    (va, ca, ra), (vb, cb, rb) = summary(a), summary(b)
    exact_a = a.composite if not isinstance(a, str) else None
    exact_b = b.composite if not isinstance(b, str) else None
    if va == vb and exact_a == exact_b and ra == rb:
        return
    notes = [f"now: {r}" for r in rb if r not in ra] + [f"no longer: {r}" for r in ra
                                                       if r not in rb]
    result.changes.append(Change(subject, kind, person.program, packet.target.ladder,
                                 packet.target.level, va, vb, ca, cb, tuple(notes)))


def impact(root: Path, base: str, head: str | None, since: date | None,
           until: date | None,
           progress: Callable[[int, int], None] | None = None) -> ImpactResult:
    """``progress(done, total)``: called as records load, then as packets and decisions
    are re-evaluated."""
    top = gitlog.toplevel(root)
    prefix = gitlog.prefix(root, top)
    base_sha = gitlog.resolve(top, base)
    head_sha = gitlog.resolve(top, head) if head else None
    # Records that fail to load are left out here; `promoctl validate` reports them.
    repo = load(root, discover([root]), progress)
    result = ImpactResult(base=base_sha, head=head_sha or "working tree")
    with gitlog.BlobReader(top) as blobs:
        before = rules_at(top, prefix, base_sha, blobs)
        after = rules_at(top, prefix, head_sha, blobs) if head_sha else rules_of(repo)
        standing = {s.record.inputs.packet.id for s in repo.decisions.values()
                    if s.record.id not in decided.superseded_ids(repo)}
        period = since is not None or until is not None
        chosen = sorted((s.record for s in repo.decisions.values() if period
                         and (since is None or s.record.decided_on >= since)
                         and (until is None or s.record.decided_on <= until)),
                        key=lambda d: (d.decided_on, d.id))
        total, done = len(repo.packets) + len(chosen), 0
        for display, src in sorted(repo.packets.items()):
            done += 1
            if progress is not None:
                progress(done, total)
            packet = src.record
            person = repo.person(packet.candidate)
            if packet.id in standing or person is None:
                continue
            _compare(display, "pending", packet, person, None, before, after, result)
        # Decisions only for a chosen period: without --from/--to, pending packets only.
        for d in chosen:
            done += 1
            if progress is not None:
                progress(done, total)
            raw_packet = blobs.read(d.inputs.commit, prefix + d.inputs.packet.path)
            raw_person = blobs.read(d.inputs.commit, prefix + d.inputs.person.path)
            packet_src = parse_record(raw_packet, d.inputs.packet.path)[0] if raw_packet \
                else None
            person_src = parse_record(raw_person, d.inputs.person.path)[0] if raw_person \
                else None
            if packet_src is None or person_src is None:
                continue  # the audit reports decisions whose inputs cannot be read
            _compare(f"decision {d.id}", "decision", packet_src.record, person_src.record,
                     d.as_of, before, after, result)
    return result
