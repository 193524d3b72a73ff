"""The ``promoctl`` command. ``validate`` is answered from the memo of earlier runs when git
says nothing changed, before the command line's machinery is imported: typer and rich
are most of promoctl's start-up, and a pre-commit hook starts promoctl on every commit.
Only ``os`` and ``sys`` are imported before git is started, so that git's run overlaps
Python's imports."""

from __future__ import annotations

import gc
import os
import sys
from typing import NoReturn


def run() -> NoReturn:
    """The console script: ``main``, and the process ends. Python's last collection
    would walk every object the imports made (pydantic makes many): a tenth of a
    pre-commit run, to free memory the system takes back anyway."""
    code = main()
    gc.freeze()
    sys.exit(code)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    # pydantic looks for plugins in every installed distribution's metadata on first
    # use (a tenth of a pre-commit run); promoctl uses none.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    if args[:1] == ["validate"] and not any(a.startswith("-") for a in args[1:]):
        # A quick answer makes few objects and ends: the collector's passes over what
        # the imports made are time lost. A run handed over to the command may hold
        # the whole repository, so it collects as usual.
        collecting = gc.isenabled()
        gc.disable()
        try:
            answered = _remembered(args[1:])
        finally:
            if collecting:
                gc.enable()
        if answered is not None:
            return answered
    from promoctl.cli.main import main as cli_main

    return cli_main(args)


def _remembered(args: list[str]) -> int | None:
    """``promoctl validate ARGS`` as the command prints it, from the memo; None when
    the command must run (an error in the arguments included: it reports those)."""
    repo = os.environ.get("PROMOCTL_REPO")  # what --repo reads when it is not given
    guess = os.path.realpath(repo) if repo else _marked(args[0] if args else os.curdir)
    if guess is None:
        return None
    from promoctl.store.worktree import Probe

    probe = Probe(guess)
    from pathlib import Path

    from promoctl.base.errors import ExitCode, capped
    from promoctl.records import validation

    paths = [Path(a) for a in args]
    asked: validation.Asked | None = None
    try:
        root = validation.root_for(Path(repo) if repo else None,
                                   paths[0] if paths else Path.cwd())
        # A pre-commit run: what the index needs is read, and git asked, while git
        # status runs; it answers when the memo cannot.
        asked = validation.Asked(root, validation.few_records(root, paths), status=False)
        problems = validation.remembered(root, paths, probe)
        if problems is None and asked is not None:
            problems = asked.answer(probe.listed if Path(probe.root) == root else None)
    except Exception:  # the command runs instead, and reports it as it should
        probe.close()
        return None
    finally:
        if asked is not None:
            asked.close()
    if problems is None:
        return None
    from promoctl.base.errors import errors_only, summary

    try:
        sys.stdout.write("".join(f"{p}\n" for p in capped(problems)))
        sys.stdout.flush()
        sys.stderr.write(summary(problems) + "\n")
    except BrokenPipeError:
        return ExitCode.OK
    return ExitCode.INVALID if errors_only(problems) else ExitCode.OK


def _marked(start: str) -> str | None:
    """The folder ``repofiles.find_root`` will find, to start git in; it is checked
    against that answer before git's is used."""
    here = os.path.realpath(start)
    if os.path.isfile(here):
        here = os.path.dirname(here)
    while not os.path.isfile(os.path.join(here, "promoctl.yaml")):
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent
    return here
