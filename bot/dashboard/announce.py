"""An announcement from the dashboard: the audience and the text, then the head-count (and a
quiet-hours warning) to confirm, then sent. A lead's goes to their own organisation only."""

from __future__ import annotations

from datetime import date

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from bot.dashboard.forms import checked_form, csrf_token, number_field, text_field
from bot.dashboard.web import Site, Viewer
from bot.i18n import t
from scheduling.common.localtime import parse_date
from scheduling.messages import announcements
from scheduling.messages.audiences import Audience
from scheduling.people import directory


async def announce_page(site: Site, request: Request, viewer: Viewer) -> Response:
    """``GET /dashboard/announce``: the form."""
    return await _form(site, request, viewer, None, {})


async def _form(
    site: Site, request: Request, viewer: Viewer, seen: announcements.Preview | None,
    fields: dict[str, str],
) -> Response:
    quiet = seen.quiet_until.astimezone(site.ctx.zone) if seen and seen.quiet_until else None
    return site.render(
        "announce.html", viewer.language, **site.values(viewer, "calendar"),
        csrf=csrf_token(site, request), areas=await directory.list_areas(site.ctx),
        organisations=await directory.list_organisations(site.ctx), seen=seen,
        quiet=f"{quiet:%H:%M}" if quiet else None, fields=fields,
        max=announcements.MAX_BROADCAST_CHARS,
    )


def _audience(form: FormData, viewer: Viewer) -> Audience:
    """A lead's audience is always their own organisation's; a coordinator's as chosen."""
    org = viewer.actor.organisation_id if not viewer.actor.is_coordinator else (
        number_field(form, "org")
    )
    night = text_field(form, "night")
    day: date | None = parse_date(night) if night else None
    return Audience(organisation_id=org, area_id=number_field(form, "area"), night=day)


async def announce(site: Site, request: Request, viewer: Viewer) -> Response:
    """``POST /dashboard/announce``: without ``confirm`` the head-count to confirm; with it,
    sent."""
    form = await checked_form(site, request)
    audience, text = _audience(form, viewer), text_field(form, "text") or ""
    if form.get("confirm") != "yes":
        seen = await announcements.preview(site.ctx, viewer.actor, text, audience)
        fields = {k: str(v) for k, v in form.items() if k not in ("csrf", "confirm")}
        return await _form(site, request, viewer, seen, fields)
    sent = await announcements.broadcast(site.ctx, viewer.actor, text, audience)
    title = t(viewer.language, "coordinator.dash.title")
    return site.message(
        viewer.language, 200, title, t(viewer.language, "plan.announce.sent", count=sent.recipients)
    )
