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

from bot.dashboard import alarms, downloads, figures, nights, people, signin, walks
from bot.dashboard.web import STATIC, Site, page
from scheduling.common.context import Context
from scheduling.links.logins import issue_dashboard_link

__all__ = ["dashboard_routes", "issue_dashboard_link"]


def dashboard_routes(ctx: Context) -> list[BaseRoute]:
    """The dashboard's routes for ``build_app``."""
    site = Site.create(ctx)

    async def to_calendar(_request: Request) -> Response:
        return RedirectResponse(site.url("/dashboard/"), status_code=307)

    return [
        Route("/dashboard", to_calendar, methods=["GET"]),
        Route("/dashboard/", page(site, walks.calendar_page), methods=["GET"]),
        Route("/dashboard/login/{token}", partial(signin.login_page, site), methods=["GET"]),
        Route("/dashboard/login/{token}", partial(signin.login, site), methods=["POST"]),
        Route("/dashboard/logout", partial(signin.logout, site), methods=["POST"]),
        Route(
            "/dashboard/alarms/{id:int}/acknowledge",
            page(site, alarms.acknowledge),
            methods=["POST"],
        ),
        Route("/dashboard/reports", page(site, walks.reports_page), methods=["GET"]),
        Route("/dashboard/reports/{id:int}", page(site, walks.report_page), methods=["GET"]),
        Route("/dashboard/stats", page(site, figures.stats_page), methods=["GET"]),
        Route("/dashboard/summary", page(site, figures.summary_page), methods=["GET"]),
        Route("/dashboard/exports", page(site, downloads.exports_page), methods=["GET"]),
        Route(
            "/dashboard/export/{kind}.{format:str}",
            page(site, downloads.download),
            methods=["GET"],
        ),
        Route("/dashboard/people", page(site, people.people_page), methods=["GET"]),
        Route("/dashboard/people/{id:int}/vet", page(site, people.vet), methods=["POST"]),
        Route("/dashboard/people/{id:int}/{decision:str}", page(site, people.decide),
              methods=["POST"]),
        Route("/dashboard/nights", page(site, nights.nights_page), methods=["GET"]),
        Route("/dashboard/nights/publish", page(site, nights.publish), methods=["POST"]),
        Route("/dashboard/nights/{id:int}/{action:str}", page(site, nights.act),
              methods=["POST"]),
        Mount("/dashboard/static", app=StaticFiles(directory=STATIC), name="dashboard-static"),
    ]
