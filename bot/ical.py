"""``GET /ical/<token>.ics``: a person's or an organisation's shifts as an iCalendar feed."""

from __future__ import annotations

from functools import partial

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.i18n import t
from scheduling.common.context import Context
from scheduling.links.calendar import feed_for_token, render_ics

ICS_MEDIA_TYPE = "text/calendar; charset=utf-8"


def ical_routes(ctx: Context) -> list[BaseRoute]:
    """The calendar-feed route for ``build_app``; unknown or revoked tokens answer 404."""

    async def feed(request: Request) -> Response:
        token = str(request.path_params["token"])
        found = await feed_for_token(ctx, token)
        if found is None:
            return PlainTextResponse("Not Found", status_code=404)
        body = render_ics(found, partial(t, found.owner.language), ctx)
        return Response(
            body,
            media_type=ICS_MEDIA_TYPE,
            headers={"Cache-Control": "private, max-age=300", "X-Robots-Tag": "noindex"},
        )

    return [Route("/ical/{token}.ics", feed, methods=["GET"])]
