"""Decisions and reviews built exactly as ``promoctl decide`` and ``promoctl review``
build them: evaluation snapshot, input hashes, plans, a quorate panel."""

from __future__ import annotations

import collections
import hashlib
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from .packets import PacketOut
from .sizes import EXAMPLES, HISTORY_END, PLACEHOLDER_COMMIT, REVISION_DAY
from .staff import Staff
from .yamltext import _dump, _same_as

Identity = tuple[str, str]  # (name, email)
SECRETARIES: dict[str, tuple[Identity, ...]] = {
    "community": (("Grace Liu", "grace.liu@example.org"),
                  ("Samuel Osei", "samuel.osei@example.org"),
                  ("Inês Ferreira", "ines.ferreira@example.org")),
    "professional": (("Hiro Tanaka", "hiro.tanaka@example.org"),
                     ("Rania Haddad", "rania.haddad@example.org")),
}
HR_PARTNERS = ("Helen Park", "Kwame Mensah", "Lucia Reyes", "Tom Walsh")
OFFICE: Identity = ("Promotion Office", "promotions@example.org")
HR_DESK: Identity = ("HR Records", "hr-records@example.org")
PANEL_ROLES = {  # ladder -> roles, from examples/ladders/*.yaml
    "support-work": ("operations-lead", "quality", "hr"),
    "consulting": ("practice-lead", "peer-reviewer", "hr"),
}
OVERRIDE_APPROVE = (
    "The panel heard the supervisor's account of recent practice, which the packet does not "
    "yet show; approved with the probation terms as the safeguard.",
    "The missing item is administrative (evidence filed under the wrong cycle); the panel "
    "saw the original and is satisfied.",
)
OVERRIDE_HOLD = (
    "A serious incident review is still open; the panel defers until it concludes.",
    "The candidate asked to defer to the next cycle for personal reasons.",
    "The panel wants one more observed session after a recent change of team.",
)
DECLINE_REASONS = (
    "The evidence is well short of the level across several competencies.",
    "Not ready for the level's responsibilities; a development plan is the right next step.",
)
CORRECTIONS = (
    "Correction: the outcome was recorded wrongly; the panel's minutes say {outcome}.",
    "Correction: recorded again with the outcome the panel agreed ({outcome}).",
)
FINDINGS = {
    ("probation", "confirmed"): "Probation goals met; case reviews and documentation samples "
                                "were consistently sound. Level confirmed.",
    ("probation", "extended"): "Good progress, but escalation decisions still need the "
                               "supervisor's sign-off; probation extended.",
    ("maintenance", "sustained"): "Documentation sample, observed practice and incident "
                                  "involvement reviewed; practice sustained.",
    ("maintenance", "drift"): "Notes lag behind visits and one escalation was late; "
                              "targeted supports agreed.",
    ("maintenance", "lapsed"): "No maintenance evidence was provided within the interval; "
                               "authorisation lapsed.",
    ("recheck", "resolved"): "The supports worked: notes are timely and escalations "
                             "prompt. Drift resolved.",
    ("recheck", "unresolved"): "Drift persists after the supports; advanced work is "
                               "withdrawn pending a new packet.",
}
SUPPORTS = ("Refresher coaching on documentation", "Fortnightly observed practice",
            "Reduced high-risk authority until the re-check")


def _replace_once(text: str, old: str, new: str) -> str:
    if text.count(old) != 1:
        raise ValueError(f"expected {old!r} once in an example record")
    return text.replace(old, new)


@dataclass
class RuleSet:
    """Frameworks and ladders as committed at one point of the history."""

    files: dict[str, bytes]  # path -> content
    ladders: dict[str, Any] = field(default_factory=dict)  # id -> (path, Ladder)
    frameworks: dict[str, Any] = field(default_factory=dict)  # id -> (path, Framework)


def rule_sets() -> tuple[RuleSet, RuleSet]:
    """The example frameworks and ladders as first committed, and after the revision."""
    from promoctl.records.parsing import parse_record

    base = {f"{folder}/{p.name}": p.read_text(encoding="utf-8")
            for folder in ("frameworks", "ladders")
            for p in sorted((EXAMPLES / folder).glob("*.yaml"))}
    first = dict(base)
    for path, text in base.items():
        if path.startswith("frameworks/"):
            first[path] = re.sub(r'^version: "20\d\d\.(\d)"', r'version: "2021.\1"', text,
                                 count=1, flags=re.MULTILINE)
    revised = dict(first)
    revised["frameworks/community-services.yaml"] = _replace_once(
        first["frameworks/community-services.yaml"], 'version: "2021.1"', 'version: "2024.1"')
    ladder = _replace_once(first["ladders/support-work.yaml"], "observation: 40",
                           "observation: 45")
    revised["ladders/support-work.yaml"] = _replace_once(ladder, "documentation_audit: 30",
                                                         "documentation_audit: 25")
    sets = []
    for files in (first, revised):
        rules = RuleSet({p: t.encode() for p, t in files.items()})
        for path, raw in rules.files.items():
            source, problems = parse_record(raw, path)
            if source is None or problems:
                raise ValueError(f"{path}: {problems}")
            table = rules.frameworks if path.startswith("frameworks/") else rules.ladders
            table[source.record.id] = (path, source.record)
        sets.append(rules)
    return sets[0], sets[1]


@dataclass
class RecordOut:
    """A decision or review to commit: its file, and what its commit message says."""

    day: date
    order: int  # 0 decision, 1 review: on one day, decisions first
    path: str
    text: str
    message: str  # decide's or review's own commit message for this record alone
    author: Identity
    inputs: dict[str, str] = field(default_factory=dict)  # path -> sha256 read at HEAD


@dataclass
class Commit:
    day: date
    rank: int  # on one day: 0 import, 1 rule revision, 2 HR, 3 packets, 4 records
    author: Identity
    message: str
    files: list[tuple[str, bytes]] = field(default_factory=list)
    records: list[RecordOut] = field(default_factory=list)


@dataclass
class Plan:
    commits: list[Commit]
    decisions: int = 0
    superseding: int = 0
    overrides: int = 0
    outcomes: collections.Counter[str] = field(default_factory=collections.Counter)
    reviews: int = 0
    review_kinds: collections.Counter[str] = field(default_factory=collections.Counter)
    pending: int = 0
    promoted: int = 0


def _sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _rota(group: str, day: date) -> Identity:
    """The panel secretary on duty: a fortnightly rota per program."""
    people = SECRETARIES[group]
    return people[(day.toordinal() // 14) % len(people)]


def _who(identity: Identity) -> str:
    return f"{identity[0]} <{identity[1]}>"


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _split(items: Sequence[Any], parts: int) -> list[Sequence[Any]]:
    """``items`` in ``parts`` contiguous, nearly equal, non-empty chunks."""
    parts = max(1, min(parts, len(items)))
    n = len(items)
    return [items[i * n // parts:(i + 1) * n // parts] for i in range(parts)]


def promoted_person(text: str, level: str, since: date) -> str:
    """A person record after HR applies a promotion: new level, level_since updated."""
    lines = [line for line in text.splitlines() if not line.startswith("level_since: ")]
    lines = [f"level: {level}" if line.startswith("level: ") else line for line in lines]
    return "\n".join([*lines, f"level_since: {since.isoformat()}"]) + "\n"


class _Panels:
    """Panel members by ladder and role: small pools, so report's panel codes repeat."""

    def __init__(self, staff: Staff) -> None:
        self.staff = staff
        community = [staff.by_id[i].name for i in staff.leads["community"][:12]]
        professional = [staff.by_id[i].name for i in staff.leads["professional"][:12]]
        self.pools = {
            "support-work": {"operations-lead": community[:6] or ["Operations Lead"],
                             "quality": community[6:] or ["Quality Lead"],
                             "hr": list(HR_PARTNERS)},
            "consulting": {"practice-lead": professional[:6] or ["Practice Lead"],
                           "peer-reviewer": professional[6:] or ["Peer Reviewer"],
                           "hr": list(HR_PARTNERS)},
        }

    def pick(self, rng: random.Random, ladder: str, packet: Any, person: Any
             ) -> list[tuple[str, str]]:
        """A panel that keeps the separation of duties: nobody who is the candidate, their
        manager, the packet's supervisor or an assessor of its evidence."""
        ids = {person.id, person.manager, packet.supervisor,
               *(item.assessor for item in packet.evidence)}
        names = {self.staff.by_id[i].name for i in ids if i in self.staff.by_id}
        panel = []
        for role in PANEL_ROLES[ladder]:
            pool = [n for n in self.pools[ladder][role] if n not in names]
            panel.append((role, rng.choice(pool or [f"Independent {role} member"])))
        return panel

    def reviewer(self, rng: random.Random, ladder: str) -> str:
        return rng.choice(self.pools[ladder]["operations-lead" if ladder == "support-work"
                                              else "practice-lead"])


def _outcome(rng: random.Random, ready: bool) -> tuple[str, str | None]:
    """(outcome, override justification): panels mostly follow the evaluation."""
    r = rng.random()
    if ready:
        if r < 0.96:
            return "approved", None
        return ("deferred" if r < 0.99 else "declined"), rng.choice(OVERRIDE_HOLD)
    if r < 0.84:
        return "deferred", None
    if r < 0.97:
        return "declined", None
    return "approved", rng.choice(OVERRIDE_APPROVE)


def _reasons(rng: random.Random, ev: Any, outcome: str) -> list[str]:
    from promoctl.engine.evaluate import fmt

    if outcome == "approved":
        if ev.ready:
            return [f"Every gate and the training floor are met; composite {fmt(ev.composite)} "
                    f"against {ev.threshold}."]
        return ["The panel approves on the supervisor's evidence heard at the meeting."]
    if ev.reasons:
        picked = [r.message for r in ev.reasons[:2]]
        return picked if outcome == "deferred" else [rng.choice(DECLINE_REASONS), *picked[:1]]
    return ["The panel wants more evidence of sustained practice before promotion."]



def _decision_yaml(decision: Any) -> str:
    from promoctl.decisions import panel

    body = decision.model_dump(mode="python", exclude_none=True)
    body["evaluation"] = decision.evaluation
    text = panel.HEADER.format(id=decision.id) + _dump(body)
    return _same_as("decision", text, lambda: panel.to_yaml(decision))


class _Decider:
    """Builds decision records the way ``promoctl decide`` does (panel.prepare)."""

    def __init__(self, rules: tuple[RuleSet, RuleSet], panels: _Panels) -> None:
        self.rules = rules
        self.panels = panels
        self.ids: set[str] = set()

    def ruleset(self, day: date) -> RuleSet:
        return self.rules[1] if day >= REVISION_DAY else self.rules[0]

    def new_id(self, rng: random.Random, day: date, candidate: str) -> str:
        while True:
            record_id = f"{day.isoformat()}-{candidate}-{rng.getrandbits(24):06x}"
            if record_id not in self.ids:
                self.ids.add(record_id)
                return record_id

    def evaluate(self, packet: Any, person: Any, day: date) -> Any:
        from promoctl.engine.evaluate import evaluate

        rules = self.ruleset(day)
        _path, ladder = rules.ladders[packet.target.ladder]
        _fpath, framework = rules.frameworks[ladder.framework]
        return evaluate(packet, person, ladder, framework, None)  # decide: as-of = submitted

    def decision(self, rng: random.Random, ev: Any, out: PacketOut, person_raw: bytes,
                 day: date, outcome: str, reasons: list[str], override: str | None,
                 supersedes: str | None = None) -> tuple[RecordOut, Any]:
        from promoctl.decisions import panel as decisions
        from promoctl.engine import evaluation_view, plans
        from promoctl.records.models import Decision

        rules = self.ruleset(day)
        packet, ladder = ev.packet, ev.ladder
        ladder_path, _ = rules.ladders[ladder.id]
        framework_path, _ = rules.frameworks[ev.framework.id]
        panel = self.panels.pick(rng, ladder.id, packet, ev.person)
        assert not decisions.check_quorum(ladder, panel)
        level = ladder.level(packet.target.level)
        assert level is not None and level.promotion is not None
        effective = _next_month(day)
        secretary = _rota(out.group, day)
        against = (outcome == "approved") != ev.ready
        assert against == (override is not None)
        person_path = f"people/{out.group}/{packet.candidate}.yaml"
        shas = {out.path: _sha256(out.text.encode()), person_path: _sha256(person_raw),
                ladder_path: _sha256(rules.files[ladder_path]),
                framework_path: _sha256(rules.files[framework_path])}
        data: dict[str, Any] = {  # the same fields, in the same order, as panel.prepare
            "kind": "decision",
            "format": 1,
            "id": self.new_id(rng, day, packet.candidate),
            "candidate": packet.candidate,
            "target": packet.target.model_dump(),
            "outcome": outcome,
            "decided_on": day,
            "as_of": ev.as_of,
            "effective": effective if outcome == "approved" else None,
            "recorded_by": _who(secretary),
            "reasons": reasons,
            "panel": [{"name": name, "role": role} for role, name in panel],
            "override": {"evaluation_verdict": ev.verdict, "justification": override}
            if override else None,
            "supersedes": supersedes,
            "inputs": {
                "commit": PLACEHOLDER_COMMIT,
                "packet": {"id": packet.id, "path": out.path, "sha256": shas[out.path]},
                "person": {"id": packet.candidate, "path": person_path,
                           "sha256": shas[person_path]},
                "ladder": {"id": ladder.id, "path": ladder_path, "sha256": shas[ladder_path]},
                "framework": {"id": ev.framework.id, "path": framework_path,
                              "sha256": shas[framework_path], "version": ev.framework.version},
            },
            "evaluation": evaluation_view.as_json(ev, out.path),
        }
        if outcome == "approved":
            if level.probation is not None:
                data["probation_plan"] = plans.probation_plan(level.probation, effective)
        else:
            data["development_plan"] = plans.development_plan(ev, level.promotion, day)
        decision = Decision.model_validate(data)
        path = f"decisions/{day.year}/{decision.id}.yaml"
        record = RecordOut(day, 0, path, _decision_yaml(decision),
                           decisions.commit_message(decision, path), secretary, shas)
        return record, decision


def _review_chain(rng: random.Random, panels: _Panels, approval: Any, group: str,
                  ladder: Any) -> list[RecordOut]:
    """The reviews after one promotion, in order: probation, then (for levels with
    re-validation) maintenance every interval, re-checks after drift, until the end."""
    from promoctl.decisions import reviews
    from promoctl.records.models import Review

    level = ladder.level(approval.target.level)
    effective = approval.effective
    chain: list[dict[str, Any]] = []
    probation = level.probation.days if level.probation else 90
    day = effective + timedelta(days=probation + rng.randint(-5, 7))
    while day <= HISTORY_END:
        if rng.random() < 0.12 and len(chain) < 2:
            until = day + timedelta(days=45)
            chain.append({"type": "probation", "outcome": "extended", "date": day,
                          "extended_until": until})
            day = until + timedelta(days=rng.randint(-3, 3))
            continue
        chain.append({"type": "probation", "outcome": "confirmed", "date": day})
        break
    rules = level.revalidation
    base = effective
    while rules is not None:
        day = base + timedelta(days=rules.interval_days - rng.randint(0, 14))
        if day > HISTORY_END:
            break
        r = rng.random()
        if r < 0.85:
            chain.append({"type": "maintenance", "outcome": "sustained", "date": day,
                          "evidence": _maintenance_evidence(rng, panels, ladder.id, day)})
            base = day
            continue
        if r < 0.96:
            recheck_by = day + timedelta(days=rules.recheck_days)
            chain.append({"type": "maintenance", "outcome": "drift", "date": day,
                          "supports": rng.sample(SUPPORTS, rng.randint(1, 3)),
                          "recheck_by": recheck_by})
            later = recheck_by - timedelta(days=rng.randint(0, 7))
            if later > HISTORY_END:
                break
            resolved = rng.random() < 0.8
            chain.append({"type": "recheck", "outcome": "resolved" if resolved
                          else "unresolved", "date": later})
            if not resolved:
                break
            base = later
            continue
        chain.append({"type": "maintenance", "outcome": "lapsed", "date": day})
        break
    out = []
    for step in chain:
        day = step["date"]
        secretary = _rota(group, day)
        data = {"kind": "review", "format": 1,
                "id": f"{day.isoformat()}-{approval.candidate}-{step['type']}-"
                      f"{rng.getrandbits(24):06x}",
                "person": approval.candidate, "type": step["type"],
                "ladder": approval.target.ladder, "level": approval.target.level, "date": day,
                "reviewer": panels.reviewer(rng, ladder.id), "recorded_by": _who(secretary),
                "outcome": step["outcome"], "decision": approval.id,
                "findings": FINDINGS[step["type"], step["outcome"]],
                "evidence": step.get("evidence", []), "supports": step.get("supports", []),
                "recheck_by": step.get("recheck_by"),
                "extended_until": step.get("extended_until"), "supersedes": None}
        review = Review.model_validate(data)
        path = f"reviews/{day.year}/{review.id}.yaml"
        # promoctl's own writer: libyaml's emitter tags whole-number Decimals differently
        out.append(RecordOut(day, 1, path, reviews.to_yaml(review),
                             reviews.commit_message(review, path), secretary))
    return out


def _maintenance_evidence(rng: random.Random, panels: _Panels, ladder: str, day: date
                          ) -> list[dict[str, Any]]:
    """What a sustained maintenance review rests on (the level's ``requires`` gates)."""
    assessor = panels.reviewer(rng, ladder)
    return [
        {"id": "documentation-sample", "type": "documentation_audit",
         "date": day - timedelta(days=rng.randint(3, 30)), "title": "Documentation sample",
         "assessor": assessor, "competencies": ["decision-documentation"],
         "result": {"score": rng.choice((2, 3, 3, 4))}},
        {"id": "observed-session", "type": "observation",
         "date": day - timedelta(days=rng.randint(3, 40)), "title": "Observed practice session",
         "assessor": assessor, "competencies": ["risk-escalation", "support-planning"],
         "result": {"score": rng.choice((2, 3, 3, 4))}},
        {"id": "incident-involvement", "type": "incident_review",
         "date": day - timedelta(days=rng.randint(3, 60)), "title": "Incident involvement",
         "assessor": assessor, "competencies": ["incident-learning"],
         "result": {"score": rng.choice((2, 3, 3, 4))}},
    ]
