"""Does an outbox message still make sense? Asked by the dispatcher just before sending.

A message may wait (quiet hours, a retry, a channel not yet configured) while the world moves
on: the walker cancelled, the shift filled up or was cancelled, the alert was acknowledged.
Such a message is not sent; it is recorded as ``expired`` with the reason. Kinds not listed
here (announcements, broadcasts) always go out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import (
    Alarm,
    AlarmStatus,
    OutboxMessage,
    Person,
    Report,
    SafetyAlert,
    SafetyAlertStatus,
    SharedNumber,
    Shift,
    ShiftStatus,
    Signup,
    SignupStatus,
)
from scheduling.messages.kinds import Kind
from scheduling.walks.audience import StaffedShift, staffed_shifts

Check = Callable[[AsyncSession, OutboxMessage, datetime, int], Awaitable[str | None]]


async def stale_reason(
    session: AsyncSession, message: OutboxMessage, now: datetime, trained_required: int
) -> str | None:
    """Why ``message`` should no longer be sent, or None when it should."""
    check = CHECKS.get(message.kind)
    return await check(session, message, now, trained_required) if check else None


async def _signup_holds(session: AsyncSession, message: OutboxMessage) -> str | None:
    signup = await session.get(Signup, int(message.payload.get("signup_id") or 0))
    if signup is None or signup.status != SignupStatus.CONFIRMED:
        return "no longer signed up"
    return None


async def _walker_message(
    session: AsyncSession, message: OutboxMessage, now: datetime, trained_required: int
) -> str | None:
    reason = await _signup_holds(session, message)
    shift = await session.get(Shift, int(message.payload.get("shift_id") or 0))
    if reason is None and (shift is None or shift.status == ShiftStatus.CANCELLED):
        reason = "shift cancelled"
    return reason


async def _reminder(
    session: AsyncSession, message: OutboxMessage, now: datetime, trained_required: int
) -> str | None:
    """A reminder planned before the shift moved no longer holds (its own revision comes)."""
    reason = await _walker_message(session, message, now, trained_required)
    shift = await session.get(Shift, int(message.payload.get("shift_id") or 0))
    if reason is None and shift is not None and shift.moves != message.payload.get("moves", 0):
        reason = "shift moved"
    return reason


async def _told_of_change(
    session: AsyncSession, message: OutboxMessage, now: datetime, trained_required: int
) -> str | None:
    """A change notice goes to those still signed up to a shift not cancelled."""
    signup = await session.get(Signup, int(message.payload.get("signup_id") or 0))
    shift = await session.get(Shift, int(message.payload.get("shift_id") or 0))
    if signup is None or signup.status == SignupStatus.CANCELLED:
        return "no longer signed up"
    return "shift cancelled" if shift is None or shift.status == ShiftStatus.CANCELLED else None


async def _report_prompt(
    session: AsyncSession, message: OutboxMessage, now: datetime, trained_required: int
) -> str | None:
    reason = await _walker_message(session, message, now, trained_required)
    if reason is not None:
        return reason
    report = await session.exec(
        select(Report.id).where(
            col(Report.shift_id) == message.payload.get("shift_id"),
            col(Report.person_id) == message.person_id,
            col(Report.status) == "submitted",
        )
    )
    return "report already filed" if report.first() is not None else None


async def _planned(session: AsyncSession, message: OutboxMessage) -> StaffedShift | None:
    shift_id = int(message.payload.get("shift_id") or 0)
    found = await staffed_shifts(session, shift_ids=[shift_id])
    return found[0] if found and found[0].shift.status == ShiftStatus.PLANNED else None


async def _seat_on_offer(
    session: AsyncSession, message: OutboxMessage, now: datetime, trained_required: int
) -> str | None:
    staffed = await _planned(session, message)
    if staffed is None or staffed.shift.start_at <= now:
        return "shift cancelled or started"
    if staffed.seats_free <= 0:
        return "shift full"
    if message.kind == Kind.REPLACE_PROMPT:
        return None
    mine = await session.exec(
        select(Signup.id).where(
            col(Signup.shift_id) == staffed.shift.id,
            col(Signup.person_id) == message.person_id,
            col(Signup.status) != SignupStatus.CANCELLED,
        )
    )
    return "already signed up" if mine.first() is not None else None


async def _still_understaffed(
    session: AsyncSession, message: OutboxMessage, now: datetime, trained_required: int
) -> str | None:
    staffed = await _planned(session, message)
    if staffed is None or staffed.shift.start_at <= now:
        return "shift cancelled or started"
    if staffed.staffing(trained_required) != "understaffed":
        return "shift staffed now"
    return None


async def _alert_open(
    session: AsyncSession, message: OutboxMessage, now: datetime, trained_required: int
) -> str | None:
    alert = await session.get(SafetyAlert, int(message.payload.get("alert_id") or 0))
    if alert is None or alert.status != SafetyAlertStatus.OPEN:
        return f"alert {alert.status if alert else 'gone'}"
    return None


async def _still_pending(
    session: AsyncSession, message: OutboxMessage, now: datetime, trained_required: int
) -> str | None:
    person = await session.get(Person, int(message.payload.get("person_id") or 0))
    if person is None or person.erased_at is not None or person.rejected_at is not None:
        return "walker gone or turned down"
    return "walker approved" if person.approved else None


async def _not_checked_in(
    session: AsyncSession, message: OutboxMessage, now: datetime, trained_required: int
) -> str | None:
    reason = await _walker_message(session, message, now, trained_required)
    signup = await session.get(Signup, int(message.payload.get("signup_id") or 0))
    if reason is None and signup is not None and signup.checked_in_at is not None:
        reason = "checked in already"
    return reason


async def _alarm_open(
    session: AsyncSession, message: OutboxMessage, now: datetime, trained_required: int
) -> str | None:
    """The first alert of an alarm always goes; a repeat only while nobody has taken it."""
    if not message.payload.get("repetition"):
        return None
    alarm = await session.get(Alarm, int(message.payload.get("alarm_id") or 0))
    if alarm is None or alarm.status != AlarmStatus.OPEN:
        return f"alarm {alarm.status if alarm else 'gone'}"
    return None


async def _sign_up_of(session: AsyncSession, message: OutboxMessage) -> Signup | None:
    """The message's sign-up: named in the payload, or the person's on the payload's shift."""
    if message.payload.get("signup_id"):
        return await session.get(Signup, int(message.payload["signup_id"]))
    found = await session.exec(
        select(Signup).where(
            col(Signup.shift_id) == int(message.payload.get("shift_id") or 0),
            col(Signup.person_id) == message.person_id,
        )
    )
    return found.first()


async def _offer_stands(
    session: AsyncSession, message: OutboxMessage, now: datetime, trained_required: int
) -> str | None:
    """A "confirm by" offer goes only while that very offer is open, a seat given while held."""
    signup = await _sign_up_of(session, message)
    if not message.payload.get("needs_confirmation"):
        held = signup is not None and signup.status == SignupStatus.CONFIRMED
        return None if held else "no longer signed up"
    offer = message.payload.get("offer")
    if (
        signup is None
        or signup.status != SignupStatus.OFFERED
        or (offer is not None and signup.offers != offer)
    ):
        return "offer no longer open"
    if signup.offer_expires_at is not None and signup.offer_expires_at <= now:
        return "offer lapsed"
    return None


async def _still_shared(
    session: AsyncSession, message: OutboxMessage, now: datetime, trained_required: int
) -> str | None:
    """A shared number goes only while the share lasts (it is forgotten when the shift ends),
    and only to someone still confirmed on that shift (not one who cancelled meanwhile)."""
    share = await session.get(SharedNumber, int(message.payload.get("share_id") or 0))
    if share is None:
        return "number no longer shared"
    mine = await session.exec(
        select(Signup.id).where(
            col(Signup.shift_id) == share.shift_id,
            col(Signup.person_id) == message.person_id,
            col(Signup.status) == SignupStatus.CONFIRMED,
        )
    )
    return None if mine.first() is not None else "no longer on the shift"


CHECKS: dict[str, Check] = {
    Kind.REMINDER: _reminder,
    Kind.SHIFT_CHANGED: _told_of_change,
    Kind.CHECK_IN_PROMPT: _not_checked_in,
    Kind.REPORT_PROMPT: _report_prompt,
    Kind.CALL_FOR_WALKERS: _seat_on_offer,
    Kind.REPLACEMENT_OFFER: _seat_on_offer,
    Kind.REPLACE_PROMPT: _seat_on_offer,
    Kind.STAFFING_NOTICE: _still_understaffed,
    Kind.FINAL_CHECK: _still_understaffed,
    Kind.SAFETY_ALERT: _alert_open,
    Kind.APPROVAL_REQUEST: _still_pending,
    Kind.ALARM: _alarm_open,
    Kind.GROUP_INTRO: _walker_message,
    Kind.NUMBER_SHARED: _still_shared,
    Kind.PROMOTED: _offer_stands,
}
