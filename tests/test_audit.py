"""Audit, history and impact over scripted git histories (fixed dates and authors)."""

from __future__ import annotations

import json
from pathlib import Path

import git
import pytest

from promoctl.history import audit
from tests.conftest import Cli
from tests.test_decide import decide, only_decision, packet_path


def commit_as(repo_dir: Path, message: str, who: str, when: str,
              monkeypatch: pytest.MonkeyPatch) -> str:
    """Commit everything as ``who`` at ``when`` (ISO date), like a scripted history."""
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", who)
        monkeypatch.setenv(f"GIT_{role}_EMAIL", f"{who.split()[0].lower()}@example.org")
        monkeypatch.setenv(f"GIT_{role}_DATE", f"{when}T10:00:00+00:00")
    repo = git.Repo(repo_dir)
    try:
        repo.git.add("--all")
        repo.git.commit("--quiet", "-m", message)
        return repo.head.commit.hexsha
    finally:
        repo.close()
        for role in ("AUTHOR", "COMMITTER"):
            monkeypatch.setenv(f"GIT_{role}_NAME", "Test Secretary")
            monkeypatch.setenv(f"GIT_{role}_EMAIL", "secretary@example.org")
            monkeypatch.delenv(f"GIT_{role}_DATE")


@pytest.fixture
def decided(cli: Cli, git_examples: Path) -> Path:
    """Two decisions recorded in a clean history."""
    assert decide(cli, git_examples, "amara-okafor-2026-10").code == 0
    assert decide(cli, git_examples, "chloe-martin-2026-10").code == 0
    return git_examples


def findings(cli: Cli, repo: Path) -> tuple[int, list[dict[str, object]]]:
    result = cli("audit", "--format", "json", cwd=repo)
    data = json.loads(result.out)
    return result.code, [f for f in data["findings"] if f["severity"] == "fail"]


def test_clean_history_passes(cli: Cli, decided: Path) -> None:
    result = cli("audit", "--format", "json", cwd=decided)
    assert result.code == 0, result.out
    data = json.loads(result.out)
    assert data["decisions"] == 2 and data["replayed"] == 2 and data["failed"] is False
    assert data["findings"] == []


def test_decision_edited_after_the_fact(cli: Cli, decided: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    record = next(p for p in (decided / "decisions").rglob("*chloe*"))
    record.write_text(record.read_text().replace("outcome: deferred", "outcome: approved"))
    sha = commit_as(decided, "tidy records", "Mallory Editor", "2026-12-01", monkeypatch)
    code, fails = findings(cli, decided)
    assert code == 1
    (edit,) = fails
    assert edit["check"] == "record-edited" and edit["commit"] == sha
    assert edit["author"] == "Mallory Editor <mallory@example.org>"
    assert edit["date"] == "2026-12-01T10:00:00+00:00"
    assert edit["fields"] == ["outcome: 'deferred' -> 'approved'"]


def test_uncommitted_edit_is_reported(cli: Cli, decided: Path) -> None:
    record = next(p for p in (decided / "decisions").rglob("*amara*"))
    record.write_text(record.read_text() + "# note\n")
    code, fails = findings(cli, decided)
    assert code == 1 and [f["check"] for f in fails] == ["record-edited"]


def test_packet_changed_after_its_decision(cli: Cli, decided: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    packet = packet_path(decided, "chloe-martin-2026-10")
    packet.write_text(packet.read_text().replace("result: {score: 1}", "result: {score: 3}"))
    commit_as(decided, "fix rating", "Mallory Editor", "2026-12-02", monkeypatch)
    code, fails = findings(cli, decided)
    assert code == 1
    (changed,) = fails
    assert changed["check"] == "packet-changed"
    assert changed["fields"] == ["evidence[9].result.score: 1 -> 3"]


def test_framework_weight_changed_after_the_decision_still_replays(
        cli: Cli, decided: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ladder = decided / "ladders" / "support-work.yaml"
    ladder.write_text(ladder.read_text().replace(
        "{competency: risk-escalation, weight: 25, minimum: 2}",
        "{competency: risk-escalation, weight: 50, minimum: 3}"))
    commit_as(decided, "raise the bar", "Gov Lead", "2026-12-03", monkeypatch)
    code, fails = findings(cli, decided)
    assert code == 0 and fails == []


def test_forged_snapshot_fails_replay(cli: Cli, git_examples: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    assert decide(cli, git_examples, "chloe-martin-2026-10", "--no-commit").code == 0
    record = only_decision(git_examples)
    text = record.read_text()
    record.write_text(text.replace("composite_exact: 53/28", "composite_exact: 5/2"))
    commit_as(git_examples, "record decision", "Mallory Editor", "2026-11-03", monkeypatch)
    code, fails = findings(cli, git_examples)
    assert code == 1
    (replay,) = fails
    assert replay["check"] == "replay"
    assert "composite_exact: recorded '5/2', replayed '53/28'" in replay["message"]


def test_input_hash_mismatch(cli: Cli, git_examples: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    assert decide(cli, git_examples, "amara-okafor-2026-10", "--no-commit").code == 0
    record = only_decision(git_examples)
    text = record.read_text()
    old = audit.hashlib.sha256(packet_path(git_examples, "amara-okafor-2026-10")
                               .read_bytes()).hexdigest()
    record.write_text(text.replace(old, "0" * 64))
    commit_as(git_examples, "record", "Mallory Editor", "2026-11-03", monkeypatch)
    code, fails = findings(cli, git_examples)
    assert code == 1 and [f["check"] for f in fails] == ["packet-hash"]


def test_deleted_decision_is_a_failure(cli: Cli, decided: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    next(p for p in (decided / "decisions").rglob("*amara*")).unlink()
    commit_as(decided, "cleanup", "Mallory Editor", "2026-12-04", monkeypatch)
    code, fails = findings(cli, decided)
    assert code == 1 and [f["check"] for f in fails] == ["record-deleted"]


def test_overrides_are_listed_and_since_filters(cli: Cli, git_examples: Path) -> None:
    assert decide(cli, git_examples, "grace-liu-2026-h2", "--override-reason",
                  "Exceptional client feedback", outcome="approved").code == 0
    result = json.loads(cli("audit", "--format", "json", cwd=git_examples).out)
    assert [f["check"] for f in result["findings"]] == ["override"]
    assert result["failed"] is False
    later = json.loads(cli("audit", "--since", "2027-01-01", "--format", "json",
                           cwd=git_examples).out)
    assert later["decisions"] == 0


def test_history_of_a_decision_shows_field_changes(cli: Cli, decided: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    ladder = decided / "ladders" / "support-work.yaml"
    ladder.write_text(ladder.read_text().replace("composite_threshold: 2.5",
                                                 "composite_threshold: 2.75"))
    sha = commit_as(decided, "raise threshold", "Gov Lead", "2026-12-05", monkeypatch)
    record = next(p for p in (decided / "decisions").rglob("*amara*"))
    result = cli("history", record, "--format", "json", cwd=decided)
    assert result.code == 0, result.err
    data = json.loads(result.out)
    roles = [(c["role"], c["status"]) for c in data["commits"]]
    assert ("decision", "A") in roles and ("ladder", "M") in roles
    change = next(c for c in data["commits"] if c["commit"] == sha)
    assert change["author"] == "Gov Lead <gov@example.org>"
    assert change["changes"] == [{
        "field": "levels[1].promotion.composite_threshold", "old": 2.5, "new": 2.75,
        "change": "changed"}]
    text = cli("history", record, cwd=decided).out
    assert "levels[1].promotion.composite_threshold: 2.5 -> 2.75" in text
    assert "the decision's inputs were read at this commit" in text


def test_history_of_a_person(cli: Cli, decided: Path, monkeypatch: pytest.MonkeyPatch
                             ) -> None:
    person = decided / "people" / "amara-okafor.yaml"
    person.write_text(person.read_text().replace("level: support-worker",
                                                 "level: senior-support-worker"))
    commit_as(decided, "promote Amara", "HR Officer", "2026-11-05", monkeypatch)
    data = json.loads(cli("history", "amara-okafor", "--format", "json", cwd=decided).out)
    events = [(e["event"], e.get("to")) for e in data["events"]]
    # the decision, the move it makes (level history), and the hand edit of the file
    assert events == [("decision approved", None),
                      ("promotion effective", "senior-support-worker"),
                      ("level changed", "senior-support-worker")]


def test_impact_of_a_raised_threshold_on_a_branch(cli: Cli, decided: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    repo = git.Repo(decided)
    main = repo.active_branch.name
    repo.git.checkout("-q", "-b", "raise-threshold")
    repo.close()
    ladder = decided / "ladders" / "consulting.yaml"
    ladder.write_text(ladder.read_text().replace("composite_threshold: 2.5",
                                                 "composite_threshold: 2.7"))
    commit_as(decided, "raise the consulting threshold", "Gov Lead", "2026-12-06",
              monkeypatch)
    result = cli("impact", "--base", main, "--head", "raise-threshold", "--format", "json",
                 cwd=decided)
    assert result.code == 0, result.err
    data = json.loads(result.out)
    # Farid (2.68) gains a reason; Grace (2.34) keeps failing but for a new threshold;
    # Elena (2.855) still passes 2.7. Only consulting packets change.
    changed = {c["subject"]: (c["before"]["verdict"], c["after"]["verdict"])
               for c in data["changes"]}
    assert changed == {
        "packets/professional/farid-haddad-2026-h2.yaml": ("NOT READY", "NOT READY"),
        "packets/professional/grace-liu-2026-h2.yaml": ("NOT READY", "NOT READY")}
    assert data["counts"] == {"ladder level consulting/senior-consultant": 2,
                              "program Advisory": 2}
    assert data["evaluated"] == 6  # 8 packets, 2 decided (not pending)


def test_impact_unknown_revision(cli: Cli, decided: Path) -> None:
    result = cli("impact", "--base", "no-such-branch", cwd=decided)
    assert result.code == 4 and "'no-such-branch' is not a commit" in result.err


def test_impact_flips_a_verdict_and_replays_decisions(cli: Cli, decided: Path) -> None:
    ladder = decided / "ladders" / "support-work.yaml"
    ladder.write_text(ladder.read_text().replace("composite_threshold: 2.5",
                                                 "composite_threshold: 2.9"))
    result = cli("impact", "--from", "2026-01-01", "--format", "json", cwd=decided)
    data = json.loads(result.out)
    flips = {c["subject"]: (c["before"]["verdict"], c["after"]["verdict"])
             for c in data["changes"] if c["before"]["verdict"] != c["after"]["verdict"]}
    # Amara's approved decision (composite 2.86) would not be READY at 2.9.
    assert list(flips.values()) == [("READY", "NOT READY")]
    assert next(iter(flips)).startswith("decision 2026-11-02-amara-okafor-")
    assert data["head"] == "working tree"
