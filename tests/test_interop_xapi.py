"""xAPI statements into packets: Moodle's real statements, as they are and adapted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import INTEROP, Cli

XAPI = INTEROP / "xapi"
HIRO = Path("packets/professional/hiro-tanaka-2026-h2.yaml")
MAPPING = """\
kind: lms-mapping
format: 1
id: moodle-site
framework: professional-services
courses:
  - course: test_lesson
    aliases: ["http://www.example.org/mod/lesson/view.php?id=1#lesson"]
    milestone: Process Design Workshop
    competencies: [continuous-improvement]
  - course: test_quiz_name
    milestone: Leading Teams Micro-course
    competencies: [leadership]
  - course: http://www.example.org/course/view.php?id=2
    milestone: Client Communication Essentials + Case Simulation
    competencies: [client-partnership]
  - course: Process Design Workshop
    milestone: Process Design Workshop
    competencies: [continuous-improvement]
"""


@pytest.fixture
def repo(examples: Path) -> Path:
    (examples / "lms" / "moodle-site.yaml").write_text(MAPPING)
    return examples


def _load(name: str) -> list[dict[str, Any]]:
    data = json.loads((XAPI / name).read_text(encoding="utf-8"))
    return data if isinstance(data, list) else [data]


def _as_hiro(statements: list[dict[str, Any]], when: str) -> list[dict[str, Any]]:
    """The real statements, from a learner promoctl knows, on a day inside the packet."""
    for st in statements:
        st["actor"] = {"objectType": "Agent", "name": "Hiro Tanaka",
                       "mbox": "mailto:hiro.tanaka@example.org"}
        st["timestamp"] = when
    return statements


def _write(tmp_path: Path, data: Any, name: str = "statements.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def _items(packet: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load(packet.read_text(encoding="utf-8"))
    return [i for i in data["evidence"] if str(i.get("notes", "")).startswith("imported from")]


def test_real_moodle_statements_as_they_are(cli: Cli, repo: Path) -> None:
    before = (repo / HIRO).read_bytes()
    for name in ("moodle-course-completed.statements.json",
                 "moodle-lesson-ended-scored.statements.json",
                 "moodle-module-completed.statements.json",
                 "moodle-quiz-attempt-completed-scored.statements.json"):
        result = cli("import", "xapi", XAPI / name, "--map", "moodle-site", cwd=repo)
        # Moodle's test fixtures carry no timestamp: nothing to date the evidence by
        assert result.code == 1, result.err
        assert "skipped 1: no timestamp (or stored) date: statement $[0]" in result.err
    quiz = cli("import", "xapi", XAPI / "moodle-quiz-attempt-completed-scored.statements.json",
               "--map", "moodle-site", cwd=repo)
    assert "ignored 1: verb 'answered' is not imported (a mapping's verbs can add it): " \
           "statement $[1]" in quiz.err
    graded = cli("import", "xapi", XAPI / "moodle-assignment-graded.statements.json",
                 "--map", "moodle-site", cwd=repo)
    # Moodle's grade (tla "scored") is imported now; this fixture has no date either
    assert graded.code == 1 and "skipped 1: no timestamp" in graded.err
    adl = cli("import", "xapi", XAPI / "adl-xapi-spec-appendix-a-attempted-scored.json",
              "--map", "moodle-site", cwd=repo)
    assert adl.code == 0
    assert ("ignored 1: verb 'attempted' is not imported (a mapping's verbs can add it): "
            "statement $ (id 7ccd3322-e1a5-411a-a67d-6a735c76f119)") in adl.err
    assert (repo / HIRO).read_bytes() == before


def test_real_statements_from_a_known_learner_become_evidence(cli: Cli, repo: Path,
                                                              tmp_path: Path) -> None:
    statements = (_as_hiro(_load("moodle-lesson-ended-scored.statements.json"),
                           "2026-09-10T10:00:00Z")
                  + _as_hiro(_load("moodle-quiz-attempt-completed-scored.statements.json"),
                             "2026-09-11T08:30:00+02:00")
                  + _as_hiro(_load("moodle-course-completed.statements.json"),
                             "2026-09-12T23:59:00-05:00"))
    path = _write(tmp_path, statements)
    result = cli("import", "xapi", path, "--map", "moodle-site", cwd=repo)
    assert result.code == 0, result.err
    # score.scaled wins over raw/min/max, and the disagreement is said
    assert ("warning: statement $[0]: score.scaled gives 50%, raw/min/max would give 75%; "
            "the scaled score is used") in result.err
    assert "ignored 1: verb 'answered'" in result.err
    assert "imported 3 item(s) into 1 packet(s)" in result.err
    items = {i["title"]: i for i in _items(repo / HIRO)}
    lesson = items["Process Design Workshop"]
    assert lesson["result"] == {"completed": True, "assessment": 50, "passed": True,
                                "raw_score": {"raw": 75, "min": 0, "max": 100}}
    assert lesson["competencies"] == ["continuous-improvement"]
    assert lesson["notes"].startswith("imported from statements.json (sha256 ")
    assert lesson["notes"].endswith(" statement $[0]")
    quiz = items["Leading Teams Micro-course"]  # found through the attempt's assessment
    assert quiz["result"] == {"completed": True, "assessment": 0, "passed": True,
                              "raw_score": {"raw": 50, "min": 0, "max": 100}}
    assert quiz["date"].isoformat() == "2026-09-11"  # the date as the statement wrote it
    course = items["Client Communication Essentials + Case Simulation"]
    assert course["result"] == {"completed": True}
    assert course["date"].isoformat() == "2026-09-12"
    assert cli("validate", cwd=repo).code == 0

    evaluation = json.loads(cli("evaluate", HIRO, "--format", "json", cwd=repo).out)
    (ev,) = evaluation["evaluations"]
    comps = {c["id"]: c for c in ev["competencies"]}
    assert comps["continuous-improvement"]["score"] == 1.0  # completed, assessment below 80
    assert comps["continuous-improvement"]["status"] == "below_minimum"
    assert ev["verdict"] == "NOT READY"

    again = cli("import", "xapi", path, "--map", "moodle-site", cwd=repo)
    assert "imported 0 item(s)" in again.err and "3 already there" in again.err


def test_a_completion_from_csv_and_from_xapi_is_kept_twice_and_the_best_counts(
        cli: Cli, repo: Path, tmp_path: Path) -> None:
    assert cli("import", "lms-csv", "lms/academy-completions.csv", "--map", "academy",
               cwd=repo).code == 1
    before = json.loads(cli("evaluate", HIRO, "--format", "json", cwd=repo).out)
    statement = {"actor": {"mbox": "mailto:HIRO.TANAKA@example.org"},
                 "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
                 "object": {"id": "http://lms.example.org/course/view.php?id=42"},
                 "result": {"score": {"scaled": 0.88}, "completion": True},
                 "timestamp": "2026-09-10T16:00:00Z"}
    path = _write(tmp_path, [statement])
    result = cli("import", "xapi", path, "--map", "academy", cwd=repo)
    assert result.code == 0 and "imported 1 item(s)" in result.err
    # the CSV's row (with the accepted project) and the statement are both evidence
    assert [i["result"] for i in _items(repo / HIRO)] == [
        {"completed": True, "assessment": 88, "project_accepted": True},
        {"completed": True, "assessment": 88}]
    after = json.loads(cli("evaluate", HIRO, "--format", "json", cwd=repo).out)
    assert after["evaluations"][0]["composite_exact"] == \
        before["evaluations"][0]["composite_exact"]  # the best item still counts
    again = cli("import", "xapi", path, "--map", "academy", cwd=repo)
    assert "imported 0 item(s)" in again.err and "1 already there" in again.err


def test_actors_verbs_and_pages(cli: Cli, repo: Path, tmp_path: Path) -> None:
    def st(actor: dict[str, Any], verb: str, **result: Any) -> dict[str, Any]:
        return {"actor": actor, "verb": {"id": f"http://adlnet.gov/expapi/verbs/{verb}"},
                "object": {"objectType": "Activity", "id": "x:pdw",
                           "definition": {"name": {"en-GB": "Process Design Workshop"}}},
                "result": result, "timestamp": "2026-09-20T09:00:00Z"}

    import hashlib
    sha1 = hashlib.sha1(b"mailto:grace.liu@example.org").hexdigest()
    page = {"statements": [
        st({"account": {"homePage": "https://lms", "name": "hiro-tanaka"}}, "passed",
           score={"raw": 45, "min": 0, "max": 50}),
        st({"mbox_sha1sum": sha1}, "failed", score={"raw": 10, "max": 50}),
        st({"objectType": "Group", "member": []}, "completed"),
        st({"mbox": "mailto:hiro.tanaka@example.org"}, "completed", score={"scaled": 1.5}),
        st({"account": {"homePage": "https://lms", "name": "nobody"}}, "completed"),
    ], "more": ""}
    result = cli("import", "xapi", _write(tmp_path, page), "--map", "moodle-site", cwd=repo)
    assert result.code == 1
    assert "skipped 1: the actor is a group; only individual learners are imported: " \
           "statement $.statements[2]" in result.err
    # a score that gives no percentage is left out; the completion is kept
    assert "warning: statement $.statements[3]: the score gives 150%, outside 0 to 100; " \
        "no percentage is kept" in result.err
    assert "skipped 1: unknown person 'nobody on https://lms' (no person with that id, " \
           "email or account): statement $.statements[4]" in result.err
    hiro = [i["result"] for i in _items(repo / HIRO) if i["date"].isoformat() == "2026-09-20"]
    assert hiro == [{"completed": True, "assessment": 90, "passed": True,
                     "raw_score": {"raw": 45, "min": 0, "max": 50}},
                    {"completed": True}]
    grace = repo / "packets" / "professional" / "grace-liu-2026-h2.yaml"
    (item,) = _items(grace)
    # a failure is not a completion
    assert item["result"] == {"assessment": 20, "raw_score": {"raw": 10, "max": 50},
                              "passed": False}


@pytest.mark.parametrize(("text", "expected"), [
    ("not json", "statements.json:1:1: invalid JSON: Expecting value"),
    ("42", "$: expected xAPI statements"),
    ('[{"actor": {}, "verb": {}}]', "$[0]: not an xAPI statement: no object object"),
    ("[1]", "$[0]: expected a statement (an object)"),
    ('[{"actor": {}, "verb": {}, "object": {}, "actor": {}}]', "duplicate key 'actor'"),
])
def test_malformed_statement_files(cli: Cli, repo: Path, tmp_path: Path, text: str,
                                   expected: str) -> None:
    path = tmp_path / "statements.json"
    path.write_text(text)
    result = cli("import", "xapi", path, "--map", "moodle-site", cwd=repo)
    assert result.code == 3, result.err
    assert expected in result.err
