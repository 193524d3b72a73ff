"""Values from records made safe for where they are shown: spreadsheets, Markdown,
terminals. Records are data; none of them may become a formula, markup or a control
sequence on the way out."""

from __future__ import annotations

import csv
import re
import sys
from collections.abc import Iterable
from typing import Any, Protocol

from promoctl.base.errors import CONTROL_CHARS, NOT_UTF8_CHARS, shown

# OWASP's CSV injection rule: a cell a spreadsheet would evaluate starts with one of these.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """``value``, with a text a spreadsheet would run as a formula prefixed by ``'``."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


class _Writer(Protocol):
    def writerow(self, row: Iterable[Any], /) -> Any: ...


class CsvWriter:
    """``csv.writer`` whose text cells are neutralised (numbers stay numbers)."""

    def __init__(self, stream: Any) -> None:
        self._writer: _Writer = csv.writer(stream, lineterminator="\n")

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([csv_cell(value) for value in row])


# Control characters but tab and newline, DEL, C1, bidirectional overrides, and bytes that
# were not UTF-8: what multi-line text may not carry to a terminal or a document.
_UNPRINTABLE = re.compile(f"[{CONTROL_CHARS}{NOT_UTF8_CHARS}]")
# What rich itself writes to a terminal for colours and styles (SGR), and nothing else.
_STYLE = re.compile("(\x1b\\[[0-9;]*m)")  # captured: split keeps them


_NOT_UTF8 = re.compile("[\udc80-\udcff]")


def json_text(text: str) -> str:
    """JSON text whose strings may hold bytes a file name had that were not UTF-8 (as
    surrogates): each becomes the escape ``\\xNN`` as text, so the output is UTF-8."""
    try:
        text.encode()  # in C: ten times faster than the search on a 100 MB document
    except UnicodeEncodeError:
        pass  # a surrogate somewhere
    else:
        return text
    if not _NOT_UTF8.search(text):
        return text
    return _NOT_UTF8.sub(lambda m: f"\\\\x{ord(m.group()) - 0xDC00:02x}", text)


def printable(text: str) -> str:
    """``text`` with its lines kept and every other control character shown escaped."""
    if not _UNPRINTABLE.search(text):
        return text
    return _UNPRINTABLE.sub(lambda m: shown(m.group()), text)


def markdown_text(value: Any) -> Any:
    """A value for a Markdown document: HTML's ``<`` and ``>`` escaped (a name's
    ``<script>`` stays text wherever the Markdown is rendered) and control characters
    shown escaped. Other values are left as they are."""
    if not isinstance(value, str):
        return value
    return printable(value).replace("<", "&lt;").replace(">", "&gt;")


def html_value(value: Any) -> Any:
    """A value for an HTML document, before autoescaping: control characters escaped."""
    return printable(value) if isinstance(value, str) else value


class TerminalStream:
    """A text stream for rich's console that lets through the colour codes rich writes
    and shows any other control sequence escaped, so nothing from a record (ESC [2J, an
    OSC title) reaches the terminal raw, whichever command prints it."""

    def __init__(self, name: str) -> None:
        self._name = name  # "stdout" or "stderr", looked up at each use, as rich does

    def write(self, text: str) -> int:
        if _UNPRINTABLE.search(text):
            text = "".join(printable(part) if i % 2 == 0 else part
                           for i, part in enumerate(_STYLE.split(text)))
        return int(getattr(sys, self._name).write(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(getattr(sys, self._name), name)
