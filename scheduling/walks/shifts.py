"""Shifts (walks) and recurring series: creating, cancelling, listing with their staffing."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Select, Subquery, and_, bindparam, case, func
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import (
    Area,
    Organisation,
    Person,
    Series,
    Shift,
    ShiftStatus,
    Signup,
    SignupStatus,
)
from scheduling.common.context import Context
from scheduling.common.errors import DomainError, InvalidInput, NotFound
from scheduling.common.localtime import Fold, local_day_bounds, to_utc
from scheduling.common.text import clean_text
from scheduling.messages.outbox import enqueue
from scheduling.people.access import Actor, audit, require_manager
from scheduling.people.directory import find_area, find_organisation

WEEKDAYS = {
    "mon": 0,
    "tue": 1,
    "wed": 2,
    "thu": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
    "man": 0,
    "tis": 1,
    "ons": 2,
    "tor": 3,
    "fre": 4,
    "lor": 5,
    "lör": 5,
    "son": 6,
    "sön": 6,
}
MAX_SHIFT_LENGTH = timedelta(hours=16)
MAX_SERIES_SHIFTS = 400

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


def parse_weekdays(text: str) -> set[int]:
    """``fri,sat`` (English or Swedish three-letter names) as weekday numbers (Monday = 0)."""
    days: set[int] = set()
    for part in text.replace(" ", "").lower().split(","):
        if not part:
            continue
        if part[:3] not in WEEKDAYS:
            raise InvalidInput("bad_weekday", day=part)
        days.add(WEEKDAYS[part[:3]])
    if not days:
        raise InvalidInput("bad_weekday", day=text)
    return days


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


async def create_shifts(
    ctx: Context,
    actor: Actor,
    spec: ShiftSpec,
    repeat: set[int] | None = None,
    until: date | None = None,
    allow_past: bool = False,
) -> list[Shift]:
    """Create one shift, or a weekly series on ``repeat`` days from ``spec.start`` to ``until``.

    Shifts in the past are refused unless ``allow_past`` (the operator recording walks that
    already happened, for the statistics).

    All or nothing: a date on which the local time does not exist (or is ambiguous and no fold
    was chosen) refuses the whole series, naming the time.
    """
    now = ctx.now()
    walks = ctx.settings.walks
    minimum = (
        spec.min_walkers
        if spec.min_walkers is not None
        else (walks.risk_night_min_walkers if spec.risk_night else walks.min_walkers)
    )
    maximum = spec.max_walkers if spec.max_walkers is not None else walks.max_walkers
    if spec.min_walkers is None:
        minimum = min(minimum, maximum)  # a small --max lowers the default minimum with it
    _check_sizes(minimum, maximum)
    notes = clean_text(spec.notes, field="notes", max_length=500) if spec.notes else None
    intervals = _intervals(ctx, spec, repeat, until)
    if intervals[0][0] <= now and not allow_past:
        raise DomainError("shift_in_past", start=spec.start.strftime("%Y-%m-%d %H:%M"))
    async with ctx.store.transaction() as session:
        org = await find_organisation(session, spec.organisation)
        area = await find_area(session, spec.area)
    await require_manager(ctx.store, actor, "shifts.add", org.id, now)
    async with ctx.store.transaction() as session:
        series_id = None
        if repeat:
            assert until is not None
            series = Series(
                organisation_id=org.id or 0,
                area_id=area.id or 0,
                weekdays=",".join(_day_names(repeat)),
                local_start=f"{spec.start:%H:%M}",
                local_end=f"{spec.end:%H:%M}",
                first_date=spec.start.date(),
                until=until,
                created_at=now,
            )
            session.add(series)
            await session.flush()
            series_id = series.id
        shifts = [
            Shift(
                organisation_id=org.id or 0,
                area_id=area.id or 0,
                start_at=start,
                end_at=end,
                min_walkers=minimum,
                max_walkers=maximum,
                notes=notes,
                series_id=series_id,
                risk_night=spec.risk_night,
                created_at=now,
            )
            for start, end in intervals
        ]
        session.add_all(shifts)
        await session.flush()
        audit(
            session,
            actor,
            "shifts.add",
            now,
            target=f"organisation:{org.id}",
            shift_ids=[s.id for s in shifts],
            series_id=series_id,
        )
    return shifts


def _check_sizes(minimum: int, maximum: int) -> None:
    if minimum < 1 or maximum < 1 or maximum > 100:
        raise InvalidInput("bad_walker_count", min=minimum, max=maximum)
    if minimum > maximum:
        raise InvalidInput("min_above_max", min=minimum, max=maximum)


def _intervals(
    ctx: Context, spec: ShiftSpec, repeat: set[int] | None, until: date | None
) -> list[tuple[datetime, datetime]]:
    """UTC (start, end) of each occurrence; each local time is converted on its own date."""
    if spec.end <= spec.start:
        raise InvalidInput(
            "end_before_start",
            start=f"{spec.start:%Y-%m-%d %H:%M}",
            end=f"{spec.end:%Y-%m-%d %H:%M}",
        )
    day_offset = (spec.end.date() - spec.start.date()).days
    dates = _occurrences(spec.start.date(), repeat, until)
    intervals = []
    for day in dates:
        start_local = datetime.combine(day, spec.start.time())
        end_local = datetime.combine(day + timedelta(days=day_offset), spec.end.time())
        start = to_utc(start_local, ctx.zone, spec.fold)
        end = to_utc(end_local, ctx.zone, spec.fold)
        if end <= start:
            raise InvalidInput(
                "end_before_start",
                start=f"{start_local:%Y-%m-%d %H:%M}",
                end=f"{end_local:%Y-%m-%d %H:%M}",
            )
        if end - start > MAX_SHIFT_LENGTH:
            raise InvalidInput(
                "shift_too_long", hours=int(MAX_SHIFT_LENGTH.total_seconds() // 3600)
            )
        intervals.append((start, end))
    return intervals


def _occurrences(first: date, repeat: set[int] | None, until: date | None) -> list[date]:
    if not repeat:
        if until is not None:
            raise InvalidInput("until_without_repeat")
        return [first]
    if until is None:
        raise InvalidInput("repeat_without_until")
    if until < first:
        raise InvalidInput("until_before_start", until=until.isoformat(), start=first.isoformat())
    days = [first + timedelta(days=n) for n in range((until - first).days + 1)]
    chosen = [d for d in days if d.weekday() in repeat]
    if not chosen:
        raise InvalidInput("series_empty", until=until.isoformat())
    if len(chosen) > MAX_SERIES_SHIFTS:
        raise InvalidInput("series_too_long", count=len(chosen), max=MAX_SERIES_SHIFTS)
    return chosen


def _day_names(days: Iterable[int]) -> list[str]:
    names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    return [names[d] for d in sorted(days)]


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
    """Cancel a planned shift; everyone signed up is told (through the outbox)."""
    now = ctx.now()
    async with ctx.store.transaction() as session:
        shift = await get_shift(session, shift_id)
    await require_manager(
        ctx.store, actor, "shifts.cancel", shift.organisation_id, now, target=f"shift:{shift_id}"
    )
    why = clean_text(reason, field="reason", max_length=200) if reason else None
    async with ctx.store.transaction() as session:
        shift = await get_shift(session, shift_id, lock=True)
        if shift.status == ShiftStatus.CANCELLED:
            raise DomainError("shift_already_cancelled", shift=shift_id)
        if shift.end_at <= now:
            raise DomainError("shift_over", shift=shift_id)
        shift.status = ShiftStatus.CANCELLED
        shift.cancelled_at = now
        session.add(shift)
        for signup in await active_signups(session, shift_id):
            await enqueue(
                session,
                key=f"cancelled:shift:{shift_id}:person:{signup.person_id}",
                kind="shift_cancelled",
                person_id=signup.person_id,
                due_at=now,
                now=now,
                payload={"shift_id": shift_id, "reason": why},
                urgent=True,
            )
        audit(session, actor, "shifts.cancel", now, target=f"shift:{shift_id}", reason=why)
    return shift


async def active_signups(session: AsyncSession, shift_id: int) -> Sequence[Signup]:
    """Sign-ups of a shift that still count: confirmed, offered or waitlisted."""
    result = await session.exec(
        select(Signup)
        .where(col(Signup.shift_id) == shift_id, col(Signup.status) != SignupStatus.CANCELLED)
        .order_by(col(Signup.queued_at), col(Signup.id))
    )
    return result.all()


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
    statement = _views_statement_for(
        frozenset(name for name, value in params.items() if value is not None), ids
    )
    rows = (await session.exec(statement, params=params)).all()  # type: ignore[call-overload]
    return _views(ctx, rows)


@functools.lru_cache(maxsize=64)
def _views_statement_for(given: frozenset[str], ids: str) -> Select[*tuple[Any, ...]]:
    """The view statement for one combination of filters, with their values as parameters:
    built once per combination, so SQLAlchemy finds its compiled form without computing the
    large statement's cache key every time (a plain select is rebuilt each call)."""
    chosen: list[ColumnElement[bool]] = []
    if "start_from" in given:
        chosen.append(col(Shift.start_at) >= bindparam("start_from"))
    if "start_before" in given:
        chosen.append(col(Shift.start_at) < bindparam("start_before"))
    if "ends_after" in given:
        chosen.append(col(Shift.end_at) > bindparam("ends_after"))
    if ids == "one":
        chosen.append(col(Shift.id) == bindparam("shift_id"))
    elif ids == "many":
        chosen.append(col(Shift.id).in_(bindparam("shift_ids", expanding=True)))
    if "organisation_id" in given:
        chosen.append(col(Shift.organisation_id) == bindparam("organisation_id"))
    return _views_statement(chosen)


def _views_statement(chosen: Sequence[ColumnElement[bool]]) -> Select[*tuple[Any, ...]]:
    counts = _signup_counts(chosen)
    return (
        sa_select(
            Shift,
            col(Organisation.name),
            col(Area.name),
            col(Area.meeting_point),
            func.coalesce(counts.c.confirmed, 0),
            func.coalesce(counts.c.offered, 0),
            func.coalesce(counts.c.waitlisted, 0),
            func.coalesce(counts.c.trained, 0),
        )
        .join(Organisation, col(Organisation.id) == col(Shift.organisation_id))
        .join(Area, col(Area.id) == col(Shift.area_id))
        .join(counts, counts.c.shift_id == col(Shift.id), isouter=True)
        .where(*chosen)
        .order_by(col(Shift.start_at), col(Shift.id))
    )


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


def _signup_counts(chosen: Sequence[ColumnElement[bool]]) -> Subquery:
    """Head-counts per shift, over the sign-ups of the shifts ``chosen`` selects (all without)."""

    def count_when(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.sum(case((condition, 1), else_=0))

    status = col(Signup.status)
    of_chosen = (
        [col(Signup.shift_id).in_(sa_select(col(Shift.id)).where(*chosen))] if chosen else []
    )
    return (
        sa_select(
            col(Signup.shift_id).label("shift_id"),
            count_when(status == SignupStatus.CONFIRMED).label("confirmed"),
            count_when(status == SignupStatus.OFFERED).label("offered"),
            count_when(status == SignupStatus.WAITLISTED).label("waitlisted"),
            count_when(and_(status == SignupStatus.CONFIRMED, col(Person.trained))).label(
                "trained"
            ),
        )
        .join(Person, col(Person.id) == col(Signup.person_id))
        .where(*of_chosen)
        .group_by(col(Signup.shift_id))
    ).subquery()


_MINE = aliased(Signup, name="mine")
_ONE_VIEW_WITH_SIGNUP = (
    _views_statement([col(Shift.id) == bindparam("shift_id")])
    .outerjoin(
        _MINE,
        and_(col(_MINE.shift_id) == col(Shift.id), col(_MINE.person_id) == bindparam("person_id")),
    )
    .add_columns(_MINE)
)


async def get_shift_view_with_signup(
    session: AsyncSession, ctx: Context, shift_id: int, person_id: int
) -> tuple[ShiftView, Signup | None]:
    """One shift's view and the person's own sign-up to it (of any status), in one statement:
    what a shift card shows."""
    params = {"shift_id": shift_id, "person_id": person_id}
    rows = (await session.exec(_ONE_VIEW_WITH_SIGNUP, params=params)).all()  # type: ignore[call-overload]
    if not rows:
        raise NotFound("shift", shift_id)
    row = rows[0]
    return _views(ctx, [row[:8]])[0], row[8]


def view_of_signups(
    ctx: Context,
    shift: Shift,
    names: tuple[str, str, str | None],
    signups: Iterable[tuple[Signup, bool]],
) -> ShiftView:
    """A shift's view from its sign-ups in hand, each with whether its walker is trained:
    counted as ``_signup_counts`` counts in SQL (tests hold the two to the same answer)."""
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


LOCKED_SHIFT_WITH_NAMES = (
    sa_select(Shift, col(Organisation.name), col(Area.name), col(Area.meeting_point))
    .join(Organisation, col(Organisation.id) == col(Shift.organisation_id))
    .join(Area, col(Area.id) == col(Shift.area_id))
    .where(col(Shift.id) == bindparam("shift_id"))
    .with_for_update(of=Shift)
    .execution_options(populate_existing=True)
)


async def get_shift_view(session: AsyncSession, ctx: Context, shift_id: int) -> ShiftView:
    views = await shift_views(session, ctx, shift_ids=[shift_id])
    if not views:
        raise NotFound("shift", shift_id)
    return views[0]


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
