"""Payment seasons (``[payments] season_starts``, default January and July): which season a
month belongs to, named by its first and last month (``2026-07 – 2026-12``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date


def season_of(year: int, month: int, starts: Sequence[int]) -> str:
    """The season holding ``year-month``: from the latest start at or before it to the month
    before the next start (which may be in the next year)."""
    ordered = sorted(starts)
    earlier = [s for s in ordered if s <= month]
    first_year, first = (year, earlier[-1]) if earlier else (year - 1, ordered[-1])
    later = [s for s in ordered if s > first]
    next_year, next_start = (first_year, later[0]) if later else (first_year + 1, ordered[0])
    last_year, last = (next_year, next_start - 1) if next_start > 1 else (next_year - 1, 12)
    return f"{first_year}-{first:02d} – {last_year}-{last:02d}"


def season_of_month(label: str, starts: Sequence[int]) -> str:
    """The season of a ``YYYY-MM`` month label."""
    year, month = label.split("-")
    return season_of(int(year), int(month), starts)


def season_first_day(day: date, starts: Sequence[int]) -> date:
    """The first day of the season holding ``day``."""
    ordered = sorted(starts)
    earlier = [s for s in ordered if s <= day.month]
    return date(day.year, earlier[-1], 1) if earlier else date(day.year - 1, ordered[-1], 1)
