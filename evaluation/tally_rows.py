"""A walk's tally (walk_tally.py) as the row of figures ``walk_tally`` stores and the
statistics add up (``models/tally_tables.py``): each group's figures are the sums of its walks'
rows (tally_sums.py), whether the row was stored or counted just now.

Walker time is kept in whole milliseconds (check-in times are read to the millisecond), so
the sums are the same in whatever order the database or Python adds them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from evaluation.band_seconds import Windows
from evaluation.measures import EMERGENCY_SERVICES
from evaluation.tally_stats import walked_seconds
from evaluation.walk_facts import MOODS, YOUTH_BUCKETS
from evaluation.walk_tally import Tally
from models.tally_tables import BAND_COLUMNS, MOOD_COLUMNS, SUM_COLUMNS, YOUTH_COLUMNS

Row = dict[str, Any]


def basis(zone: ZoneInfo, required: int) -> str:
    """The settings a row's figures depend on: the time zone (bands, weeks) and how many
    trained walkers a shift needs (understaffed)."""
    return f"{zone.key}|{required}"


def rows_of(tallies: Sequence[Tally], zone: ZoneInfo) -> list[Row]:
    """Each tally's row of figures, in the same order."""
    windows = Windows(tallies, zone)
    return [_row(t, windows, zone) for t in tallies]


def _row(tally: Tally, windows: Windows, zone: ZoneInfo) -> Row:
    held, active = tally.held, not tally.cancelled
    over = active and tally.ended
    row: Row = dict.fromkeys(SUM_COLUMNS, 0)
    row.update(
        shift_id=tally.shift_id,
        held=int(held),
        cancelled=int(tally.cancelled),
        understaffed=int(tally.understaffed),
        confirmed=tally.confirmed if active else 0,
        seats=tally.max_walkers if active else 0,
        reports=tally.reports,
        alarms=tally.alarms,
        false_alarms=tally.false_alarms,
        expected=tally.confirmed if over else 0,
        no_shows=tally.no_shows if over else 0,
        local_day=datetime.fromtimestamp(tally.start_s, zone).date().toordinal(),
        walkers=None,
        services=None,
        places=None,
    )
    planned, walked = windows.band_seconds(tally, held)
    row["band_mask"] = sum(1 << n for n, seconds in enumerate(planned) if seconds > 0)
    row.update(dict.fromkeys(BAND_COLUMNS, 0))
    if held:
        _held(row, tally, walked)
    return row


def _held(row: Row, tally: Tally, walked: list[float]) -> None:
    """The figures only a held walk has."""
    row["incidents"] = int(tally.helped or bool(tally.services))
    row["emergencies"] = int(bool(tally.services & EMERGENCY_SERVICES))
    row["reported"] = int(tally.reports > 0)
    if tally.youth is not None:
        row[YOUTH_COLUMNS[tally.youth]] = 1
    if tally.mood is not None:
        row[MOOD_COLUMNS[tally.mood]] = 1
    row["walked_ms"] = round(walked_seconds(tally) * 1000)
    for name, seconds in zip(BAND_COLUMNS, walked, strict=True):
        row[name] = round(seconds * 1000)
    if tally.walkers:
        row["walkers"] = ",".join(map(str, sorted(set(tally.walkers))))
    if tally.services:
        row["services"] = json.dumps(sorted(tally.services))
    if tally.places:
        row["places"] = json.dumps(sorted(tally.places))


assert len(YOUTH_COLUMNS) == len(YOUTH_BUCKETS) and len(MOOD_COLUMNS) == len(MOODS)
