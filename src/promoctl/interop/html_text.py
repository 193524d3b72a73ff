"""HTML from other systems, as plain text with Markdown's structure (paragraphs, line
breaks, lists, tables), keeping what the layout meant: a superscript or subscript becomes
the Unicode character where one exists for each of its characters (``3<sup>-5</sup>`` is
3⁻⁵, ``H<sub>2</sub>O`` is H₂O), else a readable form (``5<sup>1/3</sup>`` is 5^(1/3),
``x<sub>i+1</sub>`` is x_(i+1); ``<sup>1/2</sup>/<sub>1/4</sub>``, a typeset fraction
with nothing to raise, is (1/2)/(1/4)); a table becomes a Markdown pipe table. ``to_html`` turns
such text back into HTML for the exporters.

(markdownify was measured against this converter on Common Core statements: it writes
superscripts as plain digits, so 3<sup>-5</sup> reads "3-5", keeps ``javascript:`` links
and script text unless told not to, escapes every ``*`` and ``_`` of ordinary prose, and
took six times as long; its tables are what this converter now writes.)

Nothing active survives: scripts, styles, frames and forms are dropped with their content,
every other tag is dropped and only its text kept, links keep their address only when it
is http, https or mailto, and images become their alt text (a Markdown image would make a
viewer fetch it). Control and bidirectional-override characters are removed everywhere.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

# Elements whose content is never text for a reader.
_DROP = frozenset({"script", "style", "template", "iframe", "object", "embed", "frame",
                   "frameset", "noscript", "svg", "math", "head", "title", "select",
                   "textarea", "button", "form", "applet", "audio", "video", "canvas"})
_BLOCK = frozenset({"p", "div", "section", "article", "header", "footer", "blockquote",
                    "ul", "ol", "table", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre",
                    "dl", "dt", "dd", "hr", "figure", "figcaption", "address", "main",
                    "aside", "nav"})
_VOID = frozenset({"br", "img", "hr", "input", "meta", "link", "wbr", "area", "base",
                   "col", "source", "track", "param", "keygen"})
_SAFE_LINK = re.compile(r"^(?:https?://|mailto:)[^\s<>\"'`]+$", re.IGNORECASE)
# C0/C1 controls except tab and newline; bidi overrides and isolates (Trojan Source).
_UNSAFE_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]")
_HTML_LIKE = re.compile(r"<\s*/?\s*[A-Za-z!]")
_ITEM = "\x01"  # marks where a list item starts (input never holds control characters)
_CELL = "\x02"  # separates the cells of a table row
# Minus signs: hyphen-minus, U+2212 and the en dash Common Core's statements use.
_SUPERSCRIPT = str.maketrans("0123456789+-=()ni\u2212\u2013", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱ⁻⁻")
_SUBSCRIPT = str.maketrans("0123456789+-=()aeoxhklmnpst\u2212\u2013",
                           "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₕₖₗₘₙₚₛₜ₋₋")
_SUP_CHARS = frozenset("0123456789+-=()ni\u2212\u2013")
_SUB_CHARS = frozenset("0123456789+-=()aeoxhklmnpst\u2212\u2013")


def clean_chars(text: str) -> str:
    """``text`` without control characters; CRLF and CR become LF."""
    return _UNSAFE_CHARS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def looks_like_html(text: str) -> bool:
    return bool(_HTML_LIKE.search(text))


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []  # finished paragraphs
        self.line: list[str] = []  # words of the current paragraph, "\n" for a break
        self.dropping: list[str] = []  # open elements whose content is discarded
        self.lists: list[str] = []  # "ul"/"ol" nesting
        self.counters: list[int] = []
        self.links: list[str | None] = []
        self.rows: list[list[str]] = []  # the current table's rows
        self.tables = 0  # open <table> elements

    # -- structure

    def _flush(self) -> None:
        text = "".join(self.line)
        lines = []
        for raw in text.split("\n"):
            line = raw.strip()
            indent = ""
            if line.startswith(_ITEM):  # a list item keeps the indent of its nesting
                line = line[1:]
                indent = line[:len(line) - len(line.lstrip(" "))]
            lines.append(indent + re.sub(r"[ \t]+", " ", line.strip()))
        paragraph = "\n".join(ln for ln in lines if ln.strip())
        if paragraph:
            self.blocks.append(paragraph)
        self.line = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.dropping:
            if tag in _DROP:
                self.dropping.append(tag)
            return
        if tag in _DROP:
            self.dropping.append(tag)
            return
        if tag == "br":
            self.line.append("\n")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.line.append(f" {alt} ")
        elif tag == "li":
            if self.line and "".join(self.line).strip():
                self.line.append("\n")
            indent = "  " * max(len(self.lists) - 1, 0)
            if self.lists and self.lists[-1] == "ol":
                self.counters[-1] += 1
                self.line.append(f"{_ITEM}{indent}{self.counters[-1]}. ")
            else:
                self.line.append(f"{_ITEM}{indent}- ")
        elif tag in ("ul", "ol"):
            if not self.lists:
                self._flush()
            self.lists.append(tag)
            self.counters.append(0)
        elif tag == "a":
            href = (dict(attrs).get("href") or "").strip()
            self.links.append(href if _SAFE_LINK.match(href) else None)
            self.line.append("\x00link-start\x00")
        elif tag in ("sup", "sub"):
            self.line.append(f"\x00{tag}\x00")
        elif tag == "table":
            if not self.tables:
                self._flush()
                self.rows = []
            self.tables += 1
        elif tag == "tr" and self.tables == 1:
            self.line = []
        elif tag in ("td", "th") and self.tables == 1:
            self.line.append(_CELL)
        elif tag in _BLOCK and not self.lists and not self.tables:
            self._flush()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.dropping:
            if tag == self.dropping[-1]:
                self.dropping.pop()
            return
        if tag in ("ul", "ol") and self.lists:
            self.lists.pop()
            self.counters.pop()
            if not self.lists:
                self._flush()
        elif tag == "a" and self.links:
            href = self.links.pop()
            self._close_link(href)
        elif tag in ("sup", "sub"):
            self._close_script(tag)
        elif tag == "tr" and self.tables == 1:
            cells = "".join(self.line).split(_CELL)[1:]
            self.rows.append([re.sub(r"\s+", " ", c).strip().replace("|", "\\|")
                              for c in cells])
            self.line = []
        elif tag == "table" and self.tables:
            self.tables -= 1
            if not self.tables:
                self._table()
        elif tag in _BLOCK and not self.lists and not self.tables:
            self._flush()

    def _table(self) -> None:
        rows = [r for r in self.rows if any(r)]
        self.rows = []
        if not rows:
            return
        width = max(len(r) for r in rows)
        lines = ["| " + " | ".join(r + [""] * (width - len(r))) + " |" for r in rows]
        lines.insert(1, "|" + " --- |" * width)
        self.blocks.append("\n".join(lines))

    def _close_link(self, href: str | None) -> None:
        marker = "\x00link-start\x00"
        text = "".join(self.line)
        start = text.rfind(marker)
        if start < 0:
            return
        label = text[start + len(marker):]
        shown = label.strip()
        if href and shown and shown != href and shown != href.removeprefix("mailto:"):
            label = f"{label} ({href})"
        elif href and not shown:
            label = href
        self.line = [text[:start] + label]

    def _close_script(self, tag: str) -> None:
        # 3<sup>-5</sup> is 3⁻⁵ and H<sub>2</sub>O H₂O, exactly; 5<sup>1/3</sup> has no
        # Unicode form and reads 5^(1/3), x<sub>i+1</sub> x_(i+1).
        marker = f"\x00{tag}\x00"
        text = "".join(self.line)
        start = text.rfind(marker)
        if start < 0:
            return
        inner = text[start + len(marker):].strip()
        exact, table, mark = (_SUP_CHARS, _SUPERSCRIPT, "^") if tag == "sup" \
            else (_SUB_CHARS, _SUBSCRIPT, "_")
        before = text[:start]
        # With nothing to raise or lower (<sup>1/2</sup>/<sub>1/4</sub>, a typeset
        # fraction), a script is only a group: (1/2)/(1/4).
        based = bool(before) and (before[-1].isalnum() or before[-1] in ")]")
        if inner and set(inner) <= exact and based:
            inner = inner.translate(table)
        elif inner and based:
            inner = f"{mark}{inner}" if inner.isalnum() and len(inner) == 1 \
                else f"{mark}({inner})"
        elif inner and not inner.isalnum():
            inner = f"({inner})"
        self.line = [before + inner]

    def handle_data(self, data: str) -> None:
        if not self.dropping:  # character references can make control characters
            self.line.append(clean_chars(data).replace("\n", " ").replace("\t", " "))

    def text(self) -> str:
        if self.tables:  # an unclosed table
            self.tables = 0
            self._table()
        self._flush()
        out = "\n\n".join(self.blocks)
        return re.sub("\x00[a-z-]+\x00", "", out)


def to_text(html: str) -> str:
    """Readable text from an HTML fragment; empty when nothing readable is left."""
    parser = _Converter()
    parser.feed(clean_chars(html))
    parser.close()
    return clean_chars(parser.text()).strip()


def clean(text: str, *, html: bool | None = None) -> str:
    """Text from another system: HTML converted when it is (or looks like) HTML, else
    kept with its line structure, in every case without control characters."""
    if html or (html is None and looks_like_html(text)):
        return to_text(text)
    lines = [ln.rstrip() for ln in clean_chars(text).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _inline_html(text: str) -> str:
    out = html.escape(text, quote=False)
    # ^(1/3) and _(i+1), the readable forms of scripts with no Unicode form, go back
    out = re.sub(r"\^\(([^()]*)\)", r"<sup>\1</sup>", out)
    return re.sub(r"(?<=\w)_\(([^()]*)\)", r"<sub>\1</sub>", out)


def to_html(text: str | None) -> str:
    """HTML for text in this module's Markdown: paragraphs, line breaks, ``- `` and
    ``1. `` lists (one level) and pipe tables."""
    if not text:
        return ""
    out = []
    for block in (b for b in text.strip().split("\n\n") if b.strip()):
        lines = block.split("\n")
        if all(re.match(r"\s*- ", ln) for ln in lines):
            out.append("<ul>" + "".join(f"<li>{_inline_html(ln.strip()[2:])}</li>"
                                        for ln in lines) + "</ul>")
        elif all(re.match(r"\s*\d+\. ", ln) for ln in lines):
            out.append("<ol>" + "".join(
                f"<li>{_inline_html(ln.strip().split('. ', 1)[1])}</li>" for ln in lines)
                + "</ol>")
        elif len(lines) > 1 and all(ln.startswith("|") and ln.endswith("|") for ln in lines) \
                and re.fullmatch(r"\|( --- \|)+", lines[1]):
            rows = [re.split(r"(?<!\\)\|", ln[1:-1]) for ln in lines]
            cells = [[c.strip().replace("\\|", "|") for c in r] for r in rows]
            head = "".join(f"<th>{_inline_html(c)}</th>" for c in cells[0])
            body = "".join("<tr>" + "".join(f"<td>{_inline_html(c)}</td>" for c in r)
                           + "</tr>" for r in cells[2:])
            out.append(f"<table><tr>{head}</tr>{body}</table>")
        else:
            out.append("<p>" + "<br>".join(_inline_html(ln) for ln in lines) + "</p>")
    return "".join(out)


def one_line(text: str) -> str:
    """A name: HTML removed, whitespace collapsed to single spaces."""
    return re.sub(r"\s+", " ", clean(text)).strip()
