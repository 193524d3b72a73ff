"""The record kinds, as pydantic models. One YAML file holds one record.

Models check shape and local rules only; anything that needs another record (does this
competency exist? is this score on the framework's scale?) lives in ``checks``.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)

from promoctl.base.errors import CONTROL_CHARS, quote, shown
from promoctl.base.limits import MAX_DATE, MAX_DAYS, MIN_DATE

FORMAT = 1
MAX_EXPONENT = 15
DEFAULT_CATEGORIES = ("core", "functional", "leadership")
# Evidence types every repository knows; a framework may declare more.
BUILTIN_EVIDENCE_TYPES = (
    "training",
    "observation",
    "documentation_audit",
    "escalation_summary",
    "supervisor_attestation",
    "lms_milestone",
    "manager_rating",
    "peer_feedback",
    "case_review",
    "incident_review",
    "artifact",
)


def _to_date(value: Any) -> Any:
    # Dates are written as YYYY-MM-DD; the YAML layer leaves them as text on purpose so
    # an impossible date (2024-02-30) is a located error here, not a crash in PyYAML.
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        if len(value) != 10 or value[4] != "-" or value[7] != "-":
            raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}")
        try:
            parsed = date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"{quote(value)} is not a real date ({exc})") from None
        if not MIN_DATE <= parsed <= MAX_DATE:
            raise ValueError(f"{value} is out of range: dates in records are from "
                             f"{MIN_DATE} to {MAX_DATE}")
        return parsed
    raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}")


def _floats(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_floats(v) for v in value]
    return value


def _to_decimal(value: Any) -> Any:
    # Exact arithmetic needs Decimal; booleans are ints in Python and must not pass.
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {str(value).lower()}")
    if not isinstance(value, (int, Decimal)):
        raise ValueError(f"expected a number, got {quote(value)}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"expected a finite number, got {value}")
    number = Decimal(value)
    # Exact arithmetic on 1e400000000 would take forever; no weight or score needs it.
    if number and not -MAX_EXPONENT <= number.adjusted() <= MAX_EXPONENT:
        raise ValueError(f"number {value} is out of range (magnitude 1e-{MAX_EXPONENT} to "
                         f"1e{MAX_EXPONENT})")
    return number


def _format_version(value: Any) -> Any:
    # Literal[1] alone would accept true and 1.0, which equal 1 in Python.
    if type(value) is not int:
        raise ValueError("must be the whole number 1")
    return value


FormatVersion = Annotated[Literal[1], BeforeValidator(_format_version)]
IsoDate = Annotated[date, BeforeValidator(_to_date), Field(json_schema_extra={"format": "date"})]
Number = Annotated[Decimal, BeforeValidator(_to_decimal), WithJsonSchema({"type": "number"})]
PositiveNumber = Annotated[Decimal, BeforeValidator(_to_decimal), Field(gt=0),
                           WithJsonSchema({"type": "number", "exclusiveMinimum": 0})]
Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=100)]
# Tab and newline aside, control characters (ESC [2J, an OSC title), DEL, C1 and the
# bidirectional overrides would act on a terminal or hide text: no name or title needs one.
_CONTROL = re.compile(f"[{CONTROL_CHARS}]")


def _plain_text(value: str) -> str:
    bad = _CONTROL.search(value)
    if bad is not None:
        what = "a NUL character (\\x00)" if bad.group() == "\0" \
            else f"the control character {shown(bad.group())}"
        raise ValueError(f"contains {what} at character {bad.start() + 1}; names, titles "
                         "and other text in records may not hold control characters "
                         "(remove it)")
    return value


Text = Annotated[str, StringConstraints(min_length=1), AfterValidator(_plain_text)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class Strict(BaseModel):
    # defer_build: validators are built on first use, not at import (start-up time)
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


# ------------------------------------------------------------------------------ framework


class ScaleValue(Strict):
    value: int
    label: Text
    description: str | None = None


DEFAULT_SCALE = (
    ScaleValue(value=1, label="Needs development"),
    ScaleValue(value=2, label="Meets expectations"),
    ScaleValue(value=3, label="Exceeds expectations"),
    ScaleValue(value=4, label="Role model"),
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
    result: Result = Result()
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


class SeparationOfDuties(Strict):
    """Who may not sit on a candidate's panel (each on unless turned off), and whether
    a candidate may assess their own evidence. People are matched by id, or by name."""

    candidate: bool = True  # the candidate is not on their own panel
    manager: bool = True  # nor is the candidate's manager
    supervisor: bool = True  # nor the packet's supervisor
    assessors: bool = True  # nor anyone who assessed or rated evidence in the packet
    self_assessment: bool = True  # no evidence in a packet is assessed by its candidate


class Signing(Strict):
    """Decision and review commits signed with git's own SSH or GPG signing, verified by
    ``audit`` against ``allowed_signers`` (an ssh allowed-signers file in the repository)."""

    required: bool = False
    allowed_signers: Text = ".promoctl/allowed_signers"


class Policy(Strict):
    separation_of_duties: SeparationOfDuties = SeparationOfDuties()
    signing: Signing = Signing()
class LetterSettings(Strict):
    """How decision letters greet and close. ``{name}``, ``{first_name}`` (salutation)
    and ``{contact}`` (questions, appeal) are replaced; nothing else is."""

    salutation: Text = "Dear {first_name},"
    signatory: Text = "Human Resources"
    signatory_title: str | None = None
    contact: Text = "Human Resources"
    contact_details: str | None = None  # an email address or a telephone number
    questions: Text = ("If you have any questions about this decision, please speak to your "
                       "line manager or contact {contact}.")
    appeal: Text = ("If you believe the decision is wrong, you may ask for it to be "
                    "reviewed: write to {contact}, saying which part of the decision you "
                    "disagree with and why, and they will explain the procedure and its "
                    "timescales.")

    @field_validator("salutation", mode="after")
    @classmethod
    def _salutation_placeholders(cls, value: str) -> str:
        return _known_placeholders(value, ("name", "first_name"))

    @field_validator("questions", "appeal", mode="after")
    @classmethod
    def _contact_placeholders(cls, value: str) -> str:
        return _known_placeholders(value, ("contact",))


def _known_placeholders(text: str, known: tuple[str, ...]) -> str:
    """A placeholder letters do not fill would reach the candidate as written."""
    unknown = [m for m in re.findall(r"\{([^{}]*)\}", text) if m not in known]
    if unknown:
        raise ValueError(f"unknown placeholder(s) {', '.join('{' + u + '}' for u in unknown)}"
                         f"; this text may use {', '.join('{' + k + '}' for k in known)}")
    return text


class RepositoryConfig(Strict):
    """``promoctl.yaml`` at the root: marks the repository and holds its settings."""

    kind: Literal["repository"]
    format: FormatVersion
    name: Text
    description: str | None = None
    policy: Policy = Policy()
    letters: LetterSettings = LetterSettings()


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
        return _floats(value)  # type: ignore[no-any-return]


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


# --------------------------------------------------------------------------- lms-mapping


class LmsColumns(Strict):
    """The header of each column in an LMS CSV export, when it is not one promoctl knows."""

    person: str | None = None  # a promoctl person id
    email: str | None = None
    course: str | None = None
    date: str | None = None  # the completion date
    grade: str | None = None  # a percentage, or points as "17/20"
    status: str | None = None
    project: str | None = None  # project accepted: yes/no


class LmsCourse(Strict):
    """One LMS course and the milestone it stands for in promotion evidence."""

    course: Text  # the course's name or id as the LMS writes it
    aliases: list[Text] = Field(default_factory=list)  # other names or ids (an xAPI IRI)
    milestone: Text
    competencies: list[Id] = Field(default_factory=list)


class XapiVerb(Strict):
    """What an xAPI verb says about a course, for a verb promoctl does not know."""

    id: Text  # the verb's IRI
    completed: bool | None = None
    passed: bool | None = None


class LmsMapping(Strict):
    """Which LMS course is which milestone, for ``promoctl import lms-csv`` and ``xapi``."""

    kind: Literal["lms-mapping"]
    format: FormatVersion
    id: Id
    title: str | None = None
    framework: Id
    columns: LmsColumns = LmsColumns()
    # strptime format of the CSV's dates when they are not YYYY-MM-DD (e.g. "%d/%m/%Y")
    date_format: str | None = None
    # More xAPI verbs to import, besides those promoctl knows (see ``interop.xapi``).
    verbs: list[XapiVerb] = Field(default_factory=list)
    courses: list[LmsCourse] = Field(min_length=1)


KINDS["lms-mapping"] = LmsMapping
