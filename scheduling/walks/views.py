"""What people see of a shift: its names, head-counts and staffing state."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import Shift, ShiftStatus, Signup, SignupStatus
from scheduling.common.context import Context
from scheduling.common.errors import NotFound
from scheduling.walks.view_statements import (
    ONE_VIEW_WITH_SIGNUP,
    VIEW_COLUMNS,
    views_statement_for,
)

Staffing = Literal["understaffed", "ok", "full"]


@dataclass(frozen=True)
class ShiftView:
    """A shift with what people need to see about it."""

    shift: Shift
    organisation: str
    area: str
    meeting_point: str | None
    confirmed: int
    offered: int
    waitlisted: int
    trained: int
    trained_required: int

    @property
    def cancelled(self) -> bool:
        return self.shift.status == ShiftStatus.CANCELLED

    @property
    def seats_taken(self) -> int:
        return self.confirmed + self.offered

    @property
    def staffing(self) -> Staffing:
        return staffing_state(
            self.confirmed,
            self.trained,
            self.shift.min_walkers,
            self.shift.max_walkers,
            self.trained_required,
        )

    def status_at(self, now: datetime) -> str:
        """Planned shifts whose end has passed count as completed."""
        if self.shift.status == ShiftStatus.PLANNED and self.shift.end_at <= now:
            return ShiftStatus.COMPLETED
        return self.shift.status


def staffing_state(
    confirmed: int, trained: int, min_walkers: int, max_walkers: int, trained_required: int
) -> Staffing:
    """Understaffed below the minimum or without enough trained walkers; full at the maximum."""
    if confirmed < min_walkers or trained < trained_required:
        return "understaffed"
    if confirmed >= max_walkers:
        return "full"
    return "ok"


async def shift_views(
    session: AsyncSession,
    ctx: Context,
    *,
    start_from: datetime | None = None,
    start_before: datetime | None = None,
    ends_after: datetime | None = None,
    shift_ids: Sequence[int] | None = None,
    organisation_id: int | None = None,
) -> list[ShiftView]:
    """Shifts with names and head-counts, in start order, filtered as asked.

    The head-counts are taken over the chosen shifts' sign-ups only, so looking at one shift
    costs the same whatever the history holds."""
    params: dict[str, Any] = {
        "start_from": start_from,
        "start_before": start_before,
        "ends_after": ends_after,
        "organisation_id": organisation_id,
    }
    ids = "none" if shift_ids is None else "one" if len(shift_ids) == 1 else "many"
    if shift_ids is not None:
        params["shift_ids"] = list(shift_ids)
        params["shift_id"] = shift_ids[0] if ids == "one" else None
    statement = views_statement_for(
        frozenset(name for name, value in params.items() if value is not None), ids
    )
    rows = (await session.exec(statement, params=params)).all()  # type: ignore[call-overload]
    return _views(ctx, rows)


def _views(ctx: Context, rows: Sequence[Any]) -> list[ShiftView]:
    required = ctx.settings.walks.trained_walkers_per_shift
    return [
        ShiftView(
            shift=row[0],
            organisation=row[1],
            area=row[2],
            meeting_point=row[3],
            confirmed=int(row[4]),
            offered=int(row[5]),
            waitlisted=int(row[6]),
            trained=int(row[7]),
            trained_required=required,
        )
        for row in rows
    ]


async def get_shift_view(session: AsyncSession, ctx: Context, shift_id: int) -> ShiftView:
    views = await shift_views(session, ctx, shift_ids=[shift_id])
    if not views:
        raise NotFound("shift", shift_id)
    return views[0]


async def get_shift_view_with_signup(
    session: AsyncSession, ctx: Context, shift_id: int, person_id: int
) -> tuple[ShiftView, Signup | None]:
    """One shift's view and the person's own sign-up to it (of any status), in one statement:
    what a shift card shows."""
    params = {"shift_id": shift_id, "person_id": person_id}
    rows = (await session.exec(ONE_VIEW_WITH_SIGNUP, params=params)).all()  # type: ignore[call-overload]
    if not rows:
        raise NotFound("shift", shift_id)
    row = rows[0]
    return _views(ctx, [row[:VIEW_COLUMNS]])[0], row[VIEW_COLUMNS]


def view_of_signups(
    ctx: Context,
    shift: Shift,
    names: tuple[str, str, str | None],
    signups: Iterable[tuple[Signup, bool]],
) -> ShiftView:
    """A shift's view from its sign-ups in hand, each with whether its walker is trained:
    counted as ``signup_counts`` counts in SQL (tests hold the two to the same answer)."""
    statuses = [(signup.status, trained) for signup, trained in signups]
    organisation, area, meeting_point = names
    return ShiftView(
        shift=shift,
        organisation=organisation,
        area=area,
        meeting_point=meeting_point,
        confirmed=sum(status == SignupStatus.CONFIRMED for status, _ in statuses),
        offered=sum(status == SignupStatus.OFFERED for status, _ in statuses),
        waitlisted=sum(status == SignupStatus.WAITLISTED for status, _ in statuses),
        trained=sum(status == SignupStatus.CONFIRMED and trained for status, trained in statuses),
        trained_required=ctx.settings.walks.trained_walkers_per_shift,
    )
