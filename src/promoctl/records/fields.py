"""The field types and validators every record model is built from: dates, exact
numbers, ids, plain text, and ``Strict``, the base of every model."""

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
)

from promoctl.base.errors import CONTROL_CHARS, quote, shown
from promoctl.base.limits import MAX_DATE, MIN_DATE

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


def floats(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [floats(v) for v in value]
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
