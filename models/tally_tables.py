"""Per-walk tallies for the statistics (``evaluation/tally_refresh.py``, ``tally_sums.py``).

``walk_tally`` holds one row per shift that had ended when it was counted: the figures the
statistics add up (held, sign-ups, no-shows, walker-milliseconds, the merged report, alarms,
time bands...), counted from the raw rows. ``walk_tally_due`` lists the shifts whose tally is
missing or out of date: database triggers (migration 0020) put a shift there (or bump its
``gen``) and delete its tally whenever a row its figures come from changes (the shift, its
sign-ups, reports and alarms, a walker's "trained"), in the same transaction as the change,
whatever code made it. So a stored tally is always that of the raw rows as they stand; the
statistics count the shifts without one from the raw rows, so a tally never has to be
counted "soon" to be right.

``first_walk`` holds each walker's first walk ever (the earliest shift not cancelled on which
they checked in), for "new walkers": database triggers (migration 0022) keep it that of the raw
rows in the same transaction as any change to a sign-up, a shift or a person.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index
from sqlmodel import Field, SQLModel

from models.columns import utc_field

YOUTH_COLUMNS = ("youth_0", "youth_1", "youth_2", "youth_3", "youth_4")
MOOD_COLUMNS = ("mood_0", "mood_1", "mood_2")
BAND_COLUMNS = ("band_0_ms", "band_1_ms", "band_2_ms", "band_3_ms")
# the figures a group's statistics are the sums of (new walkers are counted live)
SUM_COLUMNS = (
    "held",
    "cancelled",
    "understaffed",
    "confirmed",
    "seats",
    "incidents",
    "emergencies",
    "reported",
    "reports",
    *YOUTH_COLUMNS,
    *MOOD_COLUMNS,
    "alarms",
    "false_alarms",
    "expected",
    "no_shows",
    "walked_ms",
)


class WalkTally(SQLModel, table=True):
    """One ended shift's figures (see the module's docstring); ``basis`` names the settings
    they were counted with (time zone, trained walkers needed): counted under others, the
    row is not used."""

    __tablename__ = "walk_tally"
    shift_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    basis: str = Field(max_length=80, index=True)  # others are found without a scan
    counted_at: datetime = utc_field(nullable=False)
    # the shift's as they were counted (any change to the shift drops the row)
    start_at: datetime = utc_field(nullable=False, index=True)
    end_at: datetime = utc_field(nullable=False)
    organisation_id: int
    area_id: int
    risk_night: bool
    held: int = 0
    cancelled: int = 0
    understaffed: int = 0
    confirmed: int = 0  # confirmed sign-ups, when not cancelled
    seats: int = 0  # maximum walkers, when not cancelled
    incidents: int = 0
    emergencies: int = 0
    reported: int = 0  # held with a submitted report
    reports: int = 0
    youth_0: int = 0
    youth_1: int = 0
    youth_2: int = 0
    youth_3: int = 0
    youth_4: int = 0
    mood_0: int = 0
    mood_1: int = 0
    mood_2: int = 0
    alarms: int = 0
    false_alarms: int = 0
    expected: int = 0  # confirmed sign-ups (not cancelled)
    no_shows: int = 0
    # walker-milliseconds: 100 walkers for 16 hours is 5.8e9, past a 32-bit integer
    walked_ms: int = Field(default=0, sa_type=BigInteger)  # (held)
    band_mask: int = 0  # bit n: the planned time overlaps time band n
    band_0_ms: int = Field(default=0, sa_type=BigInteger)
    band_1_ms: int = Field(default=0, sa_type=BigInteger)
    band_2_ms: int = Field(default=0, sa_type=BigInteger)
    band_3_ms: int = Field(default=0, sa_type=BigInteger)
    local_day: int = 0  # the local start day (date.toordinal), for the weeks
    walkers: str | None = Field(default=None)  # "id,id,..." who checked in (held)
    services: str | None = Field(default=None)  # JSON list (held, any named)
    places: str | None = Field(default=None)  # JSON list of [place, category] (held)


class WalkTallyDue(SQLModel, table=True):
    """A shift whose tally is missing or out of date, to be counted from ``due_at`` (its
    end); ``gen`` grows with every change, so a count that raced a change leaves it listed."""

    __tablename__ = "walk_tally_due"
    __table_args__ = (Index("ix_walk_tally_due_at", "due_at"),)
    shift_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    due_at: datetime = utc_field(nullable=False)
    gen: int = 1


class FirstWalk(SQLModel, table=True):
    """A walker's first walk ever: the earliest (by start, then id) shift not cancelled on
    which they have a confirmed sign-up with a check-in. Kept by triggers (see the module's
    docstring); a person who never walked has no row."""

    __tablename__ = "first_walk"
    person_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    shift_id: int = Field(index=True)
    start_at: datetime = utc_field(nullable=False, index=True)  # the shift's start
