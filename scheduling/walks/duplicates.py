"""A shift that repeats another: the same area and start, not cancelled.

Adding or moving a shift onto one that exists is refused (``shift_duplicate``) unless forced;
a weekly series skips the dates that have one and reports them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import Shift, ShiftStatus
from scheduling.common.errors import DomainError


async def existing_starts(
    session: AsyncSession, area_id: int, starts: Sequence[datetime], except_id: int | None = None
) -> dict[datetime, int]:
    """Of ``starts``, those at which a shift of the area that is not cancelled begins (its id)."""
    if not starts:
        return {}
    statement = select(Shift.start_at, Shift.id).where(
        col(Shift.area_id) == area_id,
        col(Shift.start_at).in_(list(starts)),
        col(Shift.status) != ShiftStatus.CANCELLED,
    )
    if except_id is not None:
        statement = statement.where(col(Shift.id) != except_id)
    rows = (await session.exec(statement)).all()
    return {start: shift_id or 0 for start, shift_id in rows}


async def refuse_duplicate(
    session: AsyncSession, area_id: int, start_at: datetime, except_id: int | None = None
) -> None:
    """Refuse a shift at ``start_at`` in the area when another one begins there then."""
    found = await existing_starts(session, area_id, [start_at], except_id)
    if found:
        raise DomainError("shift_duplicate", shift=next(iter(found.values())))
