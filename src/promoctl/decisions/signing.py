"""Signed decision and review commits, with git's own SSH or GPG signing.

When ``policy.signing.required`` is on, ``decide`` and ``review`` refuse to run until git
can sign, and sign their commits; ``audit`` verifies each decision commit against the
allowed-signers file kept in the repository (as it is at the head commit).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from promoctl.base.gitio import Git, GitError
from promoctl.records.settings import Signing

SETUP = ("set up git's signing, for example with SSH: git config gpg.format ssh; "
         "git config user.signingkey ~/.ssh/id_ed25519.pub; then add a line "
         "'YOUR-EMAIL namespaces=\"git\" KEY' (the .pub file's content) to {file} and "
         "commit it")

# git's %G? letters, in words
STATUS = {"B": "a bad signature",
          "U": "a signature by a key that is not in the allowed-signers file (or, with GPG, "
               "of unknown validity)",
          "X": "a good signature that has expired", "Y": "a signature by an expired key",
          "R": "a signature by a revoked key", "N": "no signature",
          "E": "a signature that cannot be checked (is the signer in the allowed-signers "
               "file?)"}


def check_configured(git: Git, rules: Signing) -> None:
    """Refuse, with how to set it up, unless git can sign and the allowed-signers file
    exists; called before anything is written."""
    advice = SETUP.format(file=rules.allowed_signers)
    if not (git.top / rules.allowed_signers).is_file():
        raise GitError(f"promoctl.yaml requires signed decisions, but the allowed-signers "
                       f"file {rules.allowed_signers} does not exist, so audit could not "
                       f"verify a signature: {advice}")
    fmt = git.plumb("config", "--get", "gpg.format", ok=(0, 1)).strip() or "openpgp"
    key = git.plumb("config", "--get", "user.signingkey", ok=(0, 1)).strip()
    if fmt == "ssh":
        if not key:
            raise GitError("promoctl.yaml requires signed decisions, and git has no "
                           f"signing key (user.signingkey): {advice}")
        if not key.startswith(("ssh-", "key::", "ecdsa-", "sk-")) and \
                not Path(os.path.expanduser(key)).is_file():
            raise GitError(f"promoctl.yaml requires signed decisions, and git's signing key "
                           f"{key} does not exist: {advice}")
    elif fmt == "openpgp" and not key:
        proc = subprocess.run(["gpg", "--list-secret-keys", "--with-colons"],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0 or "\nsec:" not in "\n" + proc.stdout:
            raise GitError("promoctl.yaml requires signed decisions, and git has no "
                           f"signing key: {advice}")


def verify(top: Path, commits: list[str], allowed_signers: bytes | None
           ) -> dict[str, tuple[str, str]]:
    """commit -> (git's %G? letter, signer) for each of ``commits``, in one git run."""
    if not commits:
        return {}
    with tempfile.TemporaryDirectory(prefix="promoctl-signers-") as tmp:
        signers = Path(tmp) / "allowed_signers"
        signers.write_bytes(allowed_signers or b"")
        proc = subprocess.run(
            ["git", "-C", str(top), "-c", f"gpg.ssh.allowedSignersFile={signers}", "log",
             "--no-walk=unsorted", "--stdin", "--format=%H%x00%G?%x00%GS"],
            input="\n".join(commits) + "\n", capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise GitError(f"git log failed while verifying signatures: {proc.stderr.strip()}")
    out = {}
    for line in proc.stdout.splitlines():
        parts = line.split("\0")
        if len(parts) == 3:
            out[parts[0]] = (parts[1], parts[2])
    return out
