"""Seals: an audited state tagged in git; a later rewrite of history fails the audit."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Cli
from tests.test_audit_history import audit_json, git
from tests.test_decide import decide, only_decision


def seal(cli: Cli, repo: Path) -> str:
    result = cli("audit", "--seal", "--format", "json", cwd=repo)
    assert result.code == 0, result.out
    name = json.loads(result.out)["sealed"]
    assert isinstance(name, str) and name.startswith("promoctl-seal/")
    return name


def test_seal_is_an_annotated_tag_that_later_audits_check(cli: Cli, git_examples: Path
                                                          ) -> None:
    assert decide(cli, git_examples, "chloe-martin-2026-10").code == 0
    name = seal(cli, git_examples)
    assert git(git_examples, "cat-file", "-t", name).strip() == "tag"
    message = git(git_examples, "tag", "-l", "--format=%(contents)", name)
    record = only_decision(git_examples)
    head = git(git_examples, "rev-parse", "HEAD").strip()
    assert f"Promoctl-Seal-Head: {head}" in message
    assert record.relative_to(git_examples).as_posix() in message
    again = cli("audit", "--seal", cwd=git_examples)
    assert again.code == 0 and "already sealed" in again.err
    assert decide(cli, git_examples, "dev-patel-2026-10").code == 0
    code, data = audit_json(cli, git_examples)
    assert code == 0 and data["seals"] == 1


def test_an_amended_decision_breaks_the_seal(cli: Cli, git_examples: Path) -> None:
    assert decide(cli, git_examples, "chloe-martin-2026-10").code == 0
    name = seal(cli, git_examples)
    record = only_decision(git_examples)
    record.write_text(record.read_text().replace("- Specific reason from the panel",
                                                 "- A better reason"))
    git(git_examples, "commit", "-q", "--amend", "--no-edit", "--all")
    code, data = audit_json(cli, git_examples)
    assert code == 1
    (broken,) = [f for f in data["findings"] if f["check"] == "seal"]  # type: ignore[union-attr]
    assert broken["path"] == name
    assert broken["message"].startswith("the first seal this history breaks: the sealed "
                                        "commit")
    assert "rewritten or force-pushed" in broken["message"]


def test_the_first_broken_seal_is_named(cli: Cli, git_examples: Path) -> None:
    assert decide(cli, git_examples, "chloe-martin-2026-10").code == 0
    start = git(git_examples, "rev-parse", "HEAD~1").strip()
    first = seal(cli, git_examples)
    assert decide(cli, git_examples, "dev-patel-2026-10").code == 0
    second = seal(cli, git_examples)
    git(git_examples, "reset", "-q", "--hard", start)  # a force-push of an older branch
    code, data = audit_json(cli, git_examples)
    assert code == 1
    broken = [f for f in data["findings"] if f["check"] == "seal"]  # type: ignore[union-attr]
    assert [f["path"] for f in broken] == [first, second]
    assert broken[0]["message"].startswith("the first seal this history breaks")


def test_a_sealed_record_changed_later_breaks_the_seal(cli: Cli, git_examples: Path) -> None:
    assert decide(cli, git_examples, "chloe-martin-2026-10").code == 0
    seal(cli, git_examples)
    git(git_examples, "rm", "-q", str(only_decision(git_examples)))
    git(git_examples, "commit", "-qm", "drop it")
    code, data = audit_json(cli, git_examples)
    assert code == 1
    (broken,) = [f for f in data["findings"] if f["check"] == "seal"]  # type: ignore[union-attr]
    assert "1 sealed decision record(s) changed or removed" in broken["message"]


def test_a_failing_audit_is_not_sealed(cli: Cli, git_examples: Path) -> None:
    assert decide(cli, git_examples, "chloe-martin-2026-10").code == 0
    record = only_decision(git_examples)
    record.write_text(record.read_text().replace("outcome: deferred", "outcome: declined"))
    git(git_examples, "commit", "-qam", "edit")
    result = cli("audit", "--seal", cwd=git_examples)
    assert result.code == 1 and "not sealed" in result.err
    assert git(git_examples, "tag", "-l") == ""


def test_ci_templates_seal_on_the_default_branch(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "acme"
    assert cli("init", target, "--name", "Acme").code == 0
    github = (target / ".github" / "workflows" / "promoctl.yml").read_text()
    gitlab = (target / ".gitlab-ci.yml").read_text()
    assert "promoctl audit --seal" in github and "default_branch" in github
    assert "promoctl audit --seal" in gitlab and "CI_DEFAULT_BRANCH" in gitlab
