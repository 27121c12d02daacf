"""What other records say about an erased person: their alarms and the messages naming them.

Erasure (``erasure.py``) removes the person's own row data; this removes the copies made of it
for others. An alarm the person raised keeps its row (the statistics count alarms per shift and
status) but loses its text, its location and its link to the person; every outbox message about
it (to the group, the leads, the coordinators, sent or not) loses the name, number, text and
position it was given. Messages naming the person for other reasons lose the name: a request to
approve them, a warning that their number cannot be reached, a record check lapsing (those still
pending are dropped, they concern nobody any more), a broadcast they wrote (still delivered,
without the author), a "running late" or "number shared" note to their group.

An alarm still open when the person is erased is left alone, text, location and the alerts
already queued or sent: an alarm in progress must keep reaching people and tell them where to
go (its repeats from then on carry no name or number: they read them from the erased row). Once
the alarm is over (acknowledged or called off) the daily retention run (``retention.py``)
removes the rest with ``forget_closed_alarms``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import (
    Alarm,
    AlarmStatus,
    Broadcast,
    OutboxMessage,
    OutboxStatus,
    Person,
    SharedNumber,
    Signup,
)
from scheduling.messages.kinds import Kind
from scheduling.walks.my_group import first_name

ERASED_NAME = "-"
ALARM_KINDS = (Kind.ALARM, Kind.ALARM_LOCATION, Kind.ALARM_ACKNOWLEDGED, Kind.ALARM_CANCELLED)
# Outbox keys of messages that are about one person and useless once they are erased.
_ABOUT_PERSON = ("approval:person:{id}:to:", "sms_unreachable:person:{id}:to:",
                 "recordcheck:person:{id}:")


async def forget_traces(session: AsyncSession, person: Person) -> None:
    """Remove the erased person's data from alarms and from messages to others (before the
    person row itself is blanked: the shared numbers and first name are read from it)."""
    person_id = person.id or 0
    await forget_closed_alarms(session, [person_id])
    await _drop_or_scrub_about(session, person_id)
    await _scrub_authored_broadcasts(session, person_id)
    await _scrub_group_notes(session, person)


async def forget_closed_alarms(session: AsyncSession, person_ids: Iterable[int]) -> int:
    """Alarms of these people that are over: text and location blanked, the person unlinked,
    and the messages about them scrubbed. How many alarms."""
    ids = list(person_ids)
    if not ids:
        return 0
    alarms = (
        await session.exec(
            select(Alarm).where(
                col(Alarm.person_id).in_(ids), col(Alarm.status) != AlarmStatus.OPEN
            )
        )
    ).all()
    for alarm in alarms:
        alarm.text = None
        alarm.latitude = alarm.longitude = alarm.located_at = None
        alarm.person_id = None
        session.add(alarm)
    alarm_ids = {alarm.id for alarm in alarms}
    if alarm_ids:
        rows = await session.exec(
            select(OutboxMessage).where(col(OutboxMessage.kind).in_(ALARM_KINDS))
        )
        for message in rows.all():
            if (message.payload or {}).get("alarm_id") in alarm_ids:
                _rewrite(message, name=ERASED_NAME, phone=None, text="", lat=None, lon=None)
                session.add(message)
    return len(alarms)


async def _drop_or_scrub_about(session: AsyncSession, person_id: int) -> None:
    for pattern in _ABOUT_PERSON:
        prefix = pattern.format(id=person_id)
        await session.exec(
            delete(OutboxMessage).where(
                col(OutboxMessage.dedupe_key).startswith(prefix),
                col(OutboxMessage.status) == OutboxStatus.PENDING,
            )
        )
        rows = await session.exec(
            select(OutboxMessage).where(col(OutboxMessage.dedupe_key).startswith(prefix))
        )
        for message in rows.all():
            _rewrite(message, name=ERASED_NAME)
            session.add(message)


async def _scrub_authored_broadcasts(session: AsyncSession, person_id: int) -> None:
    broadcasts = await session.exec(
        select(Broadcast.id).where(col(Broadcast.author_id) == person_id)
    )
    for broadcast_id in broadcasts.all():
        rows = await session.exec(
            select(OutboxMessage).where(
                col(OutboxMessage.dedupe_key).startswith(f"broadcast:{broadcast_id}:person:")
            )
        )
        for message in rows.all():
            if (message.payload or {}).get("author") is not None:
                _rewrite(message, author=None)
                session.add(message)


async def _scrub_group_notes(session: AsyncSession, person: Person) -> None:
    """"Running late" (keyed by the person's sign-up) and "number shared" notes (by the share,
    gone once the shift ended: then known by shift and first name) to the rest of a group."""
    signups = (
        await session.exec(
            select(Signup.id, Signup.shift_id).where(col(Signup.person_id) == person.id)
        )
    ).all()
    for signup_id, _ in signups:
        rows = await session.exec(
            select(OutboxMessage).where(
                col(OutboxMessage.dedupe_key).startswith(f"late:{signup_id}:")
            )
        )
        for message in rows.all():
            _rewrite(message, name=ERASED_NAME)
            session.add(message)
    shifts = {shift_id for _, shift_id in signups}
    shares = set(
        (
            await session.exec(
                select(SharedNumber.id).where(col(SharedNumber.person_id) == person.id)
            )
        ).all()
    )
    name = first_name(person.name)
    rows = await session.exec(
        select(OutboxMessage).where(col(OutboxMessage.kind) == Kind.NUMBER_SHARED)
    )
    for message in rows.all():
        payload = message.payload or {}
        if payload.get("share_id") in shares or (
            payload.get("shift_id") in shifts and payload.get("name") == name
        ):
            _rewrite(message, name=ERASED_NAME)
            session.add(message)


def _rewrite(message: OutboxMessage, **values: Any) -> None:
    """Replace some payload values (a new dict: the JSON column notices only assignment)."""
    payload = dict(message.payload or {})
    payload.update({key: value for key, value in values.items() if key in payload})
    message.payload = payload
