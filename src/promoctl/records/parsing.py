"""One file in, one validated record (or its located problems) out."""

from __future__ import annotations

import difflib
import types
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from promoctl.base.errors import QUOTE_CHARS, Problem, quote
from promoctl.base.fsutil import Unreadable, read_regular
from promoctl.records import yamlio
from promoctl.records.fields import Strict
from promoctl.records.models import KINDS


class Source:
    """A validated record, and where its values stand in its file.

    Both are loaded lazily when the source knows its file: a record served from the
    validation cache is parsed only if a check needs it, and positions only when a
    problem must be located. ``release`` drops them again to bound memory.
    """

    __slots__ = ("_doc", "_record", "display", "kind", "meta", "path", "record_id")

    def __init__(self, display: str, doc: yamlio.Document | None, record: Any,
                 path: Path | None = None, kind: str | None = None,
                 record_id: str | None = None, meta: dict[str, Any] | None = None) -> None:
        self.display = display
        self._doc = doc
        self._record = record
        self.path = path
        self.kind = kind if kind is not None else getattr(record, "kind", None)
        self.record_id = record_id if record_id is not None else getattr(record, "id", None)
        self.meta = meta if meta is not None else (meta_of(record) if record else {})

    @property
    def record(self) -> Any:
        if self._record is None:
            doc = self._parse()
            self._record = KINDS[self.kind or doc.data["kind"]].model_validate(doc.data)
            self._forget_data(doc)
        return self._record

    @property
    def doc(self) -> yamlio.Document:
        if self._doc is None:
            self._forget_data(self._parse())
        assert self._doc is not None
        return self._doc

    def _parse(self) -> yamlio.Document:
        if self.path is None:
            raise RuntimeError(f"{self.display}: no file to load the record from")
        try:
            raw = read_regular(self.path, limit=yamlio.MAX_FRAMEWORK_BYTES)
        except Unreadable as exc:  # it was read before: changed since
            raise yamlio.YamlProblems([Problem(self.display, 0, 0, f"file {exc}")]) from None
        self._doc = yamlio.parse(raw, self.display)
        return self._doc

    @staticmethod
    def _forget_data(doc: yamlio.Document) -> None:
        doc.data = None
        doc.plain_text.clear()

    def release(self) -> None:
        """Forget the parsed record and positions; they reload from the file if needed."""
        if self.path is not None:
            self._record = None
            self._doc = None

    def problem(self, loc: yamlio.Path_, message: str, *, key: bool = False) -> Problem:
        line, col = self.doc.locate(loc, key=key)
        return Problem(self.display, line, col, message)


def meta_of(record: Any) -> dict[str, Any]:
    """The few fields repository-wide checks need, so they never parse a whole record."""
    kind = getattr(record, "kind", None)
    if kind == "decision":
        # What level history needs of it (``levels.Move``), dates as text for JSON.
        before = record.evaluation.get("candidate")
        before = before.get("current_level") if isinstance(before, dict) else None
        return {"packet": record.inputs.packet.id, "supersedes": record.supersedes,
                "candidate": record.candidate, "outcome": record.outcome,
                "ladder": record.target.ladder, "level": record.target.level,
                "effective": (record.effective or record.decided_on).isoformat(),
                "decided_on": record.decided_on.isoformat(),
                "from_level": before if isinstance(before, str) else None,
                "framework": record.inputs.framework.id,
                "panel": sorted({m.person for m in record.panel if m.person})}
    if kind == "review":
        return {"supersedes": record.supersedes, "person": record.person,
                "ladder": record.ladder, "decision": record.decision}
    if kind == "packet":  # what ``dependents`` and the separation-of-duties checks ask
        return {"ladder": record.target.ladder, "candidate": record.candidate,
                "supervisor": record.supervisor,
                "assessors": sorted({(e.assessor, e.id) for e in record.evidence
                                     if e.assessor})}
    if kind == "person":
        meta: dict[str, Any] = {
            "ladder": record.ladder, "level": record.level, "name": record.name,
            "manager": record.manager, "start_date": record.start_date.isoformat(),
            "level_since": record.level_since.isoformat() if record.level_since else None}
        if record.accounts:  # their uniqueness is checked across people
            meta["accounts"] = [[a.home_page, a.name] for a in record.accounts]
        return meta
    return {}


def parse_record(raw: bytes, display: str, path: Path | None = None
                 ) -> tuple[Source | None, list[Problem]]:
    """Parse and validate one file; ``path`` lets the source reload itself later."""
    try:
        # A duplicate key leaves the first value in place: the rest is checked as well.
        doc = yamlio.parse(raw, display, keep_going=True)
    except yamlio.YamlProblems as exc:
        return None, exc.problems
    data, soft = doc.data, doc.problems
    if not isinstance(data, dict):
        line, col = doc.locate(())
        return None, [*soft, Problem(display, line, col, "expected a mapping with a 'kind' "
                                     f"field at the top of the file, found {_describe(data)}")]
    kind = data.get("kind")
    model = KINDS.get(kind) if isinstance(kind, str) else None
    if model is None:
        line, col = doc.locate(("kind",)) if "kind" in data else doc.locate(())
        known = ", ".join(sorted(KINDS))
        what = f"unknown kind {quote(kind)}" if "kind" in data else "missing 'kind'"
        hint = did_you_mean(str(kind), list(KINDS)) if isinstance(kind, str) else ""
        return None, [*soft, Problem(display, line, col,
                                     f"{what}{hint}; expected one of: {known}")]
    try:
        record = model.model_validate(data)
    except ValidationError as exc:
        return None, sorted([*soft, *(_problem_from_error(doc, model, err)
                                      for err in exc.errors())],
                            key=lambda p: (p.line, p.column))
    if soft:  # otherwise valid; a record with a duplicate key is not used all the same
        return None, soft
    # Only positions are needed from here on (to locate cross-record problems).
    doc.data = None
    doc.plain_text.clear()
    return Source(display, doc, record, path), []


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, list):
        return "a list"
    return f"the value {quote(value)}"


def did_you_mean(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _problem_from_error(doc: yamlio.Document, model: type[Strict], err: ErrorDetails) -> Problem:
    loc = tuple(err["loc"])
    kind = err["type"]
    where = _dotted(loc)
    if kind == "extra_forbidden":
        field = str(loc[-1])
        allowed = _fields_at(model, loc[:-1])
        hint = did_you_mean(field, allowed) if allowed else ""
        line, col = doc.locate(loc, key=True)
        parent = _dotted(loc[:-1]) if loc[:-1] else "the record"
        return Problem(doc.path, line, col, f"unknown field {field!r} in {parent}{hint}")
    if loc and loc[-1] == "[key]":  # pydantic's marker for a bad dict key
        loc = loc[:-1]
        line, col = doc.locate(loc, key=True)
    else:
        line, col = doc.locate(loc)
    if kind == "missing":
        return Problem(doc.path, line, col, f"missing required field {where!r}")
    message = err["msg"].removeprefix("Value error, ")
    typed = doc.plain_text.get(loc)
    found = _show(err["input"], typed)
    ctx = err.get("ctx") or {}
    if kind == "string_type" and typed is not None:
        message = (f"expected text, but YAML reads the unquoted {quote(typed)} as a "
                   f"{_yaml_type(err['input'])}; put it in quotes: '{typed}'")
    elif kind in _IN_USERS_TERMS:
        try:
            message = _IN_USERS_TERMS[kind].format(found=found, **ctx)
        except (KeyError, IndexError):  # a pydantic without this context: its own words
            message += f" (found {found})"
        if kind == "literal_error" and isinstance(err["input"], str):
            options = [o.strip("'") for o in str(ctx.get("expected", "")).replace(
                " or ", ", ").split(", ")]
            message += did_you_mean(err["input"], options)
        pattern = str(ctx.get("pattern"))
        if kind == "string_pattern_mismatch" and "0-9a-f" in pattern:
            digits = "64" if pattern.endswith("{64}$") else "40 (or 64)"
            message = (f"{found} is not a hash: expected {digits} lowercase hexadecimal "
                       "digits (0-9, a-f)")
    elif (kind == "value_error" and typed is not None and "got " not in message) \
            or kind == "tuple_type":
        message += f" (found {found})"
    return Problem(doc.path, line, col, f"{where}: {message}")


# pydantic's words for each kind of error, in promoctl's: what was expected, what was
# found, and what to write instead.
_IN_USERS_TERMS = {
    "bool_type": "expected true or false, found {found} (promoctl reads yes, no, on and off "
                 "as text; write true or false)",
    "string_type": "expected text, found {found}",
    "dict_type": "expected a mapping of fields, found {found}",
    "model_type": "expected a mapping of fields, found {found}",
    "list_type": "expected a list, found {found}",
    "int_type": "expected a whole number, found {found}",
    "int_from_float": "expected a whole number, found {found}",
    "int_parsing": "expected a whole number, found {found}",
    "literal_error": "expected {expected}, found {found}",
    "greater_than": "must be more than {gt}, found {found}",
    "greater_than_equal": "must be {ge} or more, found {found}",
    "less_than": "must be less than {lt}, found {found}",
    "less_than_equal": "must be {le} or less, found {found}",
    "string_too_short": "must not be empty",
    "string_too_long": "is too long: at most {max_length} characters",
    "string_pattern_mismatch": "{found} is not a valid id: use letters, digits, '.', '_' "
                               "and '-', starting with a letter or digit",
    "too_short": "needs at least {min_length} item(s)",
}


def _yaml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def _show(value: Any, typed: str | None) -> str:
    if typed is not None:
        return quote(typed)[1:-1] if len(typed) > QUOTE_CHARS else typed
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return quote(value)


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model found at ``loc``, for "did you mean" hints."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            if not isinstance(part, str) or part not in current.model_fields:
                return []
            current = current.model_fields[part].annotation
        elif get_origin(current) in (list, tuple, dict):
            args = [a for a in get_args(current) if a is not Ellipsis]
            current = args[-1] if args else None
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            annotation = members[0] if len(members) == 1 else annotation
            if len(members) != 1:
                return annotation
        else:
            return annotation
