"""Quiet hours as a pure function: when a held message may go out."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduling.common.config import QuietHours
from scheduling.messages.quiet import awake_end, quiet_end_after, send_time

ZONE = ZoneInfo("Europe/Stockholm")
NIGHT = QuietHours(start=time(22, 0), end=time(8, 0))


def at(text: str) -> datetime:
    """A local wall time in Stockholm as an aware instant."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZONE).astimezone(UTC)


def test_before_and_after_midnight_wait_for_the_same_morning() -> None:
    """23:00 and 03:00 both wait until 08:00 of the morning after the night."""
    assert quiet_end_after(at("2026-11-27 23:00"), NIGHT, ZONE) == at("2026-11-28 08:00")
    assert quiet_end_after(at("2026-11-28 03:00"), NIGHT, ZONE) == at("2026-11-28 08:00")
    assert quiet_end_after(at("2026-11-28 08:00"), NIGHT, ZONE) is None
    assert quiet_end_after(at("2026-11-27 21:59"), NIGHT, ZONE) is None


def test_urgent_and_tonight_are_never_held() -> None:
    """An urgent message, or one about a walk starting before 08:00, goes at once."""
    due = at("2026-11-27 23:00")
    kwargs = {"quiet": NIGHT, "zone": ZONE}
    assert send_time(due, due, shift_start=at("2026-11-28 21:00"), urgent=True, **kwargs) == due
    assert send_time(due, due, shift_start=at("2026-11-28 01:00"), **kwargs) == due
    assert send_time(due, due, shift_start=at("2026-11-28 21:00"), **kwargs) == at(
        "2026-11-28 08:00"
    )


def test_a_late_tick_uses_the_time_it_runs() -> None:
    """Due at 21:00 but handled at 23:00 (vandra was down): held till the morning."""
    due, now = at("2026-11-27 21:00"), at("2026-11-27 23:00")
    held = send_time(due, now, quiet=NIGHT, zone=ZONE, shift_start=None)
    assert held == at("2026-11-28 08:00")


def test_a_quiet_end_the_clocks_skip_moves_an_hour_on() -> None:
    """A window ending 02:30 on the night 02:00-03:00 does not exist ends at 03:30 CEST."""
    window = QuietHours(start=time(22, 0), end=time(2, 30))
    end = quiet_end_after(at("2027-03-28 01:00"), window, ZONE)
    assert end is not None
    assert f"{end.astimezone(ZONE):%H:%M %Z}" == "03:30 CEST"


def test_a_span_of_waking_time_skips_the_night() -> None:
    """Two hours of waking time from 23:30 end at 10:00, from 21:30 at 09:30 (half an hour
    before the night, an hour and a half after), from 13:00 at 15:00; 30 hours span two nights."""
    two = timedelta(hours=2)
    assert awake_end(at("2026-11-28 23:30"), two, NIGHT, ZONE) == at("2026-11-29 10:00")
    assert awake_end(at("2026-11-29 03:00"), two, NIGHT, ZONE) == at("2026-11-29 10:00")
    assert awake_end(at("2026-11-28 21:30"), two, NIGHT, ZONE) == at("2026-11-29 09:30")
    assert awake_end(at("2026-11-28 13:00"), two, NIGHT, ZONE) == at("2026-11-28 15:00")
    assert awake_end(at("2026-11-28 13:00"), timedelta(hours=30), NIGHT, ZONE) == at(
        "2026-11-30 15:00"
    )
    no_night = QuietHours(start=time(0, 0), end=time(0, 0))
    assert awake_end(at("2026-11-28 23:30"), two, no_night, ZONE) == at("2026-11-29 01:30")
