"""Commands for report and one-on-one."""

from __future__ import annotations
