"""Letters and plans are fit to send: names not ids, no internal notes, a proper close."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import Cli, git_commit_all
from tests.test_decide import decide

INTERNAL = ("manager_rating", "risk-escalation", "composite:", "NOT READY", "where it is lost",
            "source_weights", "(observation", "observation,", "documentation_audit")


def decision_id(repo: Path, candidate: str) -> str:
    (path,) = sorted((repo / "decisions").rglob(f"*{candidate}*.yaml"))
    return path.stem


def documents(cli: Cli, repo: Path, ref: str) -> dict[str, str]:
    out = {}
    for doc in ("letter", "plan"):
        for fmt in ("markdown", "html"):
            result = cli("render", doc, ref, "--format", fmt, cwd=repo)
            assert result.code == 0, result.err
            out[f"{doc}.{fmt}"] = result.out
    return out


def visible_text(html: str) -> str:
    body = html.split("<body>", 1)[1]
    return re.sub(r"<[^>]+>", " ", body)


@pytest.fixture
def deferred(cli: Cli, git_examples: Path) -> tuple[Path, str]:
    assert decide(cli, git_examples, "chloe-martin-2026-10").code == 0  # type: ignore[attr-defined]
    return git_examples, decision_id(git_examples, "chloe-martin")


def test_no_internal_ids_or_jargon(cli: Cli, deferred: tuple[Path, str]) -> None:
    repo, ref = deferred
    for name, text in documents(cli, repo, ref).items():
        shown = visible_text(text) if name.endswith("html") else text
        shown = shown.replace(ref, "")  # the record reference is the one id allowed
        for word in INTERNAL:
            assert word not in shown, (name, word)
    letter = documents(cli, repo, ref)["letter.markdown"]
    assert "**Recognises and escalates risk triggers.**" in letter
    assert "an observation of practice or a rating from your manager" in letter
    assert "**Overall score.**" in letter
    assert "By 31 January 2027." in letter


def test_override_justification_stays_internal(cli: Cli, git_examples: Path) -> None:
    note = "Observer shortage this quarter, panel confident from its own knowledge"
    result = decide(cli, git_examples, "ben-hughes-2026-10", "--override-reason", note,
                    outcome="approved")
    assert result.code == 0, result.err  # type: ignore[attr-defined]
    ref = decision_id(git_examples, "ben-hughes")
    record = next((git_examples / "decisions").rglob("*ben-hughes*.yaml")).read_text()
    assert note in record
    for name, text in documents(cli, git_examples, ref).items():
        assert note not in text, name
    letter = documents(cli, git_examples, ref)["letter.markdown"]
    assert "takes account of more than that assessment" in letter


def test_letter_closes_with_the_configured_signatory_and_routes(cli: Cli,
                                                                deferred: tuple[Path, str]
                                                                ) -> None:
    repo, ref = deferred
    letter = documents(cli, repo, ref)["letter.markdown"]
    assert "Dear Chloe," in letter
    assert "contact the People Team (people@example.org)." in letter
    assert "you may ask for it to be reviewed: write to the People Team" in letter
    assert "Yours sincerely,\n\nPriya Shah, HR Business Partner\n" in letter
    config = repo / "promoctl.yaml"
    text = config.read_text()
    text = text[:text.index("letters:")] + (
        "letters:\n  salutation: \"Dear {name} {name.__class__},\"\n"
        "  appeal: Appeals go to the Director within 10 working days.\n")
    config.write_text(text)
    # A placeholder letters do not fill (here one reaching into Python) is refused.
    refused = cli("validate", cwd=repo)
    assert refused.code == 3 and "unknown placeholder(s) {name.__class__}" in refused.out
    config.write_text(text.replace(" {name.__class__}", ""))
    git_commit_all(repo, "letters configured")
    letter = documents(cli, repo, ref)["letter.markdown"]
    assert "Dear Chloe Martin," in letter
    assert "Appeals go to the Director within 10 working days." in letter
    assert "Yours sincerely,\n\nHuman Resources\n" in letter  # the default signatory
    assert "contact Human Resources." in letter


def test_an_unknown_letters_setting_is_a_located_error(cli: Cli, examples: Path) -> None:
    config = examples / "promoctl.yaml"
    config.write_text(config.read_text().replace("  signatory: Priya Shah",
                                                 "  signatry: Priya Shah"))
    result = cli("validate", cwd=examples)
    assert result.code == 3
    assert "promoctl.yaml:" in result.out and "signatry" in result.out


def test_dates_do_not_break_in_html(cli: Cli, deferred: tuple[Path, str]) -> None:
    repo, ref = deferred
    docs = documents(cli, repo, ref)
    assert ".date, td.date { white-space: nowrap; }" in docs["plan.html"]
    assert '<td class="date">31 January 2027</td>' in docs["plan.html"]
    assert '<span class="date">2 November 2026</span>' in docs["letter.html"]
