"""The dashboard's pages: two weeks ahead, reports, statistics, the monthly summary, downloads."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.dashboard import charts
from bot.dashboard.web import COOKIE, SECURITY_HEADERS, Site, Viewer, date_param, int_param
from bot.i18n import t
from evaluation import exports, overview, payments
from evaluation import statistics as stats
from evaluation.walk_facts import MOODS
from scheduling.common.errors import DomainError, InvalidInput
from scheduling.common.labels import label
from scheduling.links.logins import SESSION_LIFETIME, redeem_login, session_cookie
from scheduling.people import directory


def today(site: Site) -> date:
    return site.ctx.now().astimezone(site.ctx.zone).date()


def base_values(site: Site, viewer: Viewer, active: str) -> dict[str, Any]:
    return {"viewer": viewer, "active": active, "today": today(site)}


# --- signing in and out -------------------------------------------------------------------------


async def login(site: Site, request: Request) -> Response:
    """Redeem a one-time link: start a session and go to the calendar, or say why not."""
    try:
        person = await redeem_login(site.ctx, str(request.path_params["token"]))
    except DomainError:
        return site.message(
            "sv",
            403,
            t("sv", "coordinator.dash.login_refused_title"),
            t("sv", "coordinator.dash.login_refused"),
        )
    response = RedirectResponse(site.url("/dashboard/"), status_code=303, headers=SECURITY_HEADERS)
    response.set_cookie(
        COOKIE,
        await session_cookie(site.ctx, person),
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path=site.cookie_path,
        httponly=True,
        samesite="lax",
        secure=site.secure,
    )
    return response


async def logout(site: Site, request: Request) -> Response:
    response = site.message(
        "sv", 200, t("sv", "coordinator.dash.title"), t("sv", "coordinator.dash.not_signed_in")
    )
    response.delete_cookie(COOKIE, path=site.cookie_path, httponly=True, samesite="lax")
    return response


# --- pages ---------------------------------------------------------------------------------------


async def calendar_page(site: Site, request: Request, viewer: Viewer) -> Response:
    """The next two weeks: understaffed shifts first, then a day-by-day calendar with rosters."""
    first = date_param(request, "from", today(site))
    shifts = await overview.upcoming_shifts(site.ctx, viewer.actor, first)
    days = overview.by_day(shifts, site.ctx)
    last = first + timedelta(days=overview.UPCOMING_DAYS - 1)
    return site.render(
        "calendar.html",
        viewer.language,
        **base_values(site, viewer, "calendar"),
        first=first,
        last=last,
        dates=[first + timedelta(days=n) for n in range(overview.UPCOMING_DAYS)],
        days=days,
        understaffed=[s for s in shifts if overview.needs_walkers(s)],
        zone=site.ctx.zone,
    )


def _report_filter(site: Site, request: Request, viewer: Viewer) -> overview.ReportFilter:
    last = date_param(request, "to", today(site))
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
        **base_values(site, viewer, "reports"),
        rows=rows,
        wanted=wanted,
        areas=await directory.list_areas(site.ctx),
        organisations=await directory.list_organisations(site.ctx),
        moods=MOODS,
        zone=site.ctx.zone,
        label=partial(label, partial(t, viewer.language)),
    )


async def report_page(site: Site, request: Request, viewer: Viewer) -> Response:
    row = await overview.report_detail(site.ctx, viewer.actor, int(request.path_params["id"]))
    return site.render(
        "report.html",
        viewer.language,
        **base_values(site, viewer, "reports"),
        row=row,
        zone=site.ctx.zone,
        label=partial(label, partial(t, viewer.language)),
    )


def _default_range(site: Site) -> tuple[date, date]:
    """From the first day of the month two months back to the end of this month."""
    now = today(site)
    first = (now.replace(day=1) - timedelta(days=40)).replace(day=1)
    following = (now.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)


def stats_charts(report: stats.StatsReport, language: str) -> dict[str, Any]:
    """The four pictures of the statistics page."""
    text = partial(t, language)
    weeks = [text("coordinator.dash.week", week=w.week) for w in report.weeks]
    moods = [(m, text(f"coordinator.mood.{m}")) for m in MOODS]
    return {
        "walks": charts.column_chart(
            text("coordinator.dash.chart_walks"), weeks, [w.held for w in report.weeks]
        ),
        "hours": charts.column_chart(
            text("coordinator.dash.chart_hours"), weeks, [w.walker_hours for w in report.weeks]
        ),
        "mood": charts.stacked_bars(
            text("coordinator.dash.chart_mood"),
            [(name, s.moods) for name, s in report.by_area],
            moods,
        ),
        "places": charts.bar_list(
            text("coordinator.dash.chart_places"),
            [
                (f"{p.place}: {label(text, 'place', p.category)}", p.walks)
                for p in report.overall.places
            ],
        ),
    }


async def stats_page(site: Site, request: Request, viewer: Viewer) -> Response:
    default_first, default_last = _default_range(site)
    first = date_param(request, "from", default_first)
    last = date_param(request, "to", default_last)
    report = await stats.statistics(site.ctx, viewer.actor, first, last)
    return site.render(
        "stats.html",
        viewer.language,
        **base_values(site, viewer, "stats"),
        report=report,
        charts=stats_charts(report, viewer.language),
        band_names={band: band.replace("-", "–") for band in stats.BANDS},
        first=first,
        last=last,
    )


def month_range(text: str | None, fallback: date) -> tuple[date, date]:
    """``YYYY-MM`` as its first and last day (the fallback's month when empty)."""
    try:
        first = date.fromisoformat(f"{text}-01") if text else fallback.replace(day=1)
    except ValueError:
        raise InvalidInput("bad_date", text=text) from None
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)


async def summary_page(site: Site, request: Request, viewer: Viewer) -> Response:
    """A printable one-month summary: figures, areas, mood, places, payment basis."""
    first, last = month_range(request.query_params.get("month"), today(site))
    report = await stats.statistics(site.ctx, viewer.actor, first, last)
    basis = await payments.payment_basis(site.ctx, viewer.actor, first, last)
    return site.render(
        "summary.html",
        viewer.language,
        **base_values(site, viewer, "summary"),
        report=report,
        basis=basis,
        charts=stats_charts(report, viewer.language),
        month=f"{first:%Y-%m}",
        first=first,
        last=last,
        label=partial(label, partial(t, viewer.language)),
    )


async def exports_page(site: Site, request: Request, viewer: Viewer) -> Response:
    default_first, default_last = _default_range(site)
    return site.render(
        "exports.html",
        viewer.language,
        **base_values(site, viewer, "exports"),
        first=date_param(request, "from", default_first),
        last=date_param(request, "to", default_last),
        kinds=exports.KINDS,
        formats=("xlsx", "csv"),
    )


async def download(site: Site, request: Request, viewer: Viewer) -> Response:
    """One export file, for what the viewer may see (audited, never with contacts)."""
    kind, fmt = str(request.path_params["kind"]), str(request.path_params["format"])
    if kind not in exports.KINDS:
        raise InvalidInput("bad_export_kind", kind=kind)
    default_first, default_last = _default_range(site)
    first = date_param(request, "from", default_first)
    last = date_param(request, "to", default_last)
    texts = partial(t, "sv")
    request_ = exports.ExportRequest(cast(exports.Kind, kind), first, last)
    tables = await exports.build_export(site.ctx, viewer.actor, request_, texts)
    body = exports.render(tables, texts, fmt)
    name = exports.filename(kind, first, last, fmt)
    return Response(
        body,
        media_type=exports.MEDIA_TYPES[fmt],
        headers={
            **SECURITY_HEADERS,
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )
