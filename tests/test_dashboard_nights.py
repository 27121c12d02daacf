"""The dashboard's nights and walkers pages over HTTP: publish, take, reserve, allocate, give
back; approve, reject and the vetting dates; every change needs the session's CSRF token."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from bot.dashboard import dashboard_routes
from bot.http import build_app
from models.tables import Person, Role
from scheduling.common.context import Context
from scheduling.nights.views import upcoming_nights
from scheduling.walks.walker_cards import walker_card
from tests.helpers import OPERATOR, add_people
from tests.nights_world import kommun
from tests.test_dashboard import BASE, sign_in


@pytest.fixture
async def https_ctx(ctx: Context) -> Context:
    http = ctx.settings.http.model_copy(update={"public_url": BASE})
    return Context(ctx.store, ctx.settings.model_copy(update={"http": http}), ctx.clock)


def client_for(ctx: Context) -> httpx.AsyncClient:
    app = build_app(ctx, {}, dashboard_routes(ctx))
    transport = httpx.ASGITransport(app=app, root_path="/natt")
    return httpx.AsyncClient(transport=transport, base_url="https://vandra.test/natt")


@pytest.fixture
async def clients(https_ctx: Context) -> AsyncIterator[list[httpx.AsyncClient]]:
    made = [client_for(https_ctx) for _ in range(3)]
    yield made
    for client in made:
        await client.aclose()


async def csrf(client: httpx.AsyncClient, path: str) -> str:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


async def test_nights_on_the_dashboard(
    https_ctx: Context, clients: list[httpx.AsyncClient]
) -> None:
    ctx = https_ctx
    k = await kommun(ctx)
    coordinator, ifk, rk = clients
    await sign_in(ctx, coordinator, k.coordinator)
    await sign_in(ctx, ifk, k.leads[0])
    await sign_in(ctx, rk, k.leads[1])
    token = await csrf(coordinator, "/dashboard/nights")
    start = (ctx.now() + timedelta(days=4)).astimezone(ctx.zone).replace(second=0, microsecond=0)
    form = {"area": str(k.area), "start": f"{start:%Y-%m-%dT%H:%M}",
            "end": f"{start + timedelta(hours=4):%Y-%m-%dT%H:%M}", "min": "3"}
    forged = await coordinator.post("/dashboard/nights/publish", data={**form, "csrf": "x"})
    assert forged.status_code == 403 and await upcoming_nights(ctx) == []
    done = await coordinator.post("/dashboard/nights/publish", data={**form, "csrf": token})
    assert done.status_code == 303
    (night,) = await upcoming_nights(ctx)
    own = await csrf(ifk, "/dashboard/nights")
    assert (await ifk.post(f"/dashboard/nights/{night.id}/take", data={"csrf": own})
            ).status_code == 303
    other = await csrf(rk, "/dashboard/nights")
    assert (await rk.post(f"/dashboard/nights/{night.id}/take", data={"csrf": other})
            ).status_code == 400  # already taken: said politely
    await rk.post(f"/dashboard/nights/{night.id}/reserve", data={"csrf": other})
    page = (await coordinator.get("/dashboard/nights")).text
    assert "IFK Kalmar" in page and "Röda Korset" in page
    assert (await rk.post(f"/dashboard/nights/{night.id}/give-back", data={"csrf": other})
            ).status_code == 403  # not theirs to give back
    await ifk.post(f"/dashboard/nights/{night.id}/give-back", data={"csrf": own})
    (night,) = await upcoming_nights(ctx)
    assert night.is_open
    await coordinator.post(f"/dashboard/nights/{night.id}/allocate",
                           data={"csrf": token, "org": str(k.orgs[2])})
    assert (await upcoming_nights(ctx))[0].holder == "Nattvandrarna"
    assert (await ifk.post(f"/dashboard/nights/{night.id}/take", data={"csrf": token})
            ).status_code == 403  # another session's token
    unknown = await coordinator.post(f"/dashboard/nights/{night.id}/zzz", data={"csrf": token})
    assert unknown.status_code == 404 and "/pass" not in unknown.text  # no chat command here


async def test_walkers_approved_and_vetted_on_the_dashboard(
    https_ctx: Context, clients: list[httpx.AsyncClient]
) -> None:
    ctx = https_ctx
    k = await kommun(ctx)
    bea, cai = await add_people(ctx, 2, org=k.orgs[0])
    (dan,) = await add_people(ctx, 1, org=k.orgs[1], prefix="Rk")
    async with ctx.store.transaction() as session:
        for who in (bea, cai):
            row = await session.get(Person, who.id)
            assert row is not None
            row.approved_at = None
            session.add(row)
    ifk, rk, _ = clients
    await sign_in(ctx, ifk, k.leads[0])
    await sign_in(ctx, rk, k.leads[1])
    page = (await ifk.get("/dashboard/people")).text
    assert "Väntar på godkännande (2)" in page and "Rk 0" not in page
    token = await csrf(ifk, "/dashboard/people")
    assert (await ifk.post(f"/dashboard/people/{bea.id}/approve", data={"csrf": token})
            ).status_code == 303
    await ifk.post(f"/dashboard/people/{cai.id}/reject", data={"csrf": token})
    assert (await walker_card(ctx, OPERATOR, bea.id or 0)).approved
    vet = {"csrf": token, "course_on": "2026-10-03", "record_checked_on": "2026-11-01"}
    assert (await ifk.post(f"/dashboard/people/{bea.id}/vet", data=vet)).status_code == 303
    card = await walker_card(ctx, OPERATOR, bea.id or 0)
    assert (str(card.course_on), str(card.record_checked_on)) == ("2026-10-03", "2026-11-01")
    assert (await ifk.post(f"/dashboard/people/{bea.id}/vet",
                           data={**vet, "csrf": "forged"})).status_code == 403
    other = await csrf(rk, "/dashboard/people")
    assert (await rk.post(f"/dashboard/people/{bea.id}/vet", data={**vet, "csrf": other})
            ).status_code == 403
    bad = await ifk.post(f"/dashboard/people/{bea.id}/vet", data={**vet, "course_on": "3.10."})
    assert bad.status_code == 400
    assert dan.role == Role.VOLUNTEER
