"""Broadcasts: calls for walkers for one shift (each with a one-tap sign-up) to those who could
still join; and the written announcements of ``announcements.py``, named here too.

Each recipient gets one row ``broadcast:<id>:person:<pid>``, due at once; the dispatcher sends
them at each channel's rate. A shift gets one call for walkers per alert window
(``call_window``: the shortest of ``[reminders] staffing_alerts_before``, 24 hours without
one); another within it is refused (``call_recently_made``) unless a coordinator confirms it
(``again=True``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import Broadcast, Person, Role, Shift, ShiftStatus, Signup, SignupStatus
from scheduling.common.context import Context
from scheduling.common.errors import DomainError
from scheduling.messages.announcements import MAX_BROADCAST_CHARS, broadcast, one_each
from scheduling.messages.audiences import VETTED, Audience
from scheduling.messages.kinds import Kind
from scheduling.messages.outbox import enqueue_many
from scheduling.people.access import Actor, audit, require_coordinator, require_manager
from scheduling.walks.shifts import get_shift

__all__ = ["MAX_BROADCAST_CHARS", "Audience", "broadcast", "call_for_walkers", "call_window"]


# --- calls for walkers for one shift --------------------------------------------------------

CallAudience = Literal["organisation", "everyone"]


async def call_for_walkers(
    ctx: Context, actor: Actor, shift_id: int, audience: CallAudience = "organisation",
    *, again: bool = False,
) -> Broadcast:
    """Put a call for walkers for a shift in the outbox for the volunteers who could still
    sign up. Leads may call their own organisation; only a coordinator may call everyone, and
    only a coordinator may call again (``again``) within the alert window."""
    now = ctx.now()
    shift = await _callable_shift(ctx, actor, shift_id, audience, now)
    async with ctx.store.transaction() as session:
        await _not_called_lately(ctx, session, actor, shift_id, again, now)
        recipients = await _free_volunteers(session, shift, audience)
        call = Broadcast(
            shift_id=shift_id,
            audience=audience,
            author_id=actor.person_id,
            author_label=actor.label,
            organisation_id=shift.organisation_id,
            recipients=len(recipients),
            created_at=now,
        )
        session.add(call)
        await session.flush()
        payload = {"shift_id": shift_id, "broadcast_id": call.id}
        calls = one_each(call, recipients, Kind.CALL_FOR_WALKERS, now, payload, shift.start_at)
        await enqueue_many(session, calls, now)
        audit(
            session, actor, "broadcast", now, target=f"shift:{shift_id}", audience=audience,
            recipients=len(recipients),
        )
    return call


def call_window(ctx: Context) -> timedelta:
    """How long one call for walkers for a shift stands before another may go out."""
    before = ctx.settings.reminders.staffing_alerts_before
    return min(before) if before else timedelta(hours=24)


async def _not_called_lately(
    ctx: Context, session: AsyncSession, actor: Actor, shift_id: int, again: bool, now: datetime
) -> None:
    """Refuse a second call within the window, unless a coordinator confirmed it."""
    if again and actor.is_coordinator:
        return
    found = await session.exec(
        select(Broadcast.created_at)
        .where(
            col(Broadcast.shift_id) == shift_id,
            col(Broadcast.text).is_(None),  # a call for walkers, not a written broadcast
            col(Broadcast.created_at) > now - call_window(ctx),
        )
        .order_by(col(Broadcast.created_at).desc())
    )
    last = found.first()
    if last is not None:
        minutes = max(1, int((now - last).total_seconds() // 60))
        raise DomainError("call_recently_made", shift=shift_id, minutes=minutes)


async def _callable_shift(
    ctx: Context, actor: Actor, shift_id: int, audience: CallAudience, now: datetime
) -> Shift:
    """The shift, once the actor may call for it and it is planned and not yet begun."""
    async with ctx.store.transaction() as session:
        shift = await get_shift(session, shift_id)
    await require_manager(
        ctx.store, actor, "broadcast", shift.organisation_id, now, target=f"shift:{shift_id}"
    )
    if audience == "everyone":
        await require_coordinator(
            ctx.store, actor, "broadcast.everyone", now, target=f"shift:{shift_id}"
        )
    if shift.status != ShiftStatus.PLANNED or shift.start_at <= now:
        raise DomainError(
            "shift_started" if shift.start_at <= now else "shift_cancelled", shift=shift_id
        )
    return shift


async def _free_volunteers(
    session: AsyncSession, shift: Shift, audience: CallAudience
) -> list[int]:
    """Consenting people let in to walk (``audiences.VETTED``), not signed up to the shift (of
    its organisation, unless everyone)."""
    already = select(Signup.person_id).where(
        col(Signup.shift_id) == shift.id, col(Signup.status) != SignupStatus.CANCELLED
    )
    query = select(Person.id).where(
        col(Person.erased_at).is_(None),
        col(Person.consent_at).is_not(None),
        col(Person.id).not_in(already),
        col(Person.role) != Role.PARTNER,
        VETTED,
    )
    if audience == "organisation":
        query = query.where(col(Person.organisation_id) == shift.organisation_id)
    result = await session.exec(query.order_by(col(Person.id)))
    return [person_id for person_id in result.all() if person_id is not None]
