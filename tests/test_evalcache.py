"""The evaluation and report caches: hits, misses, staleness, corruption, same bytes."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from promoctl.engine import evaluation_view, evaluations
from promoctl.engine.evaluate import Evaluation
from promoctl.records import repository, yamlio
from promoctl.reports import report
from promoctl.store import cache, cachedb, results
from promoctl.store.cache import location as cache_location
from tests.conftest import Cli

AMARA = "packets/community/amara-okafor-2026-10.yaml"


def sql(root: Path, query: str, *args: Any) -> list[Any]:
    """Rows of the store of ``root`` (a change is committed)."""
    with contextlib.closing(sqlite3.connect(cache_location(root))) as con:
        found = con.execute(query, args).fetchall()
        con.commit()
    return found


def forget(root: Path) -> None:
    """Every cache promoctl keeps for ``root``: the next run is cold."""
    for path in cachedb.paths(cache_location(root)):
        path.unlink(missing_ok=True)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


class Spy:
    """Counts YAML parses by file, and fails the run if an evaluation is computed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, forbid_evaluate: bool) -> None:
        self.parsed: list[str] = []
        real_parse = yamlio.parse

        def parse(raw: bytes, display: str, *args: Any, **kwargs: Any) -> Any:
            self.parsed.append(display)
            return real_parse(raw, display, *args, **kwargs)

        monkeypatch.setattr(yamlio, "parse", parse)
        if forbid_evaluate:
            def refuse(*_args: Any, **_kwargs: Any) -> Evaluation:
                raise AssertionError("a cached evaluation was computed again")

            monkeypatch.setattr(evaluations, "evaluate", refuse)

    @property
    def packets(self) -> list[str]:
        return [d for d in self.parsed if d.startswith("packets/")]


# ----------------------------------------------------------------------------- evaluate


def test_warm_run_parses_no_packet_and_computes_nothing(
        cli: Cli, git_examples: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    forget(git_examples)
    cold = cli("evaluate", "packets", "--format", "json", cwd=git_examples)
    assert cold.code == 1  # some example packets are NOT READY by design
    assert sql(git_examples, "SELECT count(*) FROM evaluations") == [(8,)]
    spy = Spy(monkeypatch, forbid_evaluate=True)
    warm = cli("evaluate", "packets", "--format", "json", cwd=git_examples)
    assert spy.packets == []
    assert (warm.code, warm.out, warm.err) == (cold.code, cold.out, cold.err)


def test_hit_and_miss_counts(git_examples: Path) -> None:
    forget(git_examples)
    root = git_examples
    packets = [root / "packets"]
    first, _ = evaluations.evaluate_packets(root, packets, None)
    assert len(first) == 8
    store = results.EvaluationCache.of(root)
    assert sql(root, "SELECT count(*) FROM evaluations") == [(8,)]
    repo, selected, problems = repository.load_packets(root, packets)
    # Without the validation cache there are no content hashes: nothing is looked up.
    again = evaluations.remembered_loaded(repo, selected, problems, None, store)
    assert (store.hits, store.misses) == (0, 0)
    from promoctl.store.cache import Cache

    repo, selected, problems = repository.load_packets(root, packets,
                                                      cache=Cache(cache_location(root)))
    again = evaluations.remembered_loaded(repo, selected, problems, None, store)
    assert (store.hits, store.misses) == (8, 0)
    assert [o.shown.text for o in again if o.shown] == [o.shown.text for o in first if o.shown]


@pytest.mark.parametrize("fmt", ["json", "table", "markdown"])
@pytest.mark.parametrize("target", ["packets", AMARA])
def test_cold_and_warm_print_the_same_bytes(cli: Cli, git_examples: Path, fmt: str,
                                            target: str) -> None:
    forget(git_examples)
    cold = cli("evaluate", target, "--format", fmt, cwd=git_examples)
    warm = cli("evaluate", target, "--format", fmt, cwd=git_examples)
    assert cold.out
    assert (warm.code, warm.out, warm.err) == (cold.code, cold.out, cold.err)


def test_json_document_is_the_plain_dump(cli: Cli, git_examples: Path) -> None:
    """The nested texts give exactly what encoding the whole document would."""
    forget(git_examples)
    (git_examples / "packets" / "broken.yaml").write_text("kind: packet\nformat: 1\n")
    for _ in range(2):
        result = cli("evaluate", "packets", "--format", "json", "--as-of", "2026-11-01",
                     cwd=git_examples)
        data = json.loads(result.out)
        assert data["not_evaluated"] and data["evaluations"]
        assert result.out == evaluation_view.dump(data) + "\n"
    assert evaluation_view.json_document(None, [], [], []) + "\n" == \
        evaluation_view.dump({"format": 1, "as_of": None, "evaluations": [],
                              "not_evaluated": [], "problems": []}) + "\n"


EDITS = {
    "packet": (AMARA, "result: {score: 3}", "result: {score: 2}"),
    "person": ("people/amara-okafor.yaml", "name: Amara Okafor", "name: Amara N. Okafor"),
    "ladder": ("ladders/support-work.yaml", "composite_threshold: 2.5",
               "composite_threshold: 2.6"),
    "framework": ("frameworks/community-services.yaml",
                  "name: Recognises and escalates risk triggers",
                  "name: Recognises and escalates risks"),
}


@pytest.mark.parametrize("changed", sorted(EDITS))
def test_a_changed_input_is_evaluated_again(cli: Cli, git_examples: Path,
                                            changed: str) -> None:
    forget(git_examples)
    before = cli("evaluate", AMARA, "--format", "json", cwd=git_examples)
    cli("evaluate", AMARA, "--format", "json", cwd=git_examples)  # warm
    path, old, new = EDITS[changed]
    edit(git_examples / path, old, new)
    after = cli("evaluate", AMARA, "--format", "json", cwd=git_examples)
    forget(git_examples)
    fresh = cli("evaluate", AMARA, "--format", "json", cwd=git_examples)
    assert after.out == fresh.out
    assert after.out != before.out


def test_as_of_is_part_of_the_key(cli: Cli, git_examples: Path) -> None:
    forget(git_examples)
    outputs = {}
    for as_of in ("2026-10-15", "2027-06-01", "2026-10-15", "2027-06-01"):
        result = cli("evaluate", AMARA, "--format", "json", "--as-of", as_of,
                     cwd=git_examples)
        outputs.setdefault(as_of, set()).add(result.out)
    assert all(len(seen) == 1 for seen in outputs.values())
    assert outputs["2026-10-15"] != outputs["2027-06-01"]
    assert sql(git_examples, "SELECT as_of FROM evaluations ORDER BY as_of") == [
        ("2026-10-15",), ("2027-06-01",)]


def test_new_code_is_a_miss(cli: Cli, git_examples: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    forget(git_examples)
    cold = cli("evaluate", "packets", "--format", "json", cwd=git_examples)
    monkeypatch.setattr(cache, "code_fingerprint", lambda: "another-version")
    results.EvaluationCache.of(git_examples).save()
    assert sql(git_examples, "SELECT count(*) FROM evaluations") == [(0,)]
    spy = Spy(monkeypatch, forbid_evaluate=False)
    again = cli("evaluate", "packets", "--format", "json", cwd=git_examples)
    assert again.out == cold.out
    assert sql(git_examples, "SELECT code FROM stamp") == [("another-version",)]
    assert spy.packets  # evaluated afresh


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "bad rows"])
def test_corrupt_cache_is_ignored_and_rebuilt(cli: Cli, git_examples: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              damage: str) -> None:
    forget(git_examples)
    cold = cli("evaluate", "packets", "--format", "json", cwd=git_examples)
    path = cache_location(git_examples)
    raw = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(b"\x00not a database at all\n{{{")
    elif damage == "truncated":
        path.write_bytes(raw[: len(raw) - 100])
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        sql(git_examples, "UPDATE evaluations SET path = 1, ready = 7, text = x'00'")
    damaged = cli("evaluate", "packets", "--format", "json", cwd=git_examples)
    assert damaged.out == cold.out
    spy = Spy(monkeypatch, forbid_evaluate=True)
    rebuilt = cli("evaluate", "packets", "--format", "json", cwd=git_examples)
    assert rebuilt.out == cold.out
    assert spy.packets == []


def test_superseded_results_are_dropped(cli: Cli, git_examples: Path) -> None:
    forget(git_examples)
    cli("evaluate", "packets", "--format", "json", cwd=git_examples)
    edit(git_examples / AMARA, "result: {score: 3}", "result: {score: 2}")
    cli("evaluate", "packets", "--format", "json", cwd=git_examples)
    # the old result for the edited packet is gone
    assert sql(git_examples, "SELECT count(*) FROM evaluations") == [(8,)]


# ------------------------------------------------------------------------------- report

# Eight years, and not yet ended: a period the report refuses unless told.
PERIOD = ("--from", "2020-01-01", "--to", "2027-12-31", "--allow-unaligned")


@pytest.mark.parametrize("fmt", ["json", "table", "csv", "html"])
def test_report_cold_and_warm_print_the_same_bytes(cli: Cli, git_examples: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   fmt: str) -> None:
    forget(git_examples)
    # Computed without any cache, as before the report cache existed.
    plain = report.as_json(report.build(
        resultcache_free_load(git_examples), report.Options(
            date(2020, 1, 1), date(2027, 12, 31), unaligned=True)))
    cold = cli("report", "--format", fmt, *PERIOD, cwd=git_examples)
    assert cold.code == 0, cold.err
    assert sql(git_examples, "SELECT count(*) FROM reports") == [(1,)]

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("a cached report was computed again")

    monkeypatch.setattr(report, "build", refuse)
    warm = cli("report", "--format", fmt, *PERIOD, cwd=git_examples)
    assert (warm.code, warm.out, warm.err) == (cold.code, cold.out, cold.err)
    if fmt == "json":
        assert json.loads(cold.out) == json.loads(json.dumps(plain))


def resultcache_free_load(root: Path) -> Any:
    from promoctl.records.loader import discover
    from promoctl.records.reading import load

    return load(root, discover([root]))


def test_report_recomputed_when_a_record_or_option_changes(cli: Cli, git_examples: Path
                                                           ) -> None:
    forget(git_examples)
    before = cli("report", "--format", "json", *PERIOD, cwd=git_examples)
    edit(git_examples / "people/amara-okafor.yaml", "program: Community Services",
         "program: Community Care")
    after = cli("report", "--format", "json", *PERIOD, cwd=git_examples)
    forget(git_examples)
    fresh = cli("report", "--format", "json", *PERIOD, cwd=git_examples)
    assert after.out == fresh.out
    other = cli("report", "--format", "json", "--min-group", "3", *PERIOD, cwd=git_examples)
    assert json.loads(other.out)["min_group"] == 3
    assert before.out != other.out


def test_report_round_trips_through_its_cached_form(git_examples: Path) -> None:
    repo = resultcache_free_load(git_examples)
    built = report.build(repo, report.Options(date(2020, 1, 1), date(2027, 12, 31),
                                              min_group=3, unaligned=True,
                                              recorded_on=date(2027, 1, 2)))
    again = report.from_cache(json.loads(json.dumps(report.to_cache(built))))
    assert again == built
    assert report.to_csv(again) == report.to_csv(built)


def test_corrupt_report_cache_is_ignored(cli: Cli, git_examples: Path) -> None:
    forget(git_examples)
    cold = cli("report", "--format", "json", *PERIOD, cwd=git_examples)
    sql(git_examples, "UPDATE reports SET body = ?", '{"figures": "not a list"}')
    assert cli("report", "--format", "json", *PERIOD, cwd=git_examples).out == cold.out
    path = cache_location(git_examples)
    path.write_bytes(path.read_bytes()[:50])
    assert cli("report", "--format", "json", *PERIOD, cwd=git_examples).out == cold.out
    assert sql(git_examples, "SELECT count(*) FROM reports") == [(1,)]


def test_all_is_every_packet_in_the_repository(cli: Cli, git_examples: Path) -> None:
    by_folder = cli("evaluate", "packets", "--format", "json", cwd=git_examples)
    every = cli("evaluate", "--all", "--format", "json", cwd=git_examples / "people")
    assert (every.code, every.out) == (by_folder.code, by_folder.out)
    assert cli("evaluate", cwd=git_examples).code == 2
    assert cli("evaluate", "packets", "--all", cwd=git_examples).code == 2


def test_report_after_a_clean_whole_run_loads_nothing(cli: Cli, git_examples: Path,
                                                      monkeypatch: pytest.MonkeyPatch
                                                      ) -> None:
    monkeypatch.setattr(cache, "RACY_NS", -10**18)  # trust files written a moment ago
    forget(git_examples)
    cold = cli("report", "--format", "json", *PERIOD, cwd=git_examples)
    assert cold.code == 0, cold.err

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("loaded the repository")

    with monkeypatch.context() as patched:
        patched.setattr(repository, "load_valid", refuse)
        warm = cli("report", "--format", "json", *PERIOD, cwd=git_examples)
    assert (warm.code, warm.out) == (cold.code, cold.out)
    # A changed record is loaded, checked and reported afresh.
    edit(git_examples / "people/amara-okafor.yaml", "program: Community Services",
         "program: Community Care")
    loads: list[Path] = []
    real = repository.load_valid
    with monkeypatch.context() as patched:
        patched.setattr(repository, "load_valid",
                        lambda root, **kw: loads.append(root) or real(root, **kw))
        after = cli("report", "--format", "json", *PERIOD, cwd=git_examples)
    assert after.code == 0 and loads == [git_examples]
    forget(git_examples)
    assert cli("report", "--format", "json", *PERIOD, cwd=git_examples).out == after.out
    # An invalid repository is refused, never answered from the cache.
    edit(git_examples / "people/amara-okafor.yaml", "program: Community Care", "program: 7")
    assert cli("report", "--format", "json", *PERIOD, cwd=git_examples).code == 3



# ------------------------------------------- evaluate answered from the content keys


def refusing_loads(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("loaded the repository")

    monkeypatch.setattr(repository, "load_packets", refuse)
    return monkeypatch


def counting_loads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    loads: list[Path] = []
    real = repository.load_packets
    monkeypatch.setattr(repository, "load_packets",
                        lambda root, *a, **kw: loads.append(root) or real(root, *a, **kw))
    return loads


EVALUATIONS = [("packets", "--format", "json"), ("packets",), ("--all", "--format", "markdown"),
               ("packets/community",), (AMARA,), (AMARA, "--as-of", "2026-12-01")]


def fresh(cli: Cli, root: Path, *args: str) -> tuple[int, str, str]:
    forget(root)
    result = cli("evaluate", *args, cwd=root)
    return result.code, result.out, result.err


def test_evaluate_after_a_whole_run_loads_nothing(cli: Cli, git_examples: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "RACY_NS", -10**18)  # trust files written a moment ago
    colds = {args: fresh(cli, git_examples, *args) for args in EVALUATIONS}
    forget(git_examples)
    assert cli("validate", cwd=git_examples).code == 0
    for args in EVALUATIONS:  # computed once, through the loading path
        cli("evaluate", *args, cwd=git_examples)
    with monkeypatch.context() as patched:
        refusing_loads(patched)
        for args in EVALUATIONS:
            warm = cli("evaluate", *args, cwd=git_examples)
            assert (warm.code, warm.out, warm.err) == colds[args], args
    # A file named that is not a packet is refused as before, by the loading path.
    refused = cli("evaluate", "people/amara-okafor.yaml", cwd=git_examples)
    assert refused.code == 4 and "is a person record" in refused.err


@pytest.mark.parametrize("change", ["person", "ladder", "decision"])
def test_evaluate_after_a_change_is_the_fresh_answer(cli: Cli, git_examples: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     change: str) -> None:
    monkeypatch.setattr(cache, "RACY_NS", -10**18)
    forget(git_examples)
    args = ("packets", "--format", "json", "--as-of", "2026-12-01")
    assert cli("validate", cwd=git_examples).code == 0
    before = cli("evaluate", *args, cwd=git_examples)
    if change == "person":
        edit(git_examples / "people/amara-okafor.yaml", "program: Community Services",
             "program: Community Care")
    elif change == "ladder":
        ladder = next((git_examples / "ladders").glob("*.yaml"))
        edit(ladder, "title: ", "title: Renamed ")
    else:
        from tests.test_decide import decide
        assert decide(cli, git_examples, "amara-okafor-2026-10").code == 0  # type: ignore[attr-defined]
    loads = counting_loads(monkeypatch)
    after = cli("evaluate", *args, cwd=git_examples)
    assert loads, "a changed repository must be loaded"
    assert (after.code, after.out, after.err) == fresh(cli, git_examples, *args)
    # Validated again, the next run answers from the keys with the new content.
    assert cli("validate", cwd=git_examples).code == 0
    cli("evaluate", *args, cwd=git_examples)
    loads.clear()
    again = cli("evaluate", *args, cwd=git_examples)
    assert loads == [] and (again.code, again.out) == (after.code, after.out)
    if change == "decision":
        assert after.out != before.out  # the approval moved the candidate's level


def test_evaluate_of_a_repository_with_problems(cli: Cli, git_examples: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "RACY_NS", -10**18)
    edit(git_examples / AMARA, "result: {score: 3}", "result: {score: 2.5}")
    every = ("--all", "--format", "json")
    cold = fresh(cli, git_examples, *every)
    assert cold[0] == 3 and "2.5" in cold[1]
    assert cli("validate", cwd=git_examples).code == 3
    assert cli("evaluate", *every, cwd=git_examples).out == cold[1]
    with monkeypatch.context() as patched:
        refusing_loads(patched)
        warm = cli("evaluate", *every, cwd=git_examples)
    assert (warm.code, warm.out, warm.err) == cold
    # Some packets only: the problems are those of what it loads, so it loads.
    loads = counting_loads(monkeypatch)
    some = cli("evaluate", "packets/professional", cwd=git_examples)
    assert loads and (some.code, some.out, some.err) == fresh(
        cli, git_examples, "packets/professional")
    # A candidate with problems blocks its packets in a way the keys cannot tell.
    edit(git_examples / "people/ben-hughes.yaml", "program: Community Services", "program: 7")
    assert cli("validate", cwd=git_examples).code == 3
    cli("evaluate", *every, cwd=git_examples)
    loads.clear()
    after = cli("evaluate", *every, cwd=git_examples)
    assert loads and (after.code, after.out, after.err) == fresh(cli, git_examples, *every)


def test_evaluate_all_remembers_its_whole_run(cli: Cli, git_examples: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """``evaluate --all`` loads and checks everything, as validate does: the next run
    is answered from the keys without a validate between."""
    monkeypatch.setattr(cache, "RACY_NS", -10**18)
    forget(git_examples)
    cold = cli("evaluate", "--all", cwd=git_examples)
    with monkeypatch.context() as patched:
        refusing_loads(patched)
        warm = cli("evaluate", "--all", cwd=git_examples)
    assert (warm.code, warm.out, warm.err) == (cold.code, cold.out, cold.err)
    forget(git_examples)
    cli("evaluate", "packets/community", cwd=git_examples)  # some packets: not a whole run
    loads = counting_loads(monkeypatch)
    cli("evaluate", "packets/community", cwd=git_examples)
    assert loads
