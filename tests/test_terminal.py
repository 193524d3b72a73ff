"""Terminal output: tables fit 80 and 100 columns, piped output honours COLUMNS, and long
runs show progress on a terminal."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import git_commit_all

PROMOCTL = Path(sys.executable).with_name("promoctl")


def run(repo: Path, *args: str, columns: int | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns is not None:
        env["COLUMNS"] = str(columns)
    return subprocess.run([str(PROMOCTL), *args], cwd=repo, capture_output=True, text=True,
                          env=env, check=False)


@pytest.mark.parametrize("width", [80, 100])
def test_summary_fits_and_keeps_verdict_and_reasons(examples: Path, width: int) -> None:
    result = run(examples, "evaluate", "--all", columns=width)
    lines = result.stdout.splitlines()
    assert all(len(line) <= width for line in lines), max(lines, key=len)
    table = "\n".join(lines)
    assert "Verdict" in table and "Reasons" in table
    assert "NOT READY" in table and "…" not in table
    assert "risk-escalation 1.57 < 2" in table
    assert "partner-coordination: no scored evidence" in table or \
        "partner-coordination: no evidence" in table
    assert "left out to fit" in table


def test_piped_output_honours_columns(examples: Path) -> None:
    wide = run(examples, "evaluate", "--all", columns=160).stdout
    assert "Program" in wide and "left out" not in wide
    assert max(len(line) for line in wide.splitlines()) <= 160
    default = run(examples, "evaluate", "--all").stdout  # no COLUMNS: 120, as before
    assert max(len(line) for line in default.splitlines()) <= 120


def on_a_terminal(repo: Path, *args: str) -> str:
    """stderr is a terminal (stdout is piped): what the user sees there."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([str(PROMOCTL), *args], cwd=repo, stdout=subprocess.PIPE,
                            stderr=slave, env={**os.environ, "COLUMNS": "100"})
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        seen += chunk
    proc.communicate()
    os.close(master)
    return seen.decode(errors="replace")


@pytest.fixture
def many(git_examples: Path) -> Path:
    """Enough records (over 50) that the commands show progress."""
    template = (git_examples / "people" / "ben-hughes.yaml").read_text()
    for i in range(60):
        (git_examples / "people" / f"extra-{i}.yaml").write_text(
            template.replace("id: ben-hughes", f"id: extra-{i}"))
    git_commit_all(git_examples, "more people")
    return git_examples


@pytest.mark.parametrize(("args", "label"), [
    (("due", "--as-of", "2027-01-01"), "loading"),
    (("panel",), "loading"),
    (("impact",), "re-evaluating"),
])
def test_long_runs_show_progress_on_a_terminal(many: Path, args: tuple[str, ...],
                                               label: str) -> None:
    assert label in on_a_terminal(many, *args)
