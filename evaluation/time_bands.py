"""Purple Flag time bands in local time, and how much of an interval falls inside one."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from evaluation.measures import Interval
from evaluation.walk_facts import Walk

BANDS: dict[str, tuple[int, int]] = {
    "17-20": (17, 20),
    "20-23": (20, 23),
    "23-02": (23, 2),
    "02-05": (2, 5),
}


def band_windows(band: str, interval: Interval, zone: ZoneInfo) -> list[Interval]:
    """The UTC occurrences of a local time band around an interval."""
    first_hour, last_hour = BANDS[band]
    start_day = interval[0].astimezone(zone).date() - timedelta(days=1)
    end_day = interval[1].astimezone(zone).date()
    windows = []
    for offset in range((end_day - start_day).days + 1):
        day = start_day + timedelta(days=offset)
        end_date = day + timedelta(days=1) if last_hour <= first_hour else day
        windows.append(
            (
                datetime.combine(day, time(first_hour), tzinfo=zone).astimezone(UTC),
                datetime.combine(end_date, time(last_hour), tzinfo=zone).astimezone(UTC),
            )
        )
    return windows


def hours_in_band(band: str, interval: Interval, zone: ZoneInfo) -> float:
    """How many hours of ``interval`` fall inside the local time band."""
    return sum(_overlap_hours(interval, window) for window in band_windows(band, interval, zone))


def in_band(walk: Walk, band: str, zone: ZoneInfo) -> bool:
    """The walk's planned time overlaps the band."""
    return hours_in_band(band, (walk.shift.start_at, walk.shift.end_at), zone) > 0


def _overlap_hours(a: Interval, b: Interval) -> float:
    seconds = (min(a[1], b[1]) - max(a[0], b[0])).total_seconds()
    return max(seconds, 0.0) / 3600
