"""The repeats of an open alarm: every ``ALARM_REPEAT`` to the coordinators (to the leads when
there is none) until someone acknowledges it or the walker calls it off.

Repetition ``n`` (counted from the moment the alarm was raised) is
``alarm:<id>:<n>:person:<pid>:<channel>``, so running this any number of times, in any number
of processes, queues each repeat once; after an outage only the current one goes out. A tick
step (``bot/bootstrap_ticks.py``).
"""

from __future__ import annotations

from sqlmodel import col, select

from models.tables import Alarm, AlarmStatus, Shift
from scheduling.common.context import Context
from scheduling.messages import doorbell
from scheduling.messages.kinds import Kind
from scheduling.messages.outbox import enqueue_many
from scheduling.walks.alarm_audience import messages_to, repeat_to
from scheduling.walks.alarms import ALARM_REPEAT, alarm_payload


async def repeat_alarms(ctx: Context) -> int:
    """Queue the current repeat of every open alarm; how many messages were new."""
    now = ctx.now()
    written = 0
    async with ctx.store.transaction() as session:
        result = await session.exec(
            select(Alarm, Shift)
            .join(Shift, col(Shift.id) == col(Alarm.shift_id))
            .where(col(Alarm.status) == AlarmStatus.OPEN)
        )
        for alarm, shift in result.all():
            repetition = int((now - alarm.raised_at) / ALARM_REPEAT)
            if repetition < 1:
                continue
            payload = {**await alarm_payload(session, alarm, shift), "repetition": repetition}
            messages = await messages_to(
                session,
                await repeat_to(session, shift),
                key=f"alarm:{alarm.id}:{repetition}",
                kind=Kind.ALARM,
                now=now,
                payload=payload,
                due_at=alarm.raised_at + repetition * ALARM_REPEAT,
            )
            written += await enqueue_many(session, messages, now)
    if written:
        doorbell.ring(ctx.store)
    return written
