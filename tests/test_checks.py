"""Adversarial cross-record problems, found by ``promoctl validate`` on a whole repository.

Every test adds a small, fully known set of records (framework ``t-fw``, ladder
``t-ladder``, person ``tess``, packet ``t-packet`` with one artifact) to a copy of the
example repository, breaks one thing, and checks the exact ``path:line:col: message``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from promoctl.base.errors import quote
from tests.conftest import Cli

FRAMEWORK = """\
kind: framework
format: 1
id: t-fw
title: Test framework
version: "1.0"
evidence_types: [portfolio]
competencies:
  - id: alpha
    name: Alpha
    evidence_sources: [observation, portfolio]
  - id: beta
    name: Beta
    parent: alpha
  - id: gamma
    name: Gamma
    parent: beta
    anchors: {1: Starting, 4: Leading}
"""

LADDER = """\
kind: ladder
format: 1
id: t-ladder
title: Test ladder
framework: t-fw
levels:
  - id: junior
    title: Junior
  - id: senior
    title: Senior
    promotion:
      rubric:
        - {competency: alpha, weight: 60}
        - {competency: beta, weight: 40, minimum: 2}
      composite_threshold: 2.5
      source_weights: {observation: 50, portfolio: 50}
      gates:
        - {id: seen, evidence: observation, min_count: 1, min_score: 2}
        - {id: attested, evidence: supervisor_attestation, supported_by: case_review}
"""

PERSON = """\
kind: person
format: 1
id: tess
name: Tess Tester
program: Testing
ladder: t-ladder
level: junior
manager: noor-said
start_date: 2024-01-15
"""

ARTIFACT = b"# Evidence\n\nA portfolio piece.\n"
SHA = hashlib.sha256(ARTIFACT).hexdigest()

PACKET = f"""\
kind: packet
format: 1
id: t-packet
candidate: tess
target: {{ladder: t-ladder, level: senior}}
submitted: 2026-10-15
supervisor: noor-said
evidence:
  - id: obs-1
    type: observation
    date: 2026-09-01
    competencies: [alpha, beta]
    result: {{score: 3}}
  - id: review-1
    type: case_review
    date: 2026-09-02
  - id: attest-1
    type: supervisor_attestation
    date: 2026-09-03
    based_on: [review-1]
  - id: art-1
    type: portfolio
    date: 2026-09-04
    competencies: [alpha]
    artifacts:
      - path: artifacts/t/evidence.md
        sha256: {SHA}
"""

FILES = {
    "framework": ("frameworks/t-fw.yaml", FRAMEWORK),
    "ladder": ("ladders/t-ladder.yaml", LADDER),
    "person": ("people/tess.yaml", PERSON),
    "packet": ("packets/t/t-packet.yaml", PACKET),
}
FW, LAD, PER, PKT = (FILES[k][0] for k in ("framework", "ladder", "person", "packet"))


def build(repo: Path, **edits: tuple[str, str] | list[tuple[str, str]]) -> Path:
    """Write the test records into ``repo``; ``kind=(old, new)`` edits one of them."""
    for kind, (rel, text) in FILES.items():
        changes = edits.get(kind, [])
        for old, new in [changes] if isinstance(changes, tuple) else changes:
            assert text.count(old) == 1, f"{old!r} must occur once in the {kind}"
            text = text.replace(old, new)
        target = repo / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    art = repo / "artifacts" / "t" / "evidence.md"
    art.parent.mkdir(parents=True, exist_ok=True)
    art.write_bytes(ARTIFACT)
    return repo


def problems(cli: Cli, repo: Path) -> list[str]:
    result = cli("validate", "--repo", repo)
    assert result.code == 3, (result.out, result.err)
    assert result.out.endswith("\n")
    return result.out.splitlines()


def test_the_test_records_are_valid(cli: Cli, examples: Path) -> None:
    result = cli("validate", "--repo", build(examples))
    assert (result.code, result.out) == (0, "")


# ------------------------------------------------------------------- dangling references


@pytest.mark.parametrize(("kind", "old", "new", "expected"), [
    pytest.param("packet", "candidate: tess", "candidate: tes",
                 f"{PKT}:4:12: unknown person 'tes' (did you mean 'tess'?)", id="candidate"),
    pytest.param("packet", "supervisor: noor-said", "supervisor: nobody-here",
                 f"{PKT}:7:13: unknown person 'nobody-here'", id="supervisor"),
    pytest.param("person", "manager: noor-said", "manager: noor-sayed",
                 f"{PER}:8:10: unknown person 'noor-sayed' (did you mean 'noor-said'?)",
                 id="manager"),
    pytest.param("person", "ladder: t-ladder", "ladder: t-ladr",
                 f"{PER}:6:9: unknown ladder 't-ladr' (did you mean 't-ladder'?)",
                 id="person-ladder"),
    pytest.param("person", "level: junior", "level: junor",
                 f"{PER}:7:8: unknown level 'junor' (did you mean 'junior'?) in ladder "
                 "'t-ladder'", id="person-level"),
    pytest.param("packet", "level: senior}", "level: senoir}",
                 f"{PKT}:5:35: unknown level 'senoir' (did you mean 'senior'?) in ladder "
                 "'t-ladder'", id="target-level"),
    pytest.param("packet", "[alpha, beta]", "[alpha, betta]",
                 f"{PKT}:12:27: unknown competency 'betta' (did you mean 'beta'?) in "
                 "framework 't-fw'", id="packet-competency"),
    pytest.param("ladder", "{competency: beta,", "{competency: bta,",
                 f"{LAD}:14:24: unknown competency 'bta' (did you mean 'beta'?) in framework "
                 "'t-fw'", id="rubric-competency"),
    pytest.param("framework", "parent: alpha", "parent: alfa",
                 f"{FW}:13:13: unknown parent competency 'alfa' (did you mean 'alpha'?)",
                 id="parent-competency"),
    pytest.param("packet", "based_on: [review-1]", "based_on: [reveiw-1]",
                 f"{PKT}:20:16: unknown evidence item 'reveiw-1' (did you mean 'review-1'?) "
                 "in this packet", id="based-on"),
    pytest.param("packet", "type: observation", "type: observaton",
                 f"{PKT}:10:11: unknown evidence type 'observaton' (did you mean "
                 "'observation'?)", id="evidence-type"),
    pytest.param("framework", "[observation, portfolio]", "[observation, portfolo]",
                 f"{FW}:10:37: unknown evidence type 'portfolo' (did you mean 'portfolio'?)",
                 id="evidence-source"),
])
def test_dangling_reference_is_located_with_a_hint(cli: Cli, examples: Path, kind: str,
                                                   old: str, new: str, expected: str) -> None:
    assert problems(cli, build(examples, **{kind: (old, new)})) == [expected]


@pytest.mark.parametrize(("kind", "old", "new", "expected"), [
    pytest.param("packet", "ladder: t-ladder,", "ladder: t-ladr,",
                 f"{PKT}:5:18: unknown ladder 't-ladr' (did you mean 't-ladder'?)",
                 id="target-ladder"),
    pytest.param("ladder", "framework: t-fw", "framework: t-fv",
                 f"{LAD}:5:12: unknown framework 't-fv' (did you mean 't-fw'?)",
                 id="ladder-framework"),
])
def test_dangling_reference_to_ladder_or_framework(cli: Cli, examples: Path, kind: str,
                                                   old: str, new: str, expected: str) -> None:
    assert expected in problems(cli, build(examples, **{kind: (old, new)}))


@pytest.mark.parametrize(("kind", "old", "new", "expected"), [
    pytest.param("packet", "ladder: t-ladder,", "ladder: t-ladr,",
                 f"{PKT}:5:18: unknown ladder 't-ladr' (did you mean 't-ladder'?)",
                 id="target-ladder"),
    pytest.param("ladder", "framework: t-fw", "framework: t-fv",
                 f"{LAD}:5:12: unknown framework 't-fv' (did you mean 't-fw'?)",
                 id="ladder-framework"),
])
def test_unknown_framework_does_not_cascade(cli: Cli, examples: Path, kind: str, old: str,
                                            new: str, expected: str) -> None:
    assert problems(cli, build(examples, **{kind: (old, new)})) == [expected]


def test_invalid_ladder_is_not_reported_as_unknown_elsewhere(cli: Cli, examples: Path) -> None:
    repo = build(examples, ladder=("weight: 60", "weight: 0"))
    assert problems(cli, repo) == [
        f"{LAD}:13:39: levels[1].promotion.rubric[0].weight: must be more than 0, found 0"]


# ----------------------------------------------------------------------- numbers and scale


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("weight: 60", "weight: 0", "13:39: levels[1].promotion.rubric[0].weight: must be more "
                                "than 0, found 0"),
    ("weight: 60", "weight: -60", "13:39: levels[1].promotion.rubric[0].weight: must be more "
                                  "than 0, found -60"),
    ("observation: 50", "observation: 0", "16:37: levels[1].promotion.source_weights."
                                          "observation: must be more than 0, found 0"),
    ("portfolio: 50", "portfolio: -50", "16:52: levels[1].promotion.source_weights.portfolio: "
                                        "must be more than 0, found -50"),
])
def test_zero_or_negative_weight(cli: Cli, examples: Path, old: str, new: str,
                                 expected: str) -> None:
    assert f"{LAD}:{expected}" in problems(cli, build(examples, ladder=(old, new)))


@pytest.mark.parametrize("score", ["5", "0", "-1", "4.5", "0.999"])
def test_evidence_score_outside_the_scale(cli: Cli, examples: Path, score: str) -> None:
    repo = build(examples, packet=("result: {score: 3}", f"result: {{score: {score}}}"))
    assert problems(cli, repo) == [
        f"{PKT}:13:21: score {score} is outside the scale of framework 't-fw' (1 to 4)"]


@pytest.mark.parametrize("score", ["1", "4", "3.0"])
def test_evidence_score_on_the_scale_edges_is_fine(cli: Cli, examples: Path,
                                                   score: str) -> None:
    repo = build(examples, packet=("result: {score: 3}", f"result: {{score: {score}}}"))
    assert cli("validate", "--repo", repo).code == 0


def test_evidence_score_between_two_levels_is_a_problem(cli: Cli, examples: Path) -> None:
    repo = build(examples, packet=("result: {score: 3}", "result: {score: 3.5}"))
    assert problems(cli, repo) == [
        f"{PKT}:13:21: score 3.5 is not a level of the scale of framework 't-fw'; give one of "
        "1, 2, 3, 4"]


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("minimum: 2}", "minimum: 5}", "14:51: minimum 5 is outside the scale of framework 't-fw' "
                                   "(1 to 4)"),
    ("composite_threshold: 2.5", "composite_threshold: 4.01",
     "15:28: composite threshold 4.01 is outside the scale of framework 't-fw' (1 to 4)"),
    ("min_score: 2}", "min_score: 0}", "18:70: min_score 0 is outside the scale of framework "
                                       "'t-fw' (1 to 4)"),
])
def test_ladder_numbers_outside_the_scale(cli: Cli, examples: Path, old: str, new: str,
                                          expected: str) -> None:
    assert problems(cli, build(examples, ladder=(old, new))) == [f"{LAD}:{expected}"]


def test_anchor_for_a_level_not_on_the_scale(cli: Cli, examples: Path) -> None:
    repo = build(examples, framework=("4: Leading", "5: Leading"))
    assert problems(cli, repo) == [
        f"{FW}:17:28: anchor for level 5, which is not on the scale [1, 2, 3, 4]"]


# --------------------------------------------------------------------------- gate evidence


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("evidence: observation,", "evidence: observaton,",
     "18:32: unknown evidence type 'observaton' (did you mean 'observation'?); no evidence "
     "item can ever meet this gate"),
    ("evidence: observation,", "evidence: zebra,",
     "18:32: unknown evidence type 'zebra'; no evidence item can ever meet this gate"),
    ("supported_by: case_review", "supported_by: case-review",
     "19:74: unknown evidence type 'case-review' (did you mean 'case_review'?); no evidence "
     "item can ever meet this gate"),
    ("portfolio: 50}", "portfolo: 50}",
     "16:41: unknown evidence type 'portfolo' (did you mean 'portfolio'?)"),
])
def test_gate_or_weight_on_an_unknown_evidence_type(cli: Cli, examples: Path, old: str,
                                                    new: str, expected: str) -> None:
    assert problems(cli, build(examples, ladder=(old, new))) == [f"{LAD}:{expected}"]


def test_gate_on_the_frameworks_own_evidence_type_is_fine(cli: Cli, examples: Path) -> None:
    repo = build(examples, ladder=("evidence: observation,", "evidence: portfolio,"))
    assert cli("validate", "--repo", repo).code == 0


def test_own_evidence_type_of_another_framework_is_unknown(cli: Cli, examples: Path) -> None:
    repo = build(examples)
    other = repo / "packets" / "community" / "amara-okafor-2026-10.yaml"
    text = other.read_text().replace("type: training", "type: portfolio", 1)
    other.write_text(text)
    line = text.splitlines().index("    type: portfolio") + 1
    assert problems(cli, repo) == [
        f"packets/community/amara-okafor-2026-10.yaml:{line}:11: unknown evidence type "
        "'portfolio'"]


# ------------------------------------------------------------------------------- artifacts

ART_AT = f"{PKT}:26:15"


def _artifact(path: str) -> tuple[str, str]:
    return "path: artifacts/t/evidence.md", f"path: {path}"


def test_artifact_missing(cli: Cli, examples: Path) -> None:
    repo = build(examples, packet=_artifact("artifacts/t/missing.md"))
    assert problems(cli, repo) == [f"{ART_AT}: artifact 'artifacts/t/missing.md' does not exist"]


@pytest.mark.parametrize("path", ["../outside.md", "artifacts/../../outside.md",
                                  "artifacts/t/../../../outside.md"])
def test_artifact_outside_the_repository(cli: Cli, examples: Path, path: str) -> None:
    (examples.parent / "outside.md").write_bytes(ARTIFACT)  # exists, and has the right hash
    repo = build(examples, packet=_artifact(path))
    assert problems(cli, repo) == [f"{ART_AT}: artifact {path!r} is outside the repository"]


def test_artifact_symlink_leading_outside(cli: Cli, examples: Path) -> None:
    (examples.parent / "outside.md").write_bytes(ARTIFACT)
    repo = build(examples, packet=_artifact("artifacts/t/link.md"))
    try:
        os.symlink(examples.parent / "outside.md", repo / "artifacts" / "t" / "link.md")
    except OSError:
        pytest.skip("no symlinks here")
    assert problems(cli, repo) == [
        f"{ART_AT}: artifact 'artifacts/t/link.md' is outside the repository"]


@pytest.mark.parametrize("path", ["ABSOLUTE", r"artifacts\t\evidence.md"])
def test_artifact_path_must_be_relative_with_slashes(cli: Cli, examples: Path,
                                                     path: str) -> None:
    if path == "ABSOLUTE":
        path = (examples / "artifacts" / "t" / "evidence.md").as_posix()
    repo = build(examples, packet=_artifact(path))
    assert problems(cli, repo) == [
        f"{ART_AT}: artifact path {quote(path)} must be relative to the repository, with '/'"]


def test_artifact_that_is_a_folder(cli: Cli, examples: Path) -> None:
    repo = build(examples, packet=_artifact("artifacts/t"))
    assert problems(cli, repo) == [
        f"{ART_AT}: artifact 'artifacts/t' is a folder, not a regular file"]


def test_artifact_with_the_wrong_sha256(cli: Cli, examples: Path) -> None:
    repo = build(examples, packet=(f"sha256: {SHA}", f"sha256: {'0' * 64}"))
    assert problems(cli, repo) == [
        f"{ART_AT}: artifact 'artifacts/t/evidence.md' has sha256 {SHA}, not the {'0' * 64} "
        "recorded; was it changed after the packet was written?"]


def test_artifact_changed_after_the_packet_was_written(cli: Cli, examples: Path) -> None:
    repo = build(examples)
    changed = ARTIFACT + b"edited\n"
    (repo / "artifacts" / "t" / "evidence.md").write_bytes(changed)
    assert problems(cli, repo) == [
        f"{ART_AT}: artifact 'artifacts/t/evidence.md' has sha256 "
        f"{hashlib.sha256(changed).hexdigest()}, not the {SHA} recorded; was it changed after "
        "the packet was written?"]


@pytest.mark.parametrize("sha", [SHA.upper(), SHA[:-1], SHA + "0", "sha256:" + SHA, "''"])
def test_malformed_sha256(cli: Cli, examples: Path, sha: str) -> None:
    repo = build(examples, packet=(f"sha256: {SHA}", f"sha256: {sha}"))
    value = "" if sha == "''" else sha
    assert problems(cli, repo) == [
        f"{PKT}:27:17: evidence[3].artifacts[0].sha256: {value!r} is not a hash: expected 64 "
        "lowercase hexadecimal digits (0-9, a-f)"]


def _loop(repo: Path) -> None:
    try:
        os.symlink("loop", repo / "artifacts" / "t" / "loop")
    except OSError:
        pytest.skip("no symlinks here")


@pytest.mark.parametrize(("path", "setup"), [
    pytest.param('"artifacts/t/a\\0b.md"', None, id="nul-byte"),
    pytest.param("artifacts/t/" + "a" * 300 + ".md", None, id="name-too-long"),
    pytest.param("artifacts/t/loop", _loop, id="symlink-loop"),
])
def test_unreadable_artifact_path_is_a_problem_not_a_crash(cli: Cli, examples: Path, path: str,
                                                           setup: object) -> None:
    repo = build(examples, packet=_artifact(path))
    if callable(setup):
        setup(repo)
    result = cli("validate", "--repo", repo)  # the fixture fails on a traceback
    assert result.code == 3
    (line,) = result.out.splitlines()
    if "\\0" in path:  # refused as text before it is a path
        assert line.startswith(f"{ART_AT}: evidence[3].artifacts[0].path: contains a NUL "
                               "character (\\x00)")
    else:
        assert line.startswith(f"{ART_AT}: artifact ")


# ------------------------------------------------------------------------------ duplicates


@pytest.mark.parametrize(("kind", "copy", "expected"), [
    ("person", "people/zz-tess.yaml",
     "people/zz-tess.yaml:3:5: duplicate person id 'tess': also defined at people/tess.yaml:3:5"),
    ("framework", "frameworks/zz.yaml",
     "frameworks/zz.yaml:3:5: duplicate framework id 't-fw': also defined at "
     "frameworks/t-fw.yaml:3:5"),
    ("ladder", "ladders/zz.yaml",
     "ladders/zz.yaml:3:5: duplicate ladder id 't-ladder': also defined at "
     "ladders/t-ladder.yaml:3:5"),
    ("packet", "packets/zz.yaml",
     "packets/zz.yaml:3:5: duplicate packet id 't-packet': also defined at "
     "packets/t/t-packet.yaml:3:5"),
])
def test_duplicate_record_id_across_files(cli: Cli, examples: Path, kind: str, copy: str,
                                          expected: str) -> None:
    repo = build(examples)
    (repo / copy).write_text(FILES[kind][1], encoding="utf-8")
    assert problems(cli, repo) == [expected]


def test_duplicate_person_id_with_different_content_in_another_folder(cli: Cli,
                                                                      examples: Path) -> None:
    repo = build(examples)
    (repo / "people" / "archive").mkdir()
    (repo / "people" / "archive" / "old.yaml").write_text(
        "# an older copy\n" + PERSON.replace("Tess Tester", "T. Tester"), encoding="utf-8")
    assert problems(cli, repo) == [
        "people/tess.yaml:3:5: duplicate person id 'tess': also defined at "
        "people/archive/old.yaml:4:5"]


def test_duplicate_evidence_id(cli: Cli, examples: Path) -> None:
    repo = build(examples, packet=("id: attest-1", "id: obs-1"))
    assert problems(cli, repo) == [f"{PKT}:17:9: evidence id 'obs-1' used twice"]


@pytest.mark.parametrize(("kind", "old", "new", "expected"), [
    ("framework", "id: gamma\n    name: Gamma\n    parent: beta",
     "id: alpha\n    name: Gamma\n    parent: beta",
     f"{FW}:14:9: competency id 'alpha' is defined twice in this framework"),
    ("ladder", "{competency: beta,", "{competency: alpha,",
     f"{LAD}:14:24: competency assessed twice in this rubric"),
    ("ladder", "{id: attested,", "{id: seen,", f"{LAD}:19:16: gate id used twice in this level"),
    ("ladder", "id: senior", "id: junior", f"{LAD}:9:9: level id used twice in this ladder"),
])
def test_duplicate_ids_inside_a_record(cli: Cli, examples: Path, kind: str, old: str,
                                       new: str, expected: str) -> None:
    assert expected in problems(cli, build(examples, **{kind: (old, new)}))


# --------------------------------------------------------------------------------- cycles


def test_competency_parent_cycle_reports_each_member(cli: Cli, examples: Path) -> None:
    repo = build(examples, framework=("    name: Alpha\n", "    name: Alpha\n    parent: gamma\n"))
    assert problems(cli, repo) == [
        f"{FW}:10:13: competency 'alpha' is its own ancestor",
        f"{FW}:14:13: competency 'beta' is its own ancestor",
        f"{FW}:17:13: competency 'gamma' is its own ancestor",
    ]


def test_competency_that_is_its_own_parent(cli: Cli, examples: Path) -> None:
    repo = build(examples, framework=("parent: alpha", "parent: beta"))
    assert f"{FW}:13:13: competency 'beta' is its own ancestor" in problems(cli, repo)


def test_only_cycle_members_are_their_own_ancestor(cli: Cli, examples: Path) -> None:
    repo = build(examples, framework=("parent: alpha", "parent: beta"))
    assert problems(cli, repo) == [f"{FW}:13:13: competency 'beta' is its own ancestor"]


# ---------------------------------------------------------------------- other consistency


@pytest.mark.parametrize(("kind", "old", "new", "expected"), [
    ("packet", "based_on: [review-1]", "based_on: [attest-1]",
     f"{PKT}:20:16: an item cannot rest on itself"),
    ("person", "manager: noor-said", "manager: tess",
     f"{PER}:8:10: a person cannot be their own manager"),
    ("person", "start_date: 2024-01-15", "start_date: 2024-01-15\nleaving_date: 2023-12-31",
     f"{PER}:10:15: leaving_date is before start_date"),
    ("packet", "level: senior}", "level: junior}",
     f"{PKT}:5:35: level 'junior' of ladder 't-ladder' has no promotion rules to evaluate "
     "against"),
    ("person", "level: junior", "level: senior",
     f"{PKT}:5:35: tess is already at level 'senior'; the target must be above it"),
])
def test_inconsistent_records(cli: Cli, examples: Path, kind: str, old: str, new: str,
                              expected: str) -> None:
    assert problems(cli, build(examples, **{kind: (old, new)})) == [expected]


def test_every_problem_in_every_file_in_one_run(cli: Cli, examples: Path) -> None:
    repo = build(
        examples,
        framework=("4: Leading", "5: Leading"),
        ladder=("evidence: observation,", "evidence: observaton,"),
        person=("manager: noor-said", "manager: tess"),
        packet=[("candidate: tess", "candidate: tes"), ("id: attest-1", "id: obs-1"),
                ("result: {score: 3}", "result: {score: 9}")],
    )
    (repo / "people" / "broken.yaml").write_bytes(b"kind: person\nname: [\n")
    assert problems(cli, repo) == [
        f"{FW}:17:28: anchor for level 5, which is not on the scale [1, 2, 3, 4]",
        f"{LAD}:18:32: unknown evidence type 'observaton' (did you mean 'observation'?); no "
        "evidence item can ever meet this gate",
        f"{PKT}:4:12: unknown person 'tes' (did you mean 'tess'?)",
        f"{PKT}:13:21: score 9 is outside the scale of framework 't-fw' (1 to 4)",
        f"{PKT}:17:9: evidence id 'obs-1' used twice",
        "people/broken.yaml:3:1: invalid YAML: while parsing a flow node did not find expected "
        "node content",
        f"{PER}:8:10: a person cannot be their own manager",
    ]
