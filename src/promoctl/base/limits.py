"""Bounds on the dates and day counts promoctl accepts, from records and options alike:
within them, adding or subtracting one from the other never overflows (9999-12-31 plus a
day does). Kept apart so the command line can check an option without the models."""

from __future__ import annotations

from datetime import date

MIN_DATE, MAX_DATE = date(1900, 1, 1), date(2999, 12, 31)
MAX_DAYS = 36_500  # a hundred years
