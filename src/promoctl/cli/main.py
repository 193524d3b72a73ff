"""The entry point: every command registered on ``app``, and the one place exceptions
become messages and exit codes."""

from __future__ import annotations

import sys
import traceback

import typer

from promoctl.base.errors import ExitCode, PromoctlError, capped
from promoctl.cli.app import app

# Commands register themselves on ``app`` when imported, in the order --help lists them
# (changes_commands brings interop's and report's: export changes needs both).
# isort: off
from promoctl.cli import commands  # noqa: F401
from promoctl.cli import changes_commands  # noqa: F401
from promoctl.cli import history_commands  # noqa: F401
from promoctl.cli import interop_commands  # noqa: F401
from promoctl.cli import report_commands  # noqa: F401
# isort: on


def main(argv: list[str] | None = None) -> int:
    """Entry point: the one place exceptions become messages and exit codes."""
    try:
        result = app(args=argv, prog_name="promoctl", standalone_mode=False)
    except typer.Abort:
        sys.stderr.write("interrupted\n")
        return ExitCode.INTERRUPTED
    except typer.Exit as exc:
        return exc.exit_code
    except typer.TyperException as exc:  # usage errors: bad options, missing arguments
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            sys.stderr.write(f"Error: {exc.format_message()}\n")
        return ExitCode.USAGE
    except PromoctlError as exc:
        sys.stderr.write(f"promoctl: error: {exc}\n")
        problems = getattr(exc, "problems", [])
        for problem in capped(problems):
            sys.stderr.write(f"{problem}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        return ExitCode.OK
    except Exception:
        sys.stderr.write("promoctl: internal error (a bug; please report it with this "
                         "output):\n" + traceback.format_exc())
        return ExitCode.INTERNAL
    return int(result) if isinstance(result, int) else ExitCode.OK
