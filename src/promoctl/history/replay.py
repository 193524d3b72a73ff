"""Replaying a decision: every value it records that the records determine is computed
again and compared, field by field.

What the panel chose (outcome, reasons, panel, dates, the plans' wording) stays theirs;
everything else — the evaluation snapshot whole (verdict, composite and scores exact and
as shown, statuses, gates, training, reasons, warnings), the override flag, the candidate
and target, and the structure of the generated plan — must equal the replay.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promoctl.engine import evaluation_view, plans
from promoctl.engine.evaluate import Evaluation, evaluate
from promoctl.records.models import Decision, Framework, Ladder, Packet, Person, goes_against
from promoctl.records.parsing import parse_record

Reader = Callable[[str, str], bytes | None]  # (commit, path) -> content at that commit


@dataclass(frozen=True)
class Difference:
    field: str
    recorded: Any
    replayed: Any

    def __str__(self) -> str:
        return f"{self.field}: recorded {self.recorded!r}, replayed {self.replayed!r}"


@dataclass(frozen=True)
class Replay:
    evaluation: dict[str, Any] | None  # the fresh snapshot; None when it cannot be replayed
    differences: list[Difference]
    error: str | None = None  # why it could not be replayed


@dataclass(frozen=True)
class Inputs:
    packet: Packet
    person: Person
    ladder: Ladder
    framework: Framework


def load_inputs(d: Decision, read: Reader,
                parse: Callable[[bytes, str], Any] | None = None) -> Inputs | str:
    """The four records as committed at ``inputs.commit``, checked against their sha256;
    a string says what is wrong."""
    parse = parse or _parse
    rev = d.inputs.commit
    found: dict[str, Any] = {}
    for what, ref in (("packet", d.inputs.packet), ("person", d.inputs.person),
                      ("ladder", d.inputs.ladder), ("framework", d.inputs.framework)):
        raw = read(rev, ref.path)
        if raw is None:
            return (f"the {what} {ref.path} is not in commit {rev[:12]}, so what the "
                    "decision was made on cannot be retrieved")
        if hashlib.sha256(raw).hexdigest() != ref.sha256:
            return (f"the {what} {ref.path} at commit {rev[:12]} does not match the sha256 "
                    "recorded in the decision")
        found[what] = parse(raw, ref.path)
    inputs = Inputs(**found) if all(
        isinstance(found[k], t) for k, t in (("packet", Packet), ("person", Person),
                                             ("ladder", Ladder), ("framework", Framework))
    ) else None
    if inputs is None:
        return f"the records at commit {rev[:12]} are not valid, so the evaluation cannot " \
               "be replayed"
    return inputs


def _parse(raw: bytes, path: str) -> Any:
    source = parse_record(raw, path)[0]
    return source.record if source else None


def replay(d: Decision, inputs: Inputs) -> Replay:
    try:
        ev = evaluate(inputs.packet, inputs.person, inputs.ladder, inputs.framework, d.as_of)
    except ValueError as exc:
        return Replay(None, [], f"replay failed: {exc}")
    fresh = evaluation_view.as_json(ev, d.inputs.packet.path)
    return Replay(fresh, differences(d, inputs, ev, fresh))


def differences(d: Decision, inputs: Inputs, ev: Evaluation, fresh: dict[str, Any]
                ) -> list[Difference]:
    out = [Difference("evaluation." + path, old, new)
           for path, old, new in _diff(d.evaluation, fresh)]
    packet = inputs.packet
    for name, old, new in (("candidate", d.candidate, packet.candidate),
                           ("target", d.target.model_dump(), packet.target.model_dump()),
                           ("inputs.packet.id", d.inputs.packet.id, packet.id),
                           ("inputs.person.id", d.inputs.person.id, inputs.person.id),
                           ("inputs.ladder.id", d.inputs.ladder.id, inputs.ladder.id),
                           ("inputs.framework.id", d.inputs.framework.id,
                            inputs.framework.id),
                           ("inputs.framework.version", d.inputs.framework.version,
                            inputs.framework.version)):
        if old != new:
            out.append(Difference(name, old, new))
    override = goes_against(d.outcome, ev.verdict)
    if override != (d.override is not None):
        out.append(Difference("override", "present" if d.override else "absent",
                              f"{'an' if override else 'no'} override ({d.outcome} against "
                              f"{ev.verdict})"))
    elif d.override is not None and d.override.evaluation_verdict != ev.verdict:
        out.append(Difference("override.evaluation_verdict", d.override.evaluation_verdict,
                              ev.verdict))
    out.extend(_plan_differences(d, inputs.ladder, ev))
    return out


def _plan_differences(d: Decision, ladder: Ladder, ev: Evaluation) -> list[Difference]:
    """The generated plan's structure; the wording (actions, cadence text) may have been
    edited by the panel and is theirs, and they may add steps or rules."""
    level = ladder.level(d.target.level)
    if level is None or level.promotion is None:
        return []
    out: list[Difference] = []
    if d.outcome == "approved":
        if level.probation is None:
            return []
        start = d.effective or d.decided_on
        want = plans.probation_plan(level.probation, start)
        got = d.probation_plan
        if got is None:
            return [Difference("probation_plan", None, "a probation plan (the level has "
                               "probation rules)")]
        for name in ("start", "review_date"):
            if getattr(got, name) != getattr(want, name):
                out.append(Difference(f"probation_plan.{name}", getattr(got, name).isoformat(),
                                      getattr(want, name).isoformat()))
        for name in ("escalation_boundaries", "caseload_rules"):
            missing = [r for r in getattr(want, name) if r not in getattr(got, name)]
            if missing:
                out.append(Difference(f"probation_plan.{name}", getattr(got, name),
                                      f"includes {missing}"))
        return out
    dev = plans.development_plan(ev, level.promotion, d.decided_on)
    plan = d.development_plan
    if plan is None:
        return [Difference("development_plan", None, f"a plan of {len(dev.steps)} step(s)")]
    if plan.recheck != dev.recheck:
        out.append(Difference("development_plan.recheck", plan.recheck.isoformat(),
                              dev.recheck.isoformat()))
    have = {(s.kind, s.subject): s for s in plan.steps}
    for step in dev.steps:
        got_step = have.get((step.kind, step.subject))
        if got_step is None:
            out.append(Difference(f"development_plan step {step.kind} {step.subject}",
                                  None, step.action))
        elif (got_step.evidence, got_step.count) != (step.evidence, step.count):
            out.append(Difference(f"development_plan step {step.kind} {step.subject}",
                                  f"{got_step.count} x {got_step.evidence}",
                                  f"{step.count} x {step.evidence}"))
    return out


def _diff(old: Any, new: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Leaf differences between two JSON values; list items with an id (or course, or
    item) are matched by it, so one missing competency is one difference, not many."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in [*new, *[k for k in old if k not in new]]:
            out.extend(_diff(old.get(key), new.get(key), f"{path}.{key}" if path else key))
        return out
    if isinstance(old, list) and isinstance(new, list):
        old_keys, new_keys = _keys(old), _keys(new)
        if old_keys is not None and new_keys is not None and len(set(new_keys)) == len(new):
            by_key = dict(zip(old_keys, old, strict=True))
            out = []
            for key, item in zip(new_keys, new, strict=True):
                out.extend(_diff(by_key.get(key), item, f"{path}[{key}]"))
            out.extend((f"{path}[{key}]", by_key[key], None)
                       for key in old_keys if key not in set(new_keys))
            if not out and old_keys != new_keys:
                out.append((path + " order", old_keys, new_keys))
            return out
        if len(old) == len(new):
            return [d for i, (a, b) in enumerate(zip(old, new, strict=True))
                    for d in _diff(a, b, f"{path}[{i}]")]
    return [] if old == new and type(old) is type(new) else [(path, old, new)]


def _keys(items: list[Any]) -> list[str] | None:
    for name in ("id", "course", "item"):
        if all(isinstance(i, dict) and isinstance(i.get(name), str) for i in items):
            return [i[name] for i in items]
    return None


def from_git(root: Path, d: Decision) -> Replay:
    """Replay one decision with its inputs read from git (for letters and plans)."""
    from promoctl.history import gitlog

    top = gitlog.toplevel(root)
    prefix = gitlog.prefix(root, top)
    with gitlog.BlobReader(top) as blobs:
        inputs = load_inputs(d, lambda rev, path: blobs.read(rev, prefix + path))
    if isinstance(inputs, str):
        return Replay(None, [], inputs)
    return replay(d, inputs)
