"""Forms of a signed-in viewer: a CSRF token bound to the session, and reading fields.

The token is an HMAC of a fixed purpose under the session cookie's value, which only the
signed-in browser holds (HttpOnly): a page of another site can neither read nor compute it, so
a POST without it, or with another session's, is refused (403) before anything is done. The
session cookie is SameSite=Lax besides.
"""

from __future__ import annotations

import hashlib
import hmac

from starlette.datastructures import FormData
from starlette.requests import Request

from bot.dashboard.web import COOKIE
from scheduling.common.errors import InvalidInput, PermissionDenied
from scheduling.common.text import small_number

PURPOSE = b"vandra dashboard form"
MAX_FIELD = 2000


def csrf_token(request: Request) -> str:
    """The token the viewer's forms carry (empty without a session)."""
    session = request.cookies.get(COOKIE, "")
    if not session:
        return ""
    return hmac.new(session.encode(), PURPOSE, hashlib.sha256).hexdigest()


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches the session's (else PermissionDenied)."""
    form = await request.form(max_files=0, max_fields=50)
    given, expected = str(form.get("csrf", "")), csrf_token(request)
    if not expected or not hmac.compare_digest(given, expected):
        raise PermissionDenied("dashboard.form")
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
