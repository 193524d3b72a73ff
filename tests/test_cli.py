"""The command line as a user meets it: exit codes, help, init, schema, errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import git
import pytest

from promoctl.cli import app
from promoctl.records.schema import schemas
from tests.conftest import EXAMPLES, PROJECT, Cli

COMMANDS = sorted(c.name or c.callback.__name__  # type: ignore[union-attr]
                  for c in app.registered_commands)


def test_every_command_has_help_and_is_in_the_readme(cli: Cli) -> None:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    assert COMMANDS
    for name in COMMANDS:
        result = cli(name, "--help")
        assert result.code == 0, name
        assert "Usage" in result.out
        assert f"promoctl {name}" in readme, f"{name} is not documented in README.md"


def test_version(cli: Cli) -> None:
    result = cli("--version")
    assert result.code == 0 and re.fullmatch(r"promoctl \d+\.\d+\.\d+\n", result.out)


def test_usage_error_exit_code(cli: Cli) -> None:
    result = cli("evaluate", EXAMPLES / "packets", "--as-of", "31/12/2026")
    assert result.code == 2
    assert "YYYY-MM-DD" in result.err
    assert cli("evaluate", "--no-such-option").code == 2


def test_not_a_repository(cli: Cli, tmp_path: Path) -> None:
    result = cli("validate", cwd=tmp_path)
    assert result.code == 4
    assert "not inside a promotion repository" in result.err


def test_missing_packet_file(cli: Cli) -> None:
    result = cli("evaluate", EXAMPLES / "packets" / "nope.yaml", "--repo", EXAMPLES)
    assert result.code == 4 and "no such file or folder" in result.err


def test_invalid_packet_is_not_evaluated(cli: Cli, examples: Path) -> None:
    bad = examples / "packets" / "community" / "amara-okafor-2026-10.yaml"
    bad.write_text(bad.read_text().replace("candidate: amara-okafor", "candidate: amara"))
    good = examples / "packets" / "professional" / "elena-rossi-2026-h2.yaml"
    result = cli("evaluate", bad, good, "--format", "json")
    assert result.code == 3  # invalid input beats "evaluated"
    data = json.loads(result.out)
    assert [e["packet"] for e in data["evaluations"]] == ["elena-rossi-2026-h2"]
    (blocked,) = data["not_evaluated"]
    assert blocked["path"] == "packets/community/amara-okafor-2026-10.yaml"
    assert (blocked["problems"][0]["line"], blocked["problems"][0]["column"]) == (6, 12)
    assert "unknown person 'amara'" in blocked["problems"][0]["message"]


def test_broken_framework_blocks_only_its_packets(cli: Cli, examples: Path) -> None:
    fw = examples / "frameworks" / "professional-services.yaml"
    fw.write_text(fw.read_text().replace("title: Professional", "titel: Professional"))
    result = cli("evaluate", examples / "packets", "--format", "json")
    assert result.code == 3
    data = json.loads(result.out)
    assert {e["target"]["ladder"] for e in data["evaluations"]} == {"support-work"}
    assert len(data["not_evaluated"]) == 4
    problems = [f"{p['path']}:{p['line']}:{p['column']}: {p['message']}"
                for p in data["problems"]]
    assert "frameworks/professional-services.yaml:5:1: unknown field 'titel' in the record " \
           "(did you mean 'title'?)" in problems
    table = cli("evaluate", examples / "packets")
    assert table.code == 3
    assert "frameworks/professional-services.yaml:5:1: unknown field 'titel'" in table.err


def test_piped_output_has_no_progress_bar_or_colour() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "promoctl", "evaluate", "packets"], cwd=EXAMPLES,
        capture_output=True, text=True, check=False)
    assert proc.returncode == 1, proc.stderr
    assert "\x1b[" not in proc.stdout
    assert proc.stderr == ""


def test_schemas_folder_is_current() -> None:
    for name, text in schemas().items():
        committed = PROJECT / "schemas" / name
        assert committed.is_file(), f"schemas/{name} missing: run 'make schemas'"
        assert committed.read_text(encoding="utf-8") == text, \
            f"schemas/{name} is stale: run 'make schemas'"


def test_schema_command_writes_and_checks(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "s"
    assert cli("schema", "--check", "--out", out).code == 1
    assert cli("schema", "--out", out).code == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(schemas())
    assert cli("schema", "--check", "--out", out).code == 0
    packet = json.loads((out / "packet.schema.json").read_text())
    assert packet["additionalProperties"] is False
    assert "evidence" in packet["properties"]


def test_init_creates_a_repository_that_validates_and_evaluates(cli: Cli, tmp_path: Path
                                                                 ) -> None:
    target = tmp_path / "acme"
    result = cli("init", target, "--name", 'Acme "Care"')
    assert result.code == 0, result.err
    repo = git.Repo(target)
    assert not repo.is_dirty(untracked_files=True)
    assert repo.head.commit.message.startswith("Start promotion repository")
    repo.close()
    assert cli("validate", cwd=target).code == 0
    evaluated = cli("evaluate", "packets", "--format", "json", cwd=target)
    assert evaluated.code == 0
    assert json.loads(evaluated.out)["evaluations"][0]["verdict"] == "READY"
    assert (target / "schemas" / "packet.schema.json").is_file()
    assert "$schema=../schemas/packet.schema.json" in \
        (target / "packets" / "alex-doe-first.yaml").read_text()


def test_init_refuses_a_folder_with_files(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    result = cli("init", tmp_path)
    assert result.code == 4 and "not empty" in result.err
    assert (tmp_path / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_validate_formats_on_examples(cli: Cli, fmt: str) -> None:
    result = cli("validate", "--repo", EXAMPLES, "--format", fmt)
    assert result.code == 0
    if fmt == "json":
        assert json.loads(result.out) == {"format": 1, "problems": []}
