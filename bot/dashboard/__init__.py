"""The coordinator's web dashboard on the ``vandra run`` server (``/dashboard/...``).

Server-rendered (Starlette + Jinja2), Swedish first, no external CDN: the stylesheet and the
one small script are served from ``bot/dashboard/static``; charts are inline SVG. Sign-in is a
one-time link from the bot (scheduling/links/logins.py); leads see only their organisation.
"""

from __future__ import annotations

from functools import partial

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.dashboard import (
    alarms,
    announce,
    areas,
    council,
    downloads,
    figures,
    followups,
    nights,
    people,
    places,
    plan,
    signin,
    walks,
)
from bot.dashboard.web import STATIC, Handler, Site, page
from scheduling.common.context import Context
from scheduling.links.logins import issue_dashboard_link

__all__ = ["dashboard_routes", "issue_dashboard_link"]


# The signed-in pages: path, handler, method.
PAGES: list[tuple[str, Handler, str]] = [
    ("/dashboard/", walks.calendar_page, "GET"),
    ("/dashboard/alarms/{id:int}/acknowledge", alarms.acknowledge, "POST"),
    ("/dashboard/shifts/{id:int}/edit", plan.edit_page, "GET"),
    ("/dashboard/shifts/{id:int}/edit", plan.edit, "POST"),
    ("/dashboard/shifts/cancel", plan.cancel_page, "GET"),
    ("/dashboard/shifts/cancel", plan.cancel, "POST"),
    ("/dashboard/announce", announce.announce_page, "GET"),
    ("/dashboard/announce", announce.announce, "POST"),
    ("/dashboard/reports", walks.reports_page, "GET"),
    ("/dashboard/reports/{id:int}", walks.report_page, "GET"),
    ("/dashboard/followups", followups.followups_page, "GET"),
    ("/dashboard/followups/{id:int}", followups.update, "POST"),
    ("/dashboard/stats", figures.stats_page, "GET"),
    ("/dashboard/summary", figures.summary_page, "GET"),
    ("/dashboard/places", places.places_page, "GET"),
    ("/dashboard/places/{id:int}/mark", places.mark, "POST"),
    ("/dashboard/exports", downloads.exports_page, "GET"),
    ("/dashboard/export/{kind}.{format:str}", downloads.download, "GET"),
    ("/dashboard/report.{format:str}", council.download, "GET"),
    ("/dashboard/people", people.people_page, "GET"),
    ("/dashboard/people/{id:int}/vet", people.vet, "POST"),
    ("/dashboard/people/{id:int}/{decision:str}", people.decide, "POST"),
    ("/dashboard/nights", nights.nights_page, "GET"),
    ("/dashboard/nights/publish", nights.publish, "POST"),
    ("/dashboard/nights/{id:int}/{action:str}", nights.act, "POST"),
    ("/dashboard/areas", areas.areas_page, "GET"),
    ("/dashboard/areas", areas.add, "POST"),
    ("/dashboard/areas/{id:int}", areas.update, "POST"),
]


def dashboard_routes(ctx: Context) -> list[BaseRoute]:
    """The dashboard's routes for ``build_app``."""
    site = Site.create(ctx)

    async def to_calendar(_request: Request) -> Response:
        return RedirectResponse(site.url("/dashboard/"), status_code=307)

    routes: list[BaseRoute] = [
        Route("/dashboard", to_calendar, methods=["GET"]),
        Route("/dashboard/login/{token}", partial(signin.login_page, site), methods=["GET"]),
        Route("/dashboard/login/{token}", partial(signin.login, site), methods=["POST"]),
        Route("/dashboard/logout", partial(signin.logout, site), methods=["POST"]),
    ]
    routes += [Route(path, page(site, h), methods=[method]) for path, h, method in PAGES]
    routes.append(
        Mount("/dashboard/static", app=StaticFiles(directory=STATIC), name="dashboard-static")
    )
    return routes
