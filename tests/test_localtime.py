"""Local wall time and UTC across Europe/Stockholm's DST changes."""

from __future__ import annotations

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduling.common.errors import InvalidInput
from scheduling.common.localtime import local_interval, to_utc
from tests.helpers import local

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def test_night_shift_on_fall_back_night_lasts_six_hours() -> None:
    """22:00-03:00 on the night the clocks go back (2026-10-24/25) is 6 real hours, not 5."""
    start, end = local_interval(date(2026, 10, 24), time(22), time(3), STOCKHOLM)
    assert end - start == timedelta(hours=6)
    assert start.isoformat() == "2026-10-24T20:00:00+00:00"
    assert end.isoformat() == "2026-10-25T02:00:00+00:00"


def test_night_shift_on_spring_forward_night_lasts_four_hours() -> None:
    """22:00-03:00 on the night the clocks go forward (2027-03-27/28) is 4 real hours."""
    start, end = local_interval(date(2027, 3, 27), time(22), time(3), STOCKHOLM)
    assert end - start == timedelta(hours=4)


def test_ordinary_night_crosses_midnight() -> None:
    """An end time before the start time is on the next day."""
    start, end = local_interval(date(2026, 11, 27), time(21), time(1), STOCKHOLM)
    assert (start.isoformat(), end.isoformat()) == (
        "2026-11-27T20:00:00+00:00",
        "2026-11-28T00:00:00+00:00",
    )


def test_time_in_spring_forward_gap_is_refused() -> None:
    """02:30 on 2027-03-28 does not exist in Stockholm and is refused by name."""
    with pytest.raises(InvalidInput) as caught:
        to_utc(local("2027-03-28 02:30"), STOCKHOLM)
    assert caught.value.code == "time_does_not_exist"
    assert caught.value.params["time"] == "2027-03-28 02:30"


def test_repeated_time_on_fall_back_night_needs_a_choice() -> None:
    """02:30 on 2026-10-25 happens twice: refused unless the caller says which."""
    with pytest.raises(InvalidInput) as caught:
        to_utc(local("2026-10-25 02:30"), STOCKHOLM)
    assert caught.value.code == "time_is_ambiguous"
    earlier = to_utc(local("2026-10-25 02:30"), STOCKHOLM, "earlier")
    later = to_utc(local("2026-10-25 02:30"), STOCKHOLM, "later")
    assert later - earlier == timedelta(hours=1)
    assert earlier.isoformat() == "2026-10-25T00:30:00+00:00"
