"""The dashboard's forms that change something: each page's POST carries a CSRF token bound
to the session (an HMAC of the session cookie under the signing key), checked before the form
is used; a missing or wrong token, or another session's, is a 403 and nothing changes. The
session cookie is HttpOnly and ``SameSite=Lax`` as well, so another site's page can neither
read the token nor make the browser send the cookie with its form."""

from __future__ import annotations

import hashlib
import hmac

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.channels.webhook_body import BodyRefused, bounded_form
from bot.dashboard.web import COOKIE, SECURITY_HEADERS, Site
from scheduling.common.errors import InvalidInput, PermissionDenied
from scheduling.common.text import small_number
from scheduling.links.signing_key import signing_key

MAX_FORM = 4096
MAX_FIELD = 2000


def csrf_token(site: Site, request: Request) -> str:
    """The token this session's forms carry (empty without a session)."""
    session = request.cookies.get(COOKIE, "")
    if not session:
        return ""
    key = signing_key(site.ctx.settings).encode()
    return hmac.new(key, f"vandra.dashboard.csrf:{session}".encode(), hashlib.sha256).hexdigest()


def _check(site: Site, request: Request, given: str) -> None:
    expected = csrf_token(site, request)
    if not expected or not given or not hmac.compare_digest(given, expected):
        raise PermissionDenied("dashboard.csrf")


async def posted(site: Site, request: Request) -> dict[str, str]:
    """The form's fields (a small body), once its CSRF token is the session's."""
    try:
        form = await bounded_form(request, MAX_FORM)
    except BodyRefused:
        raise InvalidInput("bad_form") from None
    _check(site, request, form.get("csrf", ""))
    return form


async def checked_form(site: Site, request: Request) -> FormData:
    """The posted form (free text up to ``MAX_FIELD`` a field), once its token is checked."""
    form = await request.form(max_files=0, max_fields=50)
    _check(site, request, str(form.get("csrf", "")))
    return form


def text_field(form: FormData, name: str) -> str | None:
    """A text field, stripped; None when empty. Overlong input is refused."""
    value = str(form.get(name, "") or "").strip()
    if len(value) > MAX_FIELD:
        raise InvalidInput("text_too_long", field=name, max=MAX_FIELD, length=len(value))
    return value or None


def number_field(form: FormData, name: str) -> int | None:
    value = text_field(form, name)
    if value is None:
        return None
    number = small_number(value)
    if number is None:
        raise InvalidInput("bad_number", field=name, text=value[:20])
    return number


def back(site: Site, path: str) -> Response:
    """After a change: back to the page (303, so a reload does not post again)."""
    return RedirectResponse(site.url(path), status_code=303, headers=SECURITY_HEADERS)
