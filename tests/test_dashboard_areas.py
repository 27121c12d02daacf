"""The dashboard's areas page over HTTP: every area with its meeting point, coordinates and
map link; the coordinator changes them or adds an area (CSRF-checked, audited), a lead may
only look; bad coordinates are a 400 page and nothing changes; names are shown as text; the
group intro then carries the new map link."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlmodel import col, select
from starlette.requests import Request

from bot.dashboard import dashboard_routes
from bot.dashboard.forms import csrf_token
from bot.dashboard.web import COOKIE, Site
from bot.http import build_app
from bot.notifications import NotificationRenderer
from models.tables import AuditEntry
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.messages.content import Recipient
from scheduling.messages.due import compute_due
from scheduling.messages.kinds import Kind
from scheduling.people import directory
from scheduling.walks import signups
from tests.helpers import OPERATOR
from tests.nights_world import Kommun, kommun
from tests.test_dashboard import BASE, sign_in
from tests.world import make_world, outbox, shift_at

PAGE = "/dashboard/areas"
MAP = "https://www.openstreetmap.org/?mlat=56.66160&amp;mlon=16.36040"


@pytest.fixture
async def https_ctx(ctx: Context) -> Context:
    http = ctx.settings.http.model_copy(update={"public_url": BASE})
    return Context(ctx.store, ctx.settings.model_copy(update={"http": http}), ctx.clock)


@pytest.fixture
async def clients(https_ctx: Context) -> AsyncIterator[list[httpx.AsyncClient]]:
    app = build_app(https_ctx, {}, dashboard_routes(https_ctx))
    made = [httpx.AsyncClient(transport=httpx.ASGITransport(app=app, root_path="/natt"),
                              base_url="https://vandra.test/natt") for _ in range(2)]
    yield made
    for client in made:
        await client.aclose()


async def signed_in(ctx: Context, clients: list[httpx.AsyncClient]) -> tuple[Kommun, str]:
    """The coordinator (first client) and IFK's lead (second) signed in; the coordinator's
    CSRF token."""
    k = await kommun(ctx)
    await sign_in(ctx, clients[0], k.coordinator)
    await sign_in(ctx, clients[1], k.leads[0])
    page = await clients[0].get(PAGE)
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return k, found.group(1)


def session_token(ctx: Context, client: httpx.AsyncClient) -> str:
    """The CSRF token of the client's session, as the dashboard computes it."""
    cookie = client.cookies.get(COOKIE) or ""
    assert cookie
    request = Request({"type": "http", "headers": [(b"cookie", f"{COOKIE}={cookie}".encode())]})
    return csrf_token(Site.create(ctx), request)


async def rows(ctx: Context) -> list[tuple[str, str | None, float | None, float | None]]:
    return [(a.name, a.meeting_point, a.latitude, a.longitude)
            for a in await directory.list_areas(ctx)]


async def audited(ctx: Context, action: str) -> list[AuditEntry]:
    async with ctx.store.transaction() as session:
        found = await session.exec(select(AuditEntry).where(col(AuditEntry.action) == action))
        return list(found.all())


async def test_the_coordinator_lists_changes_and_adds_areas(
    https_ctx: Context, clients: list[httpx.AsyncClient]
) -> None:
    ctx = https_ctx
    k, token = await signed_in(ctx, clients)
    coordinator = clients[0]
    page = (await coordinator.get(PAGE)).text
    assert "Stortorget" in page and "Domkyrkan" in page and "openstreetmap" not in page
    change = {"csrf": token, "meeting_point": "Entrén mot stationen",
              "lat": "56,6616", "lon": " 16.3604 "}
    done = await coordinator.post(f"{PAGE}/{k.area}", data=change)
    assert done.status_code == 303 and done.headers["location"] == f"/natt{PAGE}"
    assert await rows(ctx) == [("Stortorget", "Entrén mot stationen", 56.6616, 16.3604)]
    (entry,) = await audited(ctx, "areas.update")
    assert entry.target == f"area:{k.area}" and entry.actor_id == k.coordinator.id
    assert entry.details["previous"] == ["Domkyrkan", None, None]
    page = (await coordinator.get(PAGE)).text
    assert "56.66160, 16.36040" in page and MAP in page
    added = await coordinator.post(PAGE, data={"csrf": token, "name": "Baronen",
                                               "meeting_point": "", "lat": "", "lon": ""})
    assert added.status_code == 303
    assert (await rows(ctx))[1] == ("Baronen", None, None, None)
    cleared = await coordinator.post(f"{PAGE}/{k.area}", data={"csrf": token, "lat": "",
                                                               "lon": "", "meeting_point": ""})
    assert cleared.status_code == 303
    assert (await rows(ctx))[0] == ("Stortorget", None, None, None)
    missing = await coordinator.post(f"{PAGE}/99999", data=change)
    assert missing.status_code == 404


@pytest.mark.parametrize("lat, lon", [
    ("91", "16.36"), ("-90.5", "16.36"), ("56.66", "180.01"), ("nan", "16.36"),
    ("56.66", "inf"), ("1e400", "16.36"), ("56.66", ""), ("", "16.36"), ("norr", "16.36"),
    ("56.66", "öster"),
])
async def test_bad_coordinates_are_a_400_page_and_change_nothing(
    https_ctx: Context, clients: list[httpx.AsyncClient], lat: str, lon: str
) -> None:
    ctx = https_ctx
    k, token = await signed_in(ctx, clients)
    before = await rows(ctx)
    form = {"csrf": token, "meeting_point": "Ny plats", "lat": lat, "lon": lon}
    refused = await clients[0].post(f"{PAGE}/{k.area}", data=form)
    assert refused.status_code == 400
    assert re.search("latitud|longitud", refused.text, re.IGNORECASE), refused.text
    added = await clients[0].post(PAGE, data={**form, "name": "Baronen"})
    assert added.status_code == 400
    assert await rows(ctx) == before and await audited(ctx, "areas.update") == []


async def test_forged_or_missing_token_and_a_lead_change_nothing(
    https_ctx: Context, clients: list[httpx.AsyncClient]
) -> None:
    ctx = https_ctx
    k, token = await signed_in(ctx, clients)
    coordinator, lead = clients
    before = await rows(ctx)
    change = {"meeting_point": "Flyttad", "lat": "56.66", "lon": "16.36"}
    for form in ({**change, "csrf": "forged"}, change, {**change, "csrf": ""}):
        assert (await coordinator.post(f"{PAGE}/{k.area}", data=form)).status_code == 403
        assert (await coordinator.post(PAGE, data={**form, "name": "Nytt"})).status_code == 403
    page = await lead.get(PAGE)
    assert page.status_code == 200 and "Domkyrkan" in page.text
    assert f'action="/natt{PAGE}/{k.area}"' not in page.text  # no form for a lead
    own = session_token(ctx, lead)
    assert (await lead.post(f"{PAGE}/{k.area}", data={**change, "csrf": own})).status_code == 403
    assert (await lead.post(PAGE, data={**change, "csrf": own, "name": "Nytt"})
            ).status_code == 403
    assert (await lead.post(f"{PAGE}/{k.area}", data={**change, "csrf": token})
            ).status_code == 403  # the coordinator's token in another session
    assert await rows(ctx) == before
    # one refusal by the core; the POST with another session's token stopped at the CSRF check
    assert [e.outcome for e in await audited(ctx, "areas.update")] == ["refused"]
    async with ctx.store.transaction() as session:
        denied = (await session.exec(select(AuditEntry).where(
            col(AuditEntry.outcome) != "ok", col(AuditEntry.actor_id) == k.leads[0].id))).all()
    assert {e.action for e in denied} == {"areas.update", "areas.add"}


async def test_names_are_shown_as_text(
    https_ctx: Context, clients: list[httpx.AsyncClient]
) -> None:
    ctx = https_ctx
    await directory.add_area(ctx, OPERATOR, "<script>alert(1)</script>",
                             meeting_point='"><img src=x onerror=alert(2)>')
    _k, _token = await signed_in(ctx, clients)
    page = (await clients[0].get(PAGE)).text
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in page


async def test_the_group_intro_carries_the_new_map_link(
    https_ctx: Context, clients: list[httpx.AsyncClient], clock: ManualClock
) -> None:
    ctx = https_ctx
    world = await make_world(ctx, walkers=1)
    await sign_in(ctx, clients[0], world.coordinator)
    token = session_token(ctx, clients[0])
    area = await directory.add_area(ctx, OPERATOR, "Kvarnholmen", "Larmtorget")
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00", area=area.id)
    for walker in [world.lead, *world.walkers]:
        await signups.sign_up(ctx, walker.id or 0, shift.id or 0)
    form = {"csrf": token, "meeting_point": "Entrén mot stationen",
            "lat": "56.6616", "lon": "16.3604"}
    assert (await clients[0].post(f"{PAGE}/{area.id}", data=form)).status_code == 303
    clock.set(shift.start_at - timedelta(hours=3))
    await compute_due(ctx)
    to = next(m for m in await outbox(ctx, Kind.GROUP_INTRO) if m.person_id == world.lead.id)
    recipient = Recipient(to.person_id or 0, "sv", 1, "+46700000000")
    text = (await NotificationRenderer()(Kind.GROUP_INTRO, to.payload, recipient, ctx)).text
    assert "Entrén mot stationen" in text
    assert "https://www.openstreetmap.org/?mlat=56.66160&mlon=16.36040" in text
