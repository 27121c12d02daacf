"""The statements a decision about a seat reads with, built once with values as parameters.

SQLAlchemy then finds their compiled form without computing a cache key each time. What a
decision under the shift's lock reads is read afresh (populate_existing), even if the turn's
session loaded the same rows earlier.
"""

from __future__ import annotations

from sqlalchemy import and_, bindparam, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import Person, Shift, ShiftStatus, Signup, SignupStatus

FRESH = {"populate_existing": True}
SIGNUP_OF = (
    select(Signup)
    .where(
        col(Signup.shift_id) == bindparam("shift_id"),
        col(Signup.person_id) == bindparam("person_id"),
    )
    .execution_options(**FRESH)
)
# A sign-up (joined with its shift) that holds the person's seat on another planned shift
# overlapping the one asked for: the person is busy elsewhere then.
_CLASHING = and_(
    col(Signup.person_id) == bindparam("person_id"),
    # not IN (...): a list is rendered into the SQL at each run, which models/thin.py avoids
    or_(*(col(Signup.status) == status for status in SignupStatus.HOLDS_SEAT)),
    col(Shift.status) == ShiftStatus.PLANNED,
    col(Shift.id) != bindparam("shift_id"),
    col(Shift.start_at) < bindparam("end_at"),
    col(Shift.end_at) > bindparam("start_at"),
)
SIGNUPS_AND_CLASHES = (
    sa_select(Signup, col(Person.trained))
    .join(Person, col(Person.id) == col(Signup.person_id))
    .join(Shift, col(Shift.id) == col(Signup.shift_id))
    .where(or_(col(Signup.shift_id) == bindparam("shift_id"), _CLASHING))
    .execution_options(**FRESH)
)
_SEATS_TAKEN = (
    select(func.count())
    .select_from(Signup)
    .where(
        col(Signup.shift_id) == bindparam("shift_id"),
        col(Signup.status).in_(SignupStatus.HOLDS_SEAT),
    )
)
_OVERLAPPING = select(Shift.id).join(Signup, col(Signup.shift_id) == col(Shift.id)).where(_CLASHING)


async def signup_of(session: AsyncSession, shift_id: int, person_id: int) -> Signup | None:
    """The person's sign-up to the shift (of any status), read afresh."""
    params = {"shift_id": shift_id, "person_id": person_id}
    return (await session.exec(SIGNUP_OF, params=params)).first()


async def seats_taken(session: AsyncSession, shift_id: int) -> int:
    """How many sign-ups hold a seat: confirmed or offered."""
    return int((await session.exec(_SEATS_TAKEN, params={"shift_id": shift_id})).one())


async def overlapping(session: AsyncSession, person_id: int, shift: Shift) -> int | None:
    """Another planned shift of this person's, holding a seat, that overlaps in time."""
    params = {
        "person_id": person_id,
        "shift_id": shift.id,
        "start_at": shift.start_at,
        "end_at": shift.end_at,
    }
    return (await session.exec(_OVERLAPPING, params=params)).first()
