"""Quiet hours: non-urgent messages wait for the morning unless their walk comes first.

``[reminders] quiet_hours`` is a local wall-time window (22:00-08:00 by default). A message
due inside it is moved to the window's end, unless it is urgent or the shift it is about starts
before that end (tonight's walk is never held). Wall times are turned into instants on their
own date, so the window is right on the nights the clocks change. ``awake_end`` counts a span
of time outside the window (a waitlist offer's confirmation window).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from scheduling.common.config import QuietHours
from scheduling.common.errors import InvalidInput
from scheduling.common.localtime import to_utc


def quiet_end_after(moment: datetime, quiet: QuietHours, zone: ZoneInfo) -> datetime | None:
    """When the quiet window around ``moment`` ends, or None when ``moment`` is not inside one."""
    local = moment.astimezone(zone)
    if not quiet.contains(local.time().replace(tzinfo=None)):
        return None
    day = local.date()
    if local.time().replace(tzinfo=None) >= quiet.end:
        day += timedelta(days=1)  # 23:00 in 22:00-08:00: the window ends tomorrow morning
    end = _instant(datetime.combine(day, quiet.end), zone)
    return end if end > moment else None


def next_quiet_start(moment: datetime, quiet: QuietHours, zone: ZoneInfo) -> datetime | None:
    """When the next quiet window begins after ``moment``, or None when the window is empty."""
    if quiet.start == quiet.end:
        return None
    local = moment.astimezone(zone)
    day = local.date()
    if local.time().replace(tzinfo=None) >= quiet.start:
        day += timedelta(days=1)
    start = _instant(datetime.combine(day, quiet.start), zone)
    return start if start > moment else _instant(
        datetime.combine(day + timedelta(days=1), quiet.start), zone
    )


def awake_end(moment: datetime, span: timedelta, quiet: QuietHours, zone: ZoneInfo) -> datetime:
    """When ``span`` of time outside quiet hours has passed from ``moment``: two hours from
    23:30 end at 10:00 (22:00-08:00), two hours from 21:30 at 09:30."""
    at, left = moment, span
    while True:
        at = quiet_end_after(at, quiet, zone) or at
        begins = next_quiet_start(at, quiet, zone)
        if begins is None or at + left <= begins:
            return at + left
        left -= begins - at
        at = begins


def _instant(local: datetime, zone: ZoneInfo) -> datetime:
    """A local wall time as an instant; one skipped by the clocks going forward is an hour on."""
    try:
        return to_utc(local, zone, fold="later")
    except InvalidInput:
        return to_utc(local + timedelta(hours=1), zone, fold="later")


def send_time(
    due_at: datetime,
    now: datetime,
    *,
    quiet: QuietHours,
    zone: ZoneInfo,
    shift_start: datetime | None,
    urgent: bool = False,
) -> datetime:
    """When a message due at ``due_at`` (handled at ``now``) may go out, given quiet hours."""
    if urgent:
        return due_at
    effective = max(due_at, now)
    end = quiet_end_after(effective, quiet, zone)
    if end is None or (shift_start is not None and shift_start < end):
        return due_at
    return end
