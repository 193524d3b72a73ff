"""Level history derived from the person file and the standing approvals."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from promoctl.records import levels, repository
from promoctl.records.levels import Move
from promoctl.records.models import Person
from tests.conftest import Cli
from tests.test_decide import decide


def person(**extra: Any) -> Person:
    data = {"kind": "person", "format": 1, "id": "amara", "name": "Amara", "program": "CS",
            "ladder": "support-work", "level": "support-worker",
            "start_date": date(2022, 9, 12), **extra}
    return Person.model_validate(data)


def move(ref: str, level: str, effective: date, decided_on: date | None = None,
         from_level: str | None = "support-worker", ladder: str = "support-work") -> Move:
    return Move(ref, "amara", ladder, level, effective, decided_on or effective, from_level)


def test_person_file_alone_is_one_open_spell() -> None:
    h = levels.build(person(level_since=date(2023, 1, 1)), [])
    assert [(s.level, s.since, s.until, s.change, s.ref) for s in h.spells] == [
        ("support-worker", date(2023, 1, 1), None, "start", None)]
    assert h.at(date(2030, 1, 1)).level == "support-worker"
    assert h.conflicts == ()


def test_approval_moves_the_person_on_its_effective_date_not_before() -> None:
    h = levels.build(person(), [move("d1", "senior", date(2026, 12, 1), date(2026, 11, 2))])
    assert h.at(date(2026, 11, 30)).level == "support-worker"
    assert h.at(date(2026, 11, 30)).since == date(2022, 9, 12)
    on = h.at(date(2026, 12, 1))
    assert (on.level, on.since, on.ref, on.from_level) == ("senior", date(2026, 12, 1), "d1",
                                                            "support-worker")
    assert h.spells[0].until == date(2026, 12, 1)
    assert [s.ref for s in h.changes(date(2026, 1, 1), date(2026, 12, 31))] == ["d1"]
    assert h.changes(date(2027, 1, 1)) == []


def test_known_on_leaves_out_decisions_recorded_later() -> None:
    moves = [move("d1", "senior", date(2026, 10, 1), decided_on=date(2026, 11, 2))]
    # Backdated: effective before it was decided. On 2026-10-20 nobody knew yet.
    assert levels.build(person(), moves, known_on=date(2026, 10, 20)).at(
        date(2026, 10, 20)).level == "support-worker"
    assert levels.build(person(), moves).at(date(2026, 10, 20)).level == "senior"


def test_successive_approvals_chain_and_other_people_are_ignored() -> None:
    moves = [move("d2", "lead", date(2028, 1, 1), from_level="senior"),
             move("d1", "senior", date(2026, 12, 1)),
             Move("x", "someone-else", "support-work", "lead", date(2025, 1, 1),
                  date(2025, 1, 1))]
    h = levels.build(person(), moves)
    assert [(s.level, s.from_level, s.ref) for s in h.spells] == [
        ("support-worker", None, None), ("senior", "support-worker", "d1"),
        ("lead", "senior", "d2")]
    assert h.current.level == "lead"


def test_hand_edited_person_file_reads_the_decision_as_the_move_into_it() -> None:
    # The older practice: level and level_since edited to the approval.
    p = person(level="senior", level_since=date(2026, 11, 2))
    h = levels.build(p, [move("d1", "senior", date(2026, 11, 2))])
    assert [(s.level, s.since, s.until, s.ref) for s in h.spells] == [
        ("support-worker", date(2022, 9, 12), date(2026, 11, 2), None),
        ("senior", date(2026, 11, 2), None, "d1")]
    assert h.conflicts == ()


def test_approval_to_the_level_the_person_file_already_says_is_a_conflict() -> None:
    h = levels.build(person(level="senior"), [move("d1", "senior", date(2026, 12, 1))])
    assert [ref for ref, _ in h.conflicts] == ["d1"]
    # Read as the move into the file's level (level_since was not updated): the level
    # before it holds until the approval, and validate still asks for level_since.
    assert "set level_since: 2026-12-01" in h.conflicts[0][1]
    assert h.at(date(2026, 11, 30)).level != "senior"
    assert (h.current.level, h.current.since, h.current.ref) == ("senior", date(2026, 12, 1),
                                                                 "d1")


def test_history_from_a_decision_recorded_with_decide(cli: Cli, git_examples: Path) -> None:
    result = decide(cli, git_examples, "amara-okafor-2026-10", "--effective", "2026-12-01")
    assert result.code == 0, result.err  # type: ignore[attr-defined]
    before = (git_examples / "people" / "amara-okafor.yaml").read_bytes()
    repo = repository.load_valid(git_examples, packets=False)
    spell = levels.level_on(repo, "amara-okafor", date(2027, 1, 15))
    assert (spell.ladder, spell.level, spell.since) == (
        "support-work", "senior-support-worker", date(2026, 12, 1))
    assert spell.ref is not None and spell.ref.startswith("2026-11-02-amara-okafor-")
    assert levels.level_on(repo, "amara-okafor", date(2026, 11, 30)).level == "support-worker"
    assert levels.level_on(repo, "amara-okafor", date(2027, 1, 15),
                           known_on=date(2026, 11, 1)).level == "support-worker"
    everyone = levels.histories(repo)
    assert everyone["amara-okafor"].current == spell
    assert len(everyone["ben-hughes"].spells) == 1
    # decide never rewrites the person file
    assert (git_examples / "people" / "amara-okafor.yaml").read_bytes() == before


def test_a_superseded_approval_does_not_move_anyone(cli: Cli, git_examples: Path) -> None:
    first = decide(cli, git_examples, "amara-okafor-2026-10")
    assert first.code == 0  # type: ignore[attr-defined]
    (path,) = sorted((git_examples / "decisions").rglob("*.yaml"))
    result = decide(cli, git_examples, "amara-okafor-2026-10", "--supersedes", path.stem,
                    "--override-reason", "Evidence withdrawn", outcome="deferred")
    assert result.code == 0, result.err  # type: ignore[attr-defined]
    repo = repository.load_valid(git_examples, packets=False)
    assert levels.level_on(repo, "amara-okafor", date(2027, 6, 1)).level == "support-worker"


def test_a_hand_edited_file_on_a_date_before_the_decision_was_recorded() -> None:
    # The file says senior since 2026-12-01; the approval was recorded on 2026-11-02.
    p = person(level="senior", level_since=date(2026, 12, 1))
    moves = [move("d1", "senior", date(2026, 12, 1), decided_on=date(2026, 11, 2))]
    early = levels.build(p, moves, known_on=date(2026, 10, 20)).at(date(2026, 10, 20))
    assert (early.level, early.since) == ("support-worker", date(2022, 9, 12))
    later = levels.build(p, moves, known_on=date(2027, 1, 15)).at(date(2027, 1, 15))
    assert (later.level, later.ref) == ("senior", "d1")
