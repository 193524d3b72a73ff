"""Benchmark promoctl on a large synthetic promotion repository kept in git (issues 7, 14, 18).

Generates (or reuses) a deterministic git repository (see ``generate``), copies it, and
measures on the copy, in one table, each figure against the reference it is compared with:

- cold ``validate`` against parsing the same files with PyYAML's C loader, and against
  ``check-jsonschema`` on every record file with the project's own ``schemas/``;
- ``validate``, ``evaluate --all`` and ``report``, warm against cold;
- ``audit`` against one ``git log`` pass + one ``git cat-file --batch`` + the C loader;
- ``promoctl --help``, ``validate ONE_FILE``, and ``validate FILE`` just after FILE was
  edited (a pre-commit run), against ``import typer``;
- peak memory of ``validate`` in a fresh process (and at 100,000 packets with ``--big``);
- how ``decide`` and ``audit`` scale with the number of decisions;
- throughput, promoctl's parser with libyaml against pure Python, verdict counts.

With ``--baseline REV`` every figure is measured for REV's ``src/`` and for the working
tree in the same run, interleaved, each on its own copy of the repository; the table shows
before, after and the change, and marks a figure more than 10% worse.

Nothing here asserts on timings: the figures are for reading, not for gating a build.
check-jsonschema is installed into this interpreter's environment when it is missing
(``--no-install`` skips its row instead; or ``pip install check-jsonschema`` yourself).

    python -m benchmarks                      # 20,000 people, 10,000 packets and decisions
    python -m benchmarks --quick              # 1,000 packets, for a smoke run
    python -m benchmarks --big                # also peak memory at 100,000 packets (slow)
    python -m benchmarks --baseline main      # before (main) and after (this tree)
    python -m benchmarks --only precommit,evaluate --dir /tmp/repo
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from .context import Context
from .generate import ensure_repo, read_manifest
from .measure import FIGURES, chosen, describe, measure
from .scaling import few_decisions_root
from .sizes import (
    BIG_DIR,
    BIG_SIZE,
    DEFAULT_DIR,
    DEFAULT_SEED,
    DEFAULT_SIZE,
    GENERATOR_VERSION,
    PROJECT,
    QUICK_DIR,
    QUICK_SIZE,
    Size,
)
from .table import Row, load, machine, regressions, table
from .versions import prepare, remove

SIZES = (("people", "people"), ("packets", "packets"), ("decisions", "decisions"),
         ("reviews", "reviews"), ("commits", "commits (a budget)"))


def parser() -> argparse.ArgumentParser:
    made = argparse.ArgumentParser(
        prog="python -m benchmarks", description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="figures, for --only:\n" + describe())
    for name, what in SIZES:
        made.add_argument(f"--{name}", type=int, help=f"{what} to generate (default "
                          f"{getattr(DEFAULT_SIZE, name):,}; {getattr(QUICK_SIZE, name):,} "
                          "with --quick)")
    made.add_argument("--dir", type=Path, help=f"repository folder (default "
                      f"{DEFAULT_DIR.relative_to(PROJECT)}; {QUICK_DIR.relative_to(PROJECT)} "
                      "with --quick); made when missing, reused as it is when given alone; "
                      "only read: the figures are measured on copies")
    made.add_argument("--quick", action="store_true", help="a small, fast smoke run")
    made.add_argument("--big", action="store_true", help=f"also measure peak memory at "
                      f"{BIG_SIZE.packets:,} packets (generates {BIG_DIR.relative_to(PROJECT)}"
                      "; slow)")
    made.add_argument("--big-dir", type=Path, help="measure peak memory on this existing "
                      "repository too (e.g. one made with --generate-only --dir DIR "
                      "--packets 100000 --people 200000), instead of generating --big's; "
                      "promoctl's caches in it are cleared before each run")
    made.add_argument("--few-dir", type=Path, help="the existing repository with 1%% of the "
                      "decisions for the scaling figures (default: DIR-few-decisions next to "
                      "--dir, generated when missing); only read")
    made.add_argument("--seed", type=int, help=f"random seed (default {DEFAULT_SEED}; "
                      "with --dir alone, the seed the repository there was made with)")
    made.add_argument("--repeats", type=int, help="runs for the start-up medians "
                      "(default 7; 3 with --quick)")
    made.add_argument("--no-install", action="store_true",
                      help="do not pip-install check-jsonschema when it is missing")
    made.add_argument("--no-jsonschema", action="store_true",
                      help="skip the check-jsonschema comparison")
    made.add_argument("--generate-only", action="store_true",
                      help="make (or reuse) the repository and stop")
    made.add_argument("--scaling-only", action="store_true",
                      help="measure only how decide and audit scale with the number of "
                      "decisions (issue 14); the same as --only scaling")
    made.add_argument("--only", metavar="NAME[,NAME]", help="measure only these figures "
                      f"(listed below; default: all): {', '.join(FIGURES)}")
    made.add_argument("--baseline", metavar="REV", help="also measure promoctl as of REV "
                      "(a git revision of this project: its src/, exported), interleaved "
                      "with the working tree, each on its own copy of the repository; shows "
                      "before, after and the change, and marks any figure >10%% worse")
    made.add_argument("--keep", action="store_true", help="keep the temporary folder with "
                      "the repository copies (its path is printed)")
    return made


def _describe_repo(root: Path, size: Size, seed: int, how: str) -> None:
    print(f"             {size.people:,} people, {size.packets:,} packets, {size.decisions:,} "
          f"decisions, {size.reviews:,} reviews, {size.commits:,} commits asked; seed "
          f"{seed} ({how})")
    made = (read_manifest(root) or {}).get("made", {})
    if made:
        print(f"             made: {made['commits']:,} commits, {made['decisions']:,} decisions "
              f"({made['superseding']:,} superseding, {made['overrides']:,} overrides; "
              + ", ".join(f"{k} {v:,}" for k, v in made["outcomes"].items())
              + f"), {made['pending_packets']:,} packets pending, {made['promoted']:,} "
              f"promotions applied by HR, {made['reviews']:,} reviews ("
              + ", ".join(f"{k} {v:,}" for k, v in made["review_outcomes"].items()) + ")")


def main(argv: Sequence[str] | None = None) -> int:
    args_parser = parser()
    args = args_parser.parse_args(argv)
    base = QUICK_SIZE if args.quick else DEFAULT_SIZE
    root = (args.dir or (QUICK_DIR if args.quick else DEFAULT_DIR)).resolve()
    found = read_manifest(root) or {}
    # --dir alone: the repository there as it is, whatever its size (never regenerated:
    # others may be using it)
    as_is = bool(args.dir and not args.quick and args.seed is None and found.get("complete")
                 and not any(getattr(args, name) for name, _ in SIZES))
    if as_is:
        base = Size(*(found[name] for name, _ in SIZES))
        args.seed = found["seed"]
    args.seed = DEFAULT_SEED if args.seed is None else args.seed
    size = Size(*(getattr(args, name) or getattr(base, name) for name, _ in SIZES))
    if size.packets < 1 or size.people < 8 or size.commits < 1:
        args_parser.error("need at least 1 packet, 8 people and 1 commit")
    try:
        names = chosen("scaling" if args.scaling_only else args.only)
    except ValueError as exc:
        args_parser.error(str(exc))
    few_root = args.few_dir.resolve() if args.few_dir else None
    if few_root is not None and not (read_manifest(few_root) or {}).get("complete"):
        args_parser.error(f"{few_root}: --few-dir needs a repository this benchmark made")
    stale = [f"WARNING: {folder} was made by generator {made.get('generator')}, this is "
             f"{GENERATOR_VERSION}: its records are not what the generator makes now (and "
             "may have problems promoctl reports); regenerate into another --dir"
             for folder in ([root] if as_is else []) + ([few_root] if few_root else [])
             for made in [read_manifest(folder) or {}]
             if made.get("generator") != GENERATOR_VERSION]

    def log(text: str) -> None:
        print(text, flush=True)

    print("\n".join(machine()))
    print(f"repository   {root}")
    t0 = time.perf_counter()
    reused = as_is or ensure_repo(root, size, args.seed, log)
    _describe_repo(root, size, args.seed, "reused as it is" if as_is else "reused" if reused
                   else f"generated in {time.perf_counter() - t0:.1f} s")
    for warning in stale:
        print(warning)
    big_root = args.big_dir.resolve() if args.big_dir else None
    if big_root is not None and not (big_root / "promoctl.yaml").is_file():
        args_parser.error(f"{big_root}: --big-dir needs an existing repository")
    if args.big and big_root is None:
        big_root = BIG_DIR.resolve()
        print(f"big          {big_root}")
        t0 = time.perf_counter()
        reused = ensure_repo(big_root, BIG_SIZE, args.seed, log)
        print(f"             {BIG_SIZE.packets:,} packets "
              f"({'reused' if reused else f'generated in {time.perf_counter() - t0:.0f} s'})")
    if args.generate_only:
        return 0
    if "scaling" in names and few_root is None:
        few_root = few_decisions_root(root)

    # Stopped with kill: the copies are removed and the running command is killed too.
    before = signal.signal(signal.SIGTERM, lambda _sig, _frame: sys.exit(143))
    work = Path(tempfile.mkdtemp(prefix="promoctl-bench-"))
    try:
        log(f"copying the repository for each version into {work}")
        versions = prepare(root, work, args.baseline)
        for v in versions:
            print(f"measuring    {v.name}: {v.src} (entry point {v.entry}), on {v.root}")
        ctx = Context(versions, root, args.seed, args.repeats or (3 if args.quick else 7),
                      log, install=not args.no_install, jsonschema=not args.no_jsonschema,
                      big_root=big_root, few_root=few_root)
        rows = measure(ctx, names)
    finally:
        signal.signal(signal.SIGTERM, before)  # an embedding process keeps its own
        if args.keep:
            print(f"kept {work}")
        else:
            remove(work)
    _summary(ctx.figures, rows)
    return 0


def _summary(figures: dict[str, object], rows: list[Row]) -> None:
    print()
    probe = figures.get("probe")
    if isinstance(probe, dict) and probe.get("code") != 0:
        print(f"WARNING: validate exited {probe.get('code')} on the synthetic repository; the "
              "generator is out of step with the checks (run promoctl validate there to see "
              "the problems)")
    for key, title in (("verdicts", "verdicts"), ("reasons", "reasons (NOT READY)")):
        found = figures.get(key)
        if isinstance(found, dict) and found:
            print(f"{title}: " + ", ".join(f"{k} {v:,}" for k, v in sorted(found.items())))
    print(f"load at the end: {load()}")
    print()
    print(table(rows))
    compared = regressions(rows)
    if compared:
        print()
        print(compared)


if __name__ == "__main__":
    sys.exit(main())
