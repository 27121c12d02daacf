"""Calls for walkers: one outbox message per recipient, each with a one-tap sign-up.

A broadcast goes through the same outbox as everything else (``broadcast:<id>:person:<id>``),
so the dispatcher sends it at the channel's rate, exactly once, and a restart loses nothing.
"""

from __future__ import annotations

from typing import Literal

from sqlmodel import col, select

from models.tables import Broadcast, Person, ShiftStatus, Signup, SignupStatus
from scheduling.access import Actor, audit, require_coordinator, require_manager
from scheduling.context import Context
from scheduling.errors import DomainError
from scheduling.outbox import enqueue
from scheduling.shifts import get_shift

Audience = Literal["organisation", "everyone"]


async def call_for_walkers(
    ctx: Context, actor: Actor, shift_id: int, audience: Audience = "organisation"
) -> Broadcast:
    """Queue a call for walkers for a shift to the volunteers who could still sign up.

    Leads may call their own organisation; only a coordinator may call everyone.
    """
    now = ctx.now()
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
    async with ctx.store.transaction() as session:
        already = select(Signup.person_id).where(
            col(Signup.shift_id) == shift_id, col(Signup.status) != SignupStatus.CANCELLED
        )
        query = select(Person.id).where(
            col(Person.erased_at).is_(None),
            col(Person.consent_at).is_not(None),
            col(Person.id).not_in(already),
        )
        if audience == "organisation":
            query = query.where(col(Person.organisation_id) == shift.organisation_id)
        recipients = [
            pid
            for pid in (await session.exec(query.order_by(col(Person.id)))).all()
            if pid is not None
        ]
        broadcast = Broadcast(
            shift_id=shift_id,
            audience=audience,
            author_id=actor.person_id,
            author_label=actor.label,
            organisation_id=shift.organisation_id,
            recipients=len(recipients),
            created_at=now,
        )
        session.add(broadcast)
        await session.flush()
        for person_id in recipients:
            await enqueue(
                session,
                key=f"broadcast:{broadcast.id}:person:{person_id}",
                kind="call_for_walkers",
                person_id=person_id,
                due_at=now,
                now=now,
                expires_at=shift.start_at,
                payload={"shift_id": shift_id, "broadcast_id": broadcast.id},
            )
        audit(
            session,
            actor,
            "broadcast",
            now,
            target=f"shift:{shift_id}",
            audience=audience,
            recipients=len(recipients),
        )
    return broadcast
