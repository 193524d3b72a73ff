"""Recording decisions in git: round trips, refusals, supersession, concurrency."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import git
import pytest

from promoctl.decisions import panel
from promoctl.records import yamlio
from tests.conftest import Cli, git_commit_all

CS_PANEL = ("--panel", "operations-lead=Lena Brooks", "--panel", "quality=Jo Mensah",
            "--panel", "hr=Priya Shah")
PS_PANEL = ("--panel", "practice-lead=Tom Reyes", "--panel", "peer-reviewer=Sam Okoye",
            "--panel", "hr=Priya Shah")
PACKETS = {
    "amara-okafor-2026-10": ("community", True),
    "ben-hughes-2026-10": ("community", False),
    "chloe-martin-2026-10": ("community", False),
    "dev-patel-2026-10": ("community", False),
    "elena-rossi-2026-h2": ("professional", True),
    "farid-haddad-2026-h2": ("professional", False),
    "grace-liu-2026-h2": ("professional", False),
    "hiro-tanaka-2026-h2": ("professional", False),
}


def read(path: Path) -> dict[str, Any]:
    data = yamlio.parse(path.read_bytes(), path.name).data
    assert isinstance(data, dict)
    return data


def packet_path(repo: Path, packet_id: str) -> Path:
    family, _ = PACKETS[packet_id]
    return repo / "packets" / family / f"{packet_id}.yaml"


def decide(cli: Cli, repo: Path, packet_id: str, *extra: str, outcome: str | None = None,
           reason: str = "Specific reason from the panel") -> object:
    family, ready = PACKETS[packet_id]
    outcome = outcome or ("approved" if ready else "deferred")
    panel = CS_PANEL if family == "community" else PS_PANEL
    return cli("decide", packet_path(repo, packet_id), "--outcome", outcome, "--reason",
               reason, *panel, "--date", "2026-11-02", *extra, cwd=repo)


def only_decision(repo: Path) -> Path:
    (path,) = sorted((repo / "decisions").rglob("*.yaml"))
    return path


def head(repo: Path) -> git.Commit:
    r = git.Repo(repo)
    try:
        return r.head.commit
    finally:
        r.close()


@pytest.mark.parametrize("packet_id", sorted(PACKETS))
def test_decide_commit_render_round_trip(cli: Cli, git_examples: Path, packet_id: str) -> None:
    result = decide(cli, git_examples, packet_id)
    assert result.code == 0, result.err
    record = only_decision(git_examples)
    data = read(record)
    _, ready = PACKETS[packet_id]
    assert data["outcome"] == ("approved" if ready else "deferred")
    assert data["evaluation"]["verdict"] == ("READY" if ready else "NOT READY")
    assert data["inputs"]["packet"]["sha256"] == panel.sha256_file(
        packet_path(git_examples, packet_id))
    assert ("probation_plan" in data) is ready and ("development_plan" in data) is not ready
    commit = head(git_examples)
    assert list(commit.stats.files) == [record.relative_to(git_examples).as_posix()]
    message = commit.message
    assert f"Promoctl-Decision: {data['id']}" in message
    assert f"Promoctl-Candidate: {data['candidate']}" in message
    assert f"Promoctl-Outcome: {data['outcome']}" in message
    assert f"Promoctl-Packet-Sha256: {data['inputs']['packet']['sha256']}" in message
    assert commit.author.name == "Test Secretary"
    assert cli("validate", cwd=git_examples).code == 0
    for doc in ("letter", "plan"):
        for fmt in ("markdown", "html"):
            rendered = cli("render", doc, data["id"], "--format", fmt, cwd=git_examples)
            assert rendered.code == 0, rendered.err
            assert data["candidate"] != "" and rendered.out.strip()
    letter = cli("render", "letter", record, cwd=git_examples).out
    assert "Specific reason from the panel" in letter
    assert "Lena Brooks" in letter or "Tom Reyes" in letter


def test_deferral_plan_steps_come_from_the_gaps(cli: Cli, git_examples: Path) -> None:
    assert decide(cli, git_examples, "dev-patel-2026-10").code == 0
    plan = read(only_decision(git_examples))["development_plan"]
    assert plan["recheck"] == "2027-01-31"  # decided 2026-11-02 + 90 days
    assert [(s["kind"], s["subject"]) for s in plan["steps"]] == [
        ("competency", "partner-coordination")]
    gate = decide(cli, git_examples, "farid-haddad-2026-h2")
    assert gate.code == 0
    records = sorted((git_examples / "decisions").rglob("*farid*.yaml"))
    steps = read(records[0])["development_plan"]["steps"]
    assert steps[0]["kind"] == "gate" and steps[0]["subject"] == "peer-feedback"
    assert steps[0]["evidence"] == "peer_feedback" and steps[0]["count"] == 1


def test_probation_plan_from_the_ladder(cli: Cli, git_examples: Path) -> None:
    assert decide(cli, git_examples, "amara-okafor-2026-10", "--effective",
                  "2026-12-01").code == 0
    data = read(only_decision(git_examples))
    plan = data["probation_plan"]
    assert data["effective"] == "2026-12-01"
    assert plan["start"] == "2026-12-01" and plan["review_date"] == "2027-03-01"
    assert plan["case_review_cadence"] == "weekly"
    assert plan["escalation_boundaries"] == [
        "Service changes", "Restriction adjustments", "Discharge planning moves"]


def test_refuses_uncommitted_inputs(cli: Cli, git_examples: Path) -> None:
    ladder = git_examples / "ladders" / "support-work.yaml"
    ladder.write_text(ladder.read_text().replace("composite_threshold: 2.5",
                                                 "composite_threshold: 2.4"))
    result = decide(cli, git_examples, "amara-okafor-2026-10")
    assert result.code == 4
    assert "uncommitted changes" in result.err and "ladders/support-work.yaml" in result.err
    assert not (git_examples / "decisions").exists()


def test_refuses_a_second_decision_and_supersedes(cli: Cli, git_examples: Path) -> None:
    assert decide(cli, git_examples, "ben-hughes-2026-10").code == 0
    first = only_decision(git_examples)
    first_id = read(first)["id"]
    again = decide(cli, git_examples, "ben-hughes-2026-10")
    assert again.code == 4 and "already has a decision" in again.err
    before = first.read_bytes()
    fix = decide(cli, git_examples, "ben-hughes-2026-10", "--supersedes", first_id,
                 reason="Corrected: the late observation was considered in error")
    assert fix.code == 0, fix.err
    assert first.read_bytes() == before  # the old record stays as it was
    records = sorted((git_examples / "decisions").rglob("*.yaml"))
    assert len(records) == 2
    letter = cli("render", "letter", first_id, cwd=git_examples)
    assert "superseded by decision" in letter.out
    twice = decide(cli, git_examples, "ben-hughes-2026-10", "--supersedes", first_id)
    assert twice.code == 4 and "already superseded" in twice.err
    assert cli("validate", cwd=git_examples).code == 0


@pytest.mark.parametrize(("args", "message"), [
    (("--reason", "  "), "needs its specific reasons"),
])
def test_refuses_blank_reasons(cli: Cli, git_examples: Path, args: tuple[str, ...],
                               message: str) -> None:
    result = cli("decide", packet_path(git_examples, "amara-okafor-2026-10"), "--outcome",
                 "approved", *args, *CS_PANEL, cwd=git_examples)
    assert result.code == 4 and message in result.err


def test_reason_is_required(cli: Cli, git_examples: Path) -> None:
    result = cli("decide", packet_path(git_examples, "amara-okafor-2026-10"), "--outcome",
                 "approved", *CS_PANEL, cwd=git_examples)
    assert result.code == 2 and "--reason" in result.err


def test_refuses_missing_quorum_role(cli: Cli, git_examples: Path) -> None:
    result = cli("decide", packet_path(git_examples, "amara-okafor-2026-10"), "--outcome",
                 "approved", "--reason", "ok", "--panel", "operations-lead=Lena Brooks",
                 "--panel", "hr=Priya Shah", cwd=git_examples)
    assert result.code == 4
    assert "no quorum" in result.err and "Quality representative (quality)" in result.err
    bad_role = cli("decide", packet_path(git_examples, "amara-okafor-2026-10"), "--outcome",
                   "approved", "--reason", "ok", *CS_PANEL, "--panel", "cfo=Someone",
                   cwd=git_examples)
    assert bad_role.code == 4 and "role 'cfo'" in bad_role.err


def test_override_needs_a_justification_and_is_flagged(cli: Cli, git_examples: Path) -> None:
    refused = decide(cli, git_examples, "grace-liu-2026-h2", outcome="approved")
    assert refused.code == 4 and "--override-reason" in refused.err
    declined = decide(cli, git_examples, "elena-rossi-2026-h2", outcome="declined")
    assert declined.code == 4 and "override" in declined.err
    needless = decide(cli, git_examples, "elena-rossi-2026-h2", "--override-reason", "x")
    assert needless.code == 4 and "nothing to override" in needless.err
    approved = decide(cli, git_examples, "grace-liu-2026-h2", "--override-reason",
                      "Leadership shown on the Q3 incident, after the packet closed",
                      outcome="approved")
    assert approved.code == 0, approved.err
    data = read(only_decision(git_examples))
    assert data["override"] == {
        "evaluation_verdict": "NOT READY",
        "justification": "Leadership shown on the Q3 incident, after the packet closed"}
    assert "Promoctl-Override: yes" in head(git_examples).message


def test_unrelated_staged_files_stay_staged(cli: Cli, git_examples: Path) -> None:
    (git_examples / "notes.txt").write_text("draft minutes\n")
    repo = git.Repo(git_examples)
    repo.git.add("notes.txt")
    assert decide(cli, git_examples, "amara-okafor-2026-10").code == 0
    assert "notes.txt" not in head(git_examples).stats.files
    assert repo.git.diff("--cached", "--name-only").splitlines() == ["notes.txt"]
    repo.close()


def test_no_commit_writes_only(cli: Cli, git_examples: Path) -> None:
    before = head(git_examples).hexsha
    assert decide(cli, git_examples, "amara-okafor-2026-10", "--no-commit").code == 0
    assert head(git_examples).hexsha == before
    assert only_decision(git_examples).is_file()


def test_refuses_outside_git(cli: Cli, examples: Path) -> None:
    result = decide(cli, examples, "amara-okafor-2026-10")
    assert result.code == 4 and "not inside a git repository" in result.err


def test_edit_may_change_plans_and_reasons_only(cli: Cli, git_examples: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    editor = tmp_path / "editor.py"
    editor.write_text("import sys, pathlib\np = pathlib.Path(sys.argv[3])\n"
                      "t = p.read_text()\n"
                      "p.write_text(t.replace(sys.argv[1], sys.argv[2], 1))\n")

    def use(old: str, new: str) -> None:
        monkeypatch.setenv("EDITOR", f"{sys.executable} {editor} '{old}' '{new}'")

    use("- Specific reason from the panel", "- Edited reason")
    assert decide(cli, git_examples, "chloe-martin-2026-10", "--edit").code == 0
    assert read(only_decision(git_examples))["reasons"] == [
        "Edited reason"]
    use("verdict: NOT READY", "verdict: READY")
    forged = decide(cli, git_examples, "dev-patel-2026-10", "--edit")
    assert forged.code == 4 and "changed: evaluation" in forged.err


def test_concurrent_decides(git_examples: Path) -> None:
    env = {**os.environ}
    base = [sys.executable, "-m", "promoctl", "decide", "--outcome", "approved",
            "--reason", "ready", *CS_PANEL, "--date", "2026-11-02"]
    same = [subprocess.Popen([*base, str(packet_path(git_examples, "amara-okafor-2026-10"))],
                             cwd=git_examples, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [(p.wait(), p.communicate()) for p in same]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 4, 4], results
    assert len(list((git_examples / "decisions").rglob("*.yaml"))) == 1
    repo = git.Repo(git_examples)
    assert not repo.is_dirty(untracked_files=True)
    assert len(list(repo.iter_commits())) == 2
    repo.close()


def test_concurrent_decides_on_different_packets(git_examples: Path) -> None:
    procs = []
    for packet_id, outcome in (("amara-okafor-2026-10", "approved"),
                               ("ben-hughes-2026-10", "deferred"),
                               ("chloe-martin-2026-10", "deferred")):
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "promoctl", "decide", "--outcome", outcome, "--reason",
             "r", *CS_PANEL, str(packet_path(git_examples, packet_id))],
            cwd=git_examples, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for proc in procs:
        _out, err = proc.communicate()
        assert proc.returncode == 0, err
    repo = git.Repo(git_examples)
    assert len(list(repo.iter_commits())) == 4
    assert not repo.is_dirty(untracked_files=True)
    repo.close()


def test_validate_flags_two_standing_decisions(cli: Cli, git_examples: Path) -> None:
    assert decide(cli, git_examples, "ben-hughes-2026-10").code == 0
    first = only_decision(git_examples)
    copy = first.with_name("copy.yaml")
    text = first.read_text()
    old_id = read(first)["id"]
    copy.write_text(text.replace(old_id, "2026-11-02-ben-hughes-copy00"))
    git_commit_all(git_examples, "duplicate")
    result = cli("validate", cwd=git_examples)
    assert result.code == 3
    assert "a second decision must supersede it" in result.out
