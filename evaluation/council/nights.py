"""How well the nights were covered: Friday and Saturday nights, and risk nights.

A walk belongs to the night of its local start date; one starting before 06:00 belongs to the
night before (a walk from 00:30 on a Saturday is Friday night's). A night is **covered** when at
least one walk of it was held (``Tally.held``, the definition of evaluation/walk_facts.py).
Only nights that have begun count (the period may reach into the future): a Friday or
Saturday of the period up to today; a risk night is a night with a shift marked as one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from evaluation.walk_tally import Tally

NIGHT_TURNS_AT = timedelta(hours=6)  # a start before 06:00 belongs to the night before
FRIDAY, SATURDAY = 4, 5


@dataclass(frozen=True)
class Coverage:
    """Nights of one kind: how many there were, had a walk planned, had a walk held."""

    nights: int
    planned: int
    covered: int

    @property
    def share(self) -> float | None:
        return self.covered / self.nights if self.nights else None


def night_of(tally: Tally, zone: ZoneInfo) -> date:
    start = datetime.fromtimestamp(tally.start_s, UTC).astimezone(zone)
    return (start - NIGHT_TURNS_AT).date()


def weekend_nights(
    tallies: Sequence[Tally], first: date, last: date, today: date, zone: ZoneInfo
) -> Coverage:
    """The Friday and Saturday nights of the period that have begun."""
    end = min(last, today)
    days = [first + timedelta(days=n) for n in range(max((end - first).days + 1, 0))]
    nights = {d for d in days if d.weekday() in (FRIDAY, SATURDAY)}
    return _coverage(nights, tallies, zone)


def risk_nights(tallies: Sequence[Tally], today: date, zone: ZoneInfo) -> Coverage:
    """The nights with a shift marked as a risk night that have begun."""
    nights = {night_of(t, zone) for t in tallies if t.risk_night}
    return _coverage({n for n in nights if n <= today}, tallies, zone)


def _coverage(nights: set[date], tallies: Sequence[Tally], zone: ZoneInfo) -> Coverage:
    planned, covered = set(), set()
    for tally in tallies:
        night = night_of(tally, zone)
        if night in nights:
            planned.add(night)
            if tally.held:
                covered.add(night)
    return Coverage(len(nights), len(planned), len(covered))
