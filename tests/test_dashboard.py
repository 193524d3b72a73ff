"""The HTML dashboard: one self-contained, deterministic page, checked in a real browser."""

from __future__ import annotations

import re
import shutil
import tempfile
from datetime import date
from pathlib import Path

import pytest

from promoctl.records.loader import discover
from promoctl.records.reading import load
from promoctl.reports import dashboard, report
from tests.conftest import Cli
from tests.test_report import END, START, Records, governance_records

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium phones home at start-up, which a
# closed network refuses (and which would count as failed requests).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
CHARTED = 12  # every figure of the crafted repository has something to draw


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = governance_records().write(tmp_path_factory.mktemp("dash") / "gov")
    repo = load(root, discover([root]))
    r = report.build(repo, report.Options(START, END))
    out = root.parent / "dashboard.html"
    out.write_text(dashboard.render_page(root, r, "Crafted Org"), encoding="utf-8")
    return out


def test_page_is_self_contained(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert html.count("<svg") == CHARTED
    for outside in ("http:", "https:", "//", "<script", "<link", "<img", "<iframe", "src=",
                    "@import", "<?xml", "<!DOCTYPE svg"):
        assert outside not in html.replace("<!DOCTYPE html>", ""), outside
    # Only references to the page's own ids: url(#...) and href="#..."
    assert set(re.findall(r"url\((.)", html)) <= {"#"}
    assert set(re.findall(r'href="(.)', html)) <= {"#"}
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "every id on the page is unique"


def test_page_is_deterministic(page: Path, tmp_path: Path) -> None:
    root = page.parent / "gov"
    r = report.build(load(root, discover([root])), report.Options(START, END))
    assert dashboard.render_page(root, r, "Crafted Org") == page.read_text(encoding="utf-8")


def test_cli_writes_the_page(cli: Cli, page: Path, tmp_path: Path) -> None:
    out = tmp_path / "board.html"
    root = page.parent / "gov"
    # 2026 had not ended when this was written: the page says the period can be differenced.
    result = cli("report", "--from", START, "--to", END, "--allow-unaligned", "--format",
                 "html", "--out", out, cwd=root)
    assert result.code == 0, result.err
    # The same page: the organisation's name comes from promoctl.yaml.
    r = report.build(load(root, discover([root])), report.Options(START, END, unaligned=True))
    assert out.read_text(encoding="utf-8") == dashboard.render_page(root, r, "Crafted Org")


def test_hostile_names_are_text(tmp_path: Path) -> None:
    rec = Records()
    hostile = "<script>alert(1)</script> $\\frac{1}{0}$ & --"
    for i in range(6):
        rec.person(f"p{i}", hostile)
        rec.decision(f"p{i}", "approved" if i % 2 else "deferred", date(2026, 5, 4))
    root = rec.write(tmp_path / "repo")
    r = report.build(load(root, discover([root])), report.Options(START, END))
    html = dashboard.render_page(root, r, "<b>Org</b>")
    assert "<script" not in html and "<b>Org" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("<svg") >= 1


def test_nothing_to_draw(tmp_path: Path) -> None:
    root = Records().write(tmp_path / "empty")
    r = report.build(load(root, discover([root])), report.Options(START, END))
    html = dashboard.render_page(root, r, "Empty")
    assert "<svg" not in html and "No chart: no records in the period" in html


def test_template_can_be_overridden(tmp_path: Path) -> None:
    root = Records().write(tmp_path / "repo")
    (root / "templates").mkdir()
    (root / "templates" / "dashboard.html").write_text(
        "{% for f in figures %}{{ f.id }} {% endfor %}", encoding="utf-8")
    r = report.build(load(root, discover([root])), report.Options(START, END))
    assert dashboard.render_page(root, r, "x").startswith("approval-by-program approval-trend")


def _browser_missing() -> str | None:
    if not CHROMIUM.exists():
        return f"Chromium is not installed at {CHROMIUM} (Debian: apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    return None


@pytest.mark.skipif(_browser_missing() is not None, reason=str(_browser_missing()))
def test_page_in_a_real_browser(page: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    failed: list[str] = []
    console: list[str] = []
    screenshot = tmp_path / "dashboard.png"
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        browser = p.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1100, "height": 900})
        try:
            tab = browser.new_page()
            tab.on("request", lambda r: requests.append(r.url))
            tab.on("requestfailed", lambda r: failed.append(f"{r.url}: {r.failure}"))
            tab.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            tab.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
            tab.goto(page.as_uri(), wait_until="load")
            assert tab.title().startswith("Crafted Org: promotion governance report")
            charts = tab.locator("section figure.chart svg")
            assert charts.count() == CHARTED
            for i in range(CHARTED):
                box = charts.nth(i).bounding_box()
                assert box is not None and box["width"] > 300 and box["height"] > 100
            assert tab.locator("section#approval-by-program svg text",
                               has_text="higher than the rest").count() == 1
            assert tab.locator("tr.suppressed").count() >= 2
            tab.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    assert failed == []
    assert requests == [page.as_uri()]  # the page itself, nothing else
    assert [m for m in console if m.startswith(("error", "pageerror", "warning"))] == []
    data = screenshot.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 50_000
    keep = Path(tempfile.gettempdir()) / "promoctl-dashboard.png"
    shutil.copyfile(screenshot, keep)  # for a person to look at after the run


def _overlaps(a: object, b: object, slack: float = 1.0) -> bool:
    from matplotlib.transforms import Bbox

    assert isinstance(a, Bbox) and isinstance(b, Bbox)
    return (a.x0 + slack < b.x1 and b.x0 + slack < a.x1
            and a.y0 + slack < b.y1 and b.y0 + slack < a.y1)


def _everyone_stays() -> Records:
    """Retention at 100% in every row, and long re-validation bars: the value labels end
    at the far right of the plot, where a legend used to sit."""
    rec = Records()
    for i in range(6):
        rec.person(f"v{i}", "Alpha", level="senior", level_since=date(2025, 3, 15))
        rec.decision(f"v{i}", "approved", date(2025, 3, 15))
        rec.review(f"v{i}", "maintenance", "sustained" if i else "drift", date(2026, 9, 1),
                   **({} if i else {"supports": ["Coaching"],
                                    "recheck_by": date(2026, 11, 1)}))
        rec.person(f"n{i}", "Beta")
        rec.decision(f"n{i}", "deferred", date(2025, 4, 15))
    for i in range(6):
        rec.person(f"j{i}", "Beta")
        rec.decision(f"j{i}", "approved" if i % 2 else "deferred", date(2026, 1, 10))
    return rec


@pytest.mark.parametrize(("source", "figure_id"), [
    ("crafted", "retention"), ("crafted", "revalidation"), ("crafted", "rater-calibration"),
    ("crafted", "approval-by-program"), ("crafted", "override-by-panel"),
    ("full", "retention"), ("full", "revalidation")])
def test_labels_clear_of_legends_and_bars(source: str, figure_id: str, tmp_path: Path
                                          ) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    records = governance_records() if source == "crafted" else _everyone_stays()
    root = records.write(tmp_path / "gov")
    r = report.build(load(root, discover([root])), report.Options(START, END))
    figure = next(f for f in r.figures if f.id == figure_id)
    fig = dashboard.draw(figure)
    FigureCanvasAgg(fig)
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    labels = [t.get_window_extent(renderer) for t in ax.texts]
    assert labels, "value labels are drawn"
    bars = [p.get_window_extent(renderer) for p in ax.patches]
    legend = ax.get_legend()
    legend_box = legend.get_window_extent(renderer) if legend is not None else None
    canvas = fig.bbox
    for label in labels:
        assert all(not _overlaps(label, bar) for bar in bars), (figure_id, label)
        assert legend_box is None or not _overlaps(label, legend_box), (figure_id, label)
        assert canvas.x0 <= label.x0 and label.x1 <= canvas.x1  # not cut off
    if legend_box is not None:
        assert all(not _overlaps(legend_box, bar) for bar in bars)


def test_lone_median_is_a_dot(tmp_path: Path) -> None:
    rec = Records()
    for i in range(6):  # six approvals: the median only (quartiles need 20)
        rec.person(f"p{i}", "Alpha", start=date(2020, 1, 1 + i))
        rec.decision(f"p{i}", "approved", date(2026, 3, 1))
    root = rec.write(tmp_path / "r")
    r = report.build(load(root, discover([root])), report.Options(START, END))
    figure = next(f for f in r.figures if f.id == "time-to-progression")
    ax = dashboard.draw(figure).axes[0]
    assert not ax.patches  # no box
    (line,) = [x for x in ax.lines if x.get_label().startswith("median only")]
    assert list(line.get_ydata()) == [figure.rows[0].values["median"]]
