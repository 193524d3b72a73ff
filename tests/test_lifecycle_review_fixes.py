"""Regressions from the review of the lifecycle after the panel (issue 15)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Cli, git_commit_all
from tests.test_decide import decide, only_decision


def test_promotion_effective_before_the_held_level_is_refused(cli: Cli,
                                                              git_examples: Path) -> None:
    result = decide(cli, git_examples, "amara-okafor-2026-10", "--effective", "2019-01-01")
    assert result.code == 4, result.out
    assert "--effective 2019-01-01" in result.err and "2022-09-12" in result.err
    assert not list((git_examples / "decisions").rglob("*.yaml"))


def test_validate_warns_about_an_approval_effective_before_the_held_level(
        cli: Cli, git_examples: Path) -> None:
    assert decide(cli, git_examples, "amara-okafor-2026-10").code == 0
    path = only_decision(git_examples)
    path.write_text(path.read_text().replace("effective: 2026-11-02", "effective: 2019-01-01"))
    git_commit_all(git_examples, "backdated by hand")
    result = cli("validate", cwd=git_examples)
    assert "2019-01-01" in result.err + result.out and "not applied" in result.err + result.out
