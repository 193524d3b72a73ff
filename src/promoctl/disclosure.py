"""Statistical disclosure control for the governance report: which rows are shown."""

from __future__ import annotations

from collections import defaultdict

from promoctl.figures import Figure, Options, Row


def suppress(figure: Figure, minimum: int) -> None:
    """Blank rows covering fewer than ``minimum`` people; where rows add up to a total a
    reader can see, one suppressed row would be given away by subtraction, so the next
    smallest row goes too. Then forget who the rows cover."""
    for row in figure.rows:
        row.suppressed = len(row.people) < minimum
    if figure.partition:
        sets: dict[str | None, list[Row]] = defaultdict(list)
        for row in figure.rows:
            if not row.total:
                sets[row.series].append(row)
        for rows in sets.values():
            shown = [r for r in rows if not r.suppressed]
            if len(rows) - len(shown) == 1 and shown:
                min(shown, key=lambda r: (len(r.people), r.group)).suppressed = True
    for row in figure.rows:
        if row.suppressed:
            row.n, row.flag = None, None
            row.values = dict.fromkeys(row.values)
        row.people = set()



def privacy_note(options: Options) -> str:
    return (f"Groups covering fewer than {options.min_group} people are suppressed (and, where "
            "rows add up to a total, the next smallest group too). Panels and raters are "
            "shown as codes. No person is named.")
