"""The waitlist: free seats offered in arrival order, offers that expire and pass on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, bindparam
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import Shift, ShiftStatus, Signup, SignupStatus
from scheduling.common.context import Context
from scheduling.messages.outbox import enqueue
from scheduling.messages.quiet import awake_end, send_time
from scheduling.walks.shifts import get_shift
from scheduling.walks.signup_queries import FRESH, overlapping, seats_taken


async def promote_waitlisted(
    session: AsyncSession, ctx: Context, shift: Shift, now: datetime
) -> list[int]:
    """Fill free seats from the waitlist, in arrival order, skipping people now busy elsewhere.

    A promoted person holds the seat as an offer to confirm within ``promotion_confirm_within``
    of time outside quiet hours (and at the latest ``staffing_final_check_before`` the start);
    when no such time is left the seat is confirmed at once. Each promotion is announced through
    the outbox, held through quiet hours as other non-urgent messages are unless that would leave
    no time to answer.
    """
    if shift.status != ShiftStatus.PLANNED or shift.start_at <= now:
        return []
    promoted: list[int] = []
    free = shift.max_walkers - await seats_taken(session, shift.id or 0)
    if free <= 0:
        return promoted
    waiting = await session.exec(
        select(Signup)
        .where(col(Signup.shift_id) == shift.id, col(Signup.status) == SignupStatus.WAITLISTED)
        .order_by(col(Signup.queued_at), col(Signup.id))
        .execution_options(**FRESH)
    )
    deadline = _confirm_by(ctx, shift, now)
    for signup in waiting.all():
        if free <= 0:
            break
        if await overlapping(session, signup.person_id, shift) is not None:
            continue
        await _offer(session, ctx, signup, shift, deadline, now)
        promoted.append(signup.person_id)
        free -= 1
    await session.flush()
    return promoted


def _confirm_by(ctx: Context, shift: Shift, now: datetime) -> datetime:
    """``promotion_confirm_within`` not counting quiet hours (an offer made at 23:30 is answered
    by 10:00), but never later than ``staffing_final_check_before`` the start."""
    reminders = ctx.settings.reminders
    return min(
        awake_end(now, reminders.promotion_confirm_within, reminders.quiet_hours, ctx.zone),
        shift.start_at - reminders.staffing_final_check_before,
    )


def _quiet_send_time(ctx: Context, shift: Shift, now: datetime) -> datetime:
    """When a non-urgent message about ``shift`` made at ``now`` may go (quiet hours)."""
    quiet = ctx.settings.reminders.quiet_hours
    return send_time(now, now, quiet=quiet, zone=ctx.zone, shift_start=shift.start_at)


async def _offer(
    session: AsyncSession,
    ctx: Context,
    signup: Signup,
    shift: Shift,
    deadline: datetime,
    now: datetime,
) -> None:
    """The seat goes to ``signup``: offered until ``deadline``, or confirmed when none is left.

    The message waits for the end of quiet hours like other non-urgent ones, unless the offer
    would lapse first (a walk early the next morning): then it goes at once, urgent. An offer
    expires with its deadline and is sent only while it stands (``messages/relevance.py``).
    """
    needs_confirmation = deadline > now
    signup.status = SignupStatus.OFFERED if needs_confirmation else SignupStatus.CONFIRMED
    signup.offer_expires_at = deadline if needs_confirmation else None
    signup.confirmed_at = None if needs_confirmation else now
    signup.offers += 1
    session.add(signup)
    due_at = _quiet_send_time(ctx, shift, now)
    if needs_confirmation and due_at >= deadline:
        due_at = now
    await enqueue(
        session,
        key=f"promoted:signup:{signup.id}:offer:{signup.offers}",
        kind="promoted",
        person_id=signup.person_id,
        due_at=due_at,
        now=now,
        urgent=due_at <= now,
        expires_at=deadline if needs_confirmation else None,
        payload={
            "shift_id": shift.id,
            "signup_id": signup.id,
            "offer": signup.offers,
            "needs_confirmation": needs_confirmation,
            "confirm_by": deadline.isoformat() if needs_confirmation else None,
        },
    )


async def expire_offers(ctx: Context) -> int:
    """Offers not confirmed in time pass to the next in line, who is told. Returns how many.

    Each shift is settled in a transaction of its own, in shift order, as every decision about
    a seat is: the shift locked first, then its offers read afresh under the lock. An offer
    confirmed meanwhile (``sign_up`` takes the same lock) stays confirmed, and one another
    process expired already is not expired twice, so the person hears one outcome. The
    message's key names the sign-up and the offer's number: two processes compute it alike.
    """
    now = ctx.now()
    async with ctx.store.transaction() as session:
        shift_ids = (await session.exec(_SHIFTS_WITH_LAPSED, params={"now": now})).all()
    expired = 0
    for shift_id in sorted(set(shift_ids)):
        async with ctx.store.transaction() as session:
            expired += await _expire_on_shift(session, ctx, shift_id, now)
    return expired


async def _expire_on_shift(
    session: AsyncSession, ctx: Context, shift_id: int, now: datetime
) -> int:
    """Under the shift's lock: its lapsed offers cancelled, their seats offered on."""
    shift = await get_shift(session, shift_id, lock=True)
    lapsed = (await session.exec(_LAPSED_ON_SHIFT, params={"shift_id": shift_id, "now": now})).all()
    for signup in lapsed:
        signup.status = SignupStatus.CANCELLED
        signup.cancelled_at = now
        session.add(signup)
        await enqueue(
            session,
            key=f"offer_expired:signup:{signup.id}:offer:{signup.offers}",
            kind="offer_expired",
            person_id=signup.person_id,
            due_at=_quiet_send_time(ctx, shift, now),
            now=now,
            payload={"shift_id": shift.id},
        )
    if lapsed:
        await session.flush()
        await promote_waitlisted(session, ctx, shift, now)
    return len(lapsed)


_LAPSED = and_(
    col(Signup.status) == SignupStatus.OFFERED, col(Signup.offer_expires_at) <= bindparam("now")
)
# no DISTINCT (the caller dedupes the few rows): with it, SQLite's planner walked every
# sign-up in shift order instead of the offers' partial index
_SHIFTS_WITH_LAPSED = select(Signup.shift_id).where(_LAPSED)
_LAPSED_ON_SHIFT = (
    select(Signup)
    .where(col(Signup.shift_id) == bindparam("shift_id"), _LAPSED)
    .order_by(col(Signup.id))
    .execution_options(**FRESH)
)
