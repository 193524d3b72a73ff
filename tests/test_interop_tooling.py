"""The promotion repository's own tooling: CI files from init, the pre-commit hook, shell
completion, and the import/export commands' help."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import git
import pytest
import yaml

from promoctl.interop.html_text import clean, one_line, to_text
from tests.conftest import PROJECT, Cli

PROMOCTL = Path(sys.executable).parent / "promoctl"
SUBCOMMANDS = [("import", "moodle-framework"), ("import", "case"), ("import", "lms-csv"),
               ("import", "xapi"), ("export", "moodle-framework"), ("export", "case")]


def test_init_writes_ci_gitattributes_and_a_review_readme(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "acme"
    assert cli("init", target, "--name", "Acme").code == 0
    repo = git.Repo(target)
    tracked = set(repo.git.ls_files().splitlines())
    repo.close()
    assert {".github/workflows/promoctl.yml", ".gitlab-ci.yml", ".gitattributes",
            ".pre-commit-config.yaml", "README.md", "schemas/lms-mapping.schema.json"} <= tracked

    github = yaml.safe_load((target / ".github/workflows/promoctl.yml").read_text())
    assert set(github[True]) == {"push", "pull_request"}  # YAML 1.1 reads "on" as true
    steps = github["jobs"]["check"]["steps"]
    runs = [s.get("run") for s in steps]
    assert "python -m pip install promoctl" in runs
    assert runs.index("promoctl validate") < runs.index("promoctl audit")
    assert steps[0]["with"]["fetch-depth"] == 0

    gitlab = yaml.safe_load((target / ".gitlab-ci.yml").read_text())
    assert gitlab["promoctl"]["script"] == ["python -m pip install promoctl",
                                            "promoctl validate", "promoctl audit"]
    assert gitlab["promoctl"]["variables"]["GIT_DEPTH"] == 0
    rules = gitlab["workflow"]["rules"]
    assert rules[0]["if"] == '$CI_PIPELINE_SOURCE == "merge_request_event"'

    attributes = (target / ".gitattributes").read_text()
    assert "*.yaml text eol=lf" in attributes and "artifacts/** -text" in attributes
    assert "decisions/** -merge" in attributes
    readme = (target / "README.md").read_text()
    assert "pull request" in readme and "promoctl audit" in readme
    assert "promoctl --install-completion" in readme
    # the hidden files are not records: the repository still validates
    assert cli("validate", cwd=target).code == 0


HOOKS = yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text())


def test_pre_commit_hook_definition() -> None:
    (hook,) = HOOKS
    assert hook["id"] == "promoctl-validate"
    assert hook["entry"] == "promoctl validate"
    assert hook["language"] == "python" and hook["pass_filenames"] is True
    files, exclude = re.compile(hook["files"]), re.compile(hook["exclude"])

    def selected(path: str) -> bool:  # what pre-commit does with files/exclude
        return bool(files.search(path)) and not exclude.search(path)

    for path in ("packets/a.yaml", "people/x.yml", "frameworks/core.yaml", "promoctl.yaml",
                 "decisions/2026/d.yaml"):
        assert selected(path), path
    for path in (".github/workflows/promoctl.yml", ".gitlab-ci.yml", ".pre-commit-config.yaml",
                 "templates/letter.yaml", "schemas/packet.schema.json", "artifacts/x.yaml",
                 "packets/.draft.yaml", "README.md", "lms/export.csv"):
        assert not selected(path), path
    # the promotion repository's own (local) hook uses the same selection
    starter = yaml.safe_load((PROJECT / "src/promoctl/records/starter/pre-commit-config.yaml")
                             .read_text())
    (local,) = starter["repos"][0]["hooks"]
    assert (local["entry"], local["files"], local["exclude"]) == \
        (hook["entry"], hook["files"], hook["exclude"])


def _run_hook(repo: Path, staged: list[str]) -> subprocess.CompletedProcess[str]:
    (hook,) = HOOKS
    files, exclude = re.compile(hook["files"]), re.compile(hook["exclude"])
    chosen = [f for f in staged if files.search(f) and not exclude.search(f)]
    command = [str(PROMOCTL), *hook["entry"].split()[1:], *chosen]
    return subprocess.run(command, cwd=repo, capture_output=True, text=True, check=False,
                          env={**os.environ, "NO_COLOR": "1"})


@pytest.mark.skipif(not PROMOCTL.exists(), reason="promoctl is not installed beside python")
def test_the_hook_fails_on_a_bad_file_and_checks_only_the_files_passed(
        cli: Cli, tmp_path: Path) -> None:
    # pre-commit itself needs the network to install the hook; this runs its command
    # on the files it would pass, in a promotion repository with one bad file staged.
    target = tmp_path / "promotions"
    assert cli("init", target).code == 0
    bad = target / "people" / "alex-doe.yaml"
    bad.write_text(bad.read_text().replace("program: Operations", "programme: Operations"))
    good = target / "people" / "sam-lead.yaml"
    good.write_text(good.read_text() + "team: Quality\n")
    (target / ".gitlab-ci.yml").write_text((target / ".gitlab-ci.yml").read_text() + "\n")
    repo = git.Repo(target)
    repo.git.add("--all")
    staged = repo.git.diff("--cached", "--name-only").splitlines()
    repo.close()
    assert sorted(staged) == [".gitlab-ci.yml", "people/alex-doe.yaml", "people/sam-lead.yaml"]

    failed = _run_hook(target, staged)
    assert failed.returncode == 3, failed.stderr
    lines = failed.stdout.splitlines()
    assert lines and all(line.startswith("people/alex-doe.yaml:") for line in lines)
    assert "people/alex-doe.yaml:6:1: unknown field 'programme' in the record (did you mean " \
           "'program'?)" in lines
    # Alex reports to Sam: a commit of Sam's record alone shows Alex's problem too
    sam = _run_hook(target, ["people/sam-lead.yaml"])
    assert sam.returncode == 3 and sam.stdout == failed.stdout
    bad.write_text(bad.read_text().replace("programme: Operations", "program: Operations"))
    assert _run_hook(target, ["people/sam-lead.yaml"]).returncode == 0


@pytest.mark.skipif(not PROMOCTL.exists(), reason="promoctl is not installed beside python")
def test_shell_completion(tmp_path: Path) -> None:
    # A process of its own: typer ends --show-completion with sys.exit. Typer's own test
    # switch makes the option take the shell's name instead of asking the parent process
    # (no shell is the parent under CI or a background run).
    env = {**os.environ, "HOME": str(tmp_path), "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    script = subprocess.run([str(PROMOCTL), "--show-completion", "bash"], capture_output=True,
                            text=True, check=False, env=env)
    assert script.returncode == 0, script.stderr
    assert "_PROMOCTL_COMPLETE=complete_bash" in script.stdout
    assert "complete -o default -F _promoctl_completion promoctl" in script.stdout


@pytest.mark.skipif(not PROMOCTL.exists(), reason="promoctl is not installed beside python")
def test_completion_knows_the_import_commands(tmp_path: Path) -> None:
    env = {**os.environ, "_PROMOCTL_COMPLETE": "complete_bash", "COMP_WORDS": "promoctl import ",
           "COMP_CWORD": "2", "HOME": str(tmp_path)}
    done = subprocess.run([str(PROMOCTL)], env=env, capture_output=True, text=True,
                          check=False)
    assert set(done.stdout.split()) >= {"moodle-framework", "case", "lms-csv", "xapi"}


@pytest.mark.parametrize(("group", "name"), SUBCOMMANDS)
def test_every_interop_command_has_help_and_is_in_the_readme(cli: Cli, group: str,
                                                            name: str) -> None:
    result = cli(group, name, "--help")
    assert result.code == 0 and "Usage" in result.out
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    assert f"promoctl {group} {name}" in readme


def test_html_text() -> None:
    assert to_text("<h2>Title</h2><p>a&nbsp;b &amp; c</p><ol><li>x</li><li>y</li></ol>") == \
        "Title\n\na\xa0b & c\n\n1. x\n2. y"
    assert to_text('<a href="mailto:hr@example.org">hr@example.org</a>') == "hr@example.org"
    assert to_text('<a href="data:text/html,evil">see</a>') == "see"
    assert to_text("<script>never closed") == ""
    assert clean("no <b>html</b> here?") == "no html here?"
    assert clean("1 < 2 and 3 > 2\r\nnext") == "1 < 2 and 3 > 2\nnext"
    assert one_line("  A\n  name\t") == "A name"
