"""Changes to a raised alarm: the walker's location, a lead's or coordinator's acknowledgement,
the walker calling off a false alarm. Each tells everyone alerted (``alarms.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from models.tables import Alarm, AlarmStatus, Person, Shift
from scheduling.common.context import Context
from scheduling.common.errors import DomainError, NotFound
from scheduling.messages import doorbell
from scheduling.messages.kinds import Kind
from scheduling.messages.outbox import enqueue_many
from scheduling.people.access import Actor, audit, refuse, require_manager
from scheduling.walks.alarm_audience import alerted, messages_to
from scheduling.walks.alarms import alarm_payload, walker
from scheduling.walks.windows import CHECK_OUT_LATE

CANCELLED = AlarmStatus.CANCELLED
# A false alarm is called off while the walk's records are open (check-out closes then too):
# an old "Falskt larm" button or /falskt_larm weeks later must not re-label a real alarm.
CALL_OFF_AFTER_END = CHECK_OUT_LATE


async def share_location(
    ctx: Context, actor: Actor, latitude: float, longitude: float
) -> int | None:
    """A walker with an open alarm shared where they are: kept on the alarm (the repeats carry
    the latest); the first location is sent to everyone alerted. The alarm's id, or None when
    the walker has no open alarm."""
    now = ctx.now()
    person_id = walker(actor)
    async with ctx.store.transaction() as session:
        alarm = (
            await session.exec(
                select(Alarm)
                .where(col(Alarm.person_id) == person_id, col(Alarm.status) == AlarmStatus.OPEN)
                .order_by(col(Alarm.raised_at).desc())
            )
        ).first()
        if alarm is None:
            return None
        first = alarm.located_at is None
        alarm.latitude, alarm.longitude, alarm.located_at = latitude, longitude, now
        session.add(alarm)
        if first:
            await _tell_everyone(
                session, alarm, Kind.ALARM_LOCATION, "alarm_location", now, {}, walker_too=False
            )
    if first:
        doorbell.ring(ctx.store)
    return alarm.id


async def acknowledge_alarm(ctx: Context, actor: Actor, alarm_id: int) -> Alarm:
    """A lead of the shift's organisation or a coordinator takes the alarm: the repeats stop and
    everyone alerted is told who. Twice changes nothing."""
    now = ctx.now()
    async with ctx.store.transaction() as session:
        alarm, shift = await _alarm_and_shift(session, alarm_id)
    target = f"alarm:{alarm_id}"
    await require_manager(
        ctx.store, actor, "alarm.acknowledge", shift.organisation_id, now, target=target
    )
    async with ctx.store.transaction() as session:
        alarm, shift = await _alarm_and_shift(session, alarm_id, lock=True)
        if alarm.status != AlarmStatus.OPEN:
            return alarm
        alarm.status, alarm.acknowledged_at = AlarmStatus.ACKNOWLEDGED, now
        alarm.acknowledged_by, alarm.acknowledged_label = actor.person_id, actor.label
        session.add(alarm)
        audit(session, actor, "alarm.acknowledge", now, target=f"alarm:{alarm_id}")
        by = await _name(session, actor.person_id)
        await _tell_everyone(
            session, alarm, Kind.ALARM_ACKNOWLEDGED, "alarm_ack", now, {"by": by},
            but=actor.person_id,
        )
    doorbell.ring(ctx.store)
    return alarm


async def cancel_alarm(ctx: Context, actor: Actor, alarm_id: int | None = None) -> Alarm:
    """The walker who raised it calls off a false alarm (their latest open one when no id is
    given); everyone alerted is told. By SMS only once a one-time code confirmed it. Only an
    alarm of a shift that ended no longer than ``CALL_OFF_AFTER_END`` ago: an older button
    answers as a stale one."""
    now = ctx.now()
    person_id = walker(actor)
    if not actor.trusted:  # by SMS only with the one-time code: a sender can be forged
        raise await refuse(ctx.store, actor, "alarm.cancel", now, target=f"alarm:{alarm_id}")
    async with ctx.store.transaction() as session:
        alarm = (await session.exec(_not_called_off(person_id, now, alarm_id))).first()
        if alarm is None:  # a button naming one: called off already, or too old
            raise DomainError("alarm_none_open" if alarm_id is None else "stale_button")
        alarm.status, alarm.cancelled_at = AlarmStatus.CANCELLED, now
        session.add(alarm)
        audit(session, actor, "alarm.cancel", now, target=f"alarm:{alarm.id}")
        await _tell_everyone(
            session, alarm, Kind.ALARM_CANCELLED, "alarm_off", now, {}, but=person_id
        )
    doorbell.ring(ctx.store)
    return alarm


def _not_called_off(
    person_id: int, now: datetime, alarm_id: int | None = None
) -> SelectOfScalar[Alarm]:
    """The walker's alarms not called off that may still be (only ``alarm_id`` when given),
    latest first: of a shift that ended no longer than ``CALL_OFF_AFTER_END`` ago."""
    statement = (
        select(Alarm)
        .join(Shift, col(Shift.id) == col(Alarm.shift_id))
        .where(
            col(Alarm.person_id) == person_id,
            col(Alarm.status) != AlarmStatus.CANCELLED,
            col(Shift.end_at) >= now - CALL_OFF_AFTER_END,
        )
    )
    if alarm_id is not None:
        statement = statement.where(col(Alarm.id) == alarm_id)
    return statement.order_by(col(Alarm.raised_at).desc())


async def alarm_to_call_off(ctx: Context, actor: Actor) -> int:
    """The id of the walker's latest alarm not called off (what ``cancel_alarm`` would call
    off without an id), so an SMS code can be bound to it."""
    async with ctx.store.joined() as session:
        alarm = (await session.exec(_not_called_off(walker(actor), ctx.now()))).first()
    if alarm is None or alarm.id is None:
        raise DomainError("alarm_none_open")
    return alarm.id


async def _tell_everyone(
    session: AsyncSession, alarm: Alarm, kind: str, key: str, now: datetime,
    extra: dict[str, Any], walker_too: bool = True, but: int | None = None,
) -> None:
    """Everyone alerted (and the walker who raised it) hear of a change to the alarm."""
    shift = await session.get(Shift, alarm.shift_id)
    assert shift is not None
    people = await alerted(session, alarm, shift)
    if walker_too and alarm.person_id is not None:
        people.append(alarm.person_id)
    people = [p for p in people if p != but]  # the one who acted has been answered
    payload = {**await alarm_payload(session, alarm, shift), **extra}
    messages = await messages_to(
        session, people, key=f"{key}:{alarm.id}", kind=kind, now=now, payload=payload
    )
    await enqueue_many(session, messages, now)


async def _name(session: AsyncSession, person_id: int | None) -> str:
    person = await session.get(Person, person_id) if person_id is not None else None
    return person.name if person is not None else "?"


async def _alarm_and_shift(
    session: AsyncSession, alarm_id: int, lock: bool = False
) -> tuple[Alarm, Shift]:
    statement = select(Alarm).where(col(Alarm.id) == alarm_id)
    alarm = (await session.exec(statement.with_for_update() if lock else statement)).first()
    shift = await session.get(Shift, alarm.shift_id) if alarm is not None else None
    if alarm is None or shift is None:
        raise NotFound("alarm", alarm_id)
    return alarm, shift


async def alarm_id_for_ref(ctx: Context, ref: str) -> int | None:
    """The alarm a text's reference names (``KVITTERA K7QM2X``), or None."""
    async with ctx.store.joined() as session:
        found = await session.exec(
            select(Alarm.id).where(col(Alarm.ref) == ref.strip().upper()[:12])
        )
        return found.first()
