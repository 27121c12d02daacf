"""Editing a planned shift: move it, change its area, meeting point or walker counts.

Everyone signed up (confirmed, offered or waitlisted) is told what changed, old and new, through
the outbox (``Kind.SHIFT_CHANGED``), when a walker would notice: the time, the area or the meeting
point. A change of the walker counts alone tells nobody. Each edit raises the shift's
``sequence`` (the calendar feed's SEQUENCE); a move also raises ``moves`` (the reminders'
revision, ``scheduling/messages/due.py``): reminders planned for the old time are no longer sent
(``relevance.py``) and the new time's come, except those whose moment was already past at the
move (the change notice said it all).

Lowering the maximum below the seats already taken is refused (``max_below_taken``): nobody is
moved off a shift they were confirmed for by an edit; the lead cancels sign-ups or keeps the
maximum. Raising it offers the new seats to the waitlist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import Shift, ShiftStatus
from scheduling.common.context import Context
from scheduling.common.errors import DomainError, InvalidInput
from scheduling.common.localtime import Fold, calendar_time
from scheduling.common.text import clean_text
from scheduling.people.access import Actor, audit, require_manager
from scheduling.people.organisations import find_area
from scheduling.walks.duplicates import refuse_duplicate
from scheduling.walks.edit_notices import Before, notify_change
from scheduling.walks.series import MAX_SHIFT_LENGTH
from scheduling.walks.shifts import get_shift
from scheduling.walks.signup_queries import seats_taken
from scheduling.walks.waitlist import promote_waitlisted

MAX_WALKERS = 100


@dataclass(frozen=True)
class ShiftChange:
    """What to change; None leaves a field as it is. Times are naive local wall times; an
    empty ``meeting_point`` goes back to the area's."""

    start: datetime | None = None
    end: datetime | None = None
    area: str | int | None = None
    meeting_point: str | None = None
    min_walkers: int | None = None
    max_walkers: int | None = None
    fold: Fold | None = None

    @property
    def empty(self) -> bool:
        return all(getattr(self, name) is None for name in _FIELDS)


_FIELDS = ("start", "end", "area", "meeting_point", "min_walkers", "max_walkers")


async def edit_shift(ctx: Context, actor: Actor, shift_id: int, change: ShiftChange) -> Shift:
    """Apply ``change`` to a planned shift that has not ended; tell its walkers; audited."""
    if change.empty:
        raise InvalidInput("nothing_to_change")
    now = ctx.now()
    async with ctx.store.transaction() as session:
        shift = await get_shift(session, shift_id)
    await require_manager(
        ctx.store, actor, "shifts.edit", shift.organisation_id, now, target=f"shift:{shift_id}"
    )
    async with ctx.store.transaction() as session:
        shift = await get_shift(session, shift_id, lock=True)
        _editable(shift, now)
        before = Before.of(shift)
        changed = await _apply(ctx, session, shift, change, now)
        if not changed:
            return shift
        shift.sequence += 1
        if "time" in changed:
            shift.moves += 1
            shift.moved_at = now
        session.add(shift)
        await session.flush()
        told = await notify_change(ctx, session, shift, before, changed, now)
        await promote_waitlisted(session, ctx, shift, now)
        audit(session, actor, "shifts.edit", now, target=f"shift:{shift_id}",
              changed=sorted(changed), told=told)
    return shift


def _editable(shift: Shift, now: datetime) -> None:
    if shift.status == ShiftStatus.CANCELLED:
        raise DomainError("shift_cancelled", shift=shift.id)
    if shift.end_at <= now:
        raise DomainError("shift_over", shift=shift.id)


async def _apply(
    ctx: Context, session: AsyncSession, shift: Shift, change: ShiftChange, now: datetime
) -> set[str]:
    """Change the shift's fields in place; the names of what changed (time, area, ...)."""
    changed: set[str] = set()
    fields: dict[str, Any] = {}
    if change.start is not None or change.end is not None:
        fields.update(_times(ctx, shift, change, now))
    if change.area is not None:
        fields["area_id"] = (await find_area(session, change.area)).id
    if change.meeting_point is not None:
        point = change.meeting_point.strip()
        fields["meeting_point"] = (
            clean_text(point, field="meeting_point", max_length=200) if point else None
        )
    fields.update(await _counts(session, shift, change))
    for name, value in fields.items():
        if getattr(shift, name) != value:
            setattr(shift, name, value)
            changed.add(_GROUP[name])
    if changed & {"time", "area"}:
        await refuse_duplicate(session, shift.area_id, shift.start_at, except_id=shift.id)
    return changed


_GROUP = {
    "start_at": "time",
    "end_at": "time",
    "area_id": "area",
    "meeting_point": "meeting_point",
    "min_walkers": "counts",
    "max_walkers": "counts",
}


def _times(ctx: Context, shift: Shift, change: ShiftChange, now: datetime) -> dict[str, datetime]:
    """The new start and end in UTC, checked: not started, not backwards, not too long."""
    zone, fold = ctx.zone, change.fold
    start = calendar_time(change.start, zone, fold) if change.start else shift.start_at
    end = calendar_time(change.end, zone, fold) if change.end else shift.end_at
    if shift.start_at <= now and start != shift.start_at:
        raise DomainError("shift_started", shift=shift.id)
    if start != shift.start_at and start <= now:
        raise DomainError("shift_in_past", start=f"{change.start:%Y-%m-%d %H:%M}")
    if end <= start:
        local = (start.astimezone(ctx.zone), end.astimezone(ctx.zone))
        raise InvalidInput(
            "end_before_start", start=f"{local[0]:%Y-%m-%d %H:%M}", end=f"{local[1]:%Y-%m-%d %H:%M}"
        )
    if end - start > MAX_SHIFT_LENGTH:
        raise InvalidInput("shift_too_long", hours=int(MAX_SHIFT_LENGTH.total_seconds() // 3600))
    return {"start_at": start, "end_at": end}


async def _counts(session: AsyncSession, shift: Shift, change: ShiftChange) -> dict[str, int]:
    """The new minimum and maximum, checked; a maximum below the seats taken is refused."""
    if change.min_walkers is None and change.max_walkers is None:
        return {}
    minimum = change.min_walkers if change.min_walkers is not None else shift.min_walkers
    maximum = change.max_walkers if change.max_walkers is not None else shift.max_walkers
    if minimum < 1 or maximum < 1 or maximum > MAX_WALKERS:
        raise InvalidInput("bad_walker_count", min=minimum, max=maximum)
    if minimum > maximum:
        raise InvalidInput("min_above_max", min=minimum, max=maximum)
    taken = await seats_taken(session, shift.id or 0)
    if maximum < taken:
        raise DomainError("max_below_taken", shift=shift.id, max=maximum, taken=taken)
    return {"min_walkers": minimum, "max_walkers": maximum}
