"""Walks planned, held and cancelled per ISO week: each week's figures are the statistics
(``tally_stats.tally_report``) of the walks starting in it, so they are counted exactly as the
statistics page counts them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from evaluation.stats_report import WeekRow
from evaluation.tally_stats import tally_report
from evaluation.walk_tally import Tally


@dataclass(frozen=True)
class WeekCounts:
    week: int
    monday: date
    planned: int
    held: int
    cancelled: int
    walker_hours: float


def week_counts(
    tallies: Sequence[Tally], weeks: Sequence[WeekRow], zone: ZoneInfo
) -> list[WeekCounts]:
    """One row per week of the statistics report's ``weeks``."""
    by_monday: dict[date, list[Tally]] = {w.monday: [] for w in weeks}
    for tally in tallies:
        start = datetime.fromtimestamp(tally.start_s, UTC).astimezone(zone).date()
        monday = start - timedelta(days=start.weekday())
        if monday in by_monday:
            by_monday[monday].append(tally)
    rows = []
    for week in weeks:
        sunday = week.monday + timedelta(days=6)
        overall = tally_report(by_monday[week.monday], week.monday, sunday, zone).overall
        rows.append(
            WeekCounts(
                week.week,
                week.monday,
                overall.planned,
                overall.held,
                overall.cancelled,
                overall.walker_hours,
            )
        )
    return rows
