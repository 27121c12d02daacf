"""Open alarms on the dashboard: shown above the calendar, acknowledged with one button."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.alarm_texts import map_link
from bot.dashboard.forms import posted
from bot.dashboard.params import path_id
from bot.dashboard.web import SECURITY_HEADERS, Site, Viewer
from scheduling.walks.alarm_changes import acknowledge_alarm
from scheduling.walks.alarm_views import OpenAlarm, open_alarms


async def shown(site: Site, viewer: Viewer) -> list[tuple[OpenAlarm, str | None]]:
    """The open alarms the viewer may see, each with its map link."""
    return [
        (alarm, map_link(alarm.latitude, alarm.longitude))
        for alarm in await open_alarms(site.ctx, viewer.actor)
    ]


async def acknowledge(site: Site, request: Request, viewer: Viewer) -> Response:
    """``POST /dashboard/alarms/<id>/acknowledge``: the viewer takes the alarm (the repeats
    stop and everyone alerted is told), then back to the calendar. The form carries the
    session-bound CSRF token (bot/dashboard/forms.py): without it, 403 and the alarm stays
    open."""
    await posted(site, request)
    await acknowledge_alarm(site.ctx, viewer.actor, path_id(request, "alarm"))
    return RedirectResponse(site.url("/dashboard/"), status_code=303, headers=SECURITY_HEADERS)
