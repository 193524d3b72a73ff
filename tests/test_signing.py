"""Signed decisions: an opt-in policy, git's own SSH signing, keys made with ssh-keygen."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import Cli, git_commit_all
from tests.test_audit_history import git
from tests.test_decide import decide, only_decision


def keypair(folder: Path, name: str) -> tuple[Path, str]:
    key = folder / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)],
                   check=True)
    return key, (folder / f"{name}.pub").read_text().strip()


@pytest.fixture
def signed_repo(git_examples: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The examples with signing required, the secretary's key allowed and configured."""
    key, public = keypair(tmp_path, "secretary")
    signers = git_examples / ".promoctl" / "allowed_signers"
    signers.parent.mkdir()
    signers.write_text(f'secretary@example.org namespaces="git" {public}\n')
    config = git_examples / "promoctl.yaml"
    config.write_text(config.read_text() + "policy:\n  signing:\n    required: true\n")
    git_commit_all(git_examples, "require signed decisions")
    git(git_examples, "config", "gpg.format", "ssh")
    git(git_examples, "config", "user.signingkey", str(key))
    return git_examples, tmp_path


def audit_findings(cli: Cli, repo: Path) -> tuple[int, list[dict[str, str]]]:
    result = cli("audit", "--format", "json", cwd=repo)
    return result.code, json.loads(result.out)["findings"]


def test_decide_signs_and_audit_verifies(cli: Cli, signed_repo: tuple[Path, Path]) -> None:
    repo, _ = signed_repo
    assert decide(cli, repo, "chloe-martin-2026-10").code == 0
    raw = git(repo, "cat-file", "commit", "HEAD")
    assert "-----BEGIN SSH SIGNATURE-----" in raw
    code, findings = audit_findings(cli, repo)
    assert code == 0, findings
    notes = [f for f in findings if f["check"] == "allowed-signers"]
    assert len(notes) == 1 and "added secretary@example.org" in notes[0]["message"]


def test_decide_refuses_without_a_signing_key(cli: Cli, signed_repo: tuple[Path, Path]
                                             ) -> None:
    repo, _ = signed_repo
    git(repo, "config", "--unset", "user.signingkey")
    result = decide(cli, repo, "chloe-martin-2026-10")
    assert result.code == 4
    assert "requires signed decisions" in result.err and "gpg.format ssh" in result.err
    assert not (repo / "decisions").exists()


def test_an_unsigned_decision_fails_audit(cli: Cli, signed_repo: tuple[Path, Path]) -> None:
    repo, _ = signed_repo
    assert decide(cli, repo, "chloe-martin-2026-10", "--no-commit").code == 0
    git(repo, "add", "decisions")
    git(repo, "-c", "commit.gpgSign=false", "commit", "-qm", "by hand")
    code, findings = audit_findings(cli, repo)
    assert code == 1
    (fail,) = [f for f in findings if f["severity"] == "fail"]
    assert fail["check"] == "signature" and "no signature" in fail["message"]


def test_a_key_not_in_the_allowed_signers_fails(cli: Cli, signed_repo: tuple[Path, Path]
                                                ) -> None:
    repo, keys = signed_repo
    other, _ = keypair(keys, "mallory")
    git(repo, "config", "user.signingkey", str(other))
    assert decide(cli, repo, "chloe-martin-2026-10").code == 0
    code, findings = audit_findings(cli, repo)
    assert code == 1
    (fail,) = [f for f in findings if f["severity"] == "fail"]
    assert fail["check"] == "signature"
    assert "not in the allowed-signers file" in fail["message"]
    assert only_decision(repo).is_file()


def test_a_seal_is_signed_when_signing_is_set_up(cli: Cli, signed_repo: tuple[Path, Path]
                                                 ) -> None:
    repo, _ = signed_repo
    assert decide(cli, repo, "chloe-martin-2026-10").code == 0
    result = cli("audit", "--seal", "--format", "json", cwd=repo)
    assert result.code == 0, result.out
    name = json.loads(result.out)["sealed"]
    assert "-----BEGIN SSH SIGNATURE-----" in git(repo, "cat-file", "tag", name)
