"""When a shift or a weekly series happens: weekday names and each occurrence in UTC."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduling.common.errors import InvalidInput
from scheduling.common.localtime import Fold, calendar_time

WEEKDAYS = {
    "mon": 0,
    "tue": 1,
    "wed": 2,
    "thu": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
    "man": 0,
    "tis": 1,
    "ons": 2,
    "tor": 3,
    "fre": 4,
    "lor": 5,
    "lör": 5,
    "son": 6,
    "sön": 6,
}
DAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MAX_SHIFT_LENGTH = timedelta(hours=16)
MAX_SERIES_SHIFTS = 400


def parse_weekdays(text: str) -> set[int]:
    """``fri,sat`` (English or Swedish three-letter names) as weekday numbers (Monday = 0)."""
    days: set[int] = set()
    for part in text.replace(" ", "").lower().split(","):
        if not part:
            continue
        if part[:3] not in WEEKDAYS:
            raise InvalidInput("bad_weekday", day=part)
        days.add(WEEKDAYS[part[:3]])
    if not days:
        raise InvalidInput("bad_weekday", day=text)
    return days


def day_names(days: Iterable[int]) -> list[str]:
    """Weekday numbers as the English three-letter names a series stores, Monday first."""
    return [DAY_NAMES[d] for d in sorted(days)]


def intervals(
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
    fold: Fold | None,
    repeat: set[int] | None,
    until: date | None,
) -> list[tuple[datetime, datetime]]:
    """UTC (start, end) of each occurrence of the naive local ``start``-``end``; each local
    time is converted on its own date, as calendars read it (``calendar_time``: on the night
    the clocks go forward 22:00-02:00 ends at 03:00 summer time; on the night they go back a
    repeated 02:00 is the first, unless ``fold`` says which)."""
    if end <= start:
        raise _backwards(start, end)
    day_offset = (end.date() - start.date()).days
    found = []
    for day in occurrences(start.date(), repeat, until):
        start_local = datetime.combine(day, start.time())
        end_local = datetime.combine(day + timedelta(days=day_offset), end.time())
        start_at = calendar_time(start_local, zone, fold)
        end_at = calendar_time(end_local, zone, fold)
        if end_at <= start_at:
            raise _backwards(start_local, end_local)
        if end_at - start_at > MAX_SHIFT_LENGTH:
            raise InvalidInput(
                "shift_too_long", hours=int(MAX_SHIFT_LENGTH.total_seconds() // 3600)
            )
        found.append((start_at, end_at))
    return found


def _backwards(start: datetime, end: datetime) -> InvalidInput:
    return InvalidInput(
        "end_before_start", start=f"{start:%Y-%m-%d %H:%M}", end=f"{end:%Y-%m-%d %H:%M}"
    )


def occurrences(first: date, repeat: set[int] | None, until: date | None) -> list[date]:
    """The local dates of a single shift (``first``) or of a weekly series up to ``until``."""
    if not repeat:
        if until is not None:
            raise InvalidInput("until_without_repeat")
        return [first]
    if until is None:
        raise InvalidInput("repeat_without_until")
    if until < first:
        raise InvalidInput("until_before_start", until=until.isoformat(), start=first.isoformat())
    days = [first + timedelta(days=n) for n in range((until - first).days + 1)]
    chosen = [d for d in days if d.weekday() in repeat]
    if not chosen:
        raise InvalidInput("series_empty", until=until.isoformat())
    if len(chosen) > MAX_SERIES_SHIFTS:
        raise InvalidInput("series_too_long", count=len(chosen), max=MAX_SERIES_SHIFTS)
    return chosen
