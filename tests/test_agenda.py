"""The 1:1 agenda: milestones since the last 1:1, scores, artifacts, gaps, plan, reviews."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest

from promoctl.base.errors import UserError
from promoctl.records.loader import discover
from promoctl.records.reading import load
from promoctl.reports import agenda
from tests.conftest import Cli
from tests.test_report import Records, item

DEFERRED = date(2026, 3, 10)
AS_OF = date(2026, 5, 1)
ARTIFACT = b"# Case note audit sample\n"


def crafted(root: Path) -> Path:
    rec = Records()
    rec.person("sam", "Alpha")
    rec.person("kai", "Alpha", level="senior", level_since=date(2026, 2, 1))
    rec.person("lee", "Alpha", level="lead", level_since=date(2025, 1, 1))
    rec.decision("sam", "deferred", DEFERRED, plan={
        "recheck": date(2026, 6, 8),
        "steps": [
            {"id": "step-1", "kind": "gate", "subject": "audit", "due": date(2026, 6, 8),
             "action": "Provide 1 more documentation_audit item(s).",
             "evidence": "documentation_audit", "count": 1},
            {"id": "step-2", "kind": "competency", "subject": "c1", "due": date(2026, 6, 8),
             "action": "Raise 'Judgement' to at least 2."}]})
    rec.packet("sam", date(2026, 4, 25), [
        item("manager_rating", date(2026, 4, 20), assessor="noor", competencies=["c1"],
             score=3),
        item("lms_milestone", date(2026, 4, 12), course="Record keeping", competencies=["c2"],
             completed=True, assessment=85),
        item("training", date(2026, 2, 1), course="safeguarding", completed=True),  # before
        item("artifact", date(2026, 4, 15), title="Audit sample", passed=True,
             artifacts=[{"path": "artifacts/sample.md",
                         "sha256": hashlib.sha256(ARTIFACT).hexdigest()}]),
        item("observation", date(2026, 6, 1), competencies=["c2"], score=3),  # after as-of
    ])
    rec.decision("kai", "approved", date(2026, 2, 1), probation_plan={
        "start": date(2026, 2, 1), "review_date": date(2026, 5, 2),
        "case_review_cadence": "weekly"})
    (root / "artifacts").mkdir(parents=True)
    (root / "artifacts" / "sample.md").write_bytes(ARTIFACT)
    return rec.write(root)


@pytest.fixture
def repo_dir(tmp_path: Path) -> Path:
    return crafted(tmp_path / "repo")


def build(root: Path, person: str, as_of: date = AS_OF, since: date | None = None
          ) -> dict[str, object]:
    return agenda.build(load(root, discover([root])), person, as_of, since)


def test_agenda_data_by_value(repo_dir: Path) -> None:
    a = build(repo_dir, "sam")
    assert (a["as_of"], a["since"]) == ("2026-05-01", "2026-04-01")  # 30 days by default
    assert [m["title"] for m in a["milestones"]] == ["Record keeping"]  # 2 Feb is before
    assert [(s["date"], s["result"]) for s in a["scores"]] == [
        ("2026-04-12", "assessment 85%, completed"), ("2026-04-20", "score 3")]
    assert [(x["title"], x["artifacts"]) for x in a["artifacts"]] == [
        ("Audit sample", ["artifacts/sample.md"])]
    assert a["next_level"] == {"id": "senior", "title": "Senior", "packet": "sam-202604"}
    readiness = a["readiness"]
    assert readiness["verdict"] == "NOT READY"
    # c2 has only an LMS milestone and the level has no LMS rules: no score.
    assert [(c["name"], c["score"], c["status"]) for c in readiness["competencies"]] == [
        ("Judgement", "3.00", "met"), ("Records", "-", "insufficient evidence")]
    gaps = a["gaps"]
    assert [(g["kind"], g["subject"]) for g in gaps] == [("gate", "audit"),
                                                         ("competency", "c2")]
    assert gaps[1]["anchor"] == "Notes are complete and on time."
    plan = a["plan"]
    assert plan["recheck"] == "2026-06-08"
    assert [s["status"] for s in plan["steps"]] == ["open", "evidence now meets it"]
    # What is due comes from the same rules as `promoctl status` and `due`.
    assert a["ahead"] == [{"date": "2026-06-08", "overdue": False, "review": True,
                           "what": "re-check of the development plan for Senior"}]
    assert a["next_review"] == a["ahead"][0]


def test_since_is_the_last_one_on_one(repo_dir: Path) -> None:
    a = build(repo_dir, "sam", since=date(2026, 4, 14))
    assert a["milestones"] == [] and [s["date"] for s in a["scores"]] == ["2026-04-20"]
    with pytest.raises(UserError, match="after the agenda's date"):
        build(repo_dir, "sam", since=date(2026, 6, 1))


def test_without_a_packet_an_empty_one_shows_every_requirement(repo_dir: Path) -> None:
    a = build(repo_dir, "kai")
    assert a["level_title"] == "Senior" and a["next_level"]["packet"] is None
    assert [(g["kind"], g["subject"]) for g in a["gaps"]] == [("competency", "c1")]
    assert a["plan"] is None
    # Probation review from the approval; maintenance 182 days after the promotion.
    assert [(x["date"], x["what"]) for x in a["ahead"]] == [
        ("2026-05-02", "probation review for Senior (escalation boundaries hold until then)"),
        ("2026-08-02", "competency maintenance review for Senior")]
    later = build(repo_dir, "kai", as_of=date(2026, 5, 10))
    assert later["next_review"]["date"] == "2026-05-02" and later["next_review"]["overdue"]


def test_top_of_the_ladder(repo_dir: Path, cli: Cli) -> None:
    a = build(repo_dir, "lee")
    assert a["next_level"] is None and a["gaps"] == [] and a["readiness"] is None
    out = cli("one-on-one", "lee", "--as-of", AS_OF, cwd=repo_dir).out
    assert "Lead is the top of the Practice track ladder." in out


def test_markdown_agenda(cli: Cli, repo_dir: Path) -> None:
    result = cli("one-on-one", "sam", "--as-of", AS_OF, cwd=repo_dir)
    assert result.code == 0, result.err
    md = result.out
    assert md.startswith("# 1:1 agenda: Person SAM\n")
    assert "- Next review: **2026-06-08**, re-check of the development plan for Senior" in md
    assert "## 1. Milestones completed since 2026-04-01" in md
    assert "- 2026-04-12: Record keeping (assessment 85%, completed)" in md
    assert "- Working towards: Senior (evaluated today: NOT READY, composite not computed)" in md
    assert "| 2026-04-20 | manager rating | manager_rating | score 3 | c1 |" in md
    assert "- 2026-04-15: Audit sample (passed): artifacts/sample.md" in md
    assert "- [ ] Provide 1 more documentation_audit item(s)" in md
    assert "Raise 'Judgement' to at least 2. Due 2026-06-08. (evidence now meets it)" in md
    assert "observation" not in md  # dated after the agenda's date


def test_html_agenda_to_file(cli: Cli, repo_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "agenda.html"
    result = cli("one-on-one", "sam", "--as-of", AS_OF, "--format", "html", "--out", out,
                 cwd=repo_dir)
    assert result.code == 0, result.err
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<h1>1:1 agenda: Person SAM</h1>" in html
    assert "http://" not in html and "https://" not in html


def test_template_override(cli: Cli, repo_dir: Path) -> None:
    (repo_dir / "templates").mkdir()
    (repo_dir / "templates" / "one_on_one.md").write_text(
        "{{ person.name }}: {{ gaps | length }} gaps, next {{ next_review.date }}\n")
    result = cli("one-on-one", "sam", "--as-of", AS_OF, cwd=repo_dir)
    assert result.out == "Person SAM: 2 gaps, next 2026-06-08\n"


def test_unknown_person(cli: Cli, repo_dir: Path) -> None:
    result = cli("one-on-one", "samm", cwd=repo_dir)
    assert result.code == 4 and "no such person" in result.err and "'sam'" in result.err
