"""Reports remembered by the content of every record and the options asked for: a
report is a function of those alone, so its key hashes every record file's content key
with the options. Fresh figures go through the kept JSON form too
(``report.to_cache``), so a remembered report prints the same bytes as a fresh one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

from promoctl.records import repository
from promoctl.records.loader import Repository
from promoctl.reports import report as report_
from promoctl.store.results import ReportCache


def report_key(repo: Repository, options: report_.Options) -> str | None:
    """Every loaded file's content hash and the options; None when some record was
    loaded without a content hash (no validation cache), so nothing is cached."""
    tables = [repo.frameworks, repo.ladders, repo.people, repo.packets, repo.decisions,
              repo.reviews, *repo.others.values()]
    if any(src.display not in repo.keys for table in tables for src in table.values()):
        return None
    return _report_key(repo.keys, options)


def _report_key(keys: Mapping[str, str], options: report_.Options) -> str:
    shown_options = json.dumps([options.start.isoformat(), options.end.isoformat(),
                                list(options.by), options.min_group, options.interval,
                                options.unaligned, str(options.recorded_on)])
    digest = hashlib.sha256(shown_options.encode())
    for display in sorted(keys):
        digest.update(f"\n{display}\0{keys[display]}".encode(errors="surrogateescape"))
    return digest.hexdigest()


def unchanged_report(root: Path, options: report_.Options) -> report_.Report | None:
    """The cached report, when no record changed since a whole run (validate, or a
    command that loads and checks everything) found the repository valid: then every
    file's content hash is known from its stat, and nothing need be loaded."""
    keys = repository.unchanged_keys(root)
    if keys is None:
        return None  # changed, never checked, or invalid (which loading reports)
    store = ReportCache.of(root)
    try:
        return _kept(store, _report_key(keys, options))
    finally:
        store.save()  # ends its reads: a connection is never left open


def _kept(store: ReportCache, key: str) -> report_.Report | None:
    data = store.get(key)
    if data is None:
        return None
    try:
        return report_.from_cache(data)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None  # malformed: computed again and replaced


def build_report(repo: Repository, options: report_.Options) -> report_.Report:
    """``report.build``, from the report cache when nothing it reads has changed. A fresh
    report goes through the cached form too, so both print the same bytes."""
    store = ReportCache.of(repo.root)
    try:
        key = report_key(repo, options)
        if key is not None:
            cached = _kept(store, key)
            if cached is not None:
                return cached
        data = report_.to_cache(report_.build(repo, options))
        if key is not None:
            store.put(key, data)
    finally:
        store.save()  # writes nothing more; ends its reads
    return report_.from_cache(data)
