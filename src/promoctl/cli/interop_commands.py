"""Commands for import and export (LMS, Moodle, CASE, xAPI)."""

from __future__ import annotations
