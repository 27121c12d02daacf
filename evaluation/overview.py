"""What the coordinator's dashboard shows: the next two weeks with rosters, and the reports.

Every function checks the actor: coordinators see every organisation, a lead only their own,
anyone else is refused (audited). Rosters carry names only, never contact details.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import col, select

from evaluation.walk_facts import REPORT_SUBMITTED, Walk, load_walks
from models.tables import Person, Report, ShiftStatus, Signup, SignupStatus
from scheduling.common.context import Context
from scheduling.common.errors import NotFound
from scheduling.common.localtime import local_day_bounds
from scheduling.people.access import Actor, refuse
from scheduling.people.scope import organisation_scope
from scheduling.walks.shifts import ShiftView, get_shift_view, shift_views

UPCOMING_DAYS = 14


@dataclass(frozen=True)
class UpcomingShift:
    view: ShiftView
    roster: tuple[str, ...]  # names of the walkers holding a seat, in sign-up order


async def upcoming_shifts(
    ctx: Context, actor: Actor, first_day: date, days: int = UPCOMING_DAYS
) -> list[UpcomingShift]:
    """Shifts starting on ``days`` local days from ``first_day``, with their rosters."""
    organisation_id = await organisation_scope(ctx, actor, "dashboard.view")
    start = local_day_bounds(first_day, ctx.zone)[0]
    before = local_day_bounds(first_day + timedelta(days=days - 1), ctx.zone)[1]
    async with ctx.store.transaction() as session:
        views = await shift_views(
            session, ctx, start_from=start, start_before=before, organisation_id=organisation_id
        )
        rows = await session.exec(
            select(Signup.shift_id, Person.name)
            .join(Person, col(Person.id) == col(Signup.person_id))
            .where(
                col(Signup.shift_id).in_([v.shift.id or 0 for v in views]),
                col(Signup.status).in_(SignupStatus.HOLDS_SEAT),
            )
            .order_by(col(Signup.queued_at), col(Signup.id))
        )
        rosters: dict[int, list[str]] = {}
        for shift_id, name in rows.all():
            rosters.setdefault(shift_id, []).append(name)
    return [UpcomingShift(v, tuple(rosters.get(v.shift.id or 0, ()))) for v in views]


@dataclass(frozen=True)
class ReportFilter:
    first_day: date
    last_day: date
    area_id: int | None = None
    organisation_id: int | None = None
    mood: str | None = None
    incidents: bool | None = None  # True: only with help given or a service contacted


@dataclass(frozen=True)
class ReportRow:
    report: Report
    walk: Walk

    @property
    def incident(self) -> bool:
        return bool(self.report.help_given or self.report.services_contacted)


def matches(row: ReportRow, wanted: ReportFilter) -> bool:
    """Whether a report passes the filter's area, organisation, mood and incident choices."""
    shift = row.walk.shift
    return (
        (wanted.area_id is None or shift.area_id == wanted.area_id)
        and (wanted.organisation_id is None or shift.organisation_id == wanted.organisation_id)
        and (wanted.mood is None or row.report.mood == wanted.mood)
        and (wanted.incidents is None or row.incident == wanted.incidents)
    )


async def list_reports(ctx: Context, actor: Actor, wanted: ReportFilter) -> list[ReportRow]:
    """Submitted reports of shifts in the range that the actor may see and the filter keeps,
    newest walk first."""
    organisation_id = await organisation_scope(ctx, actor, "reports.view")
    walks = await load_walks(ctx, wanted.first_day, wanted.last_day, organisation_id)
    rows = [ReportRow(report, walk) for walk in walks for report in walk.reports]
    kept = [row for row in rows if matches(row, wanted)]
    return sorted(kept, key=lambda r: (r.walk.shift.start_at, r.report.id or 0), reverse=True)


async def report_detail(ctx: Context, actor: Actor, report_id: int) -> ReportRow:
    """One submitted report; NotFound also when it belongs to another organisation's shift
    (so its existence is not confirmed), though that attempt is audited as refused."""
    organisation_id = await organisation_scope(ctx, actor, "reports.view")
    async with ctx.store.transaction() as session:
        report = await session.get(Report, report_id)
        if report is None or report.status != REPORT_SUBMITTED:
            raise NotFound("report", report_id)
        view = await get_shift_view(session, ctx, report.shift_id)
    if organisation_id is not None and view.shift.organisation_id != organisation_id:
        await refuse(ctx.store, actor, "reports.view", ctx.now(), target=f"report:{report_id}")
        raise NotFound("report", report_id)
    return ReportRow(report, Walk(view=view, walkers=(), reports=(report,), now=ctx.now()))


def needs_walkers(item: UpcomingShift) -> bool:
    """Understaffed and not cancelled."""
    return item.view.shift.status != ShiftStatus.CANCELLED and item.view.staffing == "understaffed"


def by_day(shifts: Sequence[UpcomingShift], ctx: Context) -> dict[date, list[UpcomingShift]]:
    """Shifts per local start day, understaffed first within a day, then by start."""
    days: dict[date, list[UpcomingShift]] = {}
    for item in shifts:
        days.setdefault(item.view.shift.start_at.astimezone(ctx.zone).date(), []).append(item)
    for items in days.values():
        items.sort(key=lambda i: (not needs_walkers(i), i.view.shift.start_at))
    return days
