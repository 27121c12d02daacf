"""The follow-up queue on the dashboard: those waiting (or all), each with its walk, status,
who changed it and when, and its note; one small form per follow-up changes the status and
the note (POST with the session-bound CSRF token of bot/dashboard/forms.py; the body is
bounded). A lead
sees and changes only their own organisation's (the core checks, audited)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.dashboard.forms import csrf_token, posted
from bot.dashboard.params import path_id
from bot.dashboard.web import SECURITY_HEADERS, Site, Viewer
from evaluation.followups import changes, queue
from models.tables import FollowUpStatus


async def followups_page(site: Site, request: Request, viewer: Viewer) -> Response:
    """``GET /dashboard/followups[?show=all]``."""
    everything = request.query_params.get("show") == "all"
    statuses = FollowUpStatus.ALL if everything else queue.WAITING
    rows = await queue.list_follow_ups(site.ctx, viewer.actor, statuses)
    return site.render(
        "followups.html",
        viewer.language,
        **site.values(viewer, "followups"),
        rows=rows,
        everything=everything,
        statuses=FollowUpStatus.ALL,
        guidance=site.ctx.settings.followups.guidance,
        zone=site.ctx.zone,
        csrf=csrf_token(site, request),
    )


async def update(site: Site, request: Request, viewer: Viewer) -> Response:
    """``POST /dashboard/followups/<id>``: the status, and the note when one is given."""
    follow_up_id = path_id(request, "follow_up")
    form = await posted(site, request)
    status = str(form.get("status") or "")
    await changes.set_status(site.ctx, viewer.actor, follow_up_id, status)
    note = str(form.get("note") or "").strip()
    if note:
        await changes.set_note(site.ctx, viewer.actor, follow_up_id, note)
    back = site.url("/dashboard/followups", show=request.query_params.get("show"))
    return RedirectResponse(back, status_code=303, headers=SECURITY_HEADERS)
