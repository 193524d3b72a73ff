"""Field-level differences between two versions of a record (not a line diff)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from promoctl.records import yamlio

_MISSING = object()


@dataclass(frozen=True)
class FieldChange:
    field: str  # dotted path, list items by index: evidence[3].result.score
    old: Any
    new: Any

    def __str__(self) -> str:
        if self.old is _MISSING:
            return f"{self.field}: added {_show(self.new)}"
        if self.new is _MISSING:
            return f"{self.field}: removed (was {_show(self.old)})"
        return f"{self.field}: {_show(self.old)} -> {_show(self.new)}"

    def as_json(self) -> dict[str, Any]:
        return {"field": self.field,
                "old": None if self.old is _MISSING else _plain(self.old),
                "new": None if self.new is _MISSING else _plain(self.new),
                "change": "added" if self.old is _MISSING else
                "removed" if self.new is _MISSING else "changed"}


def _plain(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return value
    if isinstance(value, Decimal):  # JSON numbers, as the YAML wrote them
        return int(value) if value == value.to_integral_value() else float(value)
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


def _show(value: Any) -> str:
    text = repr(_plain(value)) if not isinstance(value, (dict, list)) else \
        ("a mapping" if isinstance(value, dict) else f"a list of {len(value)}")
    return text if len(text) <= 80 else text[:77] + "..."


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(data, dict) and data:
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(data, list) and data:
        for i, value in enumerate(data):
            out.update(flatten(value, f"{prefix}[{i}]"))
    else:
        out[prefix] = data
    return out


def parse_loose(raw: bytes | None) -> Any:
    """A version's data for diffing; unparseable content is compared as text."""
    if raw is None:
        return None
    try:
        return yamlio.parse(raw, "-").data
    except yamlio.YamlProblems:
        return {"(unparseable)": raw.decode("utf-8", "replace")}


def diff(old: Any, new: Any) -> list[FieldChange]:
    a, b = flatten(old), flatten(new)
    changes = []
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key, _MISSING), b.get(key, _MISSING)
        if va != vb or type(va) is not type(vb):
            changes.append(FieldChange(key, va, vb))
    return changes
