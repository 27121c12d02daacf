"""Walkers on the dashboard: who waits for approval (approve / reject), and each walker's
walk course, record check and missed walks, with the dates set in a form. Leads see their
organisation's walkers, the coordinator everyone's."""

from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import Response

from bot.dashboard.forms import back, csrf_token, posted
from bot.dashboard.params import path_id, within_bounds
from bot.dashboard.web import Site, Viewer
from scheduling.common.errors import NotFound
from scheduling.common.localtime import parse_date
from scheduling.people.vetting import set_vetting
from scheduling.walks import approval
from scheduling.walks.walker_cards import walker_cards

PAGE = "/dashboard/people"


async def people_page(site: Site, request: Request, viewer: Viewer) -> Response:
    search = request.query_params.get("q", "")[:60]
    cards = await walker_cards(site.ctx, viewer.actor, search)
    return site.render(
        "people.html", viewer.language, **site.values(viewer, "people"),
        pending=[c for c in cards if not c.approved], walkers=[c for c in cards if c.approved],
        search=search, csrf=csrf_token(site, request),
    )


async def decide(site: Site, request: Request, viewer: Viewer) -> Response:
    """``POST .../people/<id>/approve`` or ``.../reject``."""
    await posted(site, request)
    person_id = path_id(request, "person")
    decision = request.path_params["decision"]
    if decision == "approve":
        await approval.approve_person(site.ctx, viewer.actor, person_id)
    elif decision == "reject":
        await approval.reject_person(site.ctx, viewer.actor, person_id)
    else:
        raise NotFound("page", decision)
    return back(site, PAGE)


async def vet(site: Site, request: Request, viewer: Viewer) -> Response:
    """``POST .../people/<id>/vet``: the walk course and/or record check dates."""
    form = await posted(site, request)
    dates = {name: _date(form.get(name, "")) for name in ("course_on", "record_checked_on")}
    await set_vetting(site.ctx, viewer.actor, path_id(request, "person"), **dates)
    return back(site, PAGE)


def _date(text: str) -> date | None:
    return within_bounds(parse_date(text.strip())) if text.strip() else None
