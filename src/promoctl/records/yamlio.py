"""The one place promoctl reads and writes YAML.

Reading is stricter than PyYAML's defaults, on purpose:
- plain scalars follow a narrow YAML 1.2 core schema: ``no``/``on``/``yes`` stay text,
  dates and times stay text (the models parse dates), leading-zero numbers stay text,
  and numbers with a fraction or exponent become ``Decimal`` so weights stay exact;
- duplicate keys, aliases, merge keys and any explicit tag outside the core schema
  (``!!python/...``, ``!!timestamp``, ...) are problems, not silent behaviour;
- every value keeps its line and column, so later checks can point at it.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from promoctl.base.errors import Problem, quote

try:  # libyaml is ~8x faster at parsing; fall back to the pure parser without it
    from yaml.cyaml import CParser as _FastParser  # type: ignore[attr-defined]

    HAVE_LIBYAML = True
except ImportError:  # pragma: no cover - depends on the wheel
    HAVE_LIBYAML = False

MAX_FILE_BYTES = 1024 * 1024
# A framework holds a whole standards set: 10,000 competencies imported from CASE take
# about 5 MiB. Framework records may be as large as an import may read (16 MiB).
MAX_FRAMEWORK_BYTES = 16 * 1024 * 1024
_FRAMEWORK_KIND = re.compile(rb"^kind:[ \t]*(['\"]?)framework\1[ \t]*(?:#[^\n]*)?\r?$",
                             re.MULTILINE)
MAX_DEPTH = 64
MAX_DIGITS = 1000
# libyaml's composer recurses in C and crashes the interpreter at ~50,000 levels; a run of
# this many nesting indicators on one line, or this many flow brackets, triggers an exact
# (event-based) depth check before composing.
_SUSPICIOUS_FLOW = 256
_INLINE_NESTING = re.compile(r"(?:[-?][ \t]+){" + str(MAX_DEPTH) + ",}")
_TWO_INDICATORS = re.compile(r"[-?][ \t]+[-?][ \t]")
_INDICATOR = re.compile(r"[-?][ \t]+")
_FLOW_SPECIAL = re.compile(r"""[\[\]{}'"#\\]""")

Path_ = tuple[str | int, ...]

_TAG = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = (_TAG + t for t in ("str", "int", "float", "bool", "null"))
MAP, SEQ = _TAG + "map", _TAG + "seq"


class _Resolver(yaml.resolver.BaseResolver):
    """YAML 1.2 core schema for plain scalars, minus the parts that surprise people."""


_Resolver.add_implicit_resolver(NULL, re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
_Resolver.add_implicit_resolver(BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                list("tTfF"))
_Resolver.add_implicit_resolver(INT, re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"),
                                list("-+0123456789"))
_Resolver.add_implicit_resolver(
    FLOAT,
    re.compile(r"^[-+]?(?:0|[1-9][0-9]*)(?:\.[0-9]+(?:[eE][-+]?[0-9]+)?|[eE][-+]?[0-9]+)$"),
    list("-+0123456789"),
)

# Per first character, as PyYAML files them; resolved below without its generic machinery.
_IMPLICIT: dict[str, list[tuple[str, re.Pattern[str]]]] = {
    first: list(resolvers) for first, resolvers in _Resolver.yaml_implicit_resolvers.items()
    if first is not None
}


class _FastResolver(_Resolver):
    """The same answers as ``_Resolver``, in one dictionary lookup per scalar: libyaml's
    composer calls these three methods for every node (a fifth of the parse time)."""

    def resolve(self, kind: type[Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            if implicit[0]:
                for tag, regexp in _IMPLICIT.get(value[:1], ()):
                    if regexp.match(value):
                        return tag
            return STR
        return SEQ if kind is SequenceNode else MAP

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass  # only path resolvers need the path, and there are none

    def ascend_resolver(self) -> None:
        pass


class _PureLoader(  # the fallback, and what the benchmark compares libyaml against
    yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer,
    _Resolver,
):
    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _Resolver.__init__(self)


if HAVE_LIBYAML:

    class _Loader(_FastParser, _FastResolver):
        def __init__(self, stream: str) -> None:
            _FastParser.__init__(self, stream)
            _FastResolver.__init__(self)

else:  # pragma: no cover
    _Loader = _PureLoader  # type: ignore[misc,assignment]


@dataclass
class Document:
    """A parsed YAML file: plain data plus where each value and key stands (1-based)."""

    path: str
    data: Any
    marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    # Source text of plain scalars that YAML read as something other than text, so an
    # error can say "`no` ... put it in quotes" with what the user actually typed.
    plain_text: dict[Path_, str] = field(default_factory=dict)
    # Problems that leave the data well defined (a duplicate key: the first value is
    # kept), returned here by ``parse(..., keep_going=True)`` so the rest is checked too.
    problems: list[Problem] = field(default_factory=list)

    def locate(self, loc: Path_, *, key: bool = False) -> tuple[int, int]:
        """The nearest known position for ``loc``, walking up to its parents."""
        if key and loc in self.key_marks:
            return self.key_marks[loc]
        while loc:
            if loc in self.marks:
                return self.marks[loc]
            loc = loc[:-1]
        return self.marks.get((), (1, 1))


class YamlProblems(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems[0].message if problems else "")
        self.problems = problems


def _line_col_of_offset(text: str | bytes, offset: int) -> tuple[int, int]:
    nl: Any = b"\n" if isinstance(text, bytes) else "\n"
    line = text.count(nl, 0, offset) + 1
    start = text.rfind(nl, 0, offset) + 1
    return line, offset - start + 1


def too_large(size: int, limit: int = MAX_FILE_BYTES) -> str:
    which = "framework records are" if limit == MAX_FRAMEWORK_BYTES else "records are"
    return (f"file is {size:,} bytes; {which} limited to {limit:,} bytes "
            f"({limit // 1024 // 1024} MiB)")


def size_limit(raw: bytes) -> int:
    """The most bytes this record may have: more for a framework (its ``kind:`` line)."""
    if len(raw) > MAX_FILE_BYTES and _FRAMEWORK_KIND.search(raw):
        return MAX_FRAMEWORK_BYTES
    return MAX_FILE_BYTES


def decode(raw: bytes, path: str) -> str:
    limit = size_limit(raw)
    if len(raw) > limit:
        raise YamlProblems([Problem(path, 0, 0, too_large(len(raw), limit))])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, _ = _line_col_of_offset(raw, exc.start)
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        col = len(raw[line_start:exc.start].decode("utf-8", "replace")) + 1
        message = f"file is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        raise YamlProblems([Problem(path, line, col, message)]) from None


def _check_depth(text: str, path: str) -> None:
    """Exact nesting depth from parse events, without building anything."""
    loader = _Loader(text)
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
                    message = f"nesting is deeper than {MAX_DEPTH} levels"
                    raise YamlProblems([Problem(path, line, col, message)])
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    finally:
        loader.dispose()


def _in_users_terms(what: str, text: str, line: int, col: int) -> str:
    """libyaml's message for a syntax error, said in terms of what to change."""
    lines = text.splitlines()
    here = lines[line - 1] if 0 < line <= len(lines) else ""
    indent = here[:len(here) - len(here.lstrip(" \t"))]
    if "\t" in indent or "tab" in what:
        return ("a tab in the indentation: YAML indents with spaces only; replace the tab "
                "with spaces")
    if "mapping values are not allowed" in what and ": " in here[len(indent):col - 1]:
        return ("a ': ' inside a value: YAML reads it as a second field; put the value in "
                "quotes")
    if "expected key" in what and here.lstrip(" ").startswith("- "):
        return ("a list item ('- ') where a field was expected: indent it under the field "
                "whose list it belongs to")
    if "but found another document" in what:
        return "a second YAML document ('---'): a record file holds one record"
    if "found undefined alias" in what:
        return ("YAML aliases (*name) are not allowed in records; write the value out")
    if any(clue in what for clue in ("expected '-' indicator", "expected key",
                                     "expected <block end>", "mapping values are not allowed")):
        return ("this line's indentation does not match the lines above it: the fields of "
                "one record or item line up, the '-' of one list's items line up, and a "
                "nested value is indented more than its field")
    if "found unexpected end of stream" in what or "found unexpected end" in what:
        return "the file ends inside a quoted text or a [ ] or { } list; close it"
    if "found character" in what and "that cannot start any token" in what:
        return (f"invalid YAML: {what}; a value starting with this character must be "
                "quoted")
    return f"invalid YAML: {what}"


def _nests_inline(text: str) -> bool:
    # The full pattern costs a tenth of a parse; two indicators in a row, which it needs,
    # are a third as costly to look for and almost never there.
    return _TWO_INDICATORS.search(text) is not None and _INLINE_NESTING.search(text) is not None


def _deep_prefix(text: str) -> str:
    """The text up to just past its first run of nesting that is surely too deep.

    PyYAML's own limits (libyaml stops at 1,000 flow levels since PyYAML 6.0.4, reading
    ahead up to 1,024 characters) would otherwise answer before the event check, in their
    own words and at their own column. Cut there, no parser ever sees the deep part, and the
    event check on the prefix finds the exact place under every PyYAML. Brackets inside
    quotes and comments are skipped; any other false alarm only costs a second look.
    """
    cut = len(text)
    depth = 0
    quote = ""
    special = _FLOW_SPECIAL.search(text)
    while special and special.start() < cut:
        i, c = special.start(), special.group()
        after = i + 1
        if quote:
            if (c == "\\" and quote == '"') or (text.startswith("''", i) and quote == "'"):
                after = i + 2  # an escape inside the quotes, not their end
            elif c == quote:
                quote = ""
        elif c in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                cut = i + 1
        elif c in "]}":
            depth = max(depth - 1, 0)
        elif c in "'\"" and (i == 0 or text[i - 1] in " \t\n[{,:-?"):
            quote = c
        elif c == "#" and (i == 0 or text[i - 1] in " \t\n"):
            end = text.find("\n", i)
            after = len(text) if end < 0 else end
        special = _FLOW_SPECIAL.search(text, after)
    run = _INLINE_NESTING.search(text, 0, cut)
    if run:
        indicators = _INDICATOR.finditer(text, run.start(), run.end())
        for n, indicator in enumerate(indicators, start=1):
            if n > MAX_DEPTH + 1:
                cut = min(cut, indicator.end())
                break
    return text[:cut]


def parse(raw: bytes, path: str, *, pure: bool = False, keep_going: bool = False) -> Document:
    """Parse one record file. Raises ``YamlProblems`` with every problem found; with
    ``keep_going``, problems after which the data is still well defined (duplicate keys)
    are left in ``Document.problems`` instead."""
    text = decode(raw, path)
    try:
        if text.count("[") + text.count("{") > _SUSPICIOUS_FLOW or _nests_inline(text):
            prefix = _deep_prefix(text)
            if len(prefix) < len(text):
                # The prefix ends mid-structure; that end is not the file's problem.
                with contextlib.suppress(yaml.MarkedYAMLError):
                    _check_depth(prefix, path)
            _check_depth(text, path)
        loader = (_PureLoader if pure else _Loader)(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        what = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise YamlProblems([Problem(path, line, col, _in_users_terms(what, text, line, col))]) \
            from None
    except yaml.reader.ReaderError as exc:
        # libyaml counts bytes, the pure reader characters: find the character ourselves
        bad = yaml.reader.Reader.NON_PRINTABLE.search(text)
        line, col = _line_col_of_offset(text, bad.start() if bad else exc.position)
        raise YamlProblems([Problem(path, line, col, f"invalid YAML: {exc.reason} "
                                    f"(character {exc.character!r})")]) from None
    except yaml.YAMLError as exc:
        raise YamlProblems([Problem(path, 0, 0, f"invalid YAML: {exc}")]) from None
    except RecursionError:
        message = f"nesting is deeper than {MAX_DEPTH} levels"
        raise YamlProblems([Problem(path, 0, 0, message)]) from None
    if node is None:
        raise YamlProblems([Problem(path, 0, 0, "file is empty; expected a record with a "
                                    "'kind' field")])
    return _Builder(path).build(node, keep_going)


class _Builder:
    """Turns composed nodes into plain data, recording positions as it goes."""

    def __init__(self, path: str) -> None:
        self.doc = Document(path=path, data=None)
        self.problems: list[Problem] = []
        self.seen: set[int] = set()
        self.reported: set[int] = set()
        self.soft: list[Problem] = []

    def build(self, node: Node, keep_going: bool = False) -> Document:
        self.doc.data = self._node(node, (), 0)
        if self.problems or (self.soft and not keep_going):
            raise YamlProblems(sorted(self.problems + self.soft,
                                      key=lambda p: (p.line, p.column)))
        self.doc.problems = self.soft
        return self.doc

    def _problem(self, node: Node, message: str) -> None:
        m = node.start_mark
        self.problems.append(Problem(self.doc.path, m.line + 1, m.column + 1, message))

    def _node(self, node: Node, loc: Path_, depth: int) -> Any:
        # depth counts enclosing containers; a container here would be level depth + 1
        if depth >= MAX_DEPTH and not isinstance(node, ScalarNode):
            self._problem(node, f"nesting is deeper than {MAX_DEPTH} levels")
            return None
        if id(node) in self.seen:
            # Refusing aliases outright keeps "billion laughs" bounded: nothing is expanded,
            # and each anchor is reported once however often it is referenced.
            if id(node) not in self.reported:
                self.reported.add(id(node))
                self._problem(node, "YAML aliases (*name) are not allowed in records; the "
                              "anchor defined here is referenced again")
            return None
        self.seen.add(id(node))
        self.doc.marks[loc] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, MappingNode):
            return self._mapping(node, loc, depth)
        if isinstance(node, SequenceNode):
            if node.tag != SEQ:
                self._problem(node, f"tag {_short(node.tag)} is not allowed in records")
            return [self._node(item, (*loc, i), depth + 1) for i, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        return self._scalar(node, loc)

    def _mapping(self, node: MappingNode, loc: Path_, depth: int) -> dict[Any, Any]:
        if node.tag != MAP:
            self._problem(node, f"tag {_short(node.tag)} is not allowed in records")
        result: dict[Any, Any] = {}
        first_seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag not in (STR, INT):
                self._problem(key_node, "mapping keys must be plain text or whole numbers")
                continue
            key = self._scalar(key_node, None)
            if key_node.value == "<<" and not key_node.style:
                self._problem(key_node, "YAML merge keys (<<) are not allowed in records")
                continue
            if key in result:
                m = key_node.start_mark
                self.soft.append(Problem(self.doc.path, m.line + 1, m.column + 1,
                                         f"duplicate key {quote(key)} (first given on line "
                                         f"{first_seen[key]}); YAML would silently keep "
                                         "only the last"))
                continue
            first_seen[key] = key_node.start_mark.line + 1
            self.doc.key_marks[(*loc, key)] = (key_node.start_mark.line + 1,
                                              key_node.start_mark.column + 1)
            result[key] = self._node(value_node, (*loc, key), depth + 1)
        return result

    def _scalar(self, node: ScalarNode, loc: Path_ | None) -> Any:
        tag, value = node.tag, node.value
        try:
            if tag == STR:
                return value
            # libyaml marks plain scalars with style '', the pure parser with None
            if loc is not None and not node.style:
                self.doc.plain_text[loc] = value
            if tag == INT:
                if len(value) > MAX_DIGITS:  # Python refuses to convert such a number
                    self._problem(node, f"the number {quote(value)} is out of range: it has "
                                  f"{len(value.lstrip('+-')):,} digits (a number in a record "
                                  f"has at most {MAX_DIGITS:,}); if it is text, quote it")
                    return None
                return int(value)
            if tag == FLOAT:
                return Decimal(value)
            if tag == BOOL:
                return value.lower() == "true"
            if tag == NULL:
                return None
        except (ValueError, ArithmeticError):
            self._problem(node, f"{quote(value)} is not a valid {_short(tag)}")
            return None
        self._problem(node, f"tag {_short(tag)} is not allowed in records")
        return None


def _short(tag: str | None) -> str:
    tag = tag or "?"
    return "!!" + tag[len(_TAG):] if tag.startswith(_TAG) else tag


# ---------------------------------------------------------------------------------- writing


class _Dumper(yaml.SafeDumper):
    """Stable output for records promoctl writes: insertion order, 2-space indent."""

    def ignore_aliases(self, data: Any) -> bool:
        return True  # the reader refuses aliases, so the writer never makes them


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.ScalarNode:
    if value == value.to_integral_value():  # 3, not !!float '3'
        return dumper.represent_int(int(value))
    return dumper.represent_scalar(FLOAT, str(value))


def _represent_date(dumper: yaml.SafeDumper, value: date) -> yaml.ScalarNode:
    # Tagged as a timestamp so it is written plain (2026-10-20, not '2026-10-20'); the
    # reader keeps it as text and the models parse it.
    return dumper.represent_scalar(_TAG + "timestamp", value.isoformat())


_Dumper.add_representer(Decimal, _represent_decimal)
_Dumper.add_representer(date, _represent_date)


def dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False, width=100, indent=2)
