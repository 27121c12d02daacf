"""What a message about a shift needs to say: names, meeting point, and whom to call.

The contact is the organisation's lead, else a coordinator — never another volunteer: their
phone numbers are not shown to other volunteers. Only the safety alert, which goes to leads and
coordinators alone, names the walkers who checked in, with their numbers, so the group can be
reached at night.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import Area, Organisation, Person, Role, Shift, Signup
from scheduling.common.context import Context


@dataclass(frozen=True)
class Contact:
    name: str
    role: str
    phone: str | None


@dataclass(frozen=True)
class ShiftDetails:
    shift: Shift
    organisation: str
    area: str
    meeting_point: str | None
    contact: Contact | None


async def shift_details(ctx: Context, shift_id: int) -> ShiftDetails | None:
    """The shift with its organisation, area, meeting point and contact; None if it is gone."""
    async with ctx.store.transaction() as session:
        result = await session.exec(
            select(Shift, Organisation, Area)
            .join(Organisation, col(Organisation.id) == col(Shift.organisation_id))
            .join(Area, col(Area.id) == col(Shift.area_id))
            .where(col(Shift.id) == shift_id)
        )
        row = result.first()
        if row is None:
            return None
        shift, organisation, area = row
        return ShiftDetails(
            shift=shift,
            organisation=organisation.name,
            area=area.name,
            meeting_point=shift.meeting_point or area.meeting_point,
            contact=await _contact(session, shift.organisation_id),
        )


async def _contact(session: AsyncSession, organisation_id: int) -> Contact | None:
    """A lead of the organisation (one with a phone first), else a coordinator."""
    for role, organisation in ((Role.LEAD, organisation_id), (Role.COORDINATOR, None)):
        statement = select(Person).where(col(Person.role) == role, col(Person.erased_at).is_(None))
        if organisation is not None:
            statement = statement.where(col(Person.organisation_id) == organisation)
        people = (await session.exec(statement.order_by(col(Person.id)))).all()
        if people:
            chosen = next((p for p in people if p.phone), people[0])
            return Contact(name=chosen.name, role=role, phone=chosen.phone)
    return None


async def walkers_still_out(ctx: Context, shift_id: int) -> list[Contact]:
    """Walkers who checked in on a shift by its end and have not checked out (for the safety
    alert to leads and coordinators: whom to call)."""
    async with ctx.store.transaction() as session:
        result = await session.exec(
            select(Person)
            .join(Signup, col(Signup.person_id) == col(Person.id))
            .join(Shift, col(Shift.id) == col(Signup.shift_id))
            .where(
                col(Signup.shift_id) == shift_id,
                col(Signup.checked_in_at).is_not(None),
                col(Signup.checked_in_at) <= col(Shift.end_at),
                col(Signup.checked_out_at).is_(None),
            )
            .order_by(col(Signup.checked_in_at))
        )
        return [Contact(name=p.name, role=p.role, phone=p.phone) for p in result.all()]


async def person_name(ctx: Context, person_id: int | None) -> str | None:
    if person_id is None:
        return None
    async with ctx.store.transaction() as session:
        person = await session.get(Person, person_id)
        return person.name if person is not None and person.erased_at is None else None
