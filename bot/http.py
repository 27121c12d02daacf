"""The one HTTP server of ``vandra run``: health now; webhooks, feeds and dashboard plug in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from scheduling.context import Context

HealthProbe = Callable[[], Awaitable[bool]]


async def store_alive(ctx: Context) -> bool:
    """The store answers a trivial query."""
    try:
        async with ctx.store.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def build_app(
    ctx: Context, probes: dict[str, HealthProbe], routes: list[BaseRoute] | None = None
) -> Starlette:
    """The ASGI app: ``/healthz`` plus whatever routes the channels bring."""

    async def healthz(_request: Request) -> JSONResponse:
        results = {}
        for name, probe in probes.items():
            try:
                results[name] = "ok" if await probe() else "down"
            except Exception:
                results[name] = "down"
        healthy = all(state == "ok" for state in results.values())
        return JSONResponse(
            {"status": "ok" if healthy else "down", "checks": results},
            status_code=200 if healthy else 503,
        )

    return Starlette(routes=[Route("/healthz", healthz, methods=["GET"]), *(routes or [])])
