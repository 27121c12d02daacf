"""Who retention counts as inactive: long quiet, and not needed by any shift ahead."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import Person, Role, Shift, ShiftStatus, Signup, SignupStatus
from scheduling.common.context import Context


async def inactive_people(ctx: Context, now: datetime) -> list[Person]:
    """People not active for ``inactive_person_days``, except those still needed.

    Still needed: anyone holding a place on a shift not yet over, a lead while their
    organisation has such a shift, coordinators while any shift lies ahead, and partners
    (they only receive the morning picture, so they never look active).
    """
    cutoff = now - timedelta(days=ctx.settings.privacy.inactive_person_days)
    async with ctx.store.transaction() as session:
        found = await session.exec(
            select(Person)
            .where(
                col(Person.erased_at).is_(None),
                or_(
                    col(Person.last_active_at) <= cutoff,
                    and_(col(Person.last_active_at).is_(None), col(Person.created_at) <= cutoff),
                ),
            )
            .order_by(col(Person.id))
        )
        candidates = list(found.all())
        if not candidates:
            return []
        signed_up, busy_orgs = await _still_needed(session, now)
    return [p for p in candidates if not _needed(p, signed_up, busy_orgs)]


async def _still_needed(session: AsyncSession, now: datetime) -> tuple[set[int], set[int]]:
    """Who is signed up for a shift not yet over, and which organisations have such shifts."""
    ahead = and_(col(Shift.status) == ShiftStatus.PLANNED, col(Shift.end_at) > now)
    people = await session.exec(
        select(Signup.person_id)
        .join(Shift, col(Shift.id) == col(Signup.shift_id))
        .where(ahead, col(Signup.status) != SignupStatus.CANCELLED)
        .distinct()
    )
    orgs = await session.exec(select(Shift.organisation_id).where(ahead).distinct())
    return set(people.all()), set(orgs.all())


def _needed(person: Person, signed_up: set[int], busy_orgs: set[int]) -> bool:
    if person.id in signed_up:
        return True
    if person.role == Role.PARTNER:
        return True  # they only receive the morning picture: quiet is how they are
    if person.role == Role.COORDINATOR:
        return bool(busy_orgs)
    return person.role == Role.LEAD and person.organisation_id in busy_orgs

