"""Evidence is never dropped without a word, and validate's warnings are first-class."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Cli
from tests.test_decide import decide

DEV = Path("packets") / "community" / "dev-patel-2026-10.yaml"
AMARA = Path("packets") / "community" / "amara-okafor-2026-10.yaml"


def add_evidence(repo: Path, packet: Path, text: str) -> None:
    path = repo / packet
    path.write_text(path.read_text().rstrip("\n") + "\n" + text)


def evaluation(cli: Cli, repo: Path, packet: Path) -> dict[str, object]:
    result = cli("evaluate", repo / packet, "--format", "json", cwd=repo)
    (shown,) = json.loads(result.out)["evaluations"]
    return shown  # type: ignore[no-any-return]


def competency(ev: dict[str, object], cid: str) -> dict[str, object]:
    return next(c for c in ev["competencies"] if c["id"] == cid)  # type: ignore[attr-defined, index, no-any-return]


def test_warnings_do_not_fail_validate_unless_strict(cli: Cli, examples: Path) -> None:
    add_evidence(examples, AMARA, """\
  - id: safe-note
    type: observation
    date: 2026-09-10
    assessor: noor-said
    competencies: [safe-practice]
    result: {score: 3}
""")
    result = cli("validate", cwd=examples)
    assert result.code == 0, result.out + result.err
    line = (f"{AMARA.as_posix()}:101:20: warning: evidence 'safe-note' names competency "
            "'safe-practice', which level 'senior-support-worker' does not assess: it is "
            "not counted in the competency score (a gate may still count it)")
    assert line in result.out.splitlines()
    assert "valid, with 1 warning(s) in 1 file(s)" in result.err
    assert cli("validate", "--strict", cwd=examples).code == 3
    shown = json.loads(cli("validate", "--format", "json", cwd=examples).out)
    assert [p["severity"] for p in shown["problems"]] == ["warning"]
    # From the memo or the cache, the same answer.
    again = cli("validate", cwd=examples)
    assert (again.code, again.out) == (0, result.out)
    # evaluate says it too, and it stops nothing
    ev = evaluation(cli, examples, AMARA)
    assert ev["verdict"] == "READY"
    assert any("names competency 'safe-practice'" in w for w in ev["warnings"])  # type: ignore[attr-defined]


def test_errors_and_warnings_together_fail(cli: Cli, examples: Path) -> None:
    add_evidence(examples, AMARA, """\
  - id: safe-note
    type: observation
    date: 2026-09-10
    competencies: [safe-practice, no-such-competency]
    result: {score: 3}
""")
    result = cli("validate", cwd=examples)
    assert result.code == 3
    assert "1 problem(s) and 1 warning(s) in 1 file(s)" in result.err


def test_unweighted_evidence_is_listed_with_its_reason(cli: Cli, examples: Path) -> None:
    add_evidence(examples, DEV, """\
  - id: peer-partner
    type: peer_feedback
    date: 2026-09-15
    assessor: jo-mensah
    competencies: [partner-coordination]
    result: {score: 3}
  - id: attest-partner
    type: supervisor_attestation
    date: 2026-09-16
    competencies: [partner-coordination]
""")
    ev = evaluation(cli, examples, DEV)
    comp = competency(ev, "partner-coordination")
    assert comp["status"] == "insufficient_evidence"
    assert [u["item"] for u in comp["unscored"]] == ["peer-partner", "attest-partner"]  # type: ignore[attr-defined]
    assert "peer_feedback is not a scoring source at this level" in \
        comp["unscored"][0]["why"]  # type: ignore[index]
    messages = [r["message"] for r in ev["reasons"]]  # type: ignore[attr-defined]
    assert "competency 'partner-coordination': insufficient evidence (2 item(s) name it, " \
        "none with a score that counts: peer-partner: peer_feedback is not a scoring " \
        "source at this level" in " ".join(messages)
    assert "see unscored" not in " ".join(messages)
    for fmt in ("table", "markdown"):
        shown = cli("evaluate", examples / DEV, "--format", fmt, cwd=examples)
        assert "Not counted in the scores" in shown.out
        assert "attest-partner" in shown.out
    assert not any("no scored evidence for it in the packet" in m for m in messages)
    result = cli("validate", cwd=examples)
    assert result.code == 0
    assert "warning: evidence 'peer-partner' does not count for competency " \
        "'partner-coordination', and no other item in the packet can" in result.out


def test_evidence_after_the_as_of_date_is_listed(cli: Cli, examples: Path) -> None:
    ben = Path("packets") / "community" / "ben-hughes-2026-10.yaml"
    comp = competency(evaluation(cli, examples, ben), "partner-coordination")
    assert {"item": "obs-partner-call", "why": "dated 2026-10-24, after the as-of date"} \
        in comp["unscored"]  # type: ignore[operator]


def test_evidence_sources_govern_what_counts(cli: Cli, examples: Path) -> None:
    framework = examples / "frameworks" / "community-services.yaml"
    framework.write_text(framework.read_text().replace(
        "evidence_sources: [documentation_audit, observation, manager_rating]",
        "evidence_sources: [documentation_audit, manager_rating]"))
    ev = evaluation(cli, examples, DEV)
    comp = competency(ev, "support-planning")
    assert all("observation" not in s["type"] for s in comp["sources"])  # type: ignore[attr-defined]
    assert any("not among the competency's evidence_sources" in u["why"]
               for u in comp["unscored"])  # type: ignore[attr-defined]


def test_a_rubric_competency_nothing_can_score_is_a_ladder_warning(cli: Cli,
                                                                   examples: Path) -> None:
    framework = examples / "frameworks" / "community-services.yaml"
    framework.write_text(framework.read_text().replace(
        "evidence_sources: [incident_review, manager_rating]",
        "evidence_sources: [incident_review]"))
    result = cli("validate", cwd=examples)
    assert result.code == 0
    assert "ladders/support-work.yaml:48:24: warning: none of competency 'incident-learning'" \
        "'s evidence_sources (incident_review) is in this level's source_weights, so no " \
        "evidence can score it" in result.out


def test_candidate_on_another_ladder_is_reported(cli: Cli, examples: Path) -> None:
    path = examples / AMARA
    path.write_text(path.read_text().replace(
        "target: {ladder: support-work, level: senior-support-worker}",
        "target: {ladder: consulting, level: senior-consultant}"))
    result = cli("validate", cwd=examples)
    assert "warning: amara-okafor is on ladder 'support-work' (level 'support-worker'), not " \
        "the packet's target ladder 'consulting'" in result.out


def test_differing_raters_are_a_warning(cli: Cli, examples: Path) -> None:
    add_evidence(examples, AMARA, """\
  - id: second-rating
    type: manager_rating
    date: 2026-10-12
    assessor: someone-else
    competencies: [rights-practice]
    result: {score: 2}
""")
    ev = evaluation(cli, examples, AMARA)
    warning = next(w for w in ev["warnings"] if "different raters" in w)  # type: ignore[attr-defined]
    assert "competency 'rights-practice' has manager ratings from different raters: only " \
        "the latest (someone-else 2 on 2026-10-12, 'second-rating') counts, not noor-said" \
        in warning
    assert "different raters" in cli("validate", cwd=examples).out


def test_an_approval_to_the_level_already_held_is_a_warning(cli: Cli, git_examples: Path
                                                            ) -> None:
    assert decide(cli, git_examples, "amara-okafor-2026-10").code == 0  # type: ignore[attr-defined]
    assert cli("validate", cwd=git_examples).code == 0
    # The old practice, half done: level edited, level_since left out.
    person = git_examples / "people" / "amara-okafor.yaml"
    person.write_text(person.read_text().replace("level: support-worker",
                                                 "level: senior-support-worker"))
    result = cli("validate", cwd=git_examples)
    assert result.code == 0
    (line,) = [x for x in result.out.splitlines() if "warning:" in x]
    assert line.startswith("decisions/2026/2026-11-02-amara-okafor-")
    assert "amara-okafor's person file gives level 'senior-support-worker' from " \
        "2022-09-12, but decision" in line
    assert "set level_since: 2026-11-02" in line
    # Done fully (level_since set), it reads as the move into that level: no warning.
    person.write_text(person.read_text() + "level_since: 2026-11-02\n")
    assert "warning" not in cli("validate", cwd=git_examples).out
