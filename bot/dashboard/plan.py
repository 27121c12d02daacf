"""Editing the plan on the dashboard: a shift's form (time, area, meeting point, min/max) and
cancelling a date range or a series at once, each POST with the session's CSRF token."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.dashboard.forms import checked_form, csrf_token, number_field, text_field
from bot.dashboard.params import path_id
from bot.dashboard.web import SECURITY_HEADERS, Site, Viewer
from bot.i18n import t
from scheduling.common.localtime import parse_date, parse_local_datetime
from scheduling.people import directory
from scheduling.walks import cards, shifts
from scheduling.walks.bulk_cancel import Selection, cancel_many, selected_shifts
from scheduling.walks.editing import ShiftChange, edit_shift


async def edit_page(site: Site, request: Request, viewer: Viewer) -> Response:
    """``GET /dashboard/shifts/<id>/edit``: the form, filled in with the shift as it is."""
    shift_id = path_id(request, "shift")
    await cards.require_shift_manager(site.ctx, viewer.actor, shift_id, "shifts.edit")
    async with site.ctx.store.transaction() as session:
        view = await shifts.get_shift_view(session, site.ctx, shift_id)
    return site.render(
        "shift_edit.html", viewer.language, **site.values(viewer, "calendar"),
        view=view, areas=await directory.list_areas(site.ctx), csrf=csrf_token(site, request),
        start=view.shift.start_at.astimezone(site.ctx.zone).strftime("%Y-%m-%d %H:%M"),
        end=view.shift.end_at.astimezone(site.ctx.zone).strftime("%Y-%m-%d %H:%M"),
    )


async def edit(site: Site, request: Request, viewer: Viewer) -> Response:
    """``POST /dashboard/shifts/<id>/edit``: apply what differs; back to the calendar."""
    shift_id = path_id(request, "shift")
    form = await checked_form(site, request)
    async with site.ctx.store.transaction() as session:
        view = await shifts.get_shift_view(session, site.ctx, shift_id)
    zone, shift = site.ctx.zone, view.shift
    start, end = text_field(form, "start"), text_field(form, "end")
    point = text_field(form, "meeting_point") or ""
    area, low, high = (number_field(form, n) for n in ("area", "min", "max"))
    change = ShiftChange(
        start=parse_local_datetime(start)
        if start and start != f"{shift.start_at.astimezone(zone):%Y-%m-%d %H:%M}" else None,
        end=parse_local_datetime(end)
        if end and end != f"{shift.end_at.astimezone(zone):%Y-%m-%d %H:%M}" else None,
        area=area if area != shift.area_id else None,
        meeting_point=point if point != (shift.meeting_point or view.meeting_point or "") else None,
        min_walkers=low if low != shift.min_walkers else None,
        max_walkers=high if high != shift.max_walkers else None,
    )
    if not change.empty:
        await edit_shift(site.ctx, viewer.actor, shift_id, change)
    day = shift.start_at.astimezone(zone).date().isoformat()
    return RedirectResponse(
        site.url("/dashboard/", **{"from": day}), status_code=303, headers=SECURITY_HEADERS
    )


def _selection(form: FormData, viewer: Viewer) -> Selection:
    first, last = text_field(form, "from"), text_field(form, "to")
    return Selection(
        series_id=number_field(form, "series"),
        first_day=parse_date(first) if first else None,
        last_day=parse_date(last) if last else None,
        organisation=number_field(form, "org") if viewer.actor.is_coordinator else None,
        area=number_field(form, "area"),
    )


async def cancel_page(site: Site, request: Request, viewer: Viewer) -> Response:
    """``GET /dashboard/shifts/cancel``: the form to cancel a range or a series."""
    return site.render(
        "cancel_range.html", viewer.language, **site.values(viewer, "calendar"),
        csrf=csrf_token(site, request), areas=await directory.list_areas(site.ctx),
        organisations=await directory.list_organisations(site.ctx), chosen=None, fields={},
    )


async def cancel(site: Site, request: Request, viewer: Viewer) -> Response:
    """``POST /dashboard/shifts/cancel``: first the shifts it would cancel, then (confirmed)
    cancel them; each walker of each is told once."""
    form = await checked_form(site, request)
    selection = _selection(form, viewer)
    reason = text_field(form, "reason")
    if form.get("confirm") != "yes":
        chosen = await selected_shifts(site.ctx, viewer.actor, selection)
        async with site.ctx.store.transaction() as session:
            views = await shifts.shift_views(session, site.ctx, shift_ids=chosen) if chosen else []
        return site.render(
            "cancel_range.html", viewer.language, **site.values(viewer, "calendar"),
            csrf=csrf_token(site, request), areas=[], organisations=[], chosen=views,
            zone=site.ctx.zone,
            fields={k: str(v) for k, v in form.items() if k not in ("csrf", "confirm")},
        )
    done = await cancel_many(site.ctx, viewer.actor, selection, reason)
    title = t(viewer.language, "coordinator.dash.title")
    text = t(viewer.language, "plan.dash.cancelled", count=len(done))
    return site.message(viewer.language, 200, title, text)
