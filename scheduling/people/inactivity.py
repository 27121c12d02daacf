"""Who retention counts as inactive: long quiet, and not needed by any shift ahead."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import col, select

from models.tables import Person, Role, Shift, ShiftStatus, Signup, SignupStatus
from scheduling.common.context import Context
from scheduling.walks.series import MAX_SHIFT_LENGTH


async def inactive_people(ctx: Context, now: datetime) -> list[Person]:
    """People not active for ``inactive_person_days``, except those still needed.

    Still needed: anyone holding a place on a shift not yet over, a lead while their
    organisation has such a shift, coordinators while any shift lies ahead, and partners (they
    only receive the morning picture, so they never look active). Those with a place are left
    out by the database (in a big town that is most people: loading them all as objects to
    drop them took a second of the event loop's time).
    """
    cutoff = now - timedelta(days=ctx.settings.privacy.inactive_person_days)
    ahead = _ahead(now)
    holding_a_place = select(Signup.person_id).where(
        col(Signup.shift_id).in_(select(Shift.id).where(ahead)),
        col(Signup.status) != SignupStatus.CANCELLED,
    )
    async with ctx.store.transaction() as session:
        found = await session.exec(
            select(Person)
            .where(
                col(Person.erased_at).is_(None),
                or_(
                    col(Person.last_active_at) <= cutoff,
                    and_(col(Person.last_active_at).is_(None), col(Person.created_at) <= cutoff),
                ),
                col(Person.id).not_in(holding_a_place),
            )
            .order_by(col(Person.id))
        )
        candidates = list(found.all())
        if not candidates:
            return []
        orgs = await session.exec(select(Shift.organisation_id).where(ahead).distinct())
        busy_orgs = set(orgs.all())
    return [p for p in candidates if not _needed(p, busy_orgs)]


def _ahead(now: datetime) -> ColumnElement[bool]:
    """Shifts not yet over (bounded by start too, which has an index: years lie behind)."""
    return and_(
        col(Shift.status) == ShiftStatus.PLANNED,
        col(Shift.start_at) > now - MAX_SHIFT_LENGTH,
        col(Shift.end_at) > now,
    )


def _needed(person: Person, busy_orgs: set[int]) -> bool:
    if person.role == Role.PARTNER:
        return True  # they only receive the morning picture: quiet is how they are
    if person.role == Role.COORDINATOR:
        return bool(busy_orgs)
    return person.role == Role.LEAD and person.organisation_id in busy_orgs
