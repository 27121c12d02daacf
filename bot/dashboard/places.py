"""The places page: the list for the kommun's fault reporting, and the coordinator's marks.

The mark buttons are forms that POST with a CSRF token: an HMAC, under the dashboard's signing
key, of the viewer's session cookie. A page from another site can neither read the cookie nor
compute the token, so it cannot make a signed-in coordinator's browser mark a place (beside
the session cookie's own SameSite=Lax).
"""

from __future__ import annotations

import hashlib
import hmac

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.channels.webhook_body import BodyRefused, bounded_form
from bot.dashboard.params import path_id
from bot.dashboard.web import COOKIE, SECURITY_HEADERS, Site, Viewer
from evaluation.places import MARKS, list_places, mark_place
from models.tables import PlaceStatus
from scheduling.common.errors import DomainError, InvalidInput
from scheduling.links.signing_key import signing_key

MAX_FORM = 2048


def csrf_token(site: Site, request: Request) -> str:
    """The token the viewer's forms carry: tied to their session cookie."""
    cookie = request.cookies.get(COOKIE, "")
    key = signing_key(site.ctx.settings).encode()
    return hmac.new(key, b"places-csrf:" + cookie.encode(), hashlib.sha256).hexdigest()


async def places_page(site: Site, request: Request, viewer: Viewer) -> Response:
    """``GET /dashboard/places[?status=open]``: the places, open ones first."""
    status = request.query_params.get("status", "").strip() or None
    if status is not None and status not in PlaceStatus.ALL:
        raise InvalidInput("bad_place_status", status=status[:20])
    items = await list_places(site.ctx, viewer.actor, status)
    return site.render(
        "places.html",
        viewer.language,
        **site.values(viewer, "places"),
        items=items,
        wanted=status,
        statuses=PlaceStatus.ALL,
        marks=MARKS,
        still_open=PlaceStatus.STILL_OPEN,
        may_mark=viewer.actor.is_coordinator,
        csrf=csrf_token(site, request),
        zone=site.ctx.zone,
    )


async def mark(site: Site, request: Request, viewer: Viewer) -> Response:
    """``POST /dashboard/places/<id>/mark`` (``status``, ``csrf``): back to the list."""
    place_id = path_id(request, "place")
    try:
        form = await bounded_form(request, MAX_FORM)
    except BodyRefused as exc:
        raise DomainError("form_expired") from exc
    given = str(form.get("csrf", ""))
    if not given or not hmac.compare_digest(given, csrf_token(site, request)):
        raise DomainError("form_expired")
    await mark_place(site.ctx, viewer.actor, place_id, str(form.get("status", "")))
    return RedirectResponse(
        site.url("/dashboard/places"), status_code=303, headers=SECURITY_HEADERS
    )
