"""Commands for audit, history, impact, due, status and review (issue 4)."""

from __future__ import annotations
