"""The import and export operations the CLI calls, one function per command."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from promoctl.interop import case, evidence, lms, moodle, xapi
from promoctl.interop.common import read_input, repository_root
from promoctl.interop.framework_file import Written, load_framework, write_framework
from promoctl.records.parsing import parse_record
from promoctl.records.settings import LmsMapping, RepositoryConfig


def import_moodle(file: Path, *, out: Path | None, repo: Path | None, force: bool,
                  version: str) -> Written:
    data, warnings = moodle.read_framework(read_input(file), file.as_posix(), version)
    return write_framework(data, out=out, repo=repo, force=force, warnings=warnings)


def import_case(file: Path, *, out: Path | None, repo: Path | None, force: bool,
                version: str, framework_id: str | None) -> Written:
    data, warnings = case.read_package(read_input(file), file.as_posix(),
                                       framework_id=framework_id, version=version)
    return write_framework(data, out=out, repo=repo, force=force, warnings=warnings)


def export_moodle(ref: str, repo: Path | None) -> tuple[str, list[str]]:
    framework, display = load_framework(ref, repo)
    return moodle.write_csv(framework, display)


def export_case(ref: str, repo: Path | None, *, creator: str | None, when: str | None,
                base_uri: str | None) -> tuple[str, list[str]]:
    framework, _display = load_framework(ref, repo)
    stamp = when or datetime.now(UTC).replace(microsecond=0).isoformat()
    package, warnings = case.write_package(framework, creator=creator, when=stamp,
                                           base_uri=base_uri, default_creator=_creator(repo))
    return json.dumps(package, indent=2, ensure_ascii=False) + "\n", warnings


def _creator(repo: Path | None) -> str:
    root = repo.resolve() if repo is not None else repository_root(Path.cwd())
    marker = root / "promoctl.yaml" if root is not None else None
    if marker is not None and marker.is_file():
        source, _ = parse_record(marker.read_bytes(), "promoctl.yaml")
        if source is not None and isinstance(source.record, RepositoryConfig):
            return source.record.name
    return "promoctl"


def import_lms_csv(root: Path, file: Path, mapping: str | None,
                   options: evidence.Options) -> evidence.Report:
    raw = read_input(file)

    def read(m: LmsMapping) -> evidence.Batch:
        return lms.read_csv(raw, file.as_posix(), m)

    return evidence.place(root, read, mapping, xapi.source_name(file, raw), options)


def import_xapi(root: Path, files: list[Path], mapping: str | None,
                options: evidence.Options) -> evidence.Report:
    pages = xapi.read_pages(files)  # malformed files fail before locking
    return evidence.place(root, lambda m: xapi.completions(pages, m), mapping,
                          pages[0].source, options)
