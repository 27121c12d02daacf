"""Which shift a walker's report is about, when they do not say."""

from __future__ import annotations

from sqlmodel import col, select

from models.tables import Shift, Signup, SignupStatus
from scheduling.common.context import Context


async def latest_walked_shift(ctx: Context, person_id: int) -> int | None:
    """The most recent started shift the person had a confirmed seat on."""
    async with ctx.store.joined() as session:
        return (
            await session.exec(
                select(Shift.id)
                .join(Signup, col(Signup.shift_id) == col(Shift.id))
                .where(
                    col(Signup.person_id) == person_id,
                    col(Signup.status) == SignupStatus.CONFIRMED,
                    col(Shift.start_at) <= ctx.now(),
                )
                .order_by(col(Shift.start_at).desc())
            )
        ).first()
