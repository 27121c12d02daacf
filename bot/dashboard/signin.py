"""Signing in to the dashboard with a one-time link, and signing out.

Opening a link (GET) only shows a button: link previews and mail scanners fetch links, and
must not use them up. The button POSTs the link back with a CSRF token that must match the
one in a short-lived SameSite=Strict cookie set with the page (double submit), so no other
site can sign a browser in. Signing out revokes the session in the store
(``scheduling.links.logins.end_session``), not only the cookie.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.channels.webhook_body import BodyRefused, bounded_form
from bot.dashboard.web import COOKIE, SECURITY_HEADERS, Site
from bot.i18n import t
from scheduling.common.errors import DomainError
from scheduling.links.logins import (
    LINK_LIFETIME,
    SESSION_LIFETIME,
    check_login,
    end_session,
    redeem_login,
    session_cookie,
)

CSRF_COOKIE = "vandra_login_csrf"
MAX_FORM = 4096


def _refused(site: Site) -> Response:
    return site.message(
        "sv",
        403,
        t("sv", "coordinator.dash.login_refused_title"),
        t("sv", "coordinator.dash.login_refused"),
    )


async def login_page(site: Site, request: Request) -> Response:
    """A valid link shows the sign-in button (the link stays unused); else the refusal."""
    token = str(request.path_params["token"])
    try:
        await check_login(site.ctx, token)
    except DomainError:
        return _refused(site)
    csrf = secrets.token_urlsafe(24)
    response = site.render(
        "login.html", "sv", csrf=csrf, action=site.url(f"/dashboard/login/{token}"), viewer=None
    )
    response.set_cookie(
        CSRF_COOKIE,
        csrf,
        max_age=int(LINK_LIFETIME.total_seconds()),
        path=f"{site.cookie_path}/login",
        httponly=True,
        samesite="strict",
        secure=site.secure,
    )
    return response


async def login(site: Site, request: Request) -> Response:
    """The button: redeem the link and start a session, if the CSRF token matches."""
    try:
        form = await bounded_form(request, MAX_FORM)
    except BodyRefused:
        return _refused(site)
    given, expected = form.get("csrf", ""), request.cookies.get(CSRF_COOKIE, "")
    if not given or not expected or not hmac.compare_digest(given, expected):
        return _refused(site)
    try:
        person = await redeem_login(site.ctx, str(request.path_params["token"]))
    except DomainError:
        return _refused(site)
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
    response.delete_cookie(CSRF_COOKIE, path=f"{site.cookie_path}/login", httponly=True,
                           samesite="strict", secure=site.secure)
    return response


async def logout(site: Site, request: Request) -> Response:
    """Sign out: the session is revoked in the store and the cookie removed."""
    await end_session(site.ctx, request.cookies.get(COOKIE))
    response = site.message(
        "sv", 200, t("sv", "coordinator.dash.title"), t("sv", "coordinator.dash.not_signed_in")
    )
    response.delete_cookie(COOKIE, path=site.cookie_path, httponly=True, samesite="lax")
    return response
