"""The benchmark's generator makes a repository that validates and gives varied verdicts."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from promoctl import workspace
from promoctl.evaluate import NOT_READY, READY

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("promoctl_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def test_generated_repository_validates_and_verdicts_vary(bench: ModuleType,
                                                          tmp_path: Path) -> None:
    root = tmp_path / "repo"
    assert bench.ensure_repo(root, people=30, packets=20) is False  # generated
    assert len(list((root / "packets").rglob("*.yaml"))) == 20
    assert len(list((root / "people").rglob("*.yaml"))) == 30

    problems = workspace.validate(root)
    assert problems == [], "\n".join(str(p) for p in problems[:10])

    outcomes, problems = workspace.evaluate_packets(root, [root / "packets"], None)
    assert problems == []
    assert len(outcomes) == 20
    verdicts = {o.evaluation.verdict for o in outcomes if o.evaluation is not None}
    assert all(o.evaluation is not None for o in outcomes)
    assert verdicts == {READY, NOT_READY}
    ladders = {o.evaluation.ladder.id for o in outcomes if o.evaluation is not None}
    assert ladders == {"support-work", "consulting"}


def test_generation_is_deterministic_and_reused(bench: ModuleType, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    bench.generate(a, people=12, packets=5)
    bench.generate(b, people=12, packets=5)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)

    assert bench.ensure_repo(a, people=12, packets=5) is True  # same size: reused
    assert bench.ensure_repo(a, people=12, packets=6) is False  # other size: regenerated
    assert len(list((a / "packets").rglob("*.yaml"))) == 6


def test_refuses_to_replace_a_folder_it_did_not_make(bench: ModuleType,
                                                      tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("kind: person\n")
    with pytest.raises(SystemExit):
        bench.ensure_repo(tmp_path, people=12, packets=5)
    assert (tmp_path / "mine.yaml").is_file()
