"""The tables of places for the kommun's fault reporting: a place issue walkers reported
(a broken light at Larmtorget), and which reports named it. Re-exported by ``models.tables``.

``open_key`` is set while a place is still open (``open`` or ``reported``) and cleared once it
is ``fixed`` or ``dismissed``; its unique constraint is what merges repeated reports of an open
place into one row, on both databases (evaluation/places/merge.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.columns import utc_field


class PlaceStatus:
    OPEN = "open"
    REPORTED = "reported"  # passed on to the kommun's fault reporting, not fixed yet
    FIXED = "fixed"
    DISMISSED = "dismissed"
    ALL = (OPEN, REPORTED, FIXED, DISMISSED)
    STILL_OPEN = (OPEN, REPORTED)


class Place(SQLModel, table=True):
    """One place issue: where (the shift's area and the spot), what kind, seen when, how often."""

    __tablename__ = "place"
    id: int | None = Field(default=None, primary_key=True)
    area_id: int = Field(foreign_key="area.id", index=True)
    spot: str = Field(max_length=120)  # as the first report named it
    kind: str = Field(max_length=20)  # a code of scheduling/walks/reports.py PLACE_ISSUES
    status: str = Field(default=PlaceStatus.OPEN, max_length=16, index=True)
    open_key: str | None = Field(default=None, max_length=200, unique=True)
    reports: int = 0
    first_seen_at: datetime = utc_field(nullable=False)  # the walks' start times
    last_seen_at: datetime = utc_field(nullable=False)
    created_at: datetime = utc_field(nullable=False, index=True)  # first recorded
    status_at: datetime | None = utc_field()
    status_by: str | None = Field(default=None, max_length=120)


class PlaceReport(SQLModel, table=True):
    """A report that named a place: each report counts once per place."""

    __tablename__ = "place_report"
    __table_args__ = (UniqueConstraint("place_id", "report_id", name="uq_place_report"),)
    id: int | None = Field(default=None, primary_key=True)
    place_id: int = Field(foreign_key="place.id", index=True)
    report_id: int = Field(foreign_key="report.id", index=True)
