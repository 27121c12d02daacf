"""The council's report from the dashboard: a download, PDF or HTML, in the viewer's language,
for what the viewer may see (a lead: their organisation). Made off the event loop."""

from __future__ import annotations

from functools import partial

from starlette.requests import Request
from starlette.responses import Response

from bot.dashboard.params import date_param, default_range
from bot.dashboard.web import SECURITY_HEADERS, Site, Viewer
from bot.i18n import t
from evaluation import council


async def download(site: Site, request: Request, viewer: Viewer) -> Response:
    """The report file for the chosen dates; an attachment, so the HTML is opened as a file
    of its own (its inline stylesheet is not subject to the dashboard's policy)."""
    fmt = str(request.path_params["format"])
    default_first, default_last = default_range(site.today())
    first = date_param(request, "from", default_first)
    last = date_param(request, "to", default_last)
    texts = partial(t, viewer.language)
    body = await council.council_report(
        site.ctx, viewer.actor, first, last, fmt, viewer.language, texts
    )
    name = council.filename(first, last, fmt, texts)
    return Response(
        body,
        media_type=council.MEDIA_TYPES[fmt],
        headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
    )
