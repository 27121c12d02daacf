"""A walker's own group for one night: their confirmed sign-up on a shift and the others on it.

What "Jag blir sen" and sharing one's number need (``running_late.py``, ``sharing.py``): only
one's own confirmed sign-up counts, on a shift that is not cancelled and has not ended.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import Person, Shift, ShiftStatus, Signup, SignupStatus
from scheduling.common.errors import DomainError
from scheduling.walks.shifts import get_shift


def first_name(name: str | None) -> str:
    """What the group calls a walker: the first name only."""
    words = (name or "").split()
    return words[0] if words else "?"


async def own_signup(
    session: AsyncSession, person_id: int, shift_id: int, now: datetime
) -> tuple[Signup, Shift]:
    """The person's confirmed sign-up on a shift still to be walked; a polite refusal else."""
    shift = await get_shift(session, shift_id)
    found = await session.exec(
        select(Signup).where(
            col(Signup.shift_id) == shift_id,
            col(Signup.person_id) == person_id,
            col(Signup.status) == SignupStatus.CONFIRMED,
        )
    )
    signup = found.first()
    if signup is None:
        raise DomainError("street_not_signed_up", shift=shift_id)
    if shift.status == ShiftStatus.CANCELLED or shift.end_at <= now:
        raise DomainError("street_shift_over", shift=shift_id)
    return signup, shift


async def others_on(session: AsyncSession, shift_id: int, person_id: int) -> list[int]:
    """The other walkers confirmed on the shift (not erased), in sign-up order."""
    result = await session.exec(
        select(Signup.person_id)
        .join(Person, col(Person.id) == col(Signup.person_id))
        .where(
            col(Signup.shift_id) == shift_id,
            col(Signup.status) == SignupStatus.CONFIRMED,
            col(Signup.person_id) != person_id,
            col(Person.erased_at).is_(None),
        )
        .order_by(col(Signup.queued_at), col(Signup.id))
    )
    return list(result.all())
