"""``promoctl init``: a new promotion repository that validates from the first commit."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from promoctl.base.errors import UserError
from promoctl.base.fsutil import write_atomic
from promoctl.records.schema import schemas

# Package data cannot hold a file named .gitignore reliably; it is renamed on the way out.
_RENAMES = {"gitignore": ".gitignore", "gitattributes": ".gitattributes",
            "github": ".github", "gitlab-ci.yml": ".gitlab-ci.yml",
            "pre-commit-config.yaml": ".pre-commit-config.yaml"}


@dataclass
class Created:
    files: list[Path] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


def _starter_files(node: Traversable, prefix: str = "") -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.name.startswith(("__", ".")):
            continue
        rel = f"{prefix}{_RENAMES.get(child.name, child.name)}"
        if child.is_dir():
            out.update(_starter_files(child, rel + "/"))
        else:
            out[rel] = child.read_bytes()
    return out


def files_for(name: str) -> dict[str, bytes]:
    """Relative path -> content of every file ``init`` writes."""
    files = _starter_files(resources.files("promoctl.records") / "starter")
    files["promoctl.yaml"] = files["promoctl.yaml"].replace(
        b'"{name}"', json.dumps(name, ensure_ascii=False).encode())
    for schema_name, text in schemas().items():
        files[f"schemas/{schema_name}"] = text.encode()
    return files


def create(folder: Path, name: str) -> Created:
    if folder.exists() and any(p.name != ".git" for p in folder.iterdir()):
        raise UserError(f"{folder}: folder is not empty; init creates a new repository "
                        "and never writes over existing files")
    created = Created()
    for rel, data in sorted(files_for(name).items()):
        target = folder / rel
        write_atomic(target, data)
        created.files.append(target)
    created.messages.extend(_git_init(folder, created.files))
    return created


def _git_init(folder: Path, files: list[Path]) -> list[str]:
    import git  # only here: GitPython costs ~55 ms to import

    repo = git.Repo.init(folder)
    try:
        repo.index.add([str(f.relative_to(folder)) for f in files])
        if not _has_identity(repo):
            return ["git: files staged but not committed (set user.name and user.email, "
                    "then commit)"]
        repo.index.commit("Start promotion repository (promoctl init)")
        return ["git: initial commit created"]
    finally:
        repo.close()


def _has_identity(repo: object) -> bool:
    import git

    assert isinstance(repo, git.Repo)
    if os.environ.get("GIT_AUTHOR_NAME") and os.environ.get("GIT_AUTHOR_EMAIL"):
        return True
    reader = repo.config_reader()
    try:
        return bool(reader.get_value("user", "name", "")) and bool(
            reader.get_value("user", "email", ""))
    except Exception:  # a missing section raises configparser errors
        return False
