"""The tick's step: queue the morning picture of the night that is due, once per night.

A ``due_mark`` (``morning:<day>``) written in the same transaction as the messages makes it
once: a second tick, a restart or a second worker finds the mark (or loses the race for it)
and queues nothing. The figures are counted once and carried in the payload, so every
recipient reads the same picture; each renders it in their own language and channel."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from evaluation.morning.facts import any_walks, load_night
from evaluation.morning.night import due_night
from evaluation.morning.sections import picture
from models.tables import Person, Role
from scheduling.common.context import Context
from scheduling.messages.due_planning import fire_once, fired, plan
from scheduling.messages.kinds import Kind
from scheduling.messages.outbox import enqueue_many

AUDIENCE = (Role.PARTNER, Role.COORDINATOR)
VALID = timedelta(hours=24)


async def queue_morning_picture(ctx: Context) -> int:
    """Queue the due night's picture for every partner and coordinator; how many messages."""
    now = ctx.now()
    night = due_night(ctx, now)
    if night is None:
        return 0
    async with ctx.store.transaction() as session:
        if await fired(session, [night.key]):
            return 0
    if not await any_walks(ctx, night):
        return 0
    lines = await picture(ctx, await load_night(ctx, night))
    payload = {"night": night.day.isoformat(), "lines": lines}
    async with ctx.store.transaction() as session:
        if not await fire_once(session, night.key, now):
            return 0  # another worker queued it first
        people = (await session.exec(
            select(Person.id).where(col(Person.role).in_(AUDIENCE),
                                    col(Person.erased_at).is_(None)).order_by(col(Person.id))
        )).all()
        messages = [
            plan(ctx, now, key=f"{night.key}:person:{person_id}", kind=Kind.MORNING_PICTURE,
                 person_id=person_id or 0, moment=night.moment, expires_at=night.moment + VALID,
                 shift_start=None, payload=payload)
            for person_id in people
        ]
        return await enqueue_many(session, messages, now)
