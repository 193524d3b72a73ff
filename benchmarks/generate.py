"""The synthetic promotion repository the benchmark measures (issue 7): made once, with one
``git fast-import``, from the example frameworks and ladders, and reused while its manifest
matches what is asked for.

People, evidence packets, and the panel decisions and post-promotion reviews recorded on
them over years of history. Decisions are built exactly as ``promoctl decide`` builds them
(evaluation snapshot, input hashes, the commit their inputs were read at, plans, a quorate
panel), so ``promoctl audit`` accepts them and ``promoctl validate`` finds nothing. The
pieces: ``staff`` (people), ``packets``, ``deciding`` (decisions and reviews), ``history``
(the commits), ``yamltext`` (record text); sizes and dates are in ``sizes``.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .history import plan_history, write_history
from .packets import make_packets
from .processes import git
from .sizes import DEFAULT_SEED, GENERATOR_VERSION, MANIFEST, Size
from .staff import make_staff, person_yaml

__all__ = ["Size", "ensure_repo", "generate", "read_manifest"]


def _wanted(size: Size, seed: int) -> dict[str, Any]:
    return {"generator": GENERATOR_VERSION, "people": size.people, "packets": size.packets,
            "decisions": size.decisions, "reviews": size.reviews, "commits": size.commits,
            "seed": seed}


def read_manifest(root: Path) -> dict[str, Any] | None:
    try:
        found = json.loads((root / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def generate(root: Path, size: Size, seed: int = DEFAULT_SEED,
             log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Write a fresh synthetic git repository into ``root`` (which must not hold records).

    Returns the manifest: what was asked for, and what was made.
    """
    t0 = time.perf_counter()
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {**_wanted(size, seed), "complete": False}
    (root / MANIFEST).write_text(json.dumps(manifest) + "\n")
    git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "config", "gc.auto", "0")  # no background repacking during measurements
    with (root / ".git" / "info" / "exclude").open("a") as fh:
        fh.write(f"/{MANIFEST}\n")
    staff = make_staff(rng, size.people)
    people = {f"people/{row.group}/{row.id}.yaml": person_yaml(row, rng).encode()
              for row in staff.people}
    if log:
        log(f"  {len(people):,} people; writing {size.packets:,} packets ...")
    packets = list(make_packets(rng, staff, size.packets))
    if log:
        log(f"  planning the history ({time.perf_counter() - t0:.0f} s so far) ...")
    plan = plan_history(staff, people, packets, size, seed, log)
    del staff, people, packets
    if log:
        log(f"  writing {len(plan.commits):,} commits with git fast-import "
            f"({time.perf_counter() - t0:.0f} s so far) ...")
    head = write_history(root, plan)
    git(root, "reset", "--hard", "--quiet")
    manifest.update(complete=True, head=head, made={
        "commits": len(plan.commits), "decisions": plan.decisions + plan.superseding,
        "superseding": plan.superseding, "overrides": plan.overrides,
        "outcomes": dict(sorted(plan.outcomes.items())), "pending_packets": plan.pending,
        "promoted": plan.promoted, "reviews": plan.reviews,
        "review_outcomes": dict(sorted(plan.review_kinds.items())),
        "seconds": round(time.perf_counter() - t0, 1)})
    (root / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def ensure_repo(root: Path, size: Size, seed: int = DEFAULT_SEED,
                log: Callable[[str], None] | None = None) -> bool:
    """Reuse ``root`` when it already holds this repository; else (re)generate it.

    Returns True when reused. A folder is only ever deleted when it carries the manifest
    this script writes, so pointing ``--dir`` at real records cannot destroy them.
    """
    found = read_manifest(root)
    if found is not None:
        if (found.get("complete") and {k: found.get(k) for k in _wanted(size, seed)}
                == _wanted(size, seed) and (root / ".git").is_dir()):
            head = subprocess.run(["git", "-C", str(root), "rev-parse", "--verify", "-q",
                                   "HEAD"], capture_output=True, text=True, check=False)
            # no optional locks: a repository shared with others is only read
            if head.stdout.strip() == found.get("head") and not git(
                    root, "--no-optional-locks", "status", "--porcelain",
                    "--untracked-files=no"):
                return True
        shutil.rmtree(root)
    elif root.exists() and any(root.iterdir()):
        raise SystemExit(f"{root}: exists and was not made by this script (no {MANIFEST}); "
                         "pass an empty or new folder with --dir")
    generate(root, size, seed, log)
    return False
