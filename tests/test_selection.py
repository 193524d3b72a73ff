"""Which packets a command's paths select: the same whether the paths are plainly inside
the repository (answered from the file list) or reached another way (walked)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from promoctl.base.errors import UserError
from promoctl.records import repository

COMMUNITY = ["packets/community/amara-okafor-2026-10.yaml",
             "packets/community/ben-hughes-2026-10.yaml",
             "packets/community/chloe-martin-2026-10.yaml",
             "packets/community/dev-patel-2026-10.yaml"]


def selected(root: Path, *paths: Path) -> list[str]:
    return repository.load_packets(root, list(paths))[1]


def test_plain_and_walked_paths_select_the_same(examples: Path) -> None:
    community = examples / "packets" / "community"
    assert selected(examples, community) == COMMUNITY
    assert repository.plain_selection(examples, [community], COMMUNITY) is not None
    # Through a symbolic link inside the repository: not plain, walked, same packets.
    os.symlink(community, examples / "linked")
    linked = examples / "linked"
    assert repository.plain_selection(examples, [linked], COMMUNITY) is None
    assert selected(examples, linked) == COMMUNITY
    assert selected(examples, community / "dev-patel-2026-10.yaml", examples / "packets"
                    / "community" / ".." / "community") == COMMUNITY
    every = selected(examples, examples)
    assert set(COMMUNITY) < set(every) and all(d.startswith("packets/") for d in every)


def test_a_path_outside_the_repository_is_refused(examples: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "p.yaml").write_text("kind: packet\n")
    with pytest.raises(UserError, match="outside the repository"):
        selected(examples, outside)
