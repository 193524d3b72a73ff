"""The command line: parse options, call the core, print. No promotion logic lives here.

``app`` (the options every command shares) is in ``cli.app``; the commands in
``commands`` and the ``*_commands`` modules; ``main`` (exit codes) in ``cli.main``.

May import: every package of promoctl; nothing outside ``cli`` imports it.
"""

from promoctl.cli.app import app
from promoctl.cli.main import main

__all__ = ["app", "main"]
