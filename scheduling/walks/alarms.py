"""The alarm: a walker on a shift asks for help now.

From the moment check-in opens until the shift has ended (``windows.alarm_open``) a walker
confirmed on a shift may raise the alarm, with a text and, when shared, a location. The walker
is told at once to call 112 if anyone is in danger (the channel's reply); then the alarm goes to
everyone ``alarm_audience.alerted`` names, on every channel they have, ahead of anything queued
(``Priority.ALARM``; the dispatcher's express lane is rung). The coordinators' alert repeats
every ``ALARM_REPEAT`` (``alarm_repeat.py``) until a lead of the organisation or a coordinator
acknowledges it (``acknowledge_alarm``: a button, the dashboard, or by SMS
``KVITTERA <ref>`` with the one-time code texted to the number); the walker may call off a
false alarm (``cancel_alarm``; these in ``alarm_changes.py``). Either way everyone alerted is
told. Every step is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import (
    Alarm,
    AlarmStatus,
    Area,
    Organisation,
    Person,
    Shift,
    ShiftStatus,
    Signup,
    SignupStatus,
)
from scheduling.common.context import Context
from scheduling.common.errors import DomainError, PermissionDenied
from scheduling.messages import doorbell
from scheduling.messages.kinds import Kind
from scheduling.messages.outbox import enqueue_many
from scheduling.people.access import Actor, audit
from scheduling.walks.alarm_audience import alerted, messages_to
from scheduling.walks.audience import managers
from scheduling.walks.group_lead import group_lead
from scheduling.walks.safety import new_alert_ref
from scheduling.walks.series import MAX_SHIFT_LENGTH
from scheduling.walks.windows import CHECK_IN_EARLY, alarm_open

ALARM_REPEAT = timedelta(minutes=5)
MAX_TEXT = 300
SAME_ALARM_WITHIN = timedelta(minutes=10)  # a second LARM this soon is the same alarm
# A location shared before any alarm is kept this long for one (bot/dialogue/alarm.py), then
# forgotten (and by the retention run, scheduling/people/retention.py).
LOCATION_KEPT = timedelta(minutes=15)


@dataclass(frozen=True)
class Raised:
    """What the walker is told: the alarm, its shift, and whether it was new."""

    alarm_id: int
    shift_id: int
    new: bool
    alerted: int  # people told


async def raise_alarm(
    ctx: Context, actor: Actor, text: str = "", location: tuple[float, float] | None = None
) -> Raised:
    """Raise the alarm for the shift the walker is on now; the alerts are queued at once."""
    now = ctx.now()
    person_id = walker(actor)
    text = " ".join(text.split())[:MAX_TEXT]
    async with ctx.store.transaction() as session:
        shift = await _current_shift(session, person_id, now)
        existing = await _recent_open(session, person_id, shift.id or 0, now)
        if existing is not None:
            return Raised(existing.id or 0, shift.id or 0, new=False, alerted=0)
        alarm = Alarm(
            shift_id=shift.id or 0, person_id=person_id, text=text or None,
            channel=actor.channel, raised_at=now, ref=new_alert_ref(),
        )
        if location is not None:
            alarm.latitude, alarm.longitude, alarm.located_at = location[0], location[1], now
        session.add(alarm)
        await session.flush()
        audit(session, actor, "alarm.raise", now, target=f"alarm:{alarm.id}", shift=shift.id)
        people = await alerted(session, alarm, shift)
        payload = await alarm_payload(session, alarm, shift)
        messages = await messages_to(
            session, people, key=f"alarm:{alarm.id}:0", kind=Kind.ALARM, now=now, payload=payload
        )
        await enqueue_many(session, messages, now)
    doorbell.ring(ctx.store)
    return Raised(alarm.id or 0, shift.id or 0, new=True, alerted=len(people))


def walker(actor: Actor) -> int:
    if actor.person_id is None:
        raise PermissionDenied("alarm.raise")
    return actor.person_id


async def _current_shift(session: AsyncSession, person_id: int, now: datetime) -> Shift:
    """The shift the walker is confirmed on whose alarm window holds ``now``."""
    result = await session.exec(
        select(Shift)
        .join(Signup, col(Signup.shift_id) == col(Shift.id))
        .where(
            col(Signup.person_id) == person_id,
            col(Signup.status) == SignupStatus.CONFIRMED,
            col(Shift.status) != ShiftStatus.CANCELLED,
            col(Shift.start_at) <= now + CHECK_IN_EARLY,
            col(Shift.start_at) > now - MAX_SHIFT_LENGTH,
        )
        .order_by(col(Shift.start_at).desc())
    )
    for shift in result.all():
        if alarm_open(shift.start_at, shift.end_at, now):
            return shift
    raise DomainError("alarm_no_shift")


async def _recent_open(
    session: AsyncSession, person_id: int, shift_id: int, now: datetime
) -> Alarm | None:
    result = await session.exec(
        select(Alarm).where(
            col(Alarm.person_id) == person_id,
            col(Alarm.shift_id) == shift_id,
            col(Alarm.status) == AlarmStatus.OPEN,
            col(Alarm.raised_at) > now - SAME_ALARM_WITHIN,
        )
    )
    return result.first()


async def alarm_payload(session: AsyncSession, alarm: Alarm, shift: Shift) -> dict[str, Any]:
    """Everything an alert says, so that rendering it asks the database nothing."""
    person = await session.get(Person, alarm.person_id) if alarm.person_id else None
    area = await session.get(Area, shift.area_id)
    organisation = await session.get(Organisation, shift.organisation_id)
    lead = await group_lead(session, shift)
    return {
        "alarm_id": alarm.id,
        "ref": alarm.ref,  # what an SMS names it by (``KVITTERA <ref>``), never the id
        "shift_id": shift.id,
        "name": person.name if person is not None else "?",
        "phone": person.phone if person is not None else None,
        "area": area.name if area is not None else "?",
        "organisation": organisation.name if organisation is not None else "?",
        "start": shift.start_at.isoformat(),
        "end": shift.end_at.isoformat(),
        "text": alarm.text or "",
        "lat": alarm.latitude,
        "lon": alarm.longitude,
        "raised_at": alarm.raised_at.isoformat(),
        "ack_by": await managers(session, shift.organisation_id),  # may acknowledge: see more
        "group_lead": lead.name if lead is not None else None,
    }
