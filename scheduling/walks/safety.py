"""The safety check-out: a group that checked in and has nobody checked out in time.

``checkout_overdue_after`` (30m) past the planned end, a shift with a check-in and no check-out
raises a ``safety_alert`` row. While it is open, its leads and the coordinators are alerted
every ``SAFETY_REPEAT`` (``safety:alert:<id>:<n>:person:<pid>``, repetition ``n`` counted
from the overdue moment; urgent, never held by quiet hours, never expiring) until someone
acknowledges it (``acknowledge_alert``, the ``ack:ref:<ref>`` button; texts name an alert by
its random ``ref``, never by its id) or every walker who checked in has checked out. After an
outage only the current repetition goes out, not every missed one.

Only a check-in made by the shift's end counts (``_walked``): one made after it (the morning
after, "I did walk") is a late record that one walked, not a group out on the street, and
raises no alert. Once an alert is open one check-out does not end it: a check-out by SMS
(``UT <id>``) names its sender by a number that can be forged, so the alert ends only when
nobody who checked in is still out, or when a lead or coordinator acknowledges it.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, bindparam, exists
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from models.tables import SafetyAlert, SafetyAlertStatus, Shift, ShiftStatus, Signup
from scheduling.common.context import Context
from scheduling.common.errors import NotFound
from scheduling.messages.kinds import Kind
from scheduling.messages.outbox import NewMessage, enqueue_many
from scheduling.people.access import Actor, audit, require_manager
from scheduling.walks.audience import managers
from scheduling.walks.series import MAX_SHIFT_LENGTH
from scheduling.walks.shifts import get_shift

log = logging.getLogger("vandra.safety")

SAFETY_REPEAT = timedelta(minutes=15)
RAISE_LOOKBACK = timedelta(hours=24)  # shifts that ended longer ago raise no new alert
REF_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to mix up
REF_LENGTH = 6


def _walked(end: Any) -> ColumnElement[bool]:
    """A sign-up that was out on the walk: checked in by the shift's ``end`` (its column, or
    the instant). A check-in after the end is a late record that one walked."""
    return col(Signup.checked_in_at).is_not(None) & (col(Signup.checked_in_at) <= end)


@cache
def _overdue_statement() -> Select[int | None, datetime]:
    """Shifts that ended in (after, until] with a check-in, no check-out and no alert: built
    once, its times bound as parameters (it runs on every tick)."""
    walked = (col(Signup.shift_id) == col(Shift.id), _walked(col(Shift.end_at)))
    checked_in = exists().where(*walked)
    checked_out = exists().where(*walked, col(Signup.checked_out_at).is_not(None))
    return select(Shift.id, Shift.end_at).where(
        col(Shift.start_at) > bindparam("starts_after"),
        col(Shift.start_at) <= bindparam("ends_until"),
        col(Shift.end_at) > bindparam("ends_after"),
        col(Shift.end_at) <= bindparam("ends_until"),
        col(Shift.status) != ShiftStatus.CANCELLED,
        checked_in,
        ~checked_out,
        ~exists().where(col(SafetyAlert.shift_id) == col(Shift.id)),
    )


async def raise_safety_alerts(
    ctx: Context, session: AsyncSession, now: datetime
) -> list[NewMessage]:
    """Open an alert for each overdue shift with a check-in and no check-out."""
    ends_until = now - ctx.settings.reminders.checkout_overdue_after
    ends_after = ends_until - RAISE_LOOKBACK
    params = {
        "starts_after": ends_after - MAX_SHIFT_LENGTH,
        "ends_after": ends_after,
        "ends_until": ends_until,
    }
    result = await session.exec(_overdue_statement(), params=params)
    overdue_after = ctx.settings.reminders.checkout_overdue_after
    for shift_id, end_at in result.all():
        await _open_alert(session, shift_id, end_at + overdue_after, now)
    return []


async def _open_alert(
    session: AsyncSession, shift_id: int | None, overdue_at: datetime, now: datetime
) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(SafetyAlert).values(
        shift_id=shift_id,
        status=SafetyAlertStatus.OPEN,
        overdue_at=overdue_at,
        raised_at=now,
        ref=new_alert_ref(),
    )
    await session.exec(statement.on_conflict_do_nothing(index_elements=["shift_id"]))
    log.warning("safety alert raised for shift %s: checked in, nobody checked out", shift_id)


async def repeat_safety_alerts(
    ctx: Context, session: AsyncSession, now: datetime
) -> list[NewMessage]:
    """The current repetition of every open alert, to the leads and coordinators."""
    result = await session.exec(
        select(SafetyAlert, Shift)
        .join(Shift, col(Shift.id) == col(SafetyAlert.shift_id))
        .where(col(SafetyAlert.status) == SafetyAlertStatus.OPEN)
    )
    messages: list[NewMessage] = []
    for alert, shift in result.all():
        if not await _somebody_still_out(session, shift):
            alert.status, alert.resolved_at = SafetyAlertStatus.RESOLVED, now
            session.add(alert)
            continue
        messages += await _repetition(session, alert, shift, now)
    return messages


def new_alert_ref() -> str:
    """What texts call an alert (``KVITTERA K7QM2X``): random, never the guessable id."""
    first = secrets.choice(REF_ALPHABET[:24])  # a letter: a reference never looks like an id
    return first + "".join(secrets.choice(REF_ALPHABET) for _ in range(REF_LENGTH - 1))


async def alert_id_for_ref(ctx: Context, ref: str) -> int:
    """The alert a text's reference names; NotFound for one that names none."""
    async with ctx.store.transaction() as session:
        found = await session.exec(
            select(SafetyAlert.id).where(col(SafetyAlert.ref) == ref.strip().upper()[:12])
        )
        alert_id = found.first()
    if alert_id is None:
        raise NotFound("safety_alert", ref[:12])
    return alert_id


async def _somebody_still_out(session: AsyncSession, shift: Shift) -> bool:
    """Whether a walker who checked in by the shift's end has not checked out."""
    found = await session.exec(
        select(Signup.id)
        .where(
            col(Signup.shift_id) == shift.id,
            _walked(shift.end_at),
            col(Signup.checked_out_at).is_(None),
        )
        .limit(1)
    )
    return found.first() is not None


async def awaits_check_out(ctx: Context, person_id: int, shift_id: int) -> bool:
    """Whether an open alert of the shift waits for this walker's check-out (they checked in
    by its end and have not checked out): by SMS that check-out is confirmed with a one-time
    code, since it may be the one that ends the alert (``bot/dialogue/volunteer.py``)."""
    async with ctx.store.joined() as session:
        found = await session.exec(
            select(SafetyAlert.id)
            .join(Shift, col(Shift.id) == col(SafetyAlert.shift_id))
            .join(Signup, col(Signup.shift_id) == col(Shift.id))
            .where(
                col(SafetyAlert.shift_id) == shift_id,
                col(SafetyAlert.status) == SafetyAlertStatus.OPEN,
                col(Signup.person_id) == person_id,
                _walked(col(Shift.end_at)),
                col(Signup.checked_out_at).is_(None),
            )
        )
        return found.first() is not None


async def _repetition(
    session: AsyncSession, alert: SafetyAlert, shift: Shift, now: datetime
) -> list[NewMessage]:
    repetition = max(0, int((now - alert.overdue_at) / SAFETY_REPEAT))
    recipients = await managers(session, shift.organisation_id)
    if not recipients:
        log.error(
            "safety alert %s (shift %s) has no lead or coordinator to tell", alert.id, shift.id
        )
    checked_in = await session.exec(
        select(Signup.id).where(
            col(Signup.shift_id) == shift.id, col(Signup.checked_in_at).is_not(None)
        )
    )
    payload = {
        "alert_id": alert.id,
        "alert_ref": alert.ref,
        "shift_id": shift.id,
        "repetition": repetition,
        "checked_in": len(checked_in.all()),
    }
    return [
        NewMessage(
            key=f"safety:alert:{alert.id}:{repetition}:person:{person_id}",
            kind=Kind.SAFETY_ALERT,
            person_id=person_id,
            due_at=alert.overdue_at + repetition * SAFETY_REPEAT,
            payload=payload,
            urgent=True,
        )
        for person_id in recipients
    ]


async def acknowledge_alert(ctx: Context, actor: Actor, alert_id: int) -> SafetyAlert:
    """A lead of the shift's organisation or a coordinator acknowledges: the repeats stop, and
    the others who were alerted are told who took it. Acknowledging twice changes nothing."""
    now = ctx.now()
    async with ctx.store.transaction() as session:
        alert = await _get_alert(session, alert_id)
        shift = await get_shift(session, alert.shift_id)
    await require_manager(
        ctx.store,
        actor,
        "alerts.acknowledge",
        shift.organisation_id,
        now,
        target=f"safety_alert:{alert_id}",
    )
    async with ctx.store.transaction() as session:
        alert = await _get_alert(session, alert_id, lock=True)
        if alert.status != SafetyAlertStatus.OPEN:
            return alert
        alert.status = SafetyAlertStatus.ACKNOWLEDGED
        alert.acknowledged_at = now
        alert.acknowledged_by = actor.person_id
        alert.acknowledged_label = actor.label
        session.add(alert)
        audit(session, actor, "alerts.acknowledge", now, target=f"safety_alert:{alert_id}")
        await _tell_the_others(session, actor, alert, shift, now)
        return alert


async def _tell_the_others(
    session: AsyncSession, actor: Actor, alert: SafetyAlert, shift: Shift, now: datetime
) -> None:
    others = [p for p in await managers(session, shift.organisation_id) if p != actor.person_id]
    messages = [
        NewMessage(
            key=f"safety_ack:alert:{alert.id}:person:{person_id}",
            kind=Kind.SAFETY_ACKNOWLEDGED,
            person_id=person_id,
            due_at=now,
            payload={"alert_id": alert.id, "shift_id": shift.id, "by_person_id": actor.person_id},
            urgent=True,
        )
        for person_id in others
    ]
    if messages:
        await enqueue_many(session, messages, now)


async def _get_alert(session: AsyncSession, alert_id: int, lock: bool = False) -> SafetyAlert:
    statement = select(SafetyAlert).where(col(SafetyAlert.id) == alert_id)
    if lock:
        statement = statement.with_for_update()
    alert = (await session.exec(statement)).first()
    if alert is None:
        raise NotFound("safety_alert", alert_id)
    return alert


async def open_alerts(ctx: Context) -> list[SafetyAlert]:
    """Alerts nobody has acknowledged yet, oldest first."""
    async with ctx.store.transaction() as session:
        result = await session.exec(
            select(SafetyAlert)
            .where(col(SafetyAlert.status) == SafetyAlertStatus.OPEN)
            .order_by(col(SafetyAlert.id))
        )
        return list(result.all())
