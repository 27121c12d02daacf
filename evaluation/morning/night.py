"""Which night's picture is due: the night of local day D runs from D 12:00 to D+1 12:00
(local wall time, so also across a change to or from summer time); its picture is due at
``morning_summary_at`` on D+1 and is still sent for ``FRESH_FOR`` after that (a restart in the
morning catches up), never later."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from scheduling.common.context import Context

NOON = time(12, 0)
FRESH_FOR = timedelta(hours=12)


@dataclass(frozen=True)
class Night:
    day: date  # the local day the evening belongs to
    start: datetime  # UTC: D 12:00 local
    end: datetime  # UTC: D+1 12:00 local
    moment: datetime  # UTC: when the picture is due

    @property
    def key(self) -> str:
        return f"morning:{self.day.isoformat()}"


def night_of(ctx: Context, day: date) -> Night:
    zone = ctx.zone
    at = ctx.settings.evaluation.morning_summary_at
    following = day + timedelta(days=1)
    return Night(
        day=day,
        start=datetime.combine(day, NOON, zone).astimezone(UTC),
        end=datetime.combine(following, NOON, zone).astimezone(UTC),
        moment=datetime.combine(following, at, zone).astimezone(UTC),
    )


def due_night(ctx: Context, now: datetime) -> Night | None:
    """The night whose picture is due now (its moment passed, not long ago), or None."""
    today = now.astimezone(ctx.zone).date()
    for day in (today - timedelta(days=1), today - timedelta(days=2)):
        night = night_of(ctx, day)
        if night.moment <= now:
            return night if now - night.moment <= FRESH_FOR else None
    return None
