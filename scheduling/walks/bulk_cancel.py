"""Cancelling many shifts at once: a weekly series, or every planned shift in a date range
(of one organisation or area, if asked), for Christmas or the sports holiday.

Each shift is cancelled as ``cancel_shift`` cancels one, so each walker of each shift is told
once (``cancelled:shift:<id>:person:<pid>``). Only shifts not yet begun are touched. A lead's
selection is narrowed to their own organisation; the first shift they may not manage refuses
the whole request (audited), before anything is cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import col, select

from models.tables import Shift, ShiftStatus
from scheduling.common.context import Context
from scheduling.common.errors import DomainError, InvalidInput
from scheduling.common.localtime import local_day_bounds, usable_day
from scheduling.people.access import Actor, require_manager
from scheduling.people.organisations import find_area, find_organisation
from scheduling.walks.shifts import cancel_shift


@dataclass(frozen=True)
class Selection:
    """Which shifts: a series, or a range of local days (both included)."""

    series_id: int | None = None
    first_day: date | None = None
    last_day: date | None = None
    organisation: str | int | None = None
    area: str | int | None = None


async def cancel_many(
    ctx: Context, actor: Actor, selection: Selection, reason: str | None = None
) -> list[int]:
    """Cancel every planned shift of the selection that has not begun; their ids."""
    ids = await selected_shifts(ctx, actor, selection)
    if not ids:
        raise DomainError("bulk_nothing")
    for shift_id in ids:
        await cancel_shift(ctx, actor, shift_id, reason)
    return ids


async def selected_shifts(ctx: Context, actor: Actor, selection: Selection) -> list[int]:
    """The ids of the planned, not yet begun shifts of the selection, checked for the actor."""
    ranged = selection.first_day is not None and selection.last_day is not None
    if selection.series_id is None and not ranged:
        raise InvalidInput("bulk_what")
    statement = select(Shift).where(
        col(Shift.status) == ShiftStatus.PLANNED, col(Shift.start_at) > ctx.now()
    )
    if selection.series_id is not None:
        statement = statement.where(col(Shift.series_id) == selection.series_id)
    async with ctx.store.transaction() as session:
        if ranged:
            assert selection.first_day is not None and selection.last_day is not None
            if selection.last_day < selection.first_day:
                raise InvalidInput(
                    "until_before_start", until=str(selection.last_day),
                    start=str(selection.first_day),
                )
            start = local_day_bounds(usable_day(selection.first_day), ctx.zone)[0]
            end = local_day_bounds(usable_day(selection.last_day), ctx.zone)[1]
            statement = statement.where(col(Shift.start_at) >= start, col(Shift.start_at) < end)
        if selection.organisation is not None:
            org = await find_organisation(session, selection.organisation)
            statement = statement.where(col(Shift.organisation_id) == org.id)
        elif not actor.is_coordinator:
            statement = statement.where(col(Shift.organisation_id) == actor.organisation_id)
        if selection.area is not None:
            area = await find_area(session, selection.area)
            statement = statement.where(col(Shift.area_id) == area.id)
        found = (await session.exec(statement.order_by(col(Shift.start_at)))).all()
    for organisation_id in sorted({shift.organisation_id for shift in found}):
        await require_manager(ctx.store, actor, "shifts.cancel", organisation_id, ctx.now())
    return [shift.id or 0 for shift in found]
