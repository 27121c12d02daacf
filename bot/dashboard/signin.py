"""Signing in to the dashboard with a one-time link, and signing out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.dashboard.web import COOKIE, SECURITY_HEADERS, Site
from bot.i18n import t
from scheduling.common.errors import DomainError
from scheduling.links.logins import SESSION_LIFETIME, redeem_login, session_cookie


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
