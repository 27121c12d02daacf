"""The places page: the list for the kommun's fault reporting, and the coordinator's marks.

The mark buttons are forms that POST with the dashboard's session-bound CSRF token
(bot/dashboard/forms.py); a missing or wrong one is answered as an expired form (400), and
nothing is marked.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from bot.dashboard.forms import back, csrf_token, posted
from bot.dashboard.params import path_id
from bot.dashboard.web import Site, Viewer
from evaluation.places import MARKS, list_places, mark_place
from models.tables import PlaceStatus
from scheduling.common.errors import DomainError, InvalidInput, PermissionDenied

__all__ = ["csrf_token", "mark", "places_page"]


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
        form = await posted(site, request)
    except (InvalidInput, PermissionDenied) as exc:
        raise DomainError("form_expired") from exc
    await mark_place(site.ctx, viewer.actor, place_id, form.get("status", ""))
    return back(site, "/dashboard/places")
