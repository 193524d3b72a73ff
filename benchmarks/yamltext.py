"""YAML text as promoctl writes it: the generator writes records as text (fast), and
checks a sample of them against promoctl's own writers as it goes."""

from __future__ import annotations

import collections
import functools
import json
import re
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import yaml

from .sizes import WIDTH

_TAG_LIKE = re.compile(  # plain scalars promoctl's loader would not read as text
    r"^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE"
    r"|[-+]?(?:0|[1-9][0-9]*)(?:\.[0-9]+(?:[eE][-+]?[0-9]+)?|[eE][-+]?[0-9]+)?)$"
)
_LEADING = set("-?:,[]{}#&*!|>'\"%@` ")
_FLOW_CHARS = set(",[]{}")


def scalar(value: Any, *, flow: bool = False) -> str:
    """One value as YAML: plain when that reads back as the same value, else quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    plain = (
        text
        and text[0] not in _LEADING
        and not text.endswith((" ", ":"))
        and ": " not in text
        and " #" not in text
        and "\n" not in text
        and not _TAG_LIKE.match(text)
        and not (flow and _FLOW_CHARS & set(text))
    )
    return text if plain else json.dumps(text, ensure_ascii=False)


def flow_list(indent: str, key: str, values: Sequence[Any]) -> list[str]:
    """``key: [a, b, c]``, wrapped under the bracket past the line width like the examples."""
    head = f"{indent}{key}: ["
    lines: list[str] = []
    line = head
    for i, value in enumerate(values):
        piece = scalar(value, flow=True) + ("]" if i == len(values) - 1 else ",")
        if line != head and len(line) + 1 + len(piece) > WIDTH:
            lines.append(line)
            line = " " * len(head) + piece
        else:
            line += piece if line == head else " " + piece
    lines.append(line)
    return lines


def flow_map(mapping: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {scalar(v, flow=True)}" for k, v in mapping.items()) + "}"


def text_block(indent: str, key: str, text: str) -> list[str]:
    """Short text on one line; longer text as a folded block (``>``), wrapped."""
    if len(indent) + len(key) + 2 + len(text) <= WIDTH:
        return [f"{indent}{key}: {scalar(text)}"]
    inner = indent + "  "
    lines = [f"{indent}{key}: >"]
    line = ""
    for word in text.split():
        if line and len(inner) + len(line) + 1 + len(word) > WIDTH - 4:
            lines.append(inner + line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(inner + line)
    return lines


def render_item(item: dict[str, Any]) -> list[str]:
    """One evidence item as a block mapping in a ``- `` list entry."""
    lines: list[str] = []
    for key, value in item.items():
        indent = "  - " if not lines else "    "
        if isinstance(value, list):
            lines.extend(flow_list(indent, key, value))
        elif isinstance(value, dict):
            nested = {k: v for k, v in value.items() if isinstance(v, dict)}
            if nested:  # e.g. result with a period: block mapping holding flow mappings
                lines.append(f"{indent}{key}:")
                for k, v in value.items():
                    shown = flow_map(v) if isinstance(v, dict) else scalar(v)
                    lines.append(f"{indent}  {k}: {shown}")
            else:
                lines.append(f"{indent}{key}: {flow_map(value)}")
        elif key == "notes":
            lines.extend(text_block(indent, key, value))
        else:
            lines.append(f"{indent}{key}: {scalar(value)}")
    return lines


@functools.cache
def _c_dumper() -> Any:
    """promoctl's record writer (yamlio.dump) on libyaml's emitter: the same text, ~4x
    faster. Checked against promoctl's own to_yaml as records are made (_same_as)."""
    from promoctl.records import yamlio

    class Dumper(yaml.CSafeDumper):  # type: ignore[misc, name-defined]
        def ignore_aliases(self, data: Any) -> bool:
            return True

    Dumper.add_representer(Decimal, yamlio._represent_decimal)
    Dumper.add_representer(date, yamlio._represent_date)
    return Dumper


def _dump(data: Any) -> str:
    if not getattr(yaml, "__with_libyaml__", False):
        from promoctl.records import yamlio

        return yamlio.dump(data)
    return str(yaml.dump(data, Dumper=_c_dumper(), sort_keys=False, allow_unicode=True,
                         default_flow_style=False, width=100, indent=2))


_checked: collections.Counter[str] = collections.Counter()


def _same_as(kind: str, text: str, reference: Callable[[], str]) -> str:
    """``text``, after checking it is what promoctl writes (the first records of each kind,
    then every 250th): a change to decide's or review's writer fails loudly here."""
    _checked[kind] += 1
    if _checked[kind] <= 25 or _checked[kind] % 250 == 0:
        expected = reference()
        if text != expected:
            raise RuntimeError(f"the benchmark's fast {kind} writer no longer matches "
                               "promoctl's; update _dump and _decision_yaml")
    return text
