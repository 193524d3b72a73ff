"""What every measurement shares: the versions measured (each on its own repository copy),
the record files, the run's options, and the raw figures gathered for the summary."""

from __future__ import annotations

import collections
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .versions import Version, Versions


def record_files(root: Path) -> list[str]:
    """The record files under ``root``, relative and sorted, as promoctl finds them: YAML
    files outside hidden folders."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel = os.path.relpath(dirpath, root)
        found.extend(name if rel == "." else f"{rel}/{name}" for name in filenames
                     if name.endswith((".yaml", ".yml")) and not name.startswith("."))
    return sorted(found)


@dataclass
class Context:
    versions: Versions
    source: Path  # the generated repository: only ever read (copied, cloned)
    seed: int
    repeats: int  # runs for the start-up medians
    log: Callable[[str], None]
    files: list[str] = field(default_factory=list)  # record files, relative
    by_folder: dict[str, list[str]] = field(default_factory=dict)
    install: bool = True  # pip-install check-jsonschema when it is missing
    jsonschema: bool = True  # compare with check-jsonschema (else a row says it was not)
    big_root: Path | None = None
    few_root: Path | None = None  # the repository with 1% of the decisions (scaling)
    figures: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.files:
            self.files = record_files(self.versions.current.root)
        grouped: dict[str, list[str]] = collections.defaultdict(list)
        for rel in self.files:
            grouped[rel.split("/", 1)[0] if "/" in rel else ""].append(rel)
        self.by_folder = grouped

    def step(self, text: str) -> None:
        self.log(f"measuring: {text} ...")

    def paths(self, version: Version, folder: str | None = None) -> list[Path]:
        """The record files (of one folder) in the version's repository copy."""
        chosen = self.files if folder is None else self.by_folder.get(folder, [])
        return [version.root / rel for rel in chosen]

    @property
    def packets(self) -> list[str]:
        return self.by_folder.get("packets", [])
