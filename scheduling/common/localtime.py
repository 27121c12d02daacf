"""Local wall time <-> UTC across the changes to and from summer time.

Series and CLI input are in local time (``[scheduling] timezone``); everything stored is UTC.
Arithmetic such as "two hours before" is done on UTC instants, never on wall-clock times.
``to_utc`` refuses a time the clocks skip or repeat (unless told which); a shift's times are
read as calendars read them (``calendar_time``), so the usual 22:00-02:00 night can be planned
on the two nights a year the clocks change.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from scheduling.common.errors import InvalidInput

Fold = Literal["earlier", "later"]


FIRST_DAY = date(2000, 1, 1)  # the days statistics, exports and ranges of shifts accept
LAST_DAY = date(2999, 12, 31)


def usable_day(day: date) -> date:
    """The day, if vandra can use it (a range's day after 9999-12-31 does not exist)."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidInput(
            "date_out_of_range",
            text=day.isoformat(),
            first=FIRST_DAY.isoformat(),
            last=LAST_DAY.isoformat(),
        )
    return day


def to_utc(local: datetime, zone: ZoneInfo, fold: Fold | None = None) -> datetime:
    """Interpret a naive local wall time in ``zone``; refuse gaps, and folds unless told which.

    ``fold="earlier"`` picks the first occurrence of a repeated time (still summer time),
    ``"later"`` the second (already winter time).
    """
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    usable_day(local.date())  # year 1 or 9999 would overflow here or at the next day
    first = local.replace(tzinfo=zone, fold=0)
    second = local.replace(tzinfo=zone, fold=1)
    if not _round_trips(first, zone) and not _round_trips(second, zone):
        raise InvalidInput("time_does_not_exist", time=local.strftime("%Y-%m-%d %H:%M"))
    if first.utcoffset() != second.utcoffset():
        if fold is None:
            raise InvalidInput("time_is_ambiguous", time=local.strftime("%Y-%m-%d %H:%M"))
        chosen = first if fold == "earlier" else second
        return chosen.astimezone(UTC)
    return first.astimezone(UTC)


def calendar_time(local: datetime, zone: ZoneInfo, fold: Fold | None = None) -> datetime:
    """A naive local wall time of a shift as calendars read it (RFC 5545, 3.3.5): a time the
    clocks skip in spring is read with the offset before the change, so a 22:00-02:00 walk
    ends at 03:00 summer time, after the same four hours as any night; a time that happens
    twice in autumn is its first occurrence (still summer time) unless ``fold`` says which."""
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    usable_day(local.date())
    first = local.replace(tzinfo=zone, fold=0)
    second = local.replace(tzinfo=zone, fold=1)
    skipped = not _round_trips(first, zone) and not _round_trips(second, zone)
    chosen = second if fold == "later" and not skipped else first
    return chosen.astimezone(UTC)


def _round_trips(aware: datetime, zone: ZoneInfo) -> bool:
    back = aware.astimezone(UTC).astimezone(zone)
    return back.replace(tzinfo=None) == aware.replace(tzinfo=None)


def to_local(moment: datetime, zone: ZoneInfo) -> datetime:
    """An aware UTC instant as an aware local time."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given where an aware UTC instant was expected")
    return moment.astimezone(zone)


def local_day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants at which a local calendar day starts and the next one starts."""
    usable_day(day)
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def parse_local_datetime(text: str) -> datetime:
    """Parse ``YYYY-MM-DD HH:MM`` (also with a T) as a naive local time."""
    cleaned = " ".join(text.strip().replace("T", " ").split())
    try:
        return datetime.strptime(cleaned, "%Y-%m-%d %H:%M")
    except ValueError:
        raise InvalidInput("bad_datetime", text=text) from None


def parse_date(text: str) -> date:
    """Parse ``YYYY-MM-DD``."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput("bad_date", text=text) from None


def parse_clock_time(text: str) -> time:
    """Parse ``HH:MM``."""
    try:
        return datetime.strptime(text.strip(), "%H:%M").time()
    except ValueError:
        raise InvalidInput("bad_time", text=text) from None


def local_interval(
    start_day: date, start: time, end: time, zone: ZoneInfo, fold: Fold | None = None
) -> tuple[datetime, datetime]:
    """UTC start and end of a walk starting ``start_day`` at ``start``; an ``end`` earlier
    than ``start`` is on the next day (a night shift across midnight)."""
    end_day = start_day + timedelta(days=1) if end <= start else start_day
    start_utc = to_utc(datetime.combine(start_day, start), zone, fold)
    end_utc = to_utc(datetime.combine(end_day, end), zone, fold)
    return start_utc, end_utc
