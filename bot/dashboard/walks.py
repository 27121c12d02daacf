"""The walks: the next two weeks with their rosters, and the reports walkers filed."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from starlette.requests import Request
from starlette.responses import Response

from bot.dashboard import alarms
from bot.dashboard.forms import csrf_token
from bot.dashboard.params import date_param, int_param, path_id
from bot.dashboard.web import Site, Viewer
from bot.i18n import t
from evaluation import overview
from evaluation.walk_facts import MOODS
from scheduling.common.errors import InvalidInput
from scheduling.common.labels import label
from scheduling.people import directory


async def calendar_page(site: Site, request: Request, viewer: Viewer) -> Response:
    """Open alarms first, then the next two weeks: understaffed shifts, then a day-by-day
    calendar with rosters."""
    first = date_param(request, "from", site.today())
    shifts = await overview.upcoming_shifts(site.ctx, viewer.actor, first)
    days = overview.by_day(shifts, site.ctx)
    last = first + timedelta(days=overview.UPCOMING_DAYS - 1)
    return site.render(
        "calendar.html",
        viewer.language,
        **site.values(viewer, "calendar"),
        first=first,
        last=last,
        dates=[first + timedelta(days=n) for n in range(overview.UPCOMING_DAYS)],
        days=days,
        understaffed=[s for s in shifts if overview.needs_walkers(s)],
        zone=site.ctx.zone,
        now=site.ctx.now(),
        alarms=await alarms.shown(site, viewer),
        csrf=csrf_token(site, request),
    )


def _report_filter(site: Site, request: Request, viewer: Viewer) -> overview.ReportFilter:
    last = date_param(request, "to", site.today())
    first = date_param(request, "from", last - timedelta(days=30))
    incidents = {"yes": True, "no": False}.get(request.query_params.get("incidents", ""))
    mood = request.query_params.get("mood") or None
    if mood is not None and mood not in MOODS:
        raise InvalidInput("bad_number", field="mood", text=mood)
    org = int_param(request, "org") if viewer.actor.is_coordinator else None
    return overview.ReportFilter(first, last, int_param(request, "area"), org, mood, incidents)


async def reports_page(site: Site, request: Request, viewer: Viewer) -> Response:
    """Submitted reports, filterable by dates, area, organisation, mood and incidents."""
    wanted = _report_filter(site, request, viewer)
    rows = await overview.list_reports(site.ctx, viewer.actor, wanted)
    return site.render(
        "reports.html",
        viewer.language,
        **site.values(viewer, "reports"),
        rows=rows,
        wanted=wanted,
        areas=await directory.list_areas(site.ctx),
        organisations=await directory.list_organisations(site.ctx),
        moods=MOODS,
        zone=site.ctx.zone,
        label=partial(label, partial(t, viewer.language)),
    )


async def report_page(site: Site, request: Request, viewer: Viewer) -> Response:
    row = await overview.report_detail(site.ctx, viewer.actor, path_id(request, "report"))
    return site.render(
        "report.html",
        viewer.language,
        **site.values(viewer, "reports"),
        row=row,
        zone=site.ctx.zone,
        label=partial(label, partial(t, viewer.language)),
    )
