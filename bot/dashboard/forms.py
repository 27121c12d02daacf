"""The dashboard's forms that change something: each page's POST carries a CSRF token bound
to the session (an HMAC of the session cookie under the signing key), checked before the form
is used; a missing or wrong token is a 403 and nothing changes. The session cookie is
``SameSite=Lax`` as well, so another site's form would not carry it anyway."""

from __future__ import annotations

import hashlib
import hmac

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.channels.webhook_body import BodyRefused, bounded_form
from bot.dashboard.web import COOKIE, SECURITY_HEADERS, Site
from scheduling.common.errors import InvalidInput, PermissionDenied
from scheduling.links.signing_key import signing_key

MAX_FORM = 4096


def csrf_token(site: Site, request: Request) -> str:
    """The token this session's forms carry."""
    key = signing_key(site.ctx.settings).encode()
    session = request.cookies.get(COOKIE, "")
    return hmac.new(key, f"vandra.dashboard.csrf:{session}".encode(), hashlib.sha256).hexdigest()


async def posted(site: Site, request: Request) -> dict[str, str]:
    """The form's fields, once its CSRF token is the session's (else PermissionDenied)."""
    try:
        form = await bounded_form(request, MAX_FORM)
    except BodyRefused:
        raise InvalidInput("bad_form") from None
    given = form.get("csrf", "")
    if not given or not hmac.compare_digest(given, csrf_token(site, request)):
        raise PermissionDenied("dashboard.csrf")
    return form


def back(site: Site, path: str) -> Response:
    """After a change: back to the page (303, so a reload does not post again)."""
    return RedirectResponse(site.url(path), status_code=303, headers=SECURITY_HEADERS)
