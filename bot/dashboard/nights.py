"""Nights offered to the organisations on the dashboard: the coming nights with who holds,
claims or stands as reserve for each; a lead takes, reserves or gives back, the coordinator
publishes and allocates. Every change is a POST with the session's CSRF token."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from bot.dashboard.forms import back, csrf_token, posted
from bot.dashboard.params import path_id
from bot.dashboard.web import Site, Viewer
from bot.i18n import t
from scheduling.common.errors import InvalidInput, NotFound
from scheduling.common.localtime import parse_date, parse_local_datetime
from scheduling.common.text import small_number
from scheduling.nights import claims, handover
from scheduling.nights.publish import NightSpec, publish_nights
from scheduling.nights.views import upcoming_nights
from scheduling.people import directory
from scheduling.walks.series import parse_weekdays

PAGE = "/dashboard/nights"


async def nights_page(site: Site, request: Request, viewer: Viewer) -> Response:
    coordinator = viewer.actor.is_coordinator
    return site.render(
        "nights.html", viewer.language, **site.values(viewer, "nights"),
        nights=await upcoming_nights(site.ctx), csrf=csrf_token(site, request),
        own=viewer.person.organisation_id, coordinator=coordinator, zone=site.ctx.zone,
        areas=await directory.list_areas(site.ctx) if coordinator else [],
        organisations=await directory.list_organisations(site.ctx) if coordinator else [],
        allocation=t(viewer.language, f"nights.dash.mode_{site.ctx.settings.nights.allocation}"),
    )


async def publish(site: Site, request: Request, viewer: Viewer) -> Response:
    """``POST /dashboard/nights/publish``: one night or a weekly series."""
    form = await posted(site, request)
    repeat, until = form.get("repeat", "").strip(), form.get("until", "").strip()
    low = form.get("min", "").strip()
    spec = NightSpec(
        area=form.get("area", ""),
        start=parse_local_datetime(form.get("start", "").replace("T", " ")),
        end=parse_local_datetime(form.get("end", "").replace("T", " ")),
        min_walkers=_number(low, "min") if low else None,
        repeat=parse_weekdays(repeat) if repeat else None,
        until=parse_date(until) if until else None,
    )
    await publish_nights(site.ctx, viewer.actor, spec)
    return back(site, PAGE)


async def act(site: Site, request: Request, viewer: Viewer) -> Response:
    """``POST /dashboard/nights/<id>/take|reserve|give-back|allocate``."""
    form = await posted(site, request)
    night_id = path_id(request, "night")
    what = request.path_params["action"]
    if what == "take":
        await claims.claim_night(site.ctx, viewer.actor, night_id)
    elif what == "reserve":
        await claims.stand_reserve(site.ctx, viewer.actor, night_id)
    elif what == "give-back":
        await handover.give_back(site.ctx, viewer.actor, night_id)
    elif what == "allocate":
        org = _number(form.get("org", ""), "org")
        await claims.allocate_night(site.ctx, viewer.actor, night_id, org)
    else:  # no button sends another: a page, not a chat's stale button
        raise NotFound("page", what)
    return back(site, PAGE)


def _number(text: str, field: str) -> int:
    number = small_number(text.strip())
    if number is None:
        raise InvalidInput("bad_number", field=field, text=text[:20])
    return number
