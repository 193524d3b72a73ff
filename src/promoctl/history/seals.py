"""Seals: an audited state recorded as an annotated git tag, so a later rewrite shows.

``promoctl audit --seal`` tags the head commit (``promoctl-seal/...``) with a manifest:
the sha256 and git blob id of every decision record at that commit. Every later audit
checks that each seal's commit is still an ancestor of the head and that every sealed
record is still there, byte for byte (at its path, or moved). A seal proves nothing
about what happened before the first one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from promoctl.history import gitlog

PREFIX = "promoctl-seal/"
_HEAD = "Promoctl-Seal-Head: "
_DIGEST = "Promoctl-Seal-Digest: "


@dataclass(frozen=True)
class Seal:
    name: str
    head: str  # the commit the seal vouches for
    entries: tuple[tuple[str, str, str], ...]  # (sha256, blob id, path from the git top)
    digest: str  # as written in the tag
    signed: bool


@dataclass(frozen=True)
class Broken:
    seal: str
    message: str


def _records(top: Path, rev: str, folder: str) -> dict[str, str]:
    """path -> blob id of every decision record at ``rev``."""
    out = gitlog.run(top, "ls-tree", "-r", "-z", rev, "--", folder).stdout
    found = {}
    for entry in out.split("\0"):
        meta, _, path = entry.partition("\t")
        parts = meta.split()
        if len(parts) == 3 and parts[1] == "blob" and path.endswith((".yaml", ".yml")):
            found[path] = parts[2]
    return found


def _manifest(entries: list[tuple[str, str, str]]) -> str:
    return "".join(f"{sha} {blob} {path}\n" for sha, blob, path in entries)


def create(root: Path, folder: str) -> tuple[str, bool]:
    """Tag the head commit as audited; (tag name, whether it was created now). Signed
    with git's own signing when the user has a signing key configured."""
    top = gitlog.toplevel(root)
    head = gitlog.resolve(top, "HEAD")
    for seal in load(top):
        if seal.head == head:
            return seal.name, False
    records = _records(top, head, gitlog.prefix(root, top) + folder)
    entries = []
    with gitlog.BlobReader(top) as blobs:
        paths = sorted(records)
        for start in range(0, len(paths), 256):
            chunk = paths[start:start + 256]
            for path, raw in zip(chunk, blobs.read_many([(head, p) for p in chunk]).values(),
                                 strict=True):
                entries.append((hashlib.sha256(raw or b"").hexdigest(), records[path], path))
            blobs.forget()
    manifest = _manifest(entries)
    now = datetime.now(UTC)
    name = f"{PREFIX}{now:%Y-%m-%dT%H%M%S.%fZ}-{head[:12]}"  # sorts as made
    message = (f"promoctl seal: {len(entries)} decision record(s) audited at "
               f"{now:%Y-%m-%d %H:%M:%S} UTC\n\n{_HEAD}{head}\n"
               f"{_DIGEST}{hashlib.sha256(manifest.encode()).hexdigest()}\n\n{manifest}")
    key = gitlog.run(top, "config", "--get", "user.signingkey", ok=(0, 1)).stdout.strip()
    gitlog.run(top, "tag", "-s" if key else "-a", "--cleanup=verbatim", "-F", "-", name, head,
         input_text=message)
    return name, True


def load(top: Path) -> list[Seal]:
    """Every seal, oldest first."""
    fmt = "%(refname:strip=2)%00%(objecttype)%00%(contents)%1e"
    # The last --sort is the main key: by date, then by name within one second.
    out = gitlog.run(top, "for-each-ref", "--sort=refname", "--sort=taggerdate",
               f"--format={fmt}", f"refs/tags/{PREFIX}").stdout
    seals = []
    for chunk in out.split("\x1e"):
        chunk = chunk.lstrip("\n")
        if not chunk:
            continue
        name, kind, contents = [*chunk.split("\0", 2), "", ""][:3]
        if kind != "tag":
            seals.append(Seal(name, "", (), "", False))  # a lightweight tag: not a seal
            continue
        head, digest, entries = "", "", []
        for line in contents.splitlines():
            if line.startswith(_HEAD):
                head = line[len(_HEAD):].strip()
            elif line.startswith(_DIGEST):
                digest = line[len(_DIGEST):].strip()
            else:
                parts = line.split(" ", 2)
                if len(parts) == 3 and len(parts[0]) == 64:
                    entries.append((parts[0], parts[1], parts[2]))
        signed = "-----BEGIN" in contents
        seals.append(Seal(name, head, tuple(entries), digest, signed))
    return seals


def verify(root: Path, folder: str, seals: list[Seal] | None = None) -> list[Broken]:
    """Every seal this history breaks, oldest first (``seals``: as ``load`` gave them)."""
    top = gitlog.toplevel(root)
    seals = load(top) if seals is None else seals
    if not seals:
        return []
    current = _records(top, "HEAD", gitlog.prefix(root, top) + folder)
    present = set(current.values())
    broken = []
    for seal in seals:
        if not seal.head or not seal.digest:
            broken.append(Broken(seal.name, "not a seal promoctl wrote (no head or digest "
                                 "in the tag message)"))
            continue
        if hashlib.sha256(_manifest(list(seal.entries)).encode()).hexdigest() != seal.digest:
            broken.append(Broken(seal.name, "the tag's list of records does not match its "
                                 "digest: the tag was edited"))
            continue
        ancestor = gitlog.run(top, "merge-base", "--is-ancestor", seal.head, "HEAD", ok=(0, 1, 128))
        if ancestor.returncode != 0:
            broken.append(Broken(seal.name, f"the sealed commit {seal.head[:12]} is no longer "
                                 "in this branch's history: history was rewritten or "
                                 "force-pushed after the seal"))
            continue
        changed = [path for _sha, blob, path in seal.entries
                   if current.get(path) != blob and blob not in present]
        if changed:
            more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
            broken.append(Broken(seal.name, f"{len(changed)} sealed decision record(s) "
                                 f"changed or removed since the seal: "
                                 f"{', '.join(changed[:3])}{more}"))
    return broken
