"""The dashboard's plumbing: templates, the signed-in viewer, errors as pages, safe headers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from bot.i18n import error_text, t
from models.tables import Organisation, Person
from scheduling.common.context import Context
from scheduling.common.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from scheduling.links.logins import DashboardSession, session_from_cookie
from scheduling.people.access import Actor

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
COOKIE = "vandra_session"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class Viewer:
    """Who is looking: a signed-in coordinator or lead."""

    session: DashboardSession
    organisation: str | None

    @property
    def person(self) -> Person:
        return self.session.person

    @property
    def actor(self) -> Actor:
        return self.session.actor

    @property
    def language(self) -> str:
        return str(self.session.person.language or "sv")


@dataclass(frozen=True)
class Site:
    """Everything a page needs: the context, the templates and where the dashboard lives."""

    ctx: Context
    env: Environment
    prefix: str  # the path part of [http] public_url, "" or e.g. "/vandra"
    secure: bool  # served over https: the cookie is Secure

    @classmethod
    def create(cls, ctx: Context) -> Site:
        public = ctx.settings.http.public_url or ""
        env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=StrictUndefined,
        )
        prefix = urlparse(public).path.rstrip("/") if public else ""
        return cls(ctx, env, prefix, public.startswith("https://"))

    def url(self, path: str, **query: Any) -> str:
        """A dashboard URL below the public prefix, with non-empty query values."""
        kept = {k: v for k, v in query.items() if v not in (None, "")}
        return f"{self.prefix}{path}" + (f"?{urlencode(kept)}" if kept else "")

    def hm(self, moment: datetime) -> str:
        """A UTC instant as local HH:MM."""
        return moment.astimezone(self.ctx.zone).strftime("%H:%M")

    @staticmethod
    def dayname(language: str, day: date) -> str:
        """``fre 6/11`` (Swedish) or ``Fri 6/11`` (English)."""
        names = t(language, "coordinator.dash.weekdays").split(",")
        return f"{names[day.weekday()]} {day.day}/{day.month}"

    def today(self) -> date:
        """Today's local date."""
        return self.ctx.now().astimezone(self.ctx.zone).date()

    def values(self, viewer: Viewer, active: str) -> dict[str, Any]:
        """What every page's template gets: the viewer, the active tab and today."""
        return {"viewer": viewer, "active": active, "today": self.today()}

    @property
    def cookie_path(self) -> str:
        return f"{self.prefix}/dashboard"

    def render(self, name: str, language: str, status: int = 200, **values: Any) -> HTMLResponse:
        template = self.env.get_template(name)
        html = template.render(
            t=partial(t, language),
            url=self.url,
            language=language,
            hm=self.hm,
            dayname=partial(self.dayname, language),
            **values,
        )
        return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)

    def message(self, language: str, status: int, title: str, text: str) -> HTMLResponse:
        return self.render(
            "message.html", language, status=status, title=title, text=text, viewer=None
        )

    async def viewer(self, request: Request) -> Viewer | None:
        session = await session_from_cookie(self.ctx, request.cookies.get(COOKIE))
        if session is None:
            return None
        organisation = None
        if session.person.organisation_id is not None:
            async with self.ctx.store.transaction() as db:
                org = await db.get(Organisation, session.person.organisation_id)
                organisation = org.name if org else None
        return Viewer(session, organisation)


Handler = Callable[[Site, Request, Viewer], Awaitable[Response]]


def page(site: Site, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a page: it needs a signed-in viewer; refusals and bad input become small pages."""

    async def endpoint(request: Request) -> Response:
        viewer = await site.viewer(request)
        language = viewer.language if viewer else "sv"
        title = t(language, "coordinator.dash.title")
        if viewer is None:
            return site.message(language, 401, title, t(language, "coordinator.dash.not_signed_in"))
        try:
            return await handler(site, request, viewer)
        except PermissionDenied:
            return site.message(language, 403, title, t(language, "coordinator.dash.no_access"))
        except NotFound:
            return site.message(language, 404, title, t(language, "coordinator.dash.not_found"))
        except (InvalidInput, DomainError) as exc:
            return site.message(language, 400, title, error_text(language, exc))

    return endpoint
