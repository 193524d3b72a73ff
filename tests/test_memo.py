"""The memo of validate runs, keyed by the work tree's state as git reports it: answered
only when nothing validate reads changed; never stale."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from promoctl import launch
from promoctl.records import validation
from promoctl.store import cache, cachedb, worktree
from tests.conftest import Cli, git_commit_all

PERSON = "people/ben-hughes.yaml"


@pytest.fixture
def trusting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Trust the stat of files however recently they were written (tests write them
    just before)."""
    monkeypatch.setattr(cache, "RACY_NS", -10**18)


@pytest.fixture
def repo(git_examples: Path, trusting: None, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The examples, committed, with the index trusted however recently it was written."""
    monkeypatch.setattr(worktree, "INDEX_RACY_NS", -10**18)
    return git_examples


def memo_bodies(root: Path) -> list[str]:
    """The runs in the memo table of the store, as kept."""
    with contextlib.closing(sqlite3.connect(cache.location(root))) as con:
        return [body for (body,) in con.execute("SELECT body FROM memo")]


def set_memo(root: Path, bodies: list[str]) -> None:
    with contextlib.closing(sqlite3.connect(cache.location(root))) as con:
        (state,), = set(con.execute("SELECT state FROM memo"))
        con.execute("DELETE FROM memo")
        con.executemany("INSERT INTO memo VALUES (?, NULL, ?)", ((state, b) for b in bodies))
        con.commit()


def _edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new, 1))


def test_an_unchanged_tree_is_answered_from_the_memo(repo: Path) -> None:
    assert validation.remembered(repo) is None
    _edit(repo / PERSON, "start_date: 2023-01-09", "start_date: 2023-01-39")
    git_commit_all(repo, "a bad date")
    problems = validation.validate(repo)
    assert [p.path for p in problems] == [PERSON]
    assert validation.remembered(repo) == problems
    assert validation.remembered(repo, [repo / PERSON]) == problems
    # Noor manages Ben, whose record has the problem: a run over Noor's file reports it
    # too (see ``dependents``), which the whole run cannot tell apart: a run works it out.
    assert validation.remembered(repo, [repo / "people" / "noor-said.yaml"]) is None
    assert validation.validate(repo, [repo / "people" / "noor-said.yaml"]) == problems
    assert validation.remembered(repo, [repo / "people" / "noor-said.yaml"]) == problems
    assert validation.remembered(repo, [repo / "people"]) == problems


def test_a_run_over_some_files_answers_for_those_files_only(repo: Path) -> None:
    person, other = repo / PERSON, repo / "people" / "noor-said.yaml"
    assert validation.validate(repo, [person]) == []
    assert validation.remembered(repo, [person]) == []
    assert validation.remembered(repo, [other]) is None
    assert validation.remembered(repo) is None


def _new_untracked(root: Path) -> None:
    (root / "people" / "zed.yaml").write_text((root / PERSON).read_text())


def _staged(root: Path) -> None:
    _edit(root / PERSON, "start_date: 2023-01-09", "start_date: 2023-01-10")
    subprocess.run(["git", "add", PERSON], cwd=root, check=True)


def _same_size_and_mtime(root: Path) -> None:
    path = root / PERSON
    before = path.stat()
    _edit(path, "start_date: 2023-01-09", "start_date: 2023-01-39")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def _ignored_record(root: Path) -> None:
    (root / ".gitignore").write_text("drafts/\nlocal-*.yaml\n")
    git_commit_all(root, "ignore drafts")
    validation.validate(root)  # remembered with the new .gitignore
    (root / "drafts").mkdir()
    (root / "drafts" / "copy.yaml").write_text((root / PERSON).read_text())


def _ignored_file(root: Path) -> None:
    (root / ".gitignore").write_text("local-*.yaml\n")
    git_commit_all(root, "ignore local files")
    validation.validate(root)
    (root / "people" / "local-copy.yaml").write_text((root / PERSON).read_text())


def _untracked_edited(root: Path) -> None:
    extra = root / "people" / "zed.yaml"
    extra.write_text((root / PERSON).read_text().replace("ben-hughes", "zed-zed"))
    validation.validate(root)  # remembered with the untracked file in it
    before = extra.stat()
    _edit(extra, "start_date: 2023-01-09", "start_date: 2023-01-39")
    os.utime(extra, ns=(before.st_atime_ns, before.st_mtime_ns))


def _in_an_empty_folder(root: Path) -> None:
    (root / "people" / "archive").mkdir()
    validation.validate(root)  # remembered with the empty folder in it
    (root / "people" / "archive" / "zed.yaml").write_text((root / PERSON).read_text())


def _deleted(root: Path) -> None:
    (root / PERSON).unlink()


def _artifact(root: Path) -> None:
    artifact = next(p for p in (root / "artifacts").rglob("*") if p.is_file())
    artifact.write_bytes(artifact.read_bytes() + b"changed")


@pytest.mark.parametrize("change", [_new_untracked, _staged,
                                    _ignored_record, _ignored_file, _untracked_edited,
                                    _in_an_empty_folder, _deleted, _artifact])
def test_any_change_validate_reads_is_seen(repo: Path, change: Callable[[Path], None]
                                           ) -> None:
    validation.validate(repo)
    assert validation.remembered(repo) is not None
    change(repo)
    remembered = validation.remembered(repo)
    assert remembered is None
    answer = validation.validate(repo)
    for path in cachedb.paths(cache.location(repo)):
        path.unlink(missing_ok=True)
    assert answer == validation.validate(repo)  # what a run with no cache at all says


def test_a_change_git_cannot_see_by_stat_is_seen(git_examples: Path, trusting: None
                                                 ) -> None:
    """git compares times to the second: a same-size write that keeps the mtime, in the
    second the index took the file's stat, looks unchanged to it. An index written
    less than two seconds ago is therefore not trusted; once it is older, such a write
    falls in a later second, which git sees."""
    assert worktree.state(git_examples, time.time_ns()) is None  # just committed
    time.sleep(worktree.INDEX_RACY_NS / 1e9 + 0.1)
    validation.validate(git_examples)
    assert validation.remembered(git_examples) is not None
    _same_size_and_mtime(git_examples)
    assert validation.remembered(git_examples) is None
    assert [p.path for p in validation.validate(git_examples)] == [PERSON]


def test_files_validate_never_reads_do_not_count(repo: Path) -> None:
    (repo / ".editor").mkdir()
    problems = validation.validate(repo)
    _edit(repo / "lms" / "academy-completions.csv", ",", ";")  # tracked, not a record
    (repo / ".editor" / "swap.yaml").write_text("kind: person\n")  # a hidden folder
    assert validation.remembered(repo) == problems


def test_a_tree_that_changed_during_the_run_is_not_remembered(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    states = iter(["before", "after"])
    monkeypatch.setattr(worktree.Probe, "state",
                        lambda self, _now: self.close() or next(states))
    validation.validate(repo)
    assert memo_bodies(repo) == []


def test_files_changed_a_moment_ago_are_not_trusted(git_examples: Path) -> None:
    validation.validate(git_examples)  # every file was written just now
    assert validation.remembered(git_examples) is None


def test_outside_git_there_is_no_memo(examples: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(cache, "RACY_NS", -10**18)
    assert worktree.state(examples, 0) is None
    validation.validate(examples)
    assert validation.remembered(examples) is None


def test_other_files_are_never_answered_from_the_memo(repo: Path) -> None:
    (repo / "notes.txt").write_text("not a record\n")
    validation.validate(repo)
    assert validation.remembered(repo, [repo / "notes.txt"]) is None
    assert validation.remembered(repo, [repo / "ladders"]) is not None


@pytest.mark.parametrize("content", [b"", b"{not json", b'{"format": 1}',
                                     b'{"format": 1, "code": "x", "runs": []}'])
def test_a_corrupt_memo_is_ignored(repo: Path, content: bytes) -> None:
    problems = validation.validate(repo)
    set_memo(repo, [content.decode()])
    assert validation.remembered(repo) is None
    assert validation.validate(repo) == problems
    assert validation.remembered(repo) == problems


def test_malformed_runs_are_ignored(repo: Path) -> None:
    validation.validate(repo)
    good = json.loads(memo_bodies(repo)[0])
    set_memo(repo, [json.dumps(run) for run in (
        {**good, "problems": [["x", "1", 1, "m"]]}, {**good, "scope": "x"},
        {**good, "stats": {"a": ["1"]}}, "junk")])
    assert validation.remembered(repo) is None


def test_the_command_answers_without_loading_the_cli_or_the_models(
        git_examples: Path, cli: Cli) -> None:
    _edit(git_examples / PERSON, "start_date: 2023-01-09", "start_date: 2023-01-39")
    git_commit_all(git_examples, "a bad date")
    time.sleep(worktree.INDEX_RACY_NS / 1e9 + 0.1)  # another process: nothing patched
    before = cli("validate", PERSON, cwd=git_examples)
    assert before.code == 3
    probe = ("import sys; from promoctl.launch import main; code = main(sys.argv[1:]); "
             "print(code, *sorted(m for m in ('typer', 'rich', 'pydantic', "
             "'promoctl.records.models')"
             " if m in sys.modules))")
    quick = subprocess.run([sys.executable, "-c", probe, "validate", PERSON],
                           cwd=git_examples, capture_output=True, text=True, check=True)
    assert quick.stdout == before.out + "3\n"  # exit code 3, and none of those modules
    assert quick.stderr == before.err
    assert cli("validate", PERSON, cwd=git_examples) == before


def test_without_an_answer_the_command_runs(examples: Path, cli: Cli,
                                            capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(examples)
    _edit(examples / PERSON, "start_date: 2023-01-09", "start_date: 2023-01-39")
    expected = cli("validate", PERSON)
    capsys.readouterr()
    for args in (["validate", PERSON], ["validate", "no-such.yaml"], ["validate", "--help"]):
        code = launch.main(args)
        got = capsys.readouterr()
        again = cli(*args)
        assert (code, got.out, got.err) == (again.code, again.out, again.err)
    assert expected.code == 3


def test_a_tracked_link_is_followed(repo: Path) -> None:
    """git tracks a link's text, not the file it points at."""
    target = repo / ".common" / "ben-hughes.yaml"
    target.parent.mkdir()
    (repo / PERSON).rename(target)
    (repo / PERSON).symlink_to(Path("..") / ".common" / "ben-hughes.yaml")
    git_commit_all(repo, "a shared record")
    assert validation.validate(repo) == []
    assert validation.remembered(repo) == []
    _edit(target, "start_date: 2023-01-09", "start_date: 2023-01-39")
    assert validation.remembered(repo) is None
    assert [p.path for p in validation.validate(repo)] == [PERSON]


def test_files_git_is_told_not_to_look_at_leave_no_memo(repo: Path) -> None:
    subprocess.run(["git", "update-index", "--assume-unchanged", PERSON], cwd=repo,
                   check=True)
    validation.validate(repo)
    assert validation.remembered(repo) is None
    with (repo / PERSON).open("r+") as handle:  # in place: the folder's times stay
        text = handle.read()
        handle.seek(0)
        handle.write(text.replace("start_date: 2023-01-09", "start_date: 2023-01-39"))
    assert [p.path for p in validation.validate(repo)] == [PERSON]


def _zero_checksum(root: Path) -> None:
    """What git writes with index.skipHash (feature.manyFiles): no checksum."""
    index = root / ".git" / "index"
    data = index.read_bytes()
    index.write_bytes(data[:-20] + bytes(20))


def test_an_index_without_a_checksum_is_read_whole(repo: Path) -> None:
    _zero_checksum(repo)
    assert validation.validate(repo) == []
    assert validation.remembered(repo) == []
    packet = next((repo / "packets").rglob("*.yaml"))
    _edit(packet, "submitted: 2026-10-", "submitted: 2026-13-")  # same size, in place
    subprocess.run(["git", "add", "--", str(packet)], cwd=repo, check=True)
    _zero_checksum(repo)
    assert validation.remembered(repo) is None
    assert validation.validate(repo) != []


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS file names must be UTF-8")
def test_file_names_that_are_not_utf8(repo: Path) -> None:
    folder = os.path.join(os.fsencode(repo / "people"), b"\xff")
    os.mkdir(folder)
    person = (repo / "people" / "noor-said.yaml").read_text()
    with open(os.path.join(folder, b"copy.yaml"), "w") as out:
        out.write(person.replace("id: noor-said", "id: noor-said-2"))
    problems = validation.validate(repo)
    assert validation.validate(repo) == problems
    assert validation.remembered(repo) == problems


def test_the_quick_path_never_shows_a_traceback(repo: Path, cli: Cli,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "people" / "loop.yaml").symlink_to("loop.yaml")
    validation.validate(repo)
    capsys.readouterr()
    code = launch.main(["validate", str(repo / "people")])
    got = capsys.readouterr()
    again = cli("validate", repo / "people")
    assert (code, got.out, got.err) == (again.code, again.out, again.err)


def test_without_git_there_is_no_state(repo: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))
    assert worktree.state(repo, time.time_ns()) is None
    assert validation.validate(repo) == []


@pytest.mark.skipif(not hasattr(os, "posix_spawnp") or not Path("/proc/self/fd").is_dir(),
                    reason="counts this process's children and open files (Linux)")
def test_a_probe_let_go_leaves_no_process_or_file_open(repo: Path) -> None:
    opened = len(os.listdir("/proc/self/fd"))
    pids = []
    for _ in range(5):
        let_go, handed = worktree.Probe(str(repo)), worktree.Probe(str(repo))
        for probe in (let_go, handed):
            assert probe.running is not None
            pids.extend(git.pid for git in probe.running)
        let_go.close()
        assert validation.remembered(repo, [repo / "lms" / "academy-completions.csv"],
                                     handed) is None  # not a record: git is not read
    assert len(os.listdir("/proc/self/fd")) == opened
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reaped already


def test_a_parent_that_ignores_sigchld(repo: Path) -> None:
    """Some service managers start programs so: the system reaps git, and its exit
    status is not known; validate still answers."""
    script = ("import signal, sys; from pathlib import Path; "
              "signal.signal(signal.SIGCHLD, signal.SIG_IGN); "
              "from promoctl.records import validation; from promoctl.store import worktree; "
              "root = Path(sys.argv[1]); "
              "print(worktree.state(root, 0), validation.validate(root))")
    done = subprocess.run([sys.executable, "-c", script, str(repo)], capture_output=True,
                          text=True, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, "None []\n", "")


def _children() -> list[str]:
    """This process's child processes (Linux)."""
    tasks = Path("/proc/self/task")
    return [pid for task in tasks.iterdir()
            for pid in (task / "children").read_text().split()]


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="Linux's /proc")
def test_a_quick_answer_leaves_no_git_running_and_the_collector_as_it_was(
        repo: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``validate FILE`` answered from the memo: the git commands started for the
    reference index (not needed) are ended, and the collector is left as it was."""
    assert validation.validate(repo, [repo / PERSON]) == []
    monkeypatch.chdir(repo)
    remembered = validation.remembered
    answers: list[object] = []
    monkeypatch.setattr(validation, "remembered",
                        lambda *args: answers.append(remembered(*args)) or answers[-1])
    assert _children() == []
    for enabled in (False, True):
        (gc.enable if enabled else gc.disable)()
        try:
            assert launch.main(["validate", PERSON]) == 0
            assert gc.isenabled() is enabled
        finally:
            gc.enable()
        assert _children() == []
    assert answers == [[], []]
    assert capsys.readouterr().err.count("all valid") == 2
