""""Jag blir sen": a walker tells their group lead and their group that they will be late.

Only for one's own confirmed sign-up, from ``LATE_FROM`` before the start until the shift
ends; minutes, when given, are 1 to ``MAX_MINUTES``. At most ``MAX_NOTICES`` per sign-up, each
under ``late:<signup>:<n>:person:<pid>`` in the outbox (urgent: it is about now).
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from models.tables import OutboxMessage, Person
from scheduling.common.context import Context
from scheduling.common.errors import DomainError
from scheduling.messages import doorbell
from scheduling.messages.kinds import Kind
from scheduling.messages.outbox import NewMessage, enqueue_many
from scheduling.people.access import Actor
from scheduling.walks.group_lead import group_lead
from scheduling.walks.my_group import first_name, others_on, own_signup

LATE_FROM = timedelta(hours=6)
MAX_MINUTES = 180
MAX_NOTICES = 3


def valid_minutes(minutes: int | None) -> bool:
    return minutes is None or 1 <= minutes <= MAX_MINUTES


async def running_late(ctx: Context, actor: Actor, shift_id: int, minutes: int | None) -> int:
    """Tell the group lead and the others on the shift; how many people were told."""
    if actor.person_id is None or not valid_minutes(minutes):
        raise DomainError("late_minutes", max=MAX_MINUTES)
    now = ctx.now()
    async with ctx.store.transaction() as session:
        signup, shift = await own_signup(session, actor.person_id, shift_id, now)
        if now < shift.start_at - LATE_FROM:
            raise DomainError("late_too_early", shift=shift_id, hours=6)
        prefix = f"late:{signup.id}:"
        sent = await session.exec(
            select(OutboxMessage.dedupe_key).where(col(OutboxMessage.dedupe_key).like(f"{prefix}%"))
        )
        notice = len({key.split(":")[2] for key in sent.all()})
        if notice >= MAX_NOTICES:
            raise DomainError("late_enough", shift=shift_id)
        people = await others_on(session, shift_id, actor.person_id)
        lead = await group_lead(session, shift)
        if lead is not None and lead.person_id not in people and lead.person_id != actor.person_id:
            people.append(lead.person_id)
        me = await session.get(Person, actor.person_id)
        payload = {"shift_id": shift_id, "name": first_name(me.name if me else None),
                   "minutes": minutes}
        messages = [
            NewMessage(key=f"{prefix}{notice}:person:{pid}", kind=Kind.RUNNING_LATE,
                       person_id=pid, due_at=now, payload=payload, expires_at=shift.end_at,
                       urgent=True)
            for pid in people
        ]
        await enqueue_many(session, messages, now)
    if messages:
        doorbell.ring(ctx.store)
    return len(messages)
