"""Replay checks every value a decision record derives: a forged shown value, a deleted
override or a trimmed plan fails audit, and letters refuse to render from it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.test_audit import commit_as, findings
from tests.test_decide import decide, only_decision


def forge(cli: Cli, repo: Path, monkeypatch: pytest.MonkeyPatch, packet: str,
          old: str, new: str, *extra: str, outcome: str | None = None) -> str:
    """Record a decision, edit its text by hand, commit the edit as Mallory."""
    assert decide(cli, repo, packet, "--no-commit", *extra, outcome=outcome).code == 0
    record = only_decision(repo)
    text = record.read_text()
    assert re.search(old, text), text
    record.write_text(re.sub(old, new, text, count=1))
    commit_as(repo, "record decision", "Mallory Editor", "2026-11-03", monkeypatch)
    return record.stem


@pytest.mark.parametrize(("old", "new", "field"), [
    (r"composite: 1\.89", "composite: 3.99", "evaluation.composite"),
    (r"score: 1\.57", "score: 3.9", "evaluation.competencies[risk-escalation].score"),
    (r"status: below_minimum", "status: met",
     "evaluation.competencies[risk-escalation].status"),
    (r"message: composite 1\.89", "message: composite 3.99", "evaluation.reasons["),
    (r"  warnings: \[\]", "  warnings: [checked by hand]", "evaluation.warnings"),
    (r"recheck: 2027-01-31", "recheck: 2028-03-03", "development_plan.recheck"),
])
def test_a_forged_shown_value_fails_audit_and_blocks_letters(
        cli: Cli, git_examples: Path, monkeypatch: pytest.MonkeyPatch, old: str, new: str,
        field: str) -> None:
    decision_id = forge(cli, git_examples, monkeypatch, "chloe-martin-2026-10", old, new)
    code, fails = findings(cli, git_examples)
    assert code == 1
    replays = [f for f in fails if f["check"] == "replay"]
    assert replays, fails
    named = [f for f in replays if any(str(x).startswith(field) for x in f["fields"])]
    assert named, replays
    assert named[0]["author"] == "Mallory Editor <mallory@example.org>"
    assert named[0]["commit"]
    letter = cli("render", "letter", decision_id, cwd=git_examples)
    assert letter.code == 4 and "disagrees with the replay" in letter.err
    assert "3.99" not in letter.out


def test_a_deleted_override_is_still_an_override(cli: Cli, git_examples: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    forge(cli, git_examples, monkeypatch, "amara-okafor-2026-10",
          r"override:\n  evaluation_verdict: READY\n  justification: [^\n]*\n", "",
          "--override-reason", "Held back for the team's move", outcome="deferred")
    validate = cli("validate", cwd=git_examples)
    assert validate.code == 3 and "no override block" in validate.out
    result = json.loads(cli("audit", "--format", "json", cwd=git_examples).out)
    checks = {(f["check"], f["severity"]) for f in result["findings"]}
    assert ("override", "note") in checks and ("replay", "fail") in checks
    (flag,) = [f for f in result["findings"] if f["fields"] == ["override"]]
    assert "override (deferred against READY)" in flag["message"]


def test_a_trimmed_development_plan_fails(cli: Cli, git_examples: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    forge(cli, git_examples, monkeypatch, "chloe-martin-2026-10",
          r"  - id: step-2\n    kind: composite\n(    .*\n)+", "")
    code, fails = findings(cli, git_examples)
    assert code == 1
    assert any("development_plan step composite composite" in f["fields"] for f in fails)


def test_reworded_plan_is_the_panels(cli: Cli, git_examples: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    forge(cli, git_examples, monkeypatch, "chloe-martin-2026-10",
          r"action: Raise your overall score[^\n]*", "action: Work with your mentor on it.")
    code, fails = findings(cli, git_examples)
    assert code == 0, fails
