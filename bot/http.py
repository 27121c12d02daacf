"""The one HTTP server of ``vandra run``: health and metrics; webhooks, feeds and dashboard
plug in as routes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot import metrics
from scheduling.common.context import Context

HealthProbe = Callable[[], Awaitable[bool]]
PROBE_TIMEOUT_S = 2.0


class HealthRegistry:
    """The named probes behind ``/healthz``: the store, the scheduler, each configured channel.

    A channel registers its probe when it starts (``health.register("telegram", probe)``);
    a probe that fails, raises or takes longer than 2 s counts as down.
    """

    def __init__(self, probes: dict[str, HealthProbe] | None = None) -> None:
        self._probes = probes if probes is not None else {}

    def register(self, name: str, probe: HealthProbe) -> None:
        if name in self._probes:
            raise ValueError(f"a health probe named {name!r} exists already")
        self._probes[name] = probe

    async def check(self) -> dict[str, str]:
        """Each probe's state, "ok" or "down", run concurrently."""
        names = list(self._probes)
        states = await asyncio.gather(*(self._state(self._probes[n]) for n in names))
        return dict(zip(names, states, strict=True))

    @staticmethod
    async def _state(probe: HealthProbe) -> str:
        try:
            return "ok" if await asyncio.wait_for(probe(), PROBE_TIMEOUT_S) else "down"
        except Exception:
            return "down"


async def store_alive(ctx: Context) -> bool:
    """The store answers a trivial query."""
    try:
        async with ctx.store.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def build_app(
    ctx: Context,
    probes: HealthRegistry | dict[str, HealthProbe],
    routes: list[BaseRoute] | None = None,
) -> Starlette:
    """The ASGI app: ``/healthz`` and ``/metrics`` plus whatever routes the channels bring.

    ``probes`` may be a plain dict; probes added to it later are checked too.
    """
    health = probes if isinstance(probes, HealthRegistry) else HealthRegistry(probes)

    async def healthz(_request: Request) -> JSONResponse:
        results = await health.check()
        healthy = all(state == "ok" for state in results.values())
        return JSONResponse(
            {"status": "ok" if healthy else "down", "checks": results},
            status_code=200 if healthy else 503,
        )

    async def metrics_page(_request: Request) -> Response:
        return Response(await metrics.render(ctx), media_type=metrics.CONTENT_TYPE)

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics_page, methods=["GET"]),
            *(routes or []),
        ]
    )
