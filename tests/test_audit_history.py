"""Audit against rewritten history: trailers, merges that leave two standing decisions,
moved records, and the history of a deleted decision."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.test_decide import decide, only_decision


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout


def audit_json(cli: Cli, repo: Path) -> tuple[int, dict[str, object]]:
    result = cli("audit", "--format", "json", cwd=repo)
    return result.code, json.loads(result.out)


def checks(data: dict[str, object], severity: str = "fail") -> list[str]:
    findings = data["findings"]
    assert isinstance(findings, list)
    return [f["check"] for f in findings if f["severity"] == severity]


def test_amended_outcome_contradicts_the_trailers(cli: Cli, git_examples: Path) -> None:
    assert decide(cli, git_examples, "chloe-martin-2026-10").code == 0
    record = only_decision(git_examples)
    record.write_text(record.read_text().replace("outcome: deferred", "outcome: declined"))
    git(git_examples, "commit", "-q", "--amend", "--no-edit", "--all")
    code, data = audit_json(cli, git_examples)
    assert code == 1
    findings = [f for f in data["findings"] if f["check"] == "trailers"]  # type: ignore[union-attr]
    assert [f["message"] for f in findings] == [
        "the commit's trailers disagree with the record: Promoctl-Outcome: commit says "
        "deferred, record says declined"]
    assert findings[0]["severity"] == "fail"


def test_merge_leaving_two_standing_decisions_fails(cli: Cli, git_examples: Path) -> None:
    base = git(git_examples, "rev-parse", "--abbrev-ref", "HEAD").strip()
    git(git_examples, "checkout", "-q", "-b", "other")
    assert decide(cli, git_examples, "chloe-martin-2026-10").code == 0
    git(git_examples, "checkout", "-q", base)
    assert decide(cli, git_examples, "chloe-martin-2026-10",
                  reason="Decided again on the main branch").code == 0
    git(git_examples, "merge", "-q", "--no-edit", "other")
    assert cli("validate", cwd=git_examples).code == 3
    code, data = audit_json(cli, git_examples)
    assert code == 1
    assert checks(data) == ["two-standing", "two-standing"]


def test_a_moved_record_is_counted_once(cli: Cli, git_examples: Path) -> None:
    assert decide(cli, git_examples, "chloe-martin-2026-10").code == 0
    record = only_decision(git_examples)
    git(git_examples, "mv", str(record), "decisions/moved.yaml")
    git(git_examples, "commit", "-qm", "tidy")
    code, data = audit_json(cli, git_examples)
    assert code == 0, data
    assert data["decisions"] == 1 and data["replayed"] == 1
    assert checks(data, "note") == ["record-moved"]


def test_a_moved_and_edited_record_fails(cli: Cli, git_examples: Path) -> None:
    assert decide(cli, git_examples, "chloe-martin-2026-10").code == 0
    record = only_decision(git_examples)
    git(git_examples, "mv", str(record), "decisions/moved.yaml")
    moved = git_examples / "decisions" / "moved.yaml"
    moved.write_text(moved.read_text().replace("- Specific reason from the panel",
                                               "- Another reason"))
    git(git_examples, "commit", "-qam", "tidy")
    code, data = audit_json(cli, git_examples)
    assert code == 1 and data["decisions"] == 1
    assert checks(data) == ["record-edited"]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_history_of_a_deleted_decision(cli: Cli, git_examples: Path, fmt: str) -> None:
    assert decide(cli, git_examples, "chloe-martin-2026-10").code == 0
    record = only_decision(git_examples)
    decision_id = record.stem
    git(git_examples, "rm", "-q", str(record))
    git(git_examples, "commit", "-qm", "remove the decision")
    result = cli("history", decision_id, "--format", fmt, cwd=git_examples)
    assert result.code == 0, result.err
    assert "deleted" in result.out and "remove the decision" in result.out


def test_trailer_blocks_of_a_commit_adding_several_records() -> None:
    from promoctl.decisions import trailers

    body = "\n".join([
        "Record 2 decisions and 1 review", "",
        "Promoctl-Decision: d1", "Promoctl-Candidate: a", "Promoctl-Outcome: approved",
        "Promoctl-Review: r1", "Promoctl-Person: a", "Promoctl-Outcome: confirmed",
        "Promoctl-Decision: d0",
        "Promoctl-Decision: d2", "Promoctl-Candidate: b", "Promoctl-Outcome: deferred",
    ])
    blocks = trailers.blocks(body)
    assert [b.get("Promoctl-Decision") for b in blocks] == [["d1"], ["d0"], ["d2"]]
    assert blocks[1]["Promoctl-Review"] == ["r1"]
    assert blocks[2]["Promoctl-Outcome"] == ["deferred"]
