"""When a walker may check in and out of a shift: the window around its start and end."""

from __future__ import annotations

from datetime import datetime, timedelta

CHECK_IN_EARLY = timedelta(hours=1)  # the muster: check-in opens this long before the start
CHECK_OUT_LATE = timedelta(hours=8)  # check-in and check-out close this long after the end


def check_in_open(start: datetime, end: datetime, now: datetime) -> bool:
    """Whether a walker on the shift from ``start`` to ``end`` may check in at ``now``."""
    return start - CHECK_IN_EARLY <= now <= end + CHECK_OUT_LATE


def alarm_open(start: datetime, end: datetime, now: datetime) -> bool:
    """Whether a walker on the shift may raise the alarm at ``now``: from the moment check-in
    opens until the shift has ended."""
    return start - CHECK_IN_EARLY <= now <= end
