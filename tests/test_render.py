"""Letters, plans and the panel pack: golden files, template safety, formats."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from promoctl.decisions import panel
from tests.conftest import Cli, git_commit_all
from tests.test_decide import decide

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("PROMOCTL_UPDATE_GOLDEN") == "1"


@pytest.fixture
def fixed_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(panel.secrets, "token_hex", lambda n: "0a1b2c")


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"missing golden file {name}; run with PROMOCTL_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.usefixtures("fixed_ids")
@pytest.mark.parametrize("packet_id", ["amara-okafor-2026-10", "chloe-martin-2026-10"])
@pytest.mark.parametrize(("doc", "fmt", "ext"), [
    ("letter", "markdown", "md"), ("letter", "html", "html"), ("plan", "markdown", "md"),
    ("plan", "html", "html")])
def test_golden_documents(cli: Cli, git_examples: Path, packet_id: str, doc: str, fmt: str,
                          ext: str) -> None:
    assert decide(cli, git_examples, packet_id).code == 0
    decision_id = f"2026-11-02-{packet_id.rsplit('-', 2)[0]}-0a1b2c"
    result = cli("render", doc, decision_id, "--format", fmt, cwd=git_examples)
    assert result.code == 0, result.err
    check_golden(f"{packet_id}.{doc}.{ext}", result.out)


def test_panel_pack_lists_only_pending_packets(cli: Cli, git_examples: Path) -> None:
    assert decide(cli, git_examples, "amara-okafor-2026-10").code == 0
    result = cli("panel", "--as-of", "2026-11-01", cwd=git_examples)
    assert result.code == 0, result.err
    assert "Pending packets: 7 (2 evaluated READY)" in result.out
    assert "Amara Okafor" not in result.out
    assert "## Ben Hughes: READY" in result.out  # the late observation counts by now
    assert "Panel for Support Work: Operations lead, Quality representative, HR" in result.out
    html = cli("panel", "packets/professional", "--format", "html", cwd=git_examples)
    assert html.code == 0
    assert html.out.startswith("<!DOCTYPE html>") and "Elena Rossi" in html.out
    assert "http://" not in html.out and "https://" not in html.out  # no network resources


def test_output_file_is_written_once(cli: Cli, git_examples: Path, tmp_path: Path) -> None:
    out = tmp_path / "pack.md"
    assert cli("panel", "--out", out, cwd=git_examples).code == 0
    assert out.read_text().startswith("# Example Care & Consulting Group")
    out.write_text("keep me")
    again = cli("panel", "--out", out, cwd=git_examples)
    assert again.code == 4 and "already exists" in again.err
    assert out.read_text() == "keep me"
    assert cli("panel", "--out", out, "--force", cwd=git_examples).code == 0


def test_html_escapes_names(cli: Cli, git_examples: Path) -> None:
    person = git_examples / "people" / "amara-okafor.yaml"
    person.write_text(person.read_text().replace(
        "name: Amara Okafor", "name: \"<script>alert('x')</script> Okafor\""))
    git_commit_all(git_examples, "rename")
    assert decide(cli, git_examples, "amara-okafor-2026-10").code == 0
    (record,) = (git_examples / "decisions").rglob("*.yaml")
    html = cli("render", "letter", record, "--format", "html", cwd=git_examples)
    assert html.code == 0
    assert "<script>" not in html.out
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Okafor" in html.out
    # Markdown is not autoescaped by Jinja: promoctl escapes the values itself.
    markdown = cli("render", "letter", record, cwd=git_examples)
    assert markdown.code == 0 and "<script>" not in markdown.out
    assert "&lt;script&gt;alert('x')&lt;/script&gt; Okafor" in markdown.out
    evaluated = cli("evaluate", "packets/community/amara-okafor-2026-10.yaml", "--format",
                    "markdown", cwd=git_examples)
    assert "<script>" not in evaluated.out and "&lt;script&gt;" in evaluated.out


def _override(repo: Path, name: str, body: str) -> None:
    (repo / "templates").mkdir(exist_ok=True)
    (repo / "templates" / name).write_text(body)


def test_repository_templates_override_the_shipped_ones(cli: Cli, git_examples: Path) -> None:
    assert decide(cli, git_examples, "amara-okafor-2026-10").code == 0
    _override(git_examples, "letter.md", "Dear {{ person.name }}: {{ decision.outcome }}\n")
    result = cli("render", "letter", next((git_examples / "decisions").rglob("*.yaml")),
                 cwd=git_examples)
    assert result.out == "Dear Amara Okafor: approved\n"


def test_undefined_variable_names_the_template_line(cli: Cli, git_examples: Path) -> None:
    assert decide(cli, git_examples, "amara-okafor-2026-10").code == 0
    _override(git_examples, "letter.md", "Dear {{ person.name }},\n\n{{ person.nmae }}\n")
    result = cli("render", "letter", next((git_examples / "decisions").rglob("*.yaml")),
                 cwd=git_examples)
    assert result.code == 4
    assert "templates/letter.md:3: undefined in the template" in result.err
    assert "nmae" in result.err


@pytest.mark.parametrize("body", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ person.__class__ }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
])
def test_templates_cannot_reach_python_internals(cli: Cli, git_examples: Path,
                                                 body: str) -> None:
    assert decide(cli, git_examples, "amara-okafor-2026-10").code == 0
    _override(git_examples, "letter.md", body + "\n")
    result = cli("render", "letter", next((git_examples / "decisions").rglob("*.yaml")),
                 cwd=git_examples)
    assert result.code == 4
    assert "templates/letter.md:1" in result.err
    assert "uid=" not in result.out


def test_template_syntax_error(cli: Cli, git_examples: Path) -> None:
    assert decide(cli, git_examples, "amara-okafor-2026-10").code == 0
    _override(git_examples, "plan.md", "line one\n{% for x in %}\n")
    result = cli("render", "plan", next((git_examples / "decisions").rglob("*.yaml")),
                 cwd=git_examples)
    assert result.code == 4 and "plan.md:2: template syntax error" in result.err


def test_unknown_decision(cli: Cli, git_examples: Path) -> None:
    result = cli("render", "letter", "no-such-decision", cwd=git_examples)
    assert result.code == 4 and "no such decision" in result.err


def _pdf_letter(cli: Cli, repo: Path, out: Path) -> object:
    assert decide(cli, repo, "amara-okafor-2026-10").code == 0
    record = next((repo / "decisions").rglob("*.yaml"))
    return cli("render", "letter", record, "--format", "pdf", "--out", out, cwd=repo)


def test_pdf(cli: Cli, git_examples: Path, tmp_path: Path) -> None:
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:  # OSError: WeasyPrint found no Pango
        pytest.skip(f"needs WeasyPrint ({exc}): pip install 'promoctl[pdf]', or `make test`")
    from pypdf import PdfReader

    out = tmp_path / "letter.pdf"
    result = _pdf_letter(cli, git_examples, out)
    assert result.code == 0, result.err
    assert out.read_bytes().startswith(b"%PDF-")
    text = " ".join(page.extract_text() for page in PdfReader(out).pages)
    assert "Amara Okafor" in text


def test_pdf_without_weasyprint_says_how_to_get_it(cli: Cli, git_examples: Path,
                                                   tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # makes `import weasyprint` fail
    out = tmp_path / "letter.pdf"
    result = _pdf_letter(cli, git_examples, out)
    assert result.code == 4 and "pip install 'promoctl[pdf]'" in result.err
    assert not out.exists()
