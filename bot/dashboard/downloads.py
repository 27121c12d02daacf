"""The export files: the page that offers them and the download itself."""

from __future__ import annotations

from functools import partial
from typing import cast

from starlette.requests import Request
from starlette.responses import Response

from bot.dashboard.params import date_param, default_range
from bot.dashboard.web import SECURITY_HEADERS, Site, Viewer
from bot.i18n import t
from evaluation import exports
from scheduling.common.errors import InvalidInput


async def exports_page(site: Site, request: Request, viewer: Viewer) -> Response:
    default_first, default_last = default_range(site.today())
    return site.render(
        "exports.html",
        viewer.language,
        **site.values(viewer, "exports"),
        first=date_param(request, "from", default_first),
        last=date_param(request, "to", default_last),
        kinds=exports.KINDS,
        formats=("xlsx", "csv"),
    )


async def download(site: Site, request: Request, viewer: Viewer) -> Response:
    """One export file, for what the viewer may see (audited, never with contacts)."""
    kind, fmt = str(request.path_params["kind"]), str(request.path_params["format"])
    if kind not in exports.KINDS:
        raise InvalidInput("bad_export_kind", kind=kind)
    default_first, default_last = default_range(site.today())
    first = date_param(request, "from", default_first)
    last = date_param(request, "to", default_last)
    texts = partial(t, "sv")
    request_ = exports.ExportRequest(cast(exports.Kind, kind), first, last)
    body = await exports.export_file(site.ctx, viewer.actor, request_, texts, fmt)
    name = exports.filename(kind, first, last, fmt)
    return Response(
        body,
        media_type=exports.MEDIA_TYPES[fmt],
        headers={
            **SECURITY_HEADERS,
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )
