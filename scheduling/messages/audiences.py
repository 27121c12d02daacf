"""Who a lead's or the coordinator's announcement reaches.

By organisation (its people), by area (those signed up to an area's coming shifts), by night
(those signed up to the shifts that start on one local night, noon to noon) or by shift; area
and night may be narrowed to one organisation's shifts, as a lead's always are. Everyone who has
consented, been let in to walk (``VETTED``) and not turned announcements off
(``Person.announcements_off``) counts, and only they: the head-count a sender confirms is the
number of messages queued.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from models.tables import Person, Role, Shift, ShiftStatus, Signup, SignupStatus
from scheduling.common.localtime import to_utc

NIGHT_STARTS = time(12, 0)  # a night's shifts start from noon until noon the next day

# Let in to walk: approved (or added by staff, or registered where no approval is needed;
# someone turned down was never approved). Someone still waiting for a lead's approval is not
# told the organisation's news or asked to walk: they cannot sign up yet, and its
# announcements (where and when the groups meet) are for the walkers it has vetted.
VETTED = col(Person.approved_at).is_not(None)


@dataclass(frozen=True)
class Audience:
    """Who a broadcast goes to; nothing set is everyone (a coordinator's only)."""

    organisation_id: int | None = None
    shift_id: int | None = None
    area_id: int | None = None
    night: date | None = None

    @property
    def by_signups(self) -> bool:
        return self.shift_id is not None or self.area_id is not None or self.night is not None

    @property
    def kind(self) -> str:
        """What the broadcast row records as its audience."""
        if self.shift_id is not None:
            return "shift"
        if self.night is not None:
            return "night"
        if self.area_id is not None:
            return "area"
        return "organisation" if self.organisation_id is not None else "everyone"


def night_bounds(night: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants a night's shifts start between: noon to noon, local time."""
    start = to_utc(datetime.combine(night, NIGHT_STARTS), zone, "earlier")
    end = to_utc(datetime.combine(night + timedelta(days=1), NIGHT_STARTS), zone, "earlier")
    return start, end


async def recipients(
    session: AsyncSession, audience: Audience, now: datetime, zone: ZoneInfo
) -> list[int]:
    """The ids of the people the audience reaches, in id order."""
    statement = select(Person.id).where(
        col(Person.erased_at).is_(None),
        col(Person.consent_at).is_not(None),
        col(Person.announcements_off).is_(False),
        col(Person.role) != Role.PARTNER,  # partners get the morning picture, nothing else
        VETTED,
    )
    if audience.by_signups:
        statement = statement.where(col(Person.id).in_(_signed_up(audience, now, zone)))
    elif audience.organisation_id is not None:
        statement = statement.where(col(Person.organisation_id) == audience.organisation_id)
    result = await session.exec(statement.order_by(col(Person.id)))
    return [person_id for person_id in result.all() if person_id is not None]


def _signed_up(audience: Audience, now: datetime, zone: ZoneInfo) -> SelectOfScalar[int]:
    """Those holding a place (or waiting for one) on the audience's planned shifts."""
    query = (
        select(Signup.person_id)
        .join(Shift, col(Shift.id) == col(Signup.shift_id))
        .where(
            col(Signup.status) != SignupStatus.CANCELLED,
            col(Shift.status) != ShiftStatus.CANCELLED,
        )
    )
    if audience.shift_id is not None:
        query = query.where(col(Shift.id) == audience.shift_id)
    if audience.organisation_id is not None:
        query = query.where(col(Shift.organisation_id) == audience.organisation_id)
    if audience.area_id is not None:
        query = query.where(col(Shift.area_id) == audience.area_id)
    if audience.night is not None:
        start, end = night_bounds(audience.night, zone)
        query = query.where(col(Shift.start_at) >= start, col(Shift.start_at) < end)
    elif audience.shift_id is None:
        query = query.where(col(Shift.end_at) > now)  # an area's coming shifts
    return query
