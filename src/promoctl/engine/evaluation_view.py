"""The documented shapes of an evaluation: JSON (stable, for machines) and Markdown.

Every view of ``evaluate`` renders from a ``Shown``: the evaluation's format-1 JSON text
and the few display values JSON does not carry (titles, decimals as written, the short
reasons of summary tables). A fresh evaluation is turned into one by ``shown``; the
evaluation cache stores and returns exactly that, so a cached run and a fresh one go
through the same rendering code and print the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

from promoctl.base.escape import markdown_text
from promoctl.engine.evaluate import Evaluation, fmt

JSON_FORMAT = 1


def number(value: Fraction | Decimal | None) -> float | int | None:
    """A JSON number rounded to 2 decimals; the exact value goes beside it as a string."""
    if value is None:
        return None
    rounded = float(fmt(value))
    return int(rounded) if rounded.is_integer() else rounded


def exact(value: Fraction | Decimal | None) -> str | None:
    if value is None:
        return None
    f = Fraction(value)
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def as_json(ev: Evaluation, path: str) -> dict[str, Any]:
    packet = ev.packet
    return {
        "packet": packet.id,
        "path": path,
        "candidate": {"id": ev.person.id, "name": ev.person.name,
                      "program": ev.person.program,
                      "current_level": ev.current_level},
        "target": {"ladder": ev.ladder.id, "level": packet.target.level},
        "framework": {"id": ev.framework.id, "version": ev.framework.version},
        "submitted": packet.submitted.isoformat(),
        "as_of": ev.as_of.isoformat(),
        "verdict": ev.verdict,
        "ready": ev.ready,
        "training": [
            {"course": t.course, "title": t.title, "met": t.met,
             "completed_on": t.completed_on.isoformat() if t.completed_on else None,
             "expires_on": t.expires_on.isoformat() if t.expires_on else None,
             "detail": t.detail}
            for t in ev.training
        ],
        "gates": [
            {"id": g.gate.id, "title": g.gate.title, "met": g.met, "required": g.required,
             "qualifying": list(g.qualifying),
             "excluded": [{"item": item, "why": why} for item, why in g.excluded],
             "distinct_assessors": g.distinct_assessors}
            for g in ev.gates
        ],
        "competencies": [
            {"id": c.id, "name": c.name, "weight": number(c.weight),
             "minimum": number(c.minimum), "score": number(c.score),
             "score_exact": exact(c.score), "status": c.status, "met": c.met,
             "sources": [{"type": s.type, "score": number(s.score),
                          "score_exact": exact(s.score), "weight": number(s.weight),
                          "method": s.method, "items": list(s.items)} for s in c.sources],
             "unscored": [{"item": item, "why": why} for item, why in c.unscored]}
            for c in ev.competencies
        ],
        "composite": number(ev.composite),
        "composite_exact": exact(ev.composite),
        "threshold": number(ev.threshold),
        "reasons": [{"kind": r.kind, "subject": r.subject, "message": r.message}
                    for r in ev.reasons],
        "warnings": list(ev.warnings),
        "ignored_evidence": list(ev.ignored),
    }




class Shown:
    """One evaluation as the views need it, from a fresh ``Evaluation`` or the cache.

    ``text`` is ``as_json``'s dict dumped as the JSON output does (two-space indent, not
    ASCII-escaped); ``nested`` is the same text as it sits in the output's list of
    evaluations (each line but the first indented four more spaces), UTF-8 with any
    surrogate kept (``surrogatepass``): the form the cache keeps, so a remembered run
    only joins bytes. Either is given, the other made when asked for (JSON strings hold
    no raw newline, so the indentation is told apart). ``extras`` are the display values
    JSON lacks, given as a dict or as its JSON text. Each is parsed only when a view
    needs it: the JSON output needs neither, the summary tables only ``extras``.
    """

    __slots__ = ("_data", "_extras", "_nested", "_text", "path", "ready")

    def __init__(self, path: str, text: str | bytes, extras: dict[str, Any] | str,
                 ready: bool | None = None) -> None:
        self.path = path
        self._text = text if isinstance(text, str) else None
        self._nested = text if isinstance(text, bytes) else None
        self._extras = extras
        self._data: dict[str, Any] | None = None
        self.ready = bool(self.extras["ready"]) if ready is None else ready

    @property
    def text(self) -> str:
        if self._text is None:
            assert self._nested is not None
            self._text = self._nested.decode("utf-8", "surrogatepass").replace("\n    ", "\n")
        return self._text

    @property
    def nested(self) -> bytes:
        if self._nested is None:
            self._nested = self.text.replace("\n", "\n    ").encode("utf-8", "surrogatepass")
        return self._nested

    @property
    def data(self) -> dict[str, Any]:
        if self._data is None:
            self._data = json.loads(self.text)
        return self._data

    @property
    def extras(self) -> dict[str, Any]:
        if isinstance(self._extras, str):
            found = json.loads(self._extras)
            if not isinstance(found, dict):
                raise ValueError("an evaluation's display values are not a JSON object")
            self._extras = found
        return self._extras

    def readable(self) -> bool:
        """Whether the display values parse (a damaged cache row's may not): parsed
        once, here, for the views that need them."""
        try:
            return isinstance(self.extras, dict)
        except (ValueError, RecursionError):
            return False

    @property
    def extras_text(self) -> str:
        if isinstance(self._extras, str):
            return self._extras
        return json.dumps(self._extras, ensure_ascii=False, separators=(",", ":"))

    @property
    def summary(self) -> dict[str, Any]:
        return self.extras["summary"]  # type: ignore[no-any-return]


def dump(data: Any) -> str:
    """The JSON output's encoding (``evaluate --format json`` and the cache's texts)."""
    return json.dumps(data, indent=2, ensure_ascii=False)


def shown(ev: Evaluation, path: str) -> Shown:
    level = ev.ladder.level(ev.packet.target.level)
    extras = {
        "ready": ev.ready,
        "summary": {"name": ev.person.name, "id": ev.person.id, "program": ev.person.program,
                    "ladder": ev.ladder.id, "level": ev.packet.target.level,
                    "verdict": ev.verdict, "composite": fmt(ev.composite),
                    "threshold": str(ev.threshold), "reasons": [r.short for r in ev.reasons]},
        "ladder_title": ev.ladder.title,
        "level_title": level.title if level else ev.packet.target.level,
        "composite_met": ev.composite is not None and ev.composite >= ev.threshold,
        # Decimals as the ladder writes them ("0.30"), and scores rounded as people see them.
        "competencies": [{"weight": str(c.weight),
                          "minimum": None if c.minimum is None else str(c.minimum),
                          "score": fmt(c.score),
                          "sources": [{"score": fmt(s.score), "weight": str(s.weight)}
                                      for s in c.sources]}
                         for c in ev.competencies],
    }
    return Shown(path, dump(as_json(ev, path)), extras)


_SLOT = "\0evaluations\0"


def json_document(as_of: str | None, evaluations: Sequence[Shown],
                  not_evaluated: list[dict[str, Any]], problems: list[dict[str, Any]]) -> str:
    """``evaluate --format json``'s document, byte for byte what ``dump`` gives for it,
    with each evaluation's text nested as it is rather than decoded and encoded again
    (that would be most of a cached run's time)."""
    return b"".join(_document(as_of, evaluations, not_evaluated, problems)).decode(
        "utf-8", "surrogatepass")


def json_output(as_of: str | None, evaluations: Sequence[Shown],
                not_evaluated: list[dict[str, Any]], problems: list[dict[str, Any]]
                ) -> list[bytes] | None:
    """``json_document`` and a newline, encoded as UTF-8, in pieces to write one after
    the other: the evaluations' kept bytes, neither joined nor decoded. None when it is
    not plain UTF-8 (a file name's bytes kept as surrogates, which the printed text
    shows escaped: print ``json_document`` then)."""
    pieces = [*_document(as_of, evaluations, not_evaluated, problems), b"\n"]
    for piece in pieces:
        if not piece.isascii():
            try:
                piece.decode("utf-8")  # in C: a tenth of what the text's checks cost
            except UnicodeDecodeError:
                return None
    return pieces


def _document(as_of: str | None, evaluations: Sequence[Shown],
              not_evaluated: list[dict[str, Any]], problems: list[dict[str, Any]]
              ) -> list[bytes]:
    outer = dump({"format": JSON_FORMAT, "as_of": as_of, "evaluations": _SLOT,
                  "not_evaluated": not_evaluated, "problems": problems})
    # The slot is the first string after "format" and "as_of": split at that one.
    head, _slot, tail = outer.partition(json.dumps(_SLOT))
    pieces = [head.encode("utf-8", "surrogatepass")]
    # The evaluations list sits at depth 1, its items at depth 2 (four spaces).
    for i, shown_one in enumerate(evaluations):
        pieces += (b",\n    " if i else b"[\n    ", shown_one.nested)
    pieces += (b"\n  ]" if evaluations else b"[]", tail.encode("utf-8", "surrogatepass"))
    return pieces


def _yes(flag: bool) -> str:
    return "met" if flag else "**not met**"


def not_counted(d: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(competency name, evidence id, why) for evidence naming a competency that its
    score leaves out."""
    return [(c["name"], u["item"], u["why"]) for c in d["competencies"]
            for u in c.get("unscored", [])]


def to_markdown(s: Shown) -> str:
    d, x = s.data, s.extras
    p = d["candidate"]
    lines = [
        f"# {p['name']} ({p['id']}): {d['verdict']}",
        "",
        f"- Packet: `{s.path}` ({d['packet']}), submitted {d['submitted']}",
        f"- Target: {x['ladder_title']} / {x['level_title']} (from {p['current_level']}), "
        f"framework {d['framework']['id']} {d['framework']['version']}",
        f"- As of: {d['as_of']}",
        f"- Composite: {x['summary']['composite']} against threshold "
        f"{x['summary']['threshold']}",
        "",
    ]
    if d["training"]:
        lines += ["## Mandatory training", "", "| Training | Result | Detail |", "|---|---|---|"]
        lines += [f"| {t['title']} | {_yes(t['met'])} | {t['detail']} |"
                  for t in d["training"]]
        lines.append("")
    if d["gates"]:
        lines += ["## Readiness gates", "", "| Gate | Result | Required | Qualifying | "
                  "Not counted |", "|---|---|---|---|---|"]
        for g in d["gates"]:
            excluded = "; ".join(f"{e['item']}: {e['why']}" for e in g["excluded"]) or "-"
            lines.append(f"| {g['title'] or g['id']} | {_yes(g['met'])} | {g['required']} | "
                         f"{', '.join(g['qualifying']) or '-'} | {excluded} |")
        lines.append("")
    lines += ["## Competencies", "", "| Competency | Weight | Minimum | Score | Sources | "
              "Result |", "|---|---|---|---|---|---|"]
    for c, shown_c in zip(d["competencies"], x["competencies"], strict=True):
        sources = "; ".join(f"{src['type']} {sx['score']} ({src['method']}, weight "
                            f"{sx['weight']})"
                            for src, sx in zip(c["sources"], shown_c["sources"], strict=True)
                            ) or "none"
        result = "insufficient evidence" if c["score"] is None else _yes(c["met"])
        minimum = "-" if shown_c["minimum"] is None else shown_c["minimum"]
        lines.append(f"| {c['name']} | {shown_c['weight']} | {minimum} | {shown_c['score']} | "
                     f"{sources} | {result} |")
    lines.append("")
    dropped = not_counted(d)
    if dropped:
        lines += ["## Not counted in the scores", "", "| Competency | Evidence | Why |",
                  "|---|---|---|"]
        lines += [f"| {name} | {item} | {why} |" for name, item, why in dropped] + [""]
    if d["reasons"]:
        lines += ["## Reasons", ""] + [f"- {r['message']}" for r in d["reasons"]] + [""]
    if d["warnings"]:
        lines += ["## Warnings", ""] + [f"- {w}" for w in d["warnings"]] + [""]
    return "\n".join(map(markdown_text, lines))


def summary_markdown(rows: Sequence[Shown]) -> str:
    lines = ["| Candidate | Program | Target | Verdict | Composite | Threshold | Reasons |",
             "|---|---|---|---|---|---|---|"]
    for s in rows:
        m = s.summary
        reasons = "; ".join(m["reasons"]) or "-"
        lines.append(f"| {m['name']} ({m['id']}) | {m['program']} | "
                     f"{m['ladder']}/{m['level']} | {m['verdict']} | "
                     f"{m['composite']} | {m['threshold']} | {reasons} |")
    return "\n".join(map(markdown_text, lines)) + "\n"
