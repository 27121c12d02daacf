"""The group lead of a shift: the walker who leads that night's group.

A lead of the organisation or a coordinator names one among the walkers confirmed on the shift
(``name_group_lead``, audited); until then vandra proposes the trained walker who signed up
first. The group lead is shown on the shift's card, in the reminders and in the alarms.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import Person, Shift, Signup, SignupStatus
from scheduling.common.context import Context
from scheduling.common.errors import DomainError
from scheduling.people.access import Actor, audit, require_manager
from scheduling.walks.shifts import get_shift


@dataclass(frozen=True)
class GroupLead:
    person_id: int
    name: str
    proposed: bool  # vandra's proposal (the first trained walker), nobody named one


async def group_lead(session: AsyncSession, shift: Shift) -> GroupLead | None:
    """The named group lead while still on the shift, else the proposal, else None."""
    result = await session.exec(
        select(Person.id, Person.name, Person.trained)
        .join(Signup, col(Signup.person_id) == col(Person.id))
        .where(col(Signup.shift_id) == shift.id, col(Signup.status) == SignupStatus.CONFIRMED,
               col(Person.erased_at).is_(None))
        .order_by(col(Signup.queued_at), col(Signup.id))
    )
    walkers = [(pid or 0, name, trained) for pid, name, trained in result.all()]
    for pid, name, _ in walkers:
        if pid == shift.group_lead_id:
            return GroupLead(pid, name, proposed=False)
    for pid, name, trained in walkers:
        if trained:
            return GroupLead(pid, name, proposed=True)
    return None


async def group_lead_of(ctx: Context, shift_id: int) -> GroupLead | None:
    async with ctx.store.joined() as session:
        return await group_lead(session, await get_shift(session, shift_id))


async def name_group_lead(ctx: Context, actor: Actor, shift_id: int, person_id: int) -> GroupLead:
    """A lead of the organisation or a coordinator names the group lead (one of the walkers
    confirmed on the shift)."""
    now = ctx.now()
    async with ctx.store.transaction() as session:
        shift = await get_shift(session, shift_id)
    await require_manager(ctx.store, actor, "shifts.group_lead", shift.organisation_id, now,
                          target=f"shift:{shift_id}")
    async with ctx.store.transaction() as session:
        shift = await get_shift(session, shift_id)
        on_it = await session.exec(
            select(Signup.id).where(col(Signup.shift_id) == shift_id,
                                    col(Signup.person_id) == person_id,
                                    col(Signup.status) == SignupStatus.CONFIRMED)
        )
        if on_it.first() is None:
            raise DomainError("group_lead_not_on_shift", shift=shift_id)
        shift.group_lead_id = person_id
        session.add(shift)
        audit(session, actor, "shifts.group_lead", now, target=f"shift:{shift_id}",
              person=person_id)
        lead = await group_lead(session, shift)
    assert lead is not None
    return lead


async def walkers_of(ctx: Context, shift_id: int) -> list[tuple[int, str]]:
    """The walkers confirmed on the shift (id, name), in sign-up order: who may be named."""
    async with ctx.store.joined() as session:
        result = await session.exec(
            select(Person.id, Person.name)
            .join(Signup, col(Signup.person_id) == col(Person.id))
            .where(col(Signup.shift_id) == shift_id, col(Signup.status) == SignupStatus.CONFIRMED,
                   col(Person.erased_at).is_(None))
            .order_by(col(Signup.queued_at), col(Signup.id))
        )
        return [(pid or 0, name) for pid, name in result.all()]
