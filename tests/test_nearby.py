"""``validate FILE`` from the reference index (``records.nearby``): after a whole run, a
run over a few files reads only them, what they refer to and what refers to them. Its
answer must be the full run's: each case edits a realistic repository, then compares
the index's answer (when it gives one) with the full run's."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from promoctl import launch
from promoctl.base.errors import Problem
from promoctl.records import nearby, validation
from promoctl.store import cache, index, worktree
from tests.conftest import Cli, git_commit_all


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, bench: ModuleType) -> Path:
    root = tmp_path_factory.mktemp("nearby") / "repo"
    bench.ensure_repo(root, bench.Size(people=40, packets=20, decisions=20, reviews=10,
                                       commits=10))
    return root


@pytest.fixture
def repo(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the generated repository after a whole run wrote the index (the stat of
    files written just before is trusted, as in test_memo)."""
    monkeypatch.setattr(cache, "RACY_NS", -10**18)
    monkeypatch.setattr(worktree, "INDEX_RACY_NS", -10**18)
    root = tmp_path / "repo"
    shutil.copytree(template, root, symlinks=True)
    shutil.rmtree(root / ".git" / "promoctl", ignore_errors=True)
    assert validation.validate(root) == []
    assert index.basis(cache.Cache(cache.location(root)).store) is not None
    return root


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def first(root: Path, folder: str) -> str:
    return sorted(p.relative_to(root).as_posix() for p in (root / folder).rglob("*.yaml"))[0]


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, (rel, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def comment(root: Path, rel: str) -> None:
    with (root / rel).open("a", encoding="utf-8") as handle:
        handle.write("# edited\n")


def field(root: Path, rel: str, name: str) -> str:
    for line in (root / rel).read_text(encoding="utf-8").splitlines():
        if line.startswith(f"{name}: "):
            return line.split(": ", 1)[1].strip()
    raise AssertionError((rel, name))


def full(root: Path, rel: str, monkeypatch: pytest.MonkeyPatch) -> list[Problem]:
    with monkeypatch.context() as patch:
        patch.setattr(validation.Asked, "answer", lambda *_args: None)
        return validation.validate(root, [root / rel])


# --------------------------------------------------------------------- the cases
# Each edits the repository and names the file a pre-commit run validates; those that
# leave the records valid are answered from the index.

def staged_packet(root: Path) -> str:
    rel = first(root, "packets")
    comment(root, rel)
    git(root, "add", rel)
    return rel


def unstaged_packet(root: Path) -> str:
    rel = first(root, "packets")
    comment(root, rel)
    return rel


def after_a_commit(root: Path) -> str:
    """The index is older than HEAD: what the commits since changed is read too."""
    other = sorted((root / "packets").rglob("*.yaml"))[1].relative_to(root).as_posix()
    comment(root, other)
    git_commit_all(root, "an edit after the index")
    return staged_packet(root)


def decision_edited(root: Path) -> str:
    rel = first(root, "decisions")
    comment(root, rel)
    return rel


def review_edited(root: Path) -> str:
    rel = first(root, "reviews")
    comment(root, rel)
    return rel


def person_edited(root: Path) -> str:
    rel = first(root, "people")
    edit(root, rel, "name: ", "name: Dr ")
    return rel


CLEAN = [staged_packet, unstaged_packet, after_a_commit, decision_edited, review_edited,
         person_edited]


def unknown_candidate(root: Path) -> str:
    rel = first(root, "packets")
    edit(root, rel, "candidate: ", "candidate: nobody-")
    return rel


def duplicate_packet(root: Path) -> str:
    rel = first(root, "packets")
    folder, name = rel.rsplit("/", 1)
    copy = f"{folder}/zz-{name}"  # after the first in file order: the duplicate
    shutil.copy(root / rel, root / copy)
    return copy


def candidate_removed(root: Path) -> str:
    rel = first(root, "packets")
    candidate = field(root, rel, "candidate")
    person = next(p for p in (root / "people").rglob(f"{candidate}.yaml"))
    git(root, "rm", "-q", str(person.relative_to(root)))
    comment(root, rel)
    return rel


def person_renamed(root: Path) -> str:
    packet = first(root, "packets")
    candidate = field(root, packet, "candidate")
    rel = next(p for p in (root / "people").rglob(f"{candidate}.yaml")).relative_to(root)
    edit(root, rel.as_posix(), f"id: {candidate}", f"id: {candidate}-x")
    return rel.as_posix()


def shared_account(root: Path) -> str:
    people = sorted((root / "people").rglob("*.yaml"))[:2]
    for person in people:
        with person.open("a", encoding="utf-8") as handle:
            handle.write("accounts:\n  - {home_page: 'https://lms.example.org', "
                         "name: shared-login}\n")
    return people[1].relative_to(root).as_posix()


def account_taken_before(root: Path) -> str:
    """The other holder of the account is in the index, not among the changed files."""
    taker, person = sorted((root / "people").rglob("*.yaml"))[-2:]
    line = "accounts:\n  - {home_page: 'https://lms.example.org', name: taken}\n"
    with taker.open("a", encoding="utf-8") as handle:
        handle.write(line)
    git_commit_all(root, "an account")
    assert validation.validate(root) == []  # the index now names the account
    with person.open("a", encoding="utf-8") as handle:
        handle.write(line)
    return person.relative_to(root).as_posix()


def second_decision(root: Path) -> str:
    rel = first(root, "decisions")
    own = field(root, rel, "id")
    copy = rel.replace(".yaml", "~again.yaml")
    (root / copy).write_text((root / rel).read_text(encoding="utf-8").replace(
        f"id: {own}", f"id: {own}-again"), encoding="utf-8")
    return copy


def superseded_twice(root: Path) -> str:
    rel = next(p for p in sorted((root / "decisions").rglob("*.yaml"))
               if "\nsupersedes: " in p.read_text(encoding="utf-8")).relative_to(root)
    own = field(root, rel.as_posix(), "id")
    copy = rel.as_posix().replace(".yaml", "~again.yaml")
    (root / copy).write_text((root / rel).read_text(encoding="utf-8").replace(
        f"id: {own}", f"id: {own}-again"), encoding="utf-8")
    return copy


def assumed_unchanged(root: Path) -> str:
    other = sorted((root / "people").rglob("*.yaml"))[-1].relative_to(root).as_posix()
    git(root, "update-index", "--assume-unchanged", other)
    edit(root, other, "ladder: ", "ladder: no-such-")
    return staged_packet(root)


def in_a_new_folder(root: Path) -> str:
    (root / "people" / "archive").mkdir()
    rel = first(root, "people")
    shutil.copy(root / rel, root / "people" / "archive" / "copy.yaml")
    return staged_packet(root)


def ladder_edited(root: Path) -> str:
    rel = first(root, "ladders")
    comment(root, rel)
    return rel


def candidate_promoted(root: Path) -> str:
    """The candidate's level is raised to the packet's target: the packet breaks."""
    decided = "".join(p.read_text(encoding="utf-8")
                      for p in (root / "decisions").rglob("*.yaml"))
    rel = next(p.relative_to(root).as_posix() for p in sorted((root / "packets").rglob("*.yaml"))
               if f"id: {field(root, p.relative_to(root).as_posix(), 'id')}\n" not in decided)
    candidate = field(root, rel, "candidate")
    person = next(p for p in (root / "people").rglob(f"{candidate}.yaml")).relative_to(root)
    text = (root / rel).read_text(encoding="utf-8")
    target = text.split("level: ", 1)[1].split("}", 1)[0].split("\n", 1)[0].strip()
    edit(root, person.as_posix(), f"level: {field(root, person.as_posix(), 'level')}",
         f"level: {target}")
    return person.as_posix()


OTHER = [unknown_candidate, duplicate_packet, candidate_removed, person_renamed,
         shared_account, account_taken_before, second_decision, superseded_twice, assumed_unchanged,
         in_a_new_folder, ladder_edited, candidate_promoted]


@pytest.mark.parametrize("case", CLEAN, ids=lambda c: c.__name__)
def test_a_valid_edit_is_answered_from_the_index(
        repo: Path, case: Callable[[Path], str], monkeypatch: pytest.MonkeyPatch) -> None:
    rel = case(repo)
    assert validation.from_index(repo, [repo / rel]) == []
    assert full(repo, rel, monkeypatch) == []


@pytest.mark.parametrize("case", OTHER, ids=lambda c: c.__name__)
def test_the_index_never_answers_otherwise_than_the_full_run(
        repo: Path, case: Callable[[Path], str], monkeypatch: pytest.MonkeyPatch) -> None:
    rel = case(repo)
    fast = validation.from_index(repo, [repo / rel])
    whole = full(repo, rel, monkeypatch)
    assert fast is None or fast == whole
    if case not in (in_a_new_folder, ladder_edited, assumed_unchanged):
        assert whole, "the case should break something"
    else:
        assert fast is None


def test_a_renamed_file_is_read_under_its_new_name(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rel = sorted((repo / "packets").rglob("*.yaml"))[-1].relative_to(repo).as_posix()
    moved = rel.replace(".yaml", "-moved.yaml")
    git(repo, "mv", rel, moved)
    fast = validation.from_index(repo, [repo / moved])
    assert fast is None or fast == full(repo, moved, monkeypatch)


def test_the_index_reads_only_what_the_checks_need(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loaded: list[set[str]] = []
    checked = nearby._checked

    def spy(root: Path, store: cache.Cache, wanted: set[str], names: set[str],
            before: dict[str, set[str]]) -> list[Problem] | None:
        loaded.append(names)
        return checked(root, store, wanted, names, before)

    monkeypatch.setattr(nearby, "_checked", spy)
    rel = staged_packet(repo)
    assert validation.from_index(repo, [repo / rel]) == []
    total = sum(1 for _ in repo.rglob("*.yaml")) - len(list((repo / ".git").rglob("*.yaml")))
    assert rel in loaded[0] and len(loaded[0]) < total / 3


def test_a_pre_commit_run_prints_what_the_command_prints(
        repo: Path, cli: Cli, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``promoctl validate FILE`` answers from the index before the command line is
    imported, with the command's output and exit code."""
    rel = staged_packet(repo)
    monkeypatch.chdir(repo)
    answered: list[Problem] | None = None
    answer = validation.Asked.answer

    def spy(asked: validation.Asked, listed: bytes | None) -> list[Problem] | None:
        nonlocal answered
        assert listed is not None  # git status is not run twice
        answered = answer(asked, listed)
        return answered

    monkeypatch.setattr(validation.Asked, "answer", spy)
    capsys.readouterr()
    code = launch.main(["validate", rel])
    quick = capsys.readouterr()
    assert answered == []
    monkeypatch.setattr(validation.Asked, "answer", lambda *_args: None)
    command = cli("validate", rel)
    assert (code, quick.out, quick.err) == (command.code, command.out, command.err)
    assert code == 0


def test_an_older_index_stands_after_a_run_that_found_errors(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A whole run that finds an error writes no index; the one before still says what
    the files were, and git says what changed since."""
    broken = unknown_candidate(repo)
    git_commit_all(repo, "a broken packet")
    assert validation.validate(repo) != []
    rel = sorted((repo / "packets").rglob("*.yaml"))[-1].relative_to(repo).as_posix()
    comment(repo, rel)
    assert full(repo, rel, monkeypatch) == []
    assert validation.from_index(repo, [repo / rel]) == []
    assert validation.from_index(repo, [repo / broken]) is None


def _just_added(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """git's state as a hook a moment after ``git add`` finds it: the first time asked,
    the index's stat is too recent to trust (the real two seconds); afterwards, trusted
    (the run took that long). The states told, in order."""
    told: list[str | None] = []
    asked = worktree.Probe.state

    def state(probe: worktree.Probe, now: int) -> str | None:
        with monkeypatch.context() as racy:
            if not told:
                racy.setattr(worktree, "INDEX_RACY_NS", 2_000_000_000)
            told.append(asked(probe, now))
        return told[-1]

    monkeypatch.setattr(worktree.Probe, "state", state)
    return told


def _memo_runs(root: Path) -> int:
    return int(cache.Cache(cache.location(root)).store.rows("SELECT count(*) FROM memo")[0][0])


def test_a_whole_pre_commit_run_just_after_git_add_leaves_an_index(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A hook runs a moment after ``git add``, when git's state cannot be told from the
    index's stat: a run that checks the whole repository (a ladder much refers to)
    tells it afterwards, so its answer is remembered and the index it wrote serves the
    next pre-commit run."""
    monkeypatch.setattr(validation, "WHOLE_RUN_FROM", 0)
    rel = ladder_edited(repo)
    git(repo, "add", "--", rel)
    with monkeypatch.context() as patch:
        told = _just_added(patch)
        assert validation.validate(repo, [repo / rel]) == []
    assert told[0] is None and len(told) > 1 and told[1] is not None
    assert validation.remembered(repo, [repo / rel]) == []
    assert index.basis(cache.Cache(cache.location(repo)).store) is not None
    assert validation.from_index(repo, [repo / staged_packet(repo)]) == []


def test_a_file_edited_while_a_run_went_on_leaves_no_memo_and_no_index(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The state told after the run stands for what it read only if no file it read
    changed since: one did, so nothing is remembered."""
    monkeypatch.setattr(validation, "WHOLE_RUN_FROM", 0)
    rel = ladder_edited(repo)
    git(repo, "add", "--", rel)
    runs = _memo_runs(repo)
    checked = validation._validate

    def then_edited(*args: object, **kwargs: object) -> object:
        found = checked(*args, **kwargs)  # type: ignore[arg-type]
        comment(repo, first(repo, "packets"))
        return found

    with monkeypatch.context() as patch:
        _just_added(patch)
        patch.setattr(validation, "_validate", then_edited)
        validation.validate(repo, [repo / rel])
    assert index.basis(cache.Cache(cache.location(repo)).store) is None
    assert _memo_runs(repo) == runs


def test_a_given_ladder_goes_to_the_full_run_without_asking_git(repo: Path) -> None:
    """Thousands of records refer to a ladder: the index never answers for one, so no
    git command is started for it (a pre-commit run on a ladder is a whole run)."""
    rel = ladder_edited(repo)
    asked = validation.Asked(repo, validation.few_records(repo, [repo / rel]))
    assert asked.asked is None
    packet = validation.Asked(repo, validation.few_records(repo, [repo / first(repo, "packets")]))
    assert packet.asked is not None
    packet.close()
    assert validation.from_index(repo, [repo / rel]) is None
