"""Nights the kommun offers to organisations (``scheduling/nights/``): the night, and the
organisations that applied for it or stand as reserve."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.columns import utc_field


class NightStatus:
    OPEN = "open"  # published, no organisation holds it
    HELD = "held"  # an organisation holds it: ``shift_id`` is its shift
    WITHDRAWN = "withdrawn"  # the coordinator took it back


class ClaimKind:
    CLAIM = "claim"  # wants the night (the coordinator allocates among claims)
    RESERVE = "reserve"  # takes it over if the holder gives it back or falls short


class Night(SQLModel, table=True):
    """One open night: when and where, and who holds it (then it has a real shift)."""

    __tablename__ = "night"
    id: int | None = Field(default=None, primary_key=True)
    area_id: int = Field(foreign_key="area.id")
    start_at: datetime = utc_field(nullable=False, index=True)
    end_at: datetime = utc_field(nullable=False)
    min_walkers: int
    max_walkers: int
    status: str = Field(default=NightStatus.OPEN, max_length=16)
    holder_id: int | None = Field(default=None, foreign_key="organisation.id")
    shift_id: int | None = Field(default=None, foreign_key="shift.id", unique=True)
    handed_on: int = 0  # times given back or taken over: numbers the messages about it
    offered_at: datetime | None = utc_field()  # short at the final check: reserves asked
    published_at: datetime = utc_field(nullable=False)


class NightClaim(SQLModel, table=True):
    """An organisation's claim on a night, or its standing as reserve (one row each)."""

    __tablename__ = "night_claim"
    __table_args__ = (UniqueConstraint("night_id", "organisation_id", name="uq_night_claim_org"),)
    id: int | None = Field(default=None, primary_key=True)
    night_id: int = Field(foreign_key="night.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id")
    kind: str = Field(max_length=16)
    person_id: int | None = None  # the lead who asked (no key: people may be merged)
    created_at: datetime = utc_field(nullable=False)
