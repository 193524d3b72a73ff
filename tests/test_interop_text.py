"""HTML from other systems as text that keeps its meaning, and back to HTML."""

from __future__ import annotations

import pytest

from promoctl.interop.html_text import clean, to_html


@pytest.mark.parametrize(("html", "text"), [
    # Common Core N-RN.1 and 8.EE.1, as CASE packages write them
    ("we define 5<sup>1/3</sup> to be the cube root of 5 because we want "
     "(5<sup>1/3</sup>)<sup>3</sup> = 5<sup>(1/3)3</sup>",
     "we define 5^(1/3) to be the cube root of 5 because we want (5^(1/3))\u00b3 = "
     "5^((1/3)3)"),
    ("3<sup>2</sup> \u00d7 3<sup>\u20135</sup> = 3<sup>\u20133</sup> = 1/3<sup>3</sup>",
     "3\u00b2 \u00d7 3\u207b\u2075 = 3\u207b\u00b3 = 1/3\u00b3"),
    ("H<sub>2</sub>O, x<sub>i+1</sub>, a<sup>n</sup>, e<sup>x</sup>",
     "H\u2082O, x_(i+1), a\u207f, e^x"),
    ("the complex fraction <sup>1/2</sup>/<sub>1/4</sub> miles", "the complex fraction "
     "(1/2)/(1/4) miles"),
    ("<p>One<br>Two</p><ul><li>a</li><li>b</li></ul>", "One\nTwo\n\n- a\n- b"),
    ("<table><tr><th>Level</th><th>Means</th></tr><tr><td>1</td><td>a | b</td></tr>"
     "</table><p>after</p>",
     "| Level | Means |\n| --- | --- |\n| 1 | a \\| b |\n\nafter"),
])
def test_html_keeps_its_meaning(html: str, text: str) -> None:
    assert clean(html) == text


def test_text_goes_back_to_html() -> None:
    text = "One\nTwo\n\n- a\n- b\n\n1. x\n2. y\n\n| Level | Means |\n| --- | --- |\n| 1 | a |"
    assert to_html(text) == ("<p>One<br>Two</p><ul><li>a</li><li>b</li></ul>"
                             "<ol><li>x</li><li>y</li></ol><table><tr><th>Level</th>"
                             "<th>Means</th></tr><tr><td>1</td><td>a</td></tr></table>")
    assert clean(to_html(text)) == text
    assert to_html("5^(1/3) & x_(i+1)") == "<p>5<sup>1/3</sup> &amp; x<sub>i+1</sub></p>"
