"""A follow-up left open reminds the coordinators once every ``[followups] remind_every``
(3 days): derived in the tick from the store, under a key that names the period
(``followup:<id>:remind:<n>:person:<id>``), so a restart or a second worker never repeats one
and a long downtime yields one reminder, not one per period missed."""

from __future__ import annotations

from sqlmodel import col, select

from models.tables import FollowUp, FollowUpStatus, Person, Role
from scheduling.common.context import Context
from scheduling.messages.due_planning import plan
from scheduling.messages.kinds import Kind
from scheduling.messages.outbox import NewMessage, enqueue_many


async def remind_open_follow_ups(ctx: Context) -> int:
    """Queue the reminders due now; how many were new."""
    now = ctx.now()
    every = ctx.settings.followups.remind_every
    async with ctx.store.transaction() as session:
        waiting = (await session.exec(
            select(FollowUp.id, FollowUp.opened_at, FollowUp.shift_id).where(
                col(FollowUp.status) == FollowUpStatus.OPEN, col(FollowUp.opened_at) <= now - every
            )
        )).all()
        if not waiting:
            return 0
        coordinators = (await session.exec(
            select(Person.id).where(
                col(Person.role) == Role.COORDINATOR, col(Person.erased_at).is_(None)
            )
        )).all()
        messages: list[NewMessage] = []
        for follow_up_id, opened_at, shift_id in waiting:
            period = int((now - opened_at) / every)
            days = int((now - opened_at).total_seconds() // 86400)
            for person_id in coordinators:
                messages.append(plan(
                    ctx, now, key=f"followup:{follow_up_id}:remind:{period}:person:{person_id}",
                    kind=Kind.FOLLOW_UP_REMINDER, person_id=person_id or 0, moment=now,
                    expires_at=None, shift_start=None,
                    payload={"follow_up_id": follow_up_id, "shift_id": shift_id, "days": days},
                ))
        return await enqueue_many(session, messages, now)
