"""decide and review are crash-safe: checked before writing, committed without the user's
index, and a run killed at any moment leaves what the next run can finish or undo."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import git
import pytest

from promoctl.base.gitio import Git
from promoctl.decisions import recording
from tests.conftest import Cli
from tests.test_decide import CS_PANEL, decide, head, packet_path

PACKET = "amara-okafor-2026-10"
STEPS = ("journal", "record", "blob", "tree", "commit", "ref", "staged")


def leftovers(repo: Path) -> list[str]:
    """Files a run must never leave behind: temporaries, private indexes, git's lock."""
    found = [p.relative_to(repo).as_posix() for p in repo.rglob("*")
             if p.name.endswith(".tmp") or p.name.startswith("promoctl-index-")
             or p.name == "index.lock" or p.name == recording.TMP_DIR]
    return sorted(found)


def decide_argv(repo: Path) -> list[str]:
    return [sys.executable, "-m", "promoctl", "decide", str(packet_path(repo, PACKET)),
            "--outcome", "approved", "--reason", "ready", *CS_PANEL, "--date", "2026-11-02"]


def assert_recovers(cli: Cli, repo: Path) -> None:
    """The next decide finishes or undoes the killed run, and then the packet is decided
    exactly once, committed, with a clean work tree and index."""
    again = decide(cli, repo, PACKET)
    decided_already = "already has a decision" in again.err
    assert again.code == 0 or decided_already, again.err
    assert "--supersedes" not in again.err or decided_already
    records = sorted((repo / "decisions").rglob("*.yaml"))
    assert len(records) == 1, records
    r = git.Repo(repo)
    try:
        assert not r.is_dirty(untracked_files=True), r.git.status()
        assert r.git.ls_files("decisions") == records[0].relative_to(repo).as_posix()
    finally:
        r.close()
    assert leftovers(repo) == []
    assert not (repo / ".git" / recording.JOURNAL).exists()
    assert cli("audit", cwd=repo).code == 0


@pytest.mark.parametrize("step", STEPS)
def test_killed_at_each_step_the_next_decide_recovers(cli: Cli, git_examples: Path,
                                                       step: str) -> None:
    proc = subprocess.run(decide_argv(git_examples), cwd=git_examples, capture_output=True,
                          text=True, env={**os.environ, recording.KILL_AT: step})
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert not (git_examples / ".git" / "index.lock").exists()
    assert [p for p in (git_examples / "decisions").rglob("*") if p.is_file()
            and not p.name.endswith(".yaml")] == []
    assert_recovers(cli, git_examples)


def test_killed_at_increasing_delays_the_next_decide_recovers(git_examples: Path,
                                                                cli: Cli) -> None:
    """Real signals at moments nobody chose: each run is killed a little later."""
    start = time.monotonic()
    probe = subprocess.run(decide_argv(git_examples), cwd=git_examples, capture_output=True,
                           text=True)
    took = time.monotonic() - start
    assert probe.returncode == 0, probe.stderr
    undecided = head(git_examples).parents[0].hexsha
    for n in range(1, 9):
        subprocess.run(["git", "reset", "-q", "--hard", undecided], cwd=git_examples,
                       check=True)
        proc = subprocess.Popen(decide_argv(git_examples), cwd=git_examples,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(took * n / 8)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert_recovers(cli, git_examples)


def test_git_lock_refuses_before_writing(cli: Cli, git_examples: Path) -> None:
    lock = git_examples / ".git" / "index.lock"
    lock.write_text("")
    before = head(git_examples).hexsha
    result = decide(cli, git_examples, PACKET)
    assert result.code == 4 and "index.lock" in result.err
    assert not (git_examples / "decisions").exists()
    assert head(git_examples).hexsha == before
    assert lock.exists()  # git's lock is never removed by promoctl
    lock.unlink()
    assert decide(cli, git_examples, PACKET).code == 0


def test_a_concurrent_commit_is_never_lost(git_examples: Path) -> None:
    """The branch moved between preparing and committing: nothing is recorded, the other
    commit stays, and the written record is removed again."""
    stale = head(git_examples).hexsha
    (git_examples / "minutes.txt").write_text("minutes\n")
    subprocess.run(["git", "add", "minutes.txt"], cwd=git_examples, check=True)
    subprocess.run(["git", "commit", "-qm", "minutes"], cwd=git_examples, check=True)
    moved = head(git_examples).hexsha
    record = git_examples / "decisions" / "x.yaml"
    with Git(git_examples) as g, pytest.raises(Exception, match="nothing was recorded: "
                                                "another commit arrived"):
        recording.write_and_commit(g, git_examples, record, "kind: decision\n", "m\n", stale)
    assert head(git_examples).hexsha == moved
    assert not record.exists()
    assert not (git_examples / ".git" / recording.JOURNAL).exists()


def test_uncommitted_record_gets_the_right_advice(cli: Cli, git_examples: Path) -> None:
    assert decide(cli, git_examples, PACKET, "--no-commit").code == 0
    again = decide(cli, git_examples, PACKET)
    assert again.code == 4
    assert "not committed" in again.err and "--supersedes" not in again.err


def test_leftover_record_is_removed_when_the_branch_moved(cli: Cli, git_examples: Path
                                                          ) -> None:
    proc = subprocess.run(decide_argv(git_examples), cwd=git_examples, capture_output=True,
                          text=True, env={**os.environ, recording.KILL_AT: "record"})
    assert proc.returncode == -signal.SIGKILL
    (git_examples / "minutes.txt").write_text("minutes\n")
    subprocess.run(["git", "add", "minutes.txt"], cwd=git_examples, check=True)
    subprocess.run(["git", "commit", "-qm", "minutes"], cwd=git_examples, check=True)
    again = decide(cli, git_examples, PACKET)
    assert again.code == 0, again.err
    assert "recovered: removed" in again.err
    assert len(list((git_examples / "decisions").rglob("*.yaml"))) == 1


def test_leftover_record_is_committed_when_nothing_moved(cli: Cli, git_examples: Path
                                                         ) -> None:
    proc = subprocess.run(decide_argv(git_examples), cwd=git_examples, capture_output=True,
                          text=True, env={**os.environ, recording.KILL_AT: "record"})
    assert proc.returncode == -signal.SIGKILL
    again = decide(cli, git_examples, PACKET)
    assert "recovered: committed" in again.err
    assert again.code == 4 and "already has a decision" in again.err
    assert_recovers(cli, git_examples)


@pytest.mark.parametrize("step", ["record", "ref"])
def test_review_killed_the_next_review_recovers(cli: Cli, git_examples: Path,
                                                step: str) -> None:
    # A review needs something to review: Amara's probation after her promotion.
    assert decide(cli, git_examples, "amara-okafor-2026-10").code == 0
    argv = [sys.executable, "-m", "promoctl", "review", "amara-okafor", "--kind",
            "probation", "--outcome", "confirmed", "--reviewer", "Jo Mensah", "--findings",
            "Safe, well-documented practice", "--date", "2027-01-31"]
    proc = subprocess.run(argv, cwd=git_examples, capture_output=True, text=True,
                          env={**os.environ, recording.KILL_AT: step})
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    # The next review, whatever it records, first finishes the killed one.
    again = cli("review", "amara-okafor", "--kind", "maintenance", "--outcome", "lapsed",
                "--reviewer", "Jo Mensah", "--findings", "No recent evidence",
                "--date", "2027-05-02", cwd=git_examples)
    assert again.code == 0, again.err
    assert "recovered: " in again.err
    r = git.Repo(git_examples)
    try:
        assert not r.is_dirty(untracked_files=True), r.git.status()
        assert len(r.git.ls_files("reviews").splitlines()) == 2
    finally:
        r.close()
    assert leftovers(git_examples) == []
