"""Who hears of an alarm, and by which channels: the messages an alarm puts in the outbox.

Everyone alerted gets the alarm by Telegram and by SMS both, whatever they prefer (one row per
channel that reaches them, ``only_channel``), urgent (never held by quiet hours) and of
``Priority.ALARM`` (claimed ahead of anything queued). Those alerted: the others signed up for
the shift, the organisation's leads and every coordinator. The repeats go to the coordinators
(to the leads when there is no coordinator).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import Alarm, Person, Role, Shift, Signup, SignupStatus
from scheduling.messages.kinds import Priority
from scheduling.messages.outbox import NewMessage
from scheduling.messages.routing import SMS, TELEGRAM, sms_reachable, telegram_reachable
from scheduling.walks.audience import managers


async def group_of(session: AsyncSession, shift_id: int) -> list[int]:
    """The people confirmed on the shift, in sign-up order."""
    result = await session.exec(
        select(Signup.person_id)
        .where(col(Signup.shift_id) == shift_id, col(Signup.status) == SignupStatus.CONFIRMED)
        .order_by(col(Signup.queued_at), col(Signup.id))
    )
    return list(result.all())


async def alerted(session: AsyncSession, alarm: Alarm, shift: Shift) -> list[int]:
    """Everyone an alarm goes to: the rest of the group, the leads and the coordinators."""
    group = [p for p in await group_of(session, shift.id or 0) if p != alarm.person_id]
    chosen = group + await managers(session, shift.organisation_id)
    return [p for p in dict.fromkeys(chosen) if p != alarm.person_id]


async def repeat_to(session: AsyncSession, shift: Shift) -> list[int]:
    """Who the repeats go to: the coordinators, else the organisation's leads."""
    people = await _people(session, await managers(session, shift.organisation_id))
    coordinators = [p.id for p in people if p.role == Role.COORDINATOR and p.id is not None]
    return coordinators or [p.id for p in people if p.id is not None]


async def _people(session: AsyncSession, ids: Iterable[int]) -> list[Person]:
    wanted = list(ids)
    if not wanted:
        return []
    result = await session.exec(
        select(Person).where(col(Person.id).in_(wanted), col(Person.erased_at).is_(None))
    )
    return sorted(result.all(), key=lambda p: wanted.index(p.id or 0))


async def messages_to(
    session: AsyncSession,
    people: Iterable[int],
    *,
    key: str,
    kind: str,
    now: datetime,
    payload: dict[str, Any],
    due_at: datetime | None = None,
) -> list[NewMessage]:
    """One message per person and channel that reaches them (``<key>:person:<id>:<channel>``)."""
    messages = []
    for person in await _people(session, people):
        channels = [
            channel
            for channel, reaches in ((TELEGRAM, telegram_reachable), (SMS, sms_reachable))
            if reaches(person)
        ]
        messages += [
            NewMessage(
                key=f"{key}:person:{person.id}:{channel}",
                kind=kind,
                person_id=person.id or 0,
                due_at=due_at or now,
                payload=payload,
                urgent=True,
                priority=Priority.ALARM,
                only_channel=channel,
            )
            for channel in channels
        ]
    return messages
