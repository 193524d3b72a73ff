"""The domain's doors to the store leave no connection open: a connection carried on
holds SQLite's read snapshot (and its locks across a fork) for the rest of the run."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from promoctl.records import repository, validation
from promoctl.reports import remembered, report
from promoctl.store import cache, cachedb


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[cachedb.Store]:
    """Every store opened from now on."""
    stores: list[cachedb.Store] = []
    real = cachedb.Store.__init__

    def init(self: cachedb.Store, *args: Any, **kwargs: Any) -> None:
        real(self, *args, **kwargs)
        stores.append(self)

    monkeypatch.setattr(cachedb.Store, "__init__", init)
    return stores


def left_open(stores: list[cachedb.Store]) -> list[cachedb.Store]:
    return [s for s in stores if s.con is not None and not s.private]


OPTIONS = report.Options(date(2020, 1, 1), date(2027, 12, 31), unaligned=True)


def test_answers_from_the_store_release_it(git_examples: Path, opened: list[cachedb.Store],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "RACY_NS", -10**18)
    assert validation.validate(git_examples) == []
    opened.clear()
    assert repository.unchanged_records(git_examples) is not None
    assert repository.unchanged_keys(git_examples) is not None
    assert remembered.unchanged_report(git_examples, OPTIONS) is None  # none kept yet
    repo = repository.load_valid(git_examples)
    first = remembered.build_report(repo, OPTIONS)  # computed and kept
    assert remembered.build_report(repo, OPTIONS) == first  # from the store
    assert remembered.unchanged_report(git_examples, OPTIONS) == first
    assert len(opened) >= 6
    assert left_open(opened) == []
