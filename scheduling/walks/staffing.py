"""Understaffed shifts: calls for walkers, notices to leads and coordinators, the final check.

``[reminders] staffing_alerts_before`` (48h, 24h): from each of these moments, a shift still
understaffed triggers once (``due_mark`` ``staffing:<label>:shift:<id>``) a call for walkers to
the organisation's free volunteers and a notice to its leads and the coordinators. When
several moments have passed (a shift created late, or vandra was down), only the latest fires:
nobody gets two calls for one shift at once. A shift that becomes understaffed later (a
cancellation) triggers at once if its current moment has not fired yet.

``staffing_final_check_before`` (3h): still understaffed, the leads and coordinators are asked
to go ahead or cancel (``final_check:shift:<id>``); cancelling tells everyone signed up.

Calls and notices are non-urgent: inside quiet hours they wait for the morning, unless the
shift starts first. All expire at the start.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import Shift, ShiftStatus
from scheduling.common.context import Context
from scheduling.common.errors import DomainError
from scheduling.messages.due_planning import fire_once, label_of, plan
from scheduling.messages.kinds import Kind
from scheduling.messages.outbox import NewMessage
from scheduling.people.access import Actor, audit, require_manager
from scheduling.walks.audience import (
    StaffedShift,
    free_volunteers,
    managers,
    understaffed_unmarked,
)
from scheduling.walks.shifts import get_shift

ZERO = timedelta(0)


def latest_moment(start: datetime, befores: list[timedelta], now: datetime) -> timedelta | None:
    """The smallest ``before`` whose moment (start - before) has passed, or None."""
    passed = [before for before in befores if start - before <= now]
    return min(passed) if passed else None


async def _understaffed(
    ctx: Context,
    session: AsyncSession,
    after: datetime,
    until: datetime,
    marks: list[tuple[str, datetime]],
) -> list[StaffedShift]:
    """Understaffed planned shifts starting in (after, until] without the due mark
    ``<prefix><shift id>`` of the first (prefix, until) in ``marks`` their start is not
    after: those already called for are left out by the statement."""
    required = ctx.settings.walks.trained_walkers_per_shift
    shifts = await understaffed_unmarked(
        session, starts_after=after, starts_until=until, marks=marks, trained_required=required
    )
    return [s for s in shifts if s.staffing(required) == "understaffed"]  # as the statement


Alert = tuple[str, StaffedShift, timedelta]  # the due mark, the shift, its moment


async def staffing_alerts(ctx: Context, session: AsyncSession, now: datetime) -> list[NewMessage]:
    """Calls for walkers and notices for understaffed shifts whose alert moment has come."""
    messages: list[NewMessage] = []
    for alert in await pending_alerts(ctx, session, now):
        messages += await fire_alert(ctx, session, now, alert)
    return messages


async def pending_alerts(ctx: Context, session: AsyncSession, now: datetime) -> list[Alert]:
    """The understaffed shifts whose alert moment has come and not fired yet, soonest first
    (the tick fires them one transaction each: compute_due in messages/due.py).

    A shift's latest moment (``latest_moment``) is the smallest ``before`` with
    start - before <= now: the due mark to look for depends on the start, and the statement
    leaves out those fired already (a CASE on the start gives the mark's prefix)."""
    befores = sorted(b for b in set(ctx.settings.reminders.staffing_alerts_before) if b > ZERO)
    if not befores:
        return []  # a moment not after now is no shift ahead's latest
    prefixes = {before: f"staffing:{label_of(before)}:shift:" for before in befores}
    marks = [(prefix, now + before) for before, prefix in prefixes.items()]
    pending: list[Alert] = []
    for staffed in await _understaffed(ctx, session, now, now + befores[-1], marks):
        before = latest_moment(staffed.shift.start_at, befores, now)
        assert before is not None  # the start is within now + the largest before
        pending.append((f"{prefixes[before]}{staffed.shift.id}", staffed, before))
    return sorted(pending, key=lambda alert: (alert[1].shift.start_at, alert[1].shift.id or 0))


async def fire_alert(
    ctx: Context, session: AsyncSession, now: datetime, alert: Alert
) -> list[NewMessage]:
    """One shift's call for walkers and notices, unless another tick fired them first."""
    mark, staffed, before = alert
    if not await fire_once(session, mark, now):
        return []
    return await _call_and_notice(ctx, session, now, staffed, before)


async def _call_and_notice(
    ctx: Context, session: AsyncSession, now: datetime, staffed: StaffedShift, before: timedelta
) -> list[NewMessage]:
    shift = staffed.shift
    label = label_of(before)
    moment = shift.start_at - before
    volunteers = await free_volunteers(session, shift)
    counts = _counts(ctx, staffed)
    calls = [
        plan(
            ctx,
            now,
            key=f"staffing:{label}:shift:{shift.id}:person:{person_id}",
            kind=Kind.CALL_FOR_WALKERS,
            person_id=person_id,
            moment=moment,
            expires_at=shift.start_at,
            shift_start=shift.start_at,
            payload={"shift_id": shift.id, "label": label, **counts},
        )
        for person_id in volunteers
    ]
    notices = [
        plan(
            ctx,
            now,
            key=f"staffing_notice:{label}:shift:{shift.id}:person:{person_id}",
            kind=Kind.STAFFING_NOTICE,
            person_id=person_id,
            moment=moment,
            expires_at=shift.start_at,
            shift_start=shift.start_at,
            payload={"shift_id": shift.id, "label": label, "called": len(volunteers), **counts},
        )
        for person_id in await managers(session, shift.organisation_id)
    ]
    return calls + notices


async def final_checks(ctx: Context, session: AsyncSession, now: datetime) -> list[NewMessage]:
    """Still understaffed ``staffing_final_check_before`` the start: go ahead or cancel?"""
    before = ctx.settings.reminders.staffing_final_check_before
    prefix = "final_check:shift:"
    candidates = {
        f"{prefix}{s.shift.id}": s
        for s in await _understaffed(ctx, session, now, now + before, [(prefix, now + before)])
    }
    messages: list[NewMessage] = []
    for mark, staffed in candidates.items():
        if not await fire_once(session, mark, now):
            continue
        shift = staffed.shift
        for person_id in await managers(session, shift.organisation_id):
            messages.append(
                plan(
                    ctx,
                    now,
                    key=f"{mark}:person:{person_id}",
                    kind=Kind.FINAL_CHECK,
                    person_id=person_id,
                    moment=shift.start_at - before,
                    expires_at=shift.start_at,
                    shift_start=shift.start_at,
                    payload={"shift_id": shift.id, **_counts(ctx, staffed)},
                )
            )
    return messages


def _counts(ctx: Context, staffed: StaffedShift) -> dict[str, int]:
    return {
        "confirmed": staffed.confirmed,
        "min_walkers": staffed.shift.min_walkers,
        "trained": staffed.trained,
        "trained_required": ctx.settings.walks.trained_walkers_per_shift,
    }


async def go_ahead(ctx: Context, actor: Actor, shift_id: int) -> Shift:
    """The lead or coordinator answers the final check: the walk goes ahead (audited).

    The other answer, ``cancelshift:<id>``, is ``shifts.cancel_shift``.
    """
    now = ctx.now()
    async with ctx.store.transaction() as session:
        shift = await get_shift(session, shift_id)
    await require_manager(
        ctx.store, actor, "shifts.go_ahead", shift.organisation_id, now, target=f"shift:{shift_id}"
    )
    if shift.status != ShiftStatus.PLANNED:
        raise DomainError("shift_cancelled", shift=shift_id)
    async with ctx.store.transaction() as session:
        audit(session, actor, "shifts.go_ahead", now, target=f"shift:{shift_id}")
    return shift
