"""``validate FILE...`` (the pre-commit hook) also checks the records that refer to the
given files, and lists their problems under their own paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from promoctl.records import validation
from tests.conftest import Cli, git_commit_all

FRAMEWORK = "frameworks/professional-services.yaml"


def test_removing_a_competency_others_use_fails_the_hook(cli: Cli, examples: Path) -> None:
    git_commit_all(examples)
    assert cli("validate", cwd=examples).code == 0
    framework = examples / FRAMEWORK
    framework.write_text(framework.read_text(encoding="utf-8").replace(
        "id: continuous-improvement", "id: continuous-improvement-renamed"), encoding="utf-8")
    result = cli("validate", FRAMEWORK, cwd=examples)
    assert result.code == 3, result.out + result.err
    paths = {line.split(":", 1)[0] for line in result.out.splitlines() if ":" in line}
    # the ladder, the mapping and the packets that still use it, not the framework
    assert {"ladders/consulting.yaml", "lms/academy-mapping.yaml",
            "packets/professional/grace-liu-2026-h2.yaml"} <= paths
    assert FRAMEWORK not in paths
    assert "unknown competency 'continuous-improvement'" in result.out
    whole = cli("validate", cwd=examples)
    assert sorted(whole.out.splitlines()) == sorted(result.out.splitlines())


def test_renaming_a_person_is_checked_against_their_packets(cli: Cli, examples: Path
                                                            ) -> None:
    git_commit_all(examples)
    person = examples / "people" / "hiro-tanaka.yaml"
    person.write_text(person.read_text(encoding="utf-8").replace(
        "id: hiro-tanaka", "id: hiro-t"), encoding="utf-8")
    whole = cli("validate", cwd=examples)
    result = cli("validate", "people/hiro-tanaka.yaml", cwd=examples)
    assert result.code == whole.code == 3
    # whatever the whole run finds in the packets of the person is found here too
    packet_lines = [ln for ln in whole.out.splitlines() if "hiro-tanaka-2026-h2" in ln]
    assert packet_lines and all(ln in result.out.splitlines() for ln in packet_lines)


def test_unrelated_files_are_not_reported(cli: Cli, examples: Path) -> None:
    packet = examples / "packets" / "professional" / "grace-liu-2026-h2.yaml"
    packet.write_text(packet.read_text(encoding="utf-8").replace(
        "candidate: grace-liu", "candidate: grace-liu\nbogus: 1"), encoding="utf-8")
    other = "people/elena-rossi.yaml"
    assert cli("validate", other, cwd=examples).code == 0  # elena refers to nothing broken


def test_when_most_of_the_repository_refers_to_a_file_the_whole_run_answers(
        examples: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    framework = examples / FRAMEWORK
    framework.write_text(framework.read_text(encoding="utf-8").replace(
        "id: continuous-improvement", "id: continuous-improvement-renamed"), encoding="utf-8")
    one_by_one = validation.validate(examples, [framework])
    assert one_by_one
    monkeypatch.setattr(validation, "WHOLE_RUN_FROM", 0)  # the whole run, then filtered
    assert validation.validate(examples, [framework]) == one_by_one
