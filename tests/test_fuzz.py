"""Property-based fuzzing (Hypothesis) of what a user can hand promoctl: record bytes, file
names and option values. Whatever they are, promoctl answers with a documented exit code,
no traceback, valid UTF-8 (valid JSON when JSON was asked for), in bounded time.

``make test`` runs a modest number of examples; ``make fuzz`` runs many more
(``PROMOCTL_FUZZ_EXAMPLES``)."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promoctl.cli import main
from tests.conftest import EXAMPLES

EXAMPLES_PER_TEST = int(os.environ.get("PROMOCTL_FUZZ_EXAMPLES", "10"))
DOCUMENTED = {0, 1, 2, 3, 4}  # README "Exit codes"; 70 is a bug, 130 an interruption
SECONDS = 60  # per command: generous for a loaded machine, far from a hang

FUZZ = settings(max_examples=EXAMPLES_PER_TEST, deadline=None, derandomize=False,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])

PERSON = (EXAMPLES / "people" / "amara-okafor.yaml").read_bytes()
PACKET = (EXAMPLES / "packets" / "community" / "amara-okafor-2026-10.yaml").read_bytes()


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    target = tmp_path_factory.mktemp("fuzz") / "examples"
    shutil.copytree(EXAMPLES, target)
    yield target


def run(capsys: pytest.CaptureFixture[str], repo: Path, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    started = time.monotonic()
    code = main([*args, "--repo", str(repo)])
    elapsed = time.monotonic() - started
    out, err = capsys.readouterr()
    assert code in DOCUMENTED, (code, err[-2000:])
    assert "Traceback" not in err, err[-2000:]
    out.encode("utf-8")  # raises on what is not UTF-8 (a surrogate from a file name)
    err.encode("utf-8")
    assert elapsed < SECONDS, f"{args} took {elapsed:.1f} s"
    return code, out, err


def check_all(capsys: pytest.CaptureFixture[str], repo: Path) -> None:
    code, out, _ = run(capsys, repo, "validate", "--format", "json")
    json.loads(out)
    assert code in (0, 3)
    _, out, _ = run(capsys, repo, "evaluate", "--all", "--format", "json")
    if out:
        json.loads(out)


def _mutated(base: bytes) -> st.SearchStrategy[bytes]:
    """``base`` with a few bytes replaced, inserted or removed: near-valid records reach
    deeper than random bytes."""
    edit = st.tuples(st.integers(0, len(base)), st.integers(0, 8), st.binary(max_size=12))

    def apply(edits: list[tuple[int, int, bytes]]) -> bytes:
        data = base
        for at, drop, insert in edits:
            data = data[:at] + insert + data[at + drop:]
        return data

    return st.lists(edit, min_size=1, max_size=6).map(apply)


YAMLISH = st.text(alphabet=st.sampled_from(list(" \t\n:-[]{}#&*!|>'\"%@`,?~0123456789"
                                                "abcdeknoprstuvxyz.\\\x00\x1b\u202e\ufeff")),
                  max_size=300).map(lambda s: s.encode("utf-8", "surrogatepass"))
RECORDS = st.one_of(st.binary(max_size=400), YAMLISH, _mutated(PERSON), _mutated(PACKET))


@FUZZ
@given(raw=RECORDS, where=st.sampled_from(["people/fuzz.yaml", "packets/fuzz.yaml",
                                           "ladders/fuzz.yaml", "promoctl.yaml"]))
def test_any_record_bytes(capsys: pytest.CaptureFixture[str], repo: Path, raw: bytes,
                          where: str) -> None:
    target = repo / where
    original = target.read_bytes() if target.exists() else None
    target.write_bytes(raw)
    try:
        check_all(capsys, repo)
        if where.startswith("packets/"):
            _, out, _ = run(capsys, repo, "evaluate", str(target), "--format", "json")
            if out:
                json.loads(out)
    finally:
        if original is None:
            target.unlink()
        else:
            target.write_bytes(original)


NAMES = st.binary(min_size=1, max_size=40).map(
    lambda b: b.replace(b"/", b"_").replace(b"\0", b"_")).filter(
    lambda b: b not in (b".", b".."))


@FUZZ
@given(name=NAMES, raw=st.sampled_from([PERSON, b"kind: person\n", b"\xff"]))
def test_any_file_name(capsys: pytest.CaptureFixture[str], repo: Path, name: bytes,
                       raw: bytes) -> None:
    folder = repo / "people"
    path = os.path.join(os.fsencode(folder), name + b".yaml")
    try:
        with open(path, "wb") as handle:
            handle.write(raw)
    except OSError:
        return  # a name this file system refuses
    try:
        check_all(capsys, repo)
        run(capsys, repo, "evaluate", os.fsdecode(path))  # a person, or broken: exit 3 or 4
    finally:
        os.unlink(path)


OPTION_VALUES = st.one_of(st.text(max_size=30), st.sampled_from(
    ["2026-02-30", "0000-01-01", "9999-12-31", "-1", "0", "99999999999999999999", "", "json",
     "csv", "html", "markdown", "table", "\x1b[2J", "../../etc/passwd", "--all"]))


@FUZZ
@given(command=st.sampled_from([
    ["evaluate", "--all", "--as-of"], ["evaluate", "--all", "--format"],
    ["validate", "--jobs"], ["validate", "--format"], ["due", "--within"],
    ["due", "--as-of"], ["due", "--format"], ["report", "--from"], ["report", "--format"],
    ["report", "--min-group"], ["report", "--by"], ["panel", "--as-of"],
    ["history"], ["status"], ["render", "letter"], ["evaluate"]]),
    value=OPTION_VALUES)
def test_any_option_value(capsys: pytest.CaptureFixture[str], repo: Path, command: list[str],
                          value: str) -> None:
    if "\0" in value:
        value = value.replace("\0", "")
    code, out, _ = run(capsys, repo, *command, value)
    if code in (0, 1) and value == "json" and out:
        json.loads(out)
