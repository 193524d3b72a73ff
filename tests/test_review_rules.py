"""`review` refuses a review with nothing to review and warns on unusual timing."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import Cli, Result
from tests.test_decide import decide

FINDINGS = ("--reviewer", "Noor Said", "--findings", "Reviewed against the anchors")


def review(cli: Cli, repo: Path, person: str, *args: str) -> Result:
    return cli("review", person, *FINDINGS, *args, cwd=repo)


@pytest.fixture
def decided(cli: Cli, git_examples: Path) -> Path:
    """Amara approved (effective 2026-12-01, probation review 2027-03-01); Chloe deferred."""
    assert decide(cli, git_examples, "amara-okafor-2026-10", "--effective",
                  "2026-12-01").code == 0  # type: ignore[attr-defined]
    assert decide(cli, git_examples, "chloe-martin-2026-10").code == 0  # type: ignore[attr-defined]
    return git_examples


@pytest.mark.parametrize(("person", "args", "message"), [
    pytest.param("chloe-martin", ("--kind", "probation", "--outcome", "confirmed", "--date",
                                  "2027-02-01"), "no probation to review",
                 id="probation-after-a-deferral"),
    pytest.param("amara-okafor", ("--kind", "probation", "--outcome", "confirmed", "--date",
                                  "2026-11-20"), "no probation to review",
                 id="probation-before-the-approval-takes-effect"),
    pytest.param("chloe-martin", ("--kind", "maintenance", "--outcome", "lapsed", "--date",
                                  "2027-02-01"), "has no re-validation",
                 id="maintenance-at-a-level-without-revalidation"),
    pytest.param("amara-okafor", ("--kind", "recheck", "--outcome", "resolved", "--date",
                                  "2027-02-01"), "nothing to re-check",
                 id="recheck-without-drift-or-plan"),
    pytest.param("amara-okafor", ("--kind", "probation", "--outcome", "extended",
                                  "--extended-until", "2027-02-01", "--date", "2027-03-01"),
                 "is not after the review date", id="extension-ending-before-the-review"),
])
def test_a_review_with_nothing_to_review_is_refused(cli: Cli, decided: Path, person: str,
                                                    args: tuple[str, ...], message: str
                                                    ) -> None:
    result = review(cli, decided, person, *args)
    assert result.code == 4
    assert message in result.err
    assert not (decided / "reviews").exists()


def test_recheck_of_a_development_plan_names_its_decision(cli: Cli, decided: Path) -> None:
    result = review(cli, decided, "chloe-martin", "--kind", "recheck", "--outcome",
                    "resolved", "--date", "2027-02-01")
    assert result.code == 0, result.err
    (path,) = (decided / "reviews").rglob("*.yaml")
    record = yaml.safe_load(path.read_text())
    assert record["decision"].startswith("2026-11-02-chloe-martin-")
    assert record["level"] == "support-worker"
    again = review(cli, decided, "chloe-martin", "--kind", "recheck", "--outcome",
                   "resolved", "--date", "2027-02-05")
    assert again.code == 4 and "nothing to re-check" in again.err


def test_probation_confirmed_days_after_it_began_is_a_warning(cli: Cli, decided: Path
                                                              ) -> None:
    result = review(cli, decided, "amara-okafor", "--kind", "probation", "--outcome",
                    "confirmed", "--date", "2026-12-03")
    assert result.code == 0, result.err
    assert "warning: this probation review is 88 days before its date (2027-03-01)" \
        in " ".join(result.err.split())
    (path,) = (decided / "reviews").rglob("*.yaml")
    record = yaml.safe_load(path.read_text())
    assert record["level"] == "senior-support-worker"
    assert record["decision"].startswith("2026-11-02-amara-okafor-")
    # Confirmed: a second probation review has nothing to review ...
    second = review(cli, decided, "amara-okafor", "--kind", "probation", "--outcome",
                    "confirmed", "--date", "2027-03-01")
    assert second.code == 4 and "already confirmed on 2026-12-03" in second.err
    # ... unless it corrects the first.
    fixed = review(cli, decided, "amara-okafor", "--kind", "probation", "--outcome",
                   "confirmed", "--date", "2027-03-01", "--supersedes", path.stem)
    assert fixed.code == 0, fixed.err
    assert "probation review is" not in fixed.err  # on its date: no timing warning


def test_maintenance_long_before_it_is_due_is_a_warning(cli: Cli, decided: Path,
                                                         tmp_path: Path) -> None:
    evidence = tmp_path / "evidence.yaml"
    evidence.write_text(
        "- {id: audit, type: documentation_audit, date: 2027-01-10, result: {score: 3}}\n"
        "- {id: obs, type: observation, date: 2027-01-10, result: {score: 3}}\n"
        "- {id: inc, type: incident_review, date: 2027-01-10}\n")
    result = review(cli, decided, "amara-okafor", "--kind", "maintenance", "--outcome",
                    "sustained", "--evidence-file", str(evidence), "--date", "2027-01-15")
    assert result.code == 0, result.err
    assert "days before re-validation is due (2027-06-01)" in " ".join(result.err.split())
