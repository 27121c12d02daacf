"""The areas page: each walk area with its meeting point, coordinates and map link (what the
group intro carries); the coordinator changes them or adds an area. Leads may look (the
meeting points), not change. Every change is a POST with the session's CSRF token; the
rules (coordinator only, coordinates both or neither and in range) are in the core."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from bot.alarm_texts import map_link
from bot.dashboard.forms import back, csrf_token, posted
from bot.dashboard.params import path_id
from bot.dashboard.web import Site, Viewer
from scheduling.common.errors import InvalidInput
from scheduling.people import directory
from scheduling.people.area_edit import update_area

PAGE = "/dashboard/areas"


async def areas_page(site: Site, request: Request, viewer: Viewer) -> Response:
    """``GET /dashboard/areas``: the areas, with a form each for the coordinator."""
    found = await directory.list_areas(site.ctx)
    return site.render(
        "areas.html", viewer.language, **site.values(viewer, "areas"),
        areas=[(area, map_link(area.latitude, area.longitude)) for area in found],
        may_change=viewer.actor.is_coordinator, csrf=csrf_token(site, request),
    )


async def update(site: Site, request: Request, viewer: Viewer) -> Response:
    """``POST /dashboard/areas/<id>`` (``meeting_point``, ``lat``, ``lon``, ``csrf``)."""
    form = await posted(site, request)
    area_id = path_id(request, "area")
    await update_area(
        site.ctx, viewer.actor, area_id, form.get("meeting_point", "").strip() or None,
        _coordinate(form, "lat", "bad_latitude"), _coordinate(form, "lon", "bad_longitude"),
    )
    return back(site, PAGE)


async def add(site: Site, request: Request, viewer: Viewer) -> Response:
    """``POST /dashboard/areas`` (``name``, ``meeting_point``, ``lat``, ``lon``, ``csrf``)."""
    form = await posted(site, request)
    await directory.add_area(
        site.ctx, viewer.actor, form.get("name", ""),
        form.get("meeting_point", "").strip() or None,
        _coordinate(form, "lat", "bad_latitude"), _coordinate(form, "lon", "bad_longitude"),
    )
    return back(site, PAGE)


def _coordinate(form: dict[str, str], name: str, error: str) -> float | None:
    """A decimal number (a comma is taken for the point), None when empty."""
    text = form.get(name, "").strip()
    if not text:
        return None
    try:
        return float(text.replace(",", "."))
    except ValueError:
        raise InvalidInput(error, value=text[:20]) from None
