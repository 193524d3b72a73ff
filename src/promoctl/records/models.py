"""The record kinds, as pydantic models. One YAML file holds one record.

Models check shape and local rules only; anything that needs another record (does this
competency exist? is this score on the framework's scale?) lives in ``checks``. The
field types are in ``fields``; promoctl.yaml and LMS mappings in ``settings``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    StringConstraints,
    field_validator,
)

from promoctl.base.limits import MAX_DAYS
from promoctl.records.fields import (
    DEFAULT_CATEGORIES,
    FormatVersion,
    Id,
    IsoDate,
    Number,
    PositiveNumber,
    Sha256,
    Strict,
    Text,
    floats,
)
from promoctl.records.settings import LmsMapping, RepositoryConfig

# ------------------------------------------------------------------------------ framework


class ScaleValue(Strict):
    value: int
    label: Text
    description: str | None = None


DEFAULT_SCALE = (
    ScaleValue.model_construct(value=1, label="Needs development"),
    ScaleValue.model_construct(value=2, label="Meets expectations"),
    ScaleValue.model_construct(value=3, label="Exceeds expectations"),
    ScaleValue.model_construct(value=4, label="Role model"),
)


class Competency(Strict):
    id: Id
    name: Text
    category: Text = "core"
    parent: Id | None = None
    description: str | None = None
    what_good_looks_like: str | None = None
    # Behavioural anchors keyed by scale value: what the behaviour looks like at that level.
    anchors: dict[int, Text] = Field(default_factory=dict)
    evidence_sources: list[Text] = Field(default_factory=list)


class Framework(Strict):
    kind: Literal["framework"]
    format: FormatVersion
    id: Id
    title: Text
    version: Text
    description: str | None = None
    scale: list[ScaleValue] = Field(default_factory=lambda: list(DEFAULT_SCALE))
    categories: list[Text] = Field(default_factory=lambda: list(DEFAULT_CATEGORIES))
    # Organisation-specific evidence types, in addition to BUILTIN_EVIDENCE_TYPES.
    evidence_types: list[Id] = Field(default_factory=list)
    competencies: list[Competency] = Field(min_length=1)

    @property
    def scale_values(self) -> list[int]:
        return [s.value for s in self.scale]

    def competency(self, competency_id: str) -> Competency | None:
        return next((c for c in self.competencies if c.id == competency_id), None)


# --------------------------------------------------------------------------------- ladder


class RubricLine(Strict):
    competency: Id
    weight: PositiveNumber
    minimum: Number | None = None


class LmsRule(Strict):
    """An LMS milestone scores ``score`` when every condition given here holds."""

    score: Number
    completed: bool | None = None
    min_assessment: Number | None = Field(default=None, ge=0, le=100)
    project_accepted: bool | None = None
    passed: bool | None = None


class Gate(Strict):
    id: Id
    title: str | None = None
    evidence: Id
    min_count: int = Field(default=1, ge=1)
    window_days: int | None = Field(default=None, ge=1, le=MAX_DAYS)
    min_score: Number | None = None
    min_assessment: Number | None = Field(default=None, ge=0, le=100)
    require_pass: bool = False
    distinct_assessors: int | None = Field(default=None, ge=1)
    covers_days: int | None = Field(default=None, ge=1, le=MAX_DAYS)
    # The item must list, in based_on, at least one item of this evidence type.
    supported_by: Id | None = None


class TrainingRequirement(Strict):
    course: Id
    title: Text
    valid_days: int | None = Field(default=None, ge=1, le=MAX_DAYS)


class Promotion(Strict):
    """What it takes to be promoted into a level."""

    rubric: list[RubricLine] = Field(min_length=1)
    composite_threshold: Number
    source_weights: dict[Id, PositiveNumber] = Field(default_factory=dict)
    lms_rules: list[LmsRule] = Field(default_factory=list)
    gates: list[Gate] = Field(default_factory=list)
    training: list[TrainingRequirement] = Field(default_factory=list)
    # A deferred or declined candidate's development plan is re-checked this many days
    # after the decision.
    recheck_days: int = Field(default=90, ge=1, le=MAX_DAYS)


class Probation(Strict):
    """The controlled period after promotion into a level (the seeds' 90-day transition)."""

    days: int = Field(default=90, ge=1, le=MAX_DAYS)
    case_review_cadence: Text = "weekly"
    documentation_sampling: str | None = None
    # Decisions that need the supervisor's approval until the probation review.
    escalation_boundaries: list[Text] = Field(default_factory=list)
    caseload_rules: list[Text] = Field(default_factory=list)


class Revalidation(Strict):
    """Competency maintenance for advanced levels: authorisation is time-limited."""

    interval_days: int = Field(default=182, ge=1, le=MAX_DAYS)  # the seeds' "every six months"
    # What a maintenance review must contain, as gates over the review's evidence.
    requires: list[Gate] = Field(default_factory=list)
    recheck_days: int = Field(default=60, ge=1, le=MAX_DAYS)  # after drift is found


class Level(Strict):
    id: Id
    title: Text
    description: str | None = None
    promotion: Promotion | None = None
    probation: Probation | None = None
    revalidation: Revalidation | None = None


class PanelRole(Strict):
    role: Id
    title: Text


class Panel(Strict):
    """The roles that must sit on a promotion panel for its decision to stand."""

    roles: list[PanelRole] = Field(min_length=1)


class Ladder(Strict):
    kind: Literal["ladder"]
    format: FormatVersion
    id: Id
    title: Text
    framework: Id
    description: str | None = None
    panel: Panel | None = None
    levels: list[Level] = Field(min_length=1)

    def level(self, level_id: str) -> Level | None:
        return next((lv for lv in self.levels if lv.id == level_id), None)

    def level_index(self, level_id: str) -> int:
        return next((i for i, lv in enumerate(self.levels) if lv.id == level_id), -1)


# --------------------------------------------------------------------------------- person


class Account(Strict):
    """A login on another system (an LMS, an LRS): xAPI's ``account`` of an actor."""

    home_page: Text  # the system's address, as xAPI's ``account.homePage``
    name: Text  # the login or the system's user number, as ``account.name``


class Person(Strict):
    kind: Literal["person"]
    format: FormatVersion
    id: Id
    name: Text
    email: str | None = None
    # Matches LMS and xAPI records to the person; each account belongs to one person.
    accounts: list[Account] = Field(default_factory=list)
    program: Text
    team: str | None = None
    ladder: Id
    level: Id
    manager: Id | None = None
    start_date: IsoDate
    level_since: IsoDate | None = None
    leaving_date: IsoDate | None = None


# --------------------------------------------------------------------------------- packet


class Period(Strict):
    start: IsoDate
    end: IsoDate


class RawScore(Strict):
    """A score as the LMS gave it, before any percentage (xAPI ``score.raw``)."""

    raw: Number
    min: Number | None = None
    max: Number | None = None


class Result(Strict):
    score: Number | None = None
    completed: bool | None = None
    assessment: Number | None = Field(default=None, ge=0, le=100)
    raw_score: RawScore | None = None
    project_accepted: bool | None = None
    passed: bool | None = None
    period: Period | None = None


class Artifact(Strict):
    path: Text
    sha256: Sha256


class EvidenceItem(Strict):
    id: Id
    type: Id
    date: IsoDate
    title: str | None = None
    assessor: str | None = None
    course: str | None = None
    competencies: list[Id] = Field(default_factory=list)
    result: Result = Result.model_construct()
    notes: str | None = None
    artifacts: list[Artifact] = Field(default_factory=list)
    based_on: list[Id] = Field(default_factory=list)


class Target(Strict):
    ladder: Id
    level: Id


class Packet(Strict):
    kind: Literal["packet"]
    format: FormatVersion
    id: Id
    candidate: Id
    target: Target
    submitted: IsoDate
    supervisor: Id | None = None
    cycle: str | None = None
    evidence: list[EvidenceItem] = Field(default_factory=list)


# ------------------------------------------------------------------------------- decision

OUTCOMES = ("approved", "deferred", "declined")
Sha1 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{40}([0-9a-f]{24})?$")]


class RecordRef(Strict):
    """A record as it was when the decision was made: where, which, and its content hash."""

    id: Id
    path: Text
    sha256: Sha256
    version: str | None = None


class Inputs(Strict):
    commit: Sha1
    packet: RecordRef
    person: RecordRef
    ladder: RecordRef
    framework: RecordRef


class PanelMember(Strict):
    name: Text
    role: Id
    person: Id | None = None  # the person record, when --panel named one by id


class Override(Strict):
    """The panel went against the evaluation; the justification is required."""

    evaluation_verdict: Text
    justification: Text


class PlanStep(Strict):
    id: Id
    kind: Literal["training", "gate", "competency", "composite"]
    subject: Text
    action: Text
    evidence: str | None = None
    count: int | None = None
    due: IsoDate


class DevelopmentPlan(Strict):
    recheck: IsoDate
    steps: list[PlanStep] = Field(min_length=1)


class ProbationPlan(Strict):
    start: IsoDate
    review_date: IsoDate
    case_review_cadence: Text
    documentation_sampling: str | None = None
    escalation_boundaries: list[Text] = Field(default_factory=list)
    caseload_rules: list[Text] = Field(default_factory=list)


def goes_against(outcome: str, verdict: object) -> bool:
    """An override: approving what is not READY, or holding back what is."""
    return (outcome == "approved") != (verdict == "READY")


class Decision(Strict):
    kind: Literal["decision"]
    format: FormatVersion
    id: Id
    candidate: Id
    target: Target
    outcome: Literal["approved", "deferred", "declined"]
    decided_on: IsoDate
    as_of: IsoDate
    effective: IsoDate | None = None
    recorded_by: Text
    reasons: list[Text] = Field(min_length=1)
    panel: list[PanelMember] = Field(min_length=1)
    override: Override | None = None
    supersedes: Id | None = None
    inputs: Inputs
    # The evaluation exactly as computed at decision time (evaluate's JSON shape), so the
    # record explains itself and an audit can replay it.
    evaluation: dict[str, Any]
    development_plan: DevelopmentPlan | None = None
    probation_plan: ProbationPlan | None = None

    @property
    def against_evaluation(self) -> bool:
        """Whether this is an override, derived from the outcome and the recorded verdict
        (which audit replays), never read from the ``override`` block."""
        return goes_against(self.outcome, self.evaluation.get("verdict"))

    @field_validator("evaluation", mode="after")
    @classmethod
    def _plain_numbers(cls, value: dict[str, Any]) -> dict[str, Any]:
        # Read back from YAML, 2.86 is a Decimal; in memory it was a float. One form, so
        # a snapshot compares equal to itself after a round trip.
        return floats(value)  # type: ignore[no-any-return]


# --------------------------------------------------------------------------------- review

REVIEW_OUTCOMES: dict[str, tuple[str, ...]] = {
    "probation": ("confirmed", "extended"),
    "maintenance": ("sustained", "drift", "lapsed"),
    "recheck": ("resolved", "unresolved"),
}


class Review(Strict):
    """A probation review, a competency-maintenance review, or a re-check after drift or
    a deferral. Immutable like decisions: a correction supersedes."""

    kind: Literal["review"]
    format: FormatVersion
    id: Id
    person: Id
    type: Literal["probation", "maintenance", "recheck"]
    ladder: Id
    level: Id
    date: IsoDate
    reviewer: Text
    recorded_by: str | None = None
    outcome: Literal["confirmed", "extended", "sustained", "drift", "lapsed", "resolved",
                     "unresolved"]
    decision: Id | None = None  # the decision this review follows up
    findings: Text
    evidence: list[EvidenceItem] = Field(default_factory=list)
    # drift: targeted supports (refresher coaching, observation, reduced high-risk
    # authority) and the re-check date; extended probation: its new end.
    supports: list[Text] = Field(default_factory=list)
    recheck_by: IsoDate | None = None
    extended_until: IsoDate | None = None
    supersedes: Id | None = None


Record = Framework | Ladder | Person | Packet | Decision | Review
KINDS: dict[str, type[Strict]] = {
    "review": Review,
    "decision": Decision,
    "repository": RepositoryConfig,
    "framework": Framework,
    "ladder": Ladder,
    "person": Person,
    "packet": Packet,
}
KINDS["lms-mapping"] = LmsMapping
