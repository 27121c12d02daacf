"""Shifts (walks) and recurring series: creating, cancelling, finding and listing them.

What a shift looks like to people (``ShiftView``, ``shift_views``) is in views; the dates of a
series in series. Both are named here too, as the walks' front door.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import Series, Shift, ShiftStatus, Signup, SignupStatus
from scheduling.common.config import WalkSettings
from scheduling.common.context import Context
from scheduling.common.errors import DomainError, InvalidInput, NotFound
from scheduling.common.localtime import Fold, local_day_bounds
from scheduling.common.text import clean_text
from scheduling.messages.kinds import Kind
from scheduling.messages.outbox import enqueue
from scheduling.people.access import Actor, audit, require_manager
from scheduling.people.organisations import find_area, find_organisation
from scheduling.walks.duplicates import existing_starts
from scheduling.walks.series import day_names, intervals, parse_weekdays
from scheduling.walks.views import (
    ShiftView,
    get_shift_view,
    get_shift_view_with_signup,
    shift_views,
)

__all__ = [
    "Created",
    "ShiftSpec",
    "ShiftView",
    "active_signups",
    "add_shifts",
    "cancel_shift",
    "cancellable",
    "create_shifts",
    "get_shift",
    "get_shift_view",
    "get_shift_view_with_signup",
    "list_shifts",
    "parse_weekdays",
    "require_cancellable",
    "shift_views",
]


@dataclass(frozen=True)
class ShiftSpec:
    """What a new shift (or the first of a series) looks like, in local wall time."""

    organisation: str | int
    area: str | int
    start: datetime  # naive local
    end: datetime  # naive local
    min_walkers: int | None = None
    max_walkers: int | None = None
    risk_night: bool = False
    notes: str | None = None
    fold: Fold | None = None


@dataclass(frozen=True)
class Created:
    """The shifts made, and the ids of existing shifts whose dates a series skipped."""

    shifts: list[Shift]
    skipped: list[int]


async def create_shifts(
    ctx: Context,
    actor: Actor,
    spec: ShiftSpec,
    repeat: set[int] | None = None,
    until: date | None = None,
    allow_past: bool = False,
    force: bool = False,
) -> list[Shift]:
    """``add_shifts`` without the report of skipped duplicates."""
    return (await add_shifts(ctx, actor, spec, repeat, until, allow_past, force)).shifts


async def add_shifts(
    ctx: Context,
    actor: Actor,
    spec: ShiftSpec,
    repeat: set[int] | None = None,
    until: date | None = None,
    allow_past: bool = False,
    force: bool = False,
) -> Created:
    """Create one shift, or a weekly series on ``repeat`` days from ``spec.start`` to ``until``.

    Shifts in the past are refused unless ``allow_past`` (the operator recording walks that
    already happened, for the statistics). A shift that repeats one in the same area at the
    same start (not cancelled) is refused unless ``force``; a series skips those dates and
    names the existing shifts (refused when every date is taken).

    Local times are read as calendars read them (``series.intervals``): a series over a night
    the clocks change keeps its walks the usual length in real hours where it can.
    """
    now = ctx.now()
    fields = _shift_fields(spec, ctx.settings.walks, now)
    times = intervals(ctx.zone, spec.start, spec.end, spec.fold, repeat, until)
    if times[0][0] <= now and not allow_past:
        raise DomainError("shift_in_past", start=spec.start.strftime("%Y-%m-%d %H:%M"))
    async with ctx.store.transaction() as session:
        org = await find_organisation(session, spec.organisation)
        area = await find_area(session, spec.area)
    await require_manager(ctx.store, actor, "shifts.add", org.id, now)
    fields.update(organisation_id=org.id or 0, area_id=area.id or 0)
    async with ctx.store.transaction() as session:
        times, skipped = await _without_duplicates(session, area.id or 0, times, repeat, force)
        series_id = await _add_series(session, spec, fields, repeat, until) if repeat else None
        shifts = [Shift(start_at=s, end_at=e, series_id=series_id, **fields) for s, e in times]
        session.add_all(shifts)
        await session.flush()
        ids = [s.id for s in shifts]
        target = f"organisation:{org.id}"
        audit(session, actor, "shifts.add", now, target=target, shift_ids=ids,
              series_id=series_id, skipped=skipped)
    return Created(shifts, skipped)


async def _without_duplicates(
    session: AsyncSession,
    area_id: int,
    times: list[tuple[datetime, datetime]],
    repeat: set[int] | None,
    force: bool,
) -> tuple[list[tuple[datetime, datetime]], list[int]]:
    """The times left once dates with a shift already are dropped (a single one is refused)."""
    if force:
        return times, []
    existing = await existing_starts(session, area_id, [start for start, _ in times])
    if not existing:
        return times, []
    if not repeat:
        raise DomainError("shift_duplicate", shift=next(iter(existing.values())))
    left = [(start, end) for start, end in times if start not in existing]
    if not left:
        raise DomainError("series_all_duplicates", count=len(existing))
    return left, sorted(existing.values())


def _shift_fields(spec: ShiftSpec, walks: WalkSettings, now: datetime) -> dict[str, Any]:
    """What every shift of the request shares, checked: walker counts, notes, risk night."""
    default_minimum = walks.risk_night_min_walkers if spec.risk_night else walks.min_walkers
    minimum = spec.min_walkers if spec.min_walkers is not None else default_minimum
    maximum = spec.max_walkers if spec.max_walkers is not None else walks.max_walkers
    if spec.min_walkers is None:
        minimum = min(minimum, maximum)  # a small --max lowers the default minimum with it
    if minimum < 1 or maximum < 1 or maximum > 100:
        raise InvalidInput("bad_walker_count", min=minimum, max=maximum)
    if minimum > maximum:
        raise InvalidInput("min_above_max", min=minimum, max=maximum)
    notes = clean_text(spec.notes, field="notes", max_length=500) if spec.notes else None
    return {
        "min_walkers": minimum,
        "max_walkers": maximum,
        "notes": notes,
        "risk_night": spec.risk_night,
        "created_at": now,
    }


async def _add_series(
    session: AsyncSession,
    spec: ShiftSpec,
    fields: dict[str, Any],
    repeat: set[int],
    until: date | None,
) -> int | None:
    assert until is not None
    series = Series(
        organisation_id=fields["organisation_id"],
        area_id=fields["area_id"],
        weekdays=",".join(day_names(repeat)),
        local_start=f"{spec.start:%H:%M}",
        local_end=f"{spec.end:%H:%M}",
        first_date=spec.start.date(),
        until=until,
        created_at=fields["created_at"],
    )
    session.add(series)
    await session.flush()
    return series.id


_SHIFT = select(Shift).where(col(Shift.id) == bindparam("shift_id"))
# locked, and read afresh even if the turn's session loaded the row earlier
_SHIFT_LOCKED = _SHIFT.with_for_update().execution_options(populate_existing=True)


async def get_shift(session: AsyncSession, shift_id: int, *, lock: bool = False) -> Shift:
    """A shift by id; with ``lock`` the row is locked for the rest of the transaction."""
    statement = _SHIFT_LOCKED if lock else _SHIFT
    shift = (await session.exec(statement, params={"shift_id": shift_id})).first()
    if shift is None:
        raise NotFound("shift", shift_id)
    return shift


async def cancel_shift(
    ctx: Context, actor: Actor, shift_id: int, reason: str | None = None
) -> Shift:
    """Cancel a planned shift that has not begun; everyone signed up is told (through the
    outbox). A begun shift is refused (``cancellable``)."""
    now = ctx.now()
    async with ctx.store.transaction() as session:
        shift = await get_shift(session, shift_id)
    await require_manager(
        ctx.store, actor, "shifts.cancel", shift.organisation_id, now, target=f"shift:{shift_id}"
    )
    why = clean_text(reason, field="reason", max_length=200) if reason else None
    async with ctx.store.transaction() as session:
        shift = await get_shift(session, shift_id, lock=True)
        cancellable(shift, now)
        shift.status = ShiftStatus.CANCELLED
        shift.cancelled_at = now
        session.add(shift)
        for signup in await active_signups(session, shift_id):
            await enqueue(
                session,
                key=f"cancelled:shift:{shift_id}:person:{signup.person_id}",
                kind=Kind.SHIFT_CANCELLED,
                person_id=signup.person_id,
                due_at=now,
                now=now,
                payload={"shift_id": shift_id, "reason": why},
                urgent=True,
            )
        audit(session, actor, "shifts.cancel", now, target=f"shift:{shift_id}", reason=why)
    return shift


def cancellable(shift: Shift, now: datetime) -> None:
    """Refuse cancelling a shift that is cancelled, over, or has begun. Once it has begun its
    group may be out walking: a cancelled shift takes no alarm (``alarms._current_shift``) and
    raises no overdue check-out alert (``safety.py``), so the walkers would be left without
    either. A shift that should end early has its end moved instead (``editing.py`` allows
    that for a begun shift)."""
    if shift.status == ShiftStatus.CANCELLED:
        raise DomainError("shift_already_cancelled", shift=shift.id)
    if shift.end_at <= now:
        raise DomainError("shift_over", shift=shift.id)
    if shift.start_at <= now:
        raise DomainError("cancel_begun", shift=shift.id)


async def require_cancellable(ctx: Context, shift_id: int) -> None:
    """``cancellable`` for the shift ``shift_id`` now: a chat asks no confirmation for a
    cancellation that would be refused."""
    async with ctx.store.joined() as session:
        shift = await get_shift(session, shift_id)
    cancellable(shift, ctx.now())


async def active_signups(session: AsyncSession, shift_id: int) -> Sequence[Signup]:
    """Sign-ups of a shift that still count: confirmed, offered or waitlisted."""
    result = await session.exec(
        select(Signup)
        .where(col(Signup.shift_id) == shift_id, col(Signup.status) != SignupStatus.CANCELLED)
        .order_by(col(Signup.queued_at), col(Signup.id))
    )
    return result.all()


async def list_shifts(
    ctx: Context, first_day: date | None = None, last_day: date | None = None
) -> list[ShiftView]:
    """Shifts starting on the local days given (both included); without a range, what is upcoming
    (every shift that has not ended yet)."""
    async with ctx.store.transaction() as session:
        if first_day is None and last_day is None:
            return await shift_views(session, ctx, ends_after=ctx.now())
        start = _day_start(first_day, ctx) if first_day else None
        before = _day_start(last_day + timedelta(days=1), ctx) if last_day else None
        if start and before and before <= start:
            raise InvalidInput("until_before_start", until=str(last_day), start=str(first_day))
        return await shift_views(session, ctx, start_from=start, start_before=before)


def _day_start(day: date, ctx: Context) -> datetime:
    return local_day_bounds(day, ctx.zone)[0]
