"""``evaluate --all`` remembered with the state of the work tree as git tells it: the next
run in the same state reads only the kept evaluations; any change to what the answer
depends on gives the fresh answer, never a stale one."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from promoctl.engine import evaluation_view, evaluations
from promoctl.records import repository
from promoctl.store import cache, worktree
from promoctl.store.cache import location as cache_location
from tests.conftest import Cli, git_commit_all
from tests.test_evalcache import AMARA, edit, forget

EVERY = ("evaluate", "--all", "--format", "json")


@pytest.fixture
def repo(git_examples: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The examples, committed, with files and the index trusted however recently they
    were written (tests write them just before)."""
    monkeypatch.setattr(cache, "RACY_NS", -10**18)
    monkeypatch.setattr(worktree, "INDEX_RACY_NS", -10**18)
    forget(git_examples)
    return git_examples


def answers(root: Path) -> list[tuple[str, str]]:
    with contextlib.closing(sqlite3.connect(cache_location(root))) as con:
        return con.execute("SELECT state, scope FROM answers").fetchall()


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def loading_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the run if it goes any way but the remembered answer."""
    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("not answered from the remembered answer")

    monkeypatch.setattr(repository, "load_packets", refuse)
    monkeypatch.setattr(evaluations, "evaluate_unchanged", refuse)


def fresh(cli: Cli, root: Path, *args: str) -> tuple[int, str, str]:
    forget(root)
    result = cli(*args, cwd=root)
    return result.code, result.out, result.err


@pytest.mark.parametrize("fmt", ["json", "table", "markdown"])
def test_a_warm_run_in_the_same_state_reads_only_kept_evaluations(
        cli: Cli, repo: Path, monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    args = ("evaluate", "--all", "--format", fmt)
    cold = cli(*args, cwd=repo)
    assert cold.code == 1 and len(answers(repo)) == 1
    with monkeypatch.context() as patched:
        loading_refused(patched)
        warm = cli(*args, cwd=repo)
        # The root folder named is the whole repository too.
        root = cli("evaluate", ".", "--format", fmt, cwd=repo)
    assert (warm.code, warm.out, warm.err) == (cold.code, cold.out, cold.err)
    assert (root.code, root.out) == (cold.code, cold.out)


def test_the_core_api_gives_the_same_outcomes(repo: Path, monkeypatch: pytest.MonkeyPatch
                                              ) -> None:
    cold, cold_problems = evaluations.evaluate_packets(repo, [repo], None)
    with monkeypatch.context() as patched:
        loading_refused(patched)
        warm, warm_problems = evaluations.evaluate_packets(repo, [repo], None)
    assert warm_problems == cold_problems
    assert [(o.display, o.problems, o.key) for o in warm] == \
        [(o.display, o.problems, o.key) for o in cold]
    assert [(o.shown.text, o.shown.extras, o.shown.ready) for o in warm if o.shown] == \
        [(o.shown.text, o.shown.extras, o.shown.ready) for o in cold if o.shown]


def _unstaged(root: Path) -> None:
    edit(root / AMARA, "result: {score: 3}", "result: {score: 2}")


def _staged(root: Path) -> None:
    _unstaged(root)
    git(root, "add", AMARA)


def _ladder(root: Path) -> None:
    edit(root / "ladders/support-work.yaml", "composite_threshold: 2.5",
         "composite_threshold: 2.6")


def _framework(root: Path) -> None:
    edit(root / "frameworks/community-services.yaml",
         "name: Recognises and escalates risk triggers", "name: Recognises and escalates risks")


def _untracked_packet(root: Path) -> None:
    text = (root / AMARA).read_text(encoding="utf-8")
    (root / "packets/community/copy.yaml").write_text(
        text.replace("id: amara-okafor-2026-10", "id: amara-okafor-copy"), encoding="utf-8")


def _removed(root: Path) -> None:
    (root / AMARA).unlink()


def _checkout(root: Path) -> None:
    """Another commit checked out, after a run remembered the one before."""
    git(root, "checkout", "--quiet", "-b", "lower")
    _unstaged(root)
    git_commit_all(root, "a lower score")
    git(root, "checkout", "--quiet", "-")
    evaluations.evaluate_packets(root, [root], None)
    git(root, "checkout", "--quiet", "lower")


CHANGES: dict[str, Callable[[Path], None]] = {
    "unstaged": _unstaged, "staged": _staged, "ladder": _ladder, "framework": _framework,
    "untracked packet": _untracked_packet, "removed": _removed, "checkout": _checkout}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_change_gives_the_fresh_answer(cli: Cli, repo: Path, change: str) -> None:
    before = cli(*EVERY, cwd=repo)
    assert cli(*EVERY, cwd=repo).out == before.out  # remembered, and answered
    CHANGES[change](repo)
    after = cli(*EVERY, cwd=repo)
    warm = cli(*EVERY, cwd=repo)  # the new state, remembered in its turn
    assert (after.code, after.out, after.err) == fresh(cli, repo, *EVERY)
    assert (warm.code, warm.out, warm.err) == (after.code, after.out, after.err)
    assert after.out != before.out


def test_an_edited_untracked_packet_gives_the_fresh_answer(cli: Cli, repo: Path) -> None:
    _untracked_packet(repo)
    before = cli(*EVERY, cwd=repo)
    assert answers(repo)
    edit(repo / "packets/community/copy.yaml", "result: {score: 3}", "result: {score: 2}")
    after = cli(*EVERY, cwd=repo)
    assert (after.code, after.out, after.err) == fresh(cli, repo, *EVERY)
    assert after.out != before.out


def test_as_of_is_part_of_the_answer(cli: Cli, repo: Path, monkeypatch: pytest.MonkeyPatch
                                     ) -> None:
    dates = ("2026-10-15", "2027-06-01")
    cold = {d: cli(*EVERY, "--as-of", d, cwd=repo).out for d in dates}
    assert cold[dates[0]] != cold[dates[1]]
    plain = cli(*EVERY, cwd=repo).out
    assert len(answers(repo)) == 3
    with monkeypatch.context() as patched:
        loading_refused(patched)
        for d in dates:
            assert cli(*EVERY, "--as-of", d, cwd=repo).out == cold[d]
        assert cli(*EVERY, cwd=repo).out == plain


@pytest.mark.parametrize("flag", ["--assume-unchanged", "--skip-worktree"])
def test_a_file_git_takes_as_unchanged_is_never_trusted(cli: Cli, repo: Path,
                                                        flag: str) -> None:
    """git status does not look at such a file: its edit would not change the state."""
    git(repo, "update-index", flag, AMARA)
    before = cli(*EVERY, cwd=repo)
    assert answers(repo) == []
    _unstaged(repo)
    after = cli(*EVERY, cwd=repo)
    assert (after.code, after.out, after.err) == fresh(cli, repo, *EVERY)
    assert after.out != before.out


def test_a_repository_with_problems_is_answered_with_them(
        cli: Cli, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    edit(repo / AMARA, "result: {score: 3}", "result: {score: 2.5}")
    edit(repo / "people/ben-hughes.yaml", "program: Community Services", "program: 7")
    cold = cli(*EVERY, cwd=repo)
    assert cold.code == 3 and answers(repo)
    with monkeypatch.context() as patched:
        loading_refused(patched)
        warm = cli(*EVERY, cwd=repo)
    assert (warm.code, warm.out, warm.err) == (cold.code, cold.out, cold.err)


@pytest.mark.parametrize("damage", ["not json", "bad outcome", "missing evaluation"])
def test_a_damaged_answer_is_a_miss(cli: Cli, repo: Path, damage: str) -> None:
    cold = cli(*EVERY, cwd=repo)
    with contextlib.closing(sqlite3.connect(cache_location(repo))) as con:
        if damage == "not json":
            con.execute("UPDATE answers SET body = '{{{'")
        elif damage == "bad outcome":
            con.execute("""UPDATE answers SET body = '{"stats": {}, "outcomes": [[1, 2, 3]],
                        "problems": []}'""")
        else:
            con.execute("DELETE FROM evaluations WHERE rowid IN "
                        "(SELECT rowid FROM evaluations LIMIT 1)")
        con.commit()
    warm = cli(*EVERY, cwd=repo)
    assert (warm.code, warm.out, warm.err) == (cold.code, cold.out, cold.err)


def test_some_packets_are_not_remembered_this_way(cli: Cli, repo: Path) -> None:
    cli("evaluate", "packets/community", "--format", "json", cwd=repo)
    assert answers(repo) == []


def test_outside_git_nothing_is_remembered(cli: Cli, examples: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "RACY_NS", -10**18)
    cold = cli(*EVERY, cwd=examples)
    warm = cli(*EVERY, cwd=examples)
    assert (warm.code, warm.out) == (cold.code, cold.out)
    assert answers(examples) == []


def test_json_output_is_the_document_as_utf8(repo: Path) -> None:
    outcomes, _problems = evaluations.evaluate_packets(repo, [repo], None)
    shown = [o.shown for o in outcomes if o.shown is not None]
    pieces = evaluation_view.json_output("2026-11-01", shown, [], [])
    assert pieces is not None
    document = evaluation_view.json_document("2026-11-01", shown, [], [])
    assert b"".join(pieces) == (document + "\n").encode()
    # A file name's bytes that are not UTF-8 (kept as surrogates) go the text way,
    # where the JSON output escapes them.
    odd = evaluation_view.Shown("packets/\udcff.yaml", shown[0].text.replace(
        shown[0].path, "packets/\udcff.yaml"), shown[0].extras)
    assert evaluation_view.json_output(None, [odd], [], []) is None
    assert "\udcff" in evaluation_view.json_document(None, [odd], [], [])
    assert odd.text == evaluation_view.Shown(odd.path, odd.nested, odd.extras).text


@pytest.mark.parametrize("target", ["--all", "packets"])
@pytest.mark.parametrize("extras", ["{not json", "[1, 2]"])
def test_damaged_display_values_are_a_miss(cli: Cli, repo: Path, target: str,
                                           extras: str) -> None:
    """A kept evaluation whose display values do not parse is evaluated again (the
    summary table needs them), never a crash; the JSON output does not read them."""
    outputs = {fmt: cli("evaluate", target, "--format", fmt, cwd=repo)
               for fmt in ("table", "json", "markdown")}
    with contextlib.closing(sqlite3.connect(cache_location(repo))) as con:
        con.execute("UPDATE evaluations SET extras = ?", (extras,))
        con.commit()
    for fmt, cold in outputs.items():
        again = cli("evaluate", target, "--format", fmt, cwd=repo)
        assert (again.code, again.out, again.err) == (cold.code, cold.out, cold.err), fmt


def test_a_run_answered_from_the_content_keys_remembers_its_state(
        cli: Cli, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After validate, evaluate --all answers from the content keys (nothing loaded) and
    remembers that answer with the state it took first: the next run reads only it."""
    cold = fresh(cli, repo, *EVERY)
    assert cli("validate", cwd=repo).code == 0
    with contextlib.closing(sqlite3.connect(cache_location(repo))) as con:
        con.execute("DELETE FROM answers")
        con.commit()
    snapshots: list[Path] = []
    with monkeypatch.context() as patched:
        patched.setattr(repository, "load_packets", lambda *_a, **_k: 1 / 0)
        patched.setattr(repository, "snapshot", lambda root: snapshots.append(root))
        first = cli(*EVERY, cwd=repo)
    assert snapshots == [] and len(answers(repo)) == 1  # the state taken once, first
    with monkeypatch.context() as patched:
        loading_refused(patched)
        warm = cli(*EVERY, cwd=repo)
    assert (first.code, first.out, first.err) == (warm.code, warm.out, warm.err) == cold
