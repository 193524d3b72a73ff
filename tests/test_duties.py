"""Separation of duties: who may sit on a panel, who may assess, as promoctl.yaml says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli, git_commit_all
from tests.test_audit import commit_as
from tests.test_decide import packet_path

OTHERS = ("--panel", "quality=Jo Mensah", "--panel", "hr=Priya Shah")


def decide_with(cli: Cli, repo: Path, lead: str, *extra: str) -> object:
    return cli("decide", packet_path(repo, "amara-okafor-2026-10"), "--outcome", "approved",
               "--reason", "ready", "--panel", f"operations-lead={lead}", *OTHERS,
               "--date", "2026-11-02", *extra, cwd=repo)


@pytest.mark.parametrize(("lead", "what"), [
    ("noor-said", "the candidate's manager"),  # by id
    ("Noor Said", "the candidate's manager"),  # by name
    ("  noor  SAID ", "the candidate's manager"),  # however it is typed
    ("amara-okafor", "the candidate"),
])
def test_decide_refuses_a_conflicted_panel(cli: Cli, git_examples: Path, lead: str,
                                           what: str) -> None:
    result = decide_with(cli, git_examples, lead)
    assert result.code == 4, result.out  # type: ignore[attr-defined]
    assert f"is {what}" in result.err  # type: ignore[attr-defined]
    assert "separation of duties" in result.err  # type: ignore[attr-defined]
    assert not (git_examples / "decisions").exists()


def test_a_person_id_on_the_panel_is_recorded_with_the_name(cli: Cli, git_examples: Path
                                                             ) -> None:
    result = decide_with(cli, git_examples, "grace-liu")
    assert result.code == 0, result.err  # type: ignore[attr-defined]
    (record,) = (git_examples / "decisions").rglob("*.yaml")
    assert "- name: Grace Liu\n  role: operations-lead\n  person: grace-liu" in \
        record.read_text()


def test_policy_can_allow_the_manager(cli: Cli, git_examples: Path) -> None:
    config = git_examples / "promoctl.yaml"
    config.write_text(config.read_text() + "policy:\n  separation_of_duties:\n"
                      "    manager: false\n    supervisor: false\n    assessors: false\n")
    git_commit_all(git_examples, "policy")
    assert decide_with(cli, git_examples, "noor-said").code == 0  # type: ignore[attr-defined]


def test_validate_and_audit_report_an_existing_breach(cli: Cli, git_examples: Path,
                                                      monkeypatch: pytest.MonkeyPatch
                                                      ) -> None:
    assert decide_with(cli, git_examples, "Lena Brooks", "--no-commit").code == 0  # type: ignore[attr-defined]
    (record,) = (git_examples / "decisions").rglob("*.yaml")
    record.write_text(record.read_text().replace("Lena Brooks", "Noor Said"))
    commit_as(git_examples, "decision", "Mallory Editor", "2026-11-03", monkeypatch)
    validate = cli("validate", cwd=git_examples)
    assert validate.code == 3
    assert "panel member 'Noor Said' (operations-lead) is the candidate's manager" in \
        validate.out
    result = json.loads(cli("audit", "--format", "json", cwd=git_examples).out)
    assert [f["check"] for f in result["findings"] if f["severity"] == "fail"] == [
        "separation-of-duties"]


def test_self_assessed_evidence_is_refused(cli: Cli, git_examples: Path) -> None:
    packet = packet_path(git_examples, "amara-okafor-2026-10")
    text = packet.read_text()
    assert "assessor: noor-said" in text
    packet.write_text(text.replace("assessor: noor-said", "assessor: amara-okafor", 1))
    git_commit_all(git_examples, "self-assessed")
    result = decide_with(cli, git_examples, "Lena Brooks")
    assert result.code == 4  # type: ignore[attr-defined]
    assert "is assessed by the candidate 'amara-okafor'" in result.err  # type: ignore[attr-defined]


def test_the_starter_is_a_sound_system(cli: Cli, tmp_path: Path) -> None:
    """init writes panel roles, probation rules and the policy: the README's decide works,
    the manager is kept off the panel, the approval carries a probation plan."""
    target = tmp_path / "acme"
    assert cli("init", target, "--name", "Acme").code == 0
    packet = target / "packets" / "alex-doe-first.yaml"
    base = ("decide", packet, "--outcome", "approved", "--reason", "ready",
            "--panel", "peer-reviewer=Ravi Peer", "--panel", "hr=kim-hr")
    quorum = cli(*base, cwd=target)
    assert quorum.code == 4 and "Practice lead (practice-lead)" in quorum.err
    manager = cli(*base, "--panel", "practice-lead=sam-lead", cwd=target)
    assert manager.code == 4 and "the candidate's manager" in manager.err
    ok = cli(*base, "--panel", "practice-lead=Jo Lead", cwd=target)
    assert ok.code == 0, ok.err
    (record,) = (target / "decisions").rglob("*.yaml")
    text = record.read_text()
    assert "probation_plan:" in text and "name: Kim Hart" in text
    assert cli("validate", cwd=target).code == 0
    assert cli("audit", cwd=target).code == 0


def test_namesakes_named_by_id_are_different_people(cli: Cli, git_examples: Path) -> None:
    """An assessor or panel member given by person id is that person: another person
    who shares the candidate's name is not the candidate."""
    namesake = git_examples / "people" / "amara-okafor-2.yaml"
    namesake.write_text((git_examples / "people" / "amara-okafor.yaml").read_text()
                        .replace("id: amara-okafor", "id: amara-okafor-2"))
    packet = packet_path(git_examples, "amara-okafor-2026-10")
    packet.write_text(packet.read_text().replace("assessor: noor-said",
                                                 "assessor: amara-okafor-2", 1))
    git_commit_all(git_examples, "a namesake")
    ok = decide_with(cli, git_examples, "Lena Brooks")
    assert ok.code == 0, ok.err  # type: ignore[attr-defined]
