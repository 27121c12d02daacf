"""The plan on the dashboard: a shift's edit form, cancelling a range, an announcement; each
POST needs the session's CSRF token, and a lead reaches only their own organisation."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.dashboard import dashboard_routes
from bot.http import build_app
from models.tables import Role
from scheduling.common.context import Context
from scheduling.messages.kinds import Kind
from scheduling.walks import signups
from scheduling.walks.shifts import get_shift
from tests.test_dashboard import BASE, sign_in
from tests.world import World, make_world, outbox, person, shift_at


@pytest.fixture
async def https_ctx(ctx: Context) -> Context:
    http = ctx.settings.http.model_copy(update={"public_url": BASE})
    return Context(ctx.store, ctx.settings.model_copy(update={"http": http}), ctx.clock)


@pytest.fixture
async def client(https_ctx: Context) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(https_ctx, {}, dashboard_routes(https_ctx))
    transport = httpx.ASGITransport(app=app, root_path="/natt")
    async with httpx.AsyncClient(transport=transport, base_url="https://vandra.test/natt") as c:
        yield c


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None, page.text
    return found.group(1)


async def night(ctx: Context) -> tuple[World, int]:
    world = await make_world(ctx, walkers=2)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    for walker in world.walkers:
        await signups.sign_up(ctx, walker.id or 0, shift.id or 0)
    return world, shift.id or 0


async def test_the_edit_form_moves_a_shift_and_needs_the_token(
    https_ctx: Context, client: httpx.AsyncClient
) -> None:
    """The calendar links the form; a POST without the token (or another's) is 403 and
    changes nothing; with it the shift moves and both walkers are told."""
    world, shift_id = await night(https_ctx)
    await sign_in(https_ctx, client, world.coordinator)
    calendar = await client.get("/dashboard/", params={"from": "2026-11-27"})
    assert f"/natt/dashboard/shifts/{shift_id}/edit" in calendar.text
    form = await client.get(f"/dashboard/shifts/{shift_id}/edit")
    assert 'value="2026-11-27 21:00"' in form.text
    fields = {
        "start": "2026-11-27 22:00",
        "end": "2026-11-28 02:00",
        "area": str(world.area),
        "meeting_point": "Larmtorget",
        "min": "1",
        "max": "8",
    }
    for token in ("", "forged"):
        refused = await client.post(
            f"/dashboard/shifts/{shift_id}/edit", data={**fields, "csrf": token}
        )
        assert refused.status_code == 403
    assert await outbox(https_ctx, Kind.SHIFT_CHANGED) == []
    done = await client.post(
        f"/dashboard/shifts/{shift_id}/edit", data={**fields, "csrf": csrf_of(form)}
    )
    assert done.status_code == 303
    async with https_ctx.store.transaction() as session:
        moved = await get_shift(session, shift_id)
    assert (moved.meeting_point, moved.sequence) == ("Larmtorget", 1)
    assert len(await outbox(https_ctx, Kind.SHIFT_CHANGED)) == 2
    bad = await client.post(
        f"/dashboard/shifts/{shift_id}/edit", data={**fields, "max": "1", "csrf": csrf_of(form)}
    )
    assert bad.status_code == 400 and "kan inte bli 1" in bad.text


async def test_cancelling_a_range_shows_the_shifts_then_cancels(
    https_ctx: Context, client: httpx.AsyncClient
) -> None:
    """First the list to confirm (nothing cancelled yet), then cancelled and everyone told."""
    world, _ = await night(https_ctx)
    await sign_in(https_ctx, client, world.coordinator)
    token = csrf_of(await client.get("/dashboard/shifts/cancel"))
    fields = {"from": "2026-11-27", "to": "2026-11-28", "reason": "Storm", "csrf": token}
    shown = await client.post("/dashboard/shifts/cancel", data=fields)
    assert shown.status_code == 200 and "De här 1 passen" in shown.text
    assert await outbox(https_ctx, Kind.SHIFT_CANCELLED) == []
    done = await client.post("/dashboard/shifts/cancel", data={**fields, "confirm": "yes"})
    assert done.status_code == 200 and "inställda (1 st)" in done.text
    assert len(await outbox(https_ctx, Kind.SHIFT_CANCELLED)) == 2


async def test_a_lead_announces_to_their_own_organisation_only(
    https_ctx: Context, client: httpx.AsyncClient
) -> None:
    """The head-count first, then sent; an organisation field in a lead's form is ignored."""
    world, _ = await night(https_ctx)
    from scheduling.people import directory
    from tests.helpers import OPERATOR

    other = await directory.add_organisation(https_ctx, OPERATOR, "Nattvandrarna")
    await person(https_ctx, "Främling", org=other.id, telegram_id=777)
    lead = await person(https_ctx, "Lars", org=world.org, role=Role.LEAD, telegram_id=5050)
    await sign_in(https_ctx, client, lead)
    token = csrf_of(await client.get("/dashboard/announce"))
    fields = {"text": "Utbildning torsdag", "org": str(other.id), "csrf": token}
    shown = await client.post("/dashboard/announce", data=fields)
    assert "Skicka till 4 vandrare?" in shown.text
    sent = await client.post("/dashboard/announce", data={**fields, "confirm": "yes"})
    assert "skickat till 4 vandrare" in sent.text
    rows = await outbox(https_ctx, Kind.BROADCAST)
    assert {r.person_id for r in rows} == {lead.id, world.lead.id, *(w.id for w in world.walkers)}


async def test_a_range_at_the_calendars_end_is_a_400_in_words(
    https_ctx: Context, client: httpx.AsyncClient
) -> None:
    """Cancelling up to 9999-12-31 (whose next day does not exist) is refused in words, not a
    500; nothing is cancelled."""
    world, _ = await night(https_ctx)
    await sign_in(https_ctx, client, world.coordinator)
    token = csrf_of(await client.get("/dashboard/shifts/cancel"))
    fields = {"from": "2026-11-27", "to": "9999-12-31", "csrf": token}
    for confirm in ({}, {"confirm": "yes"}):
        refused = await client.post("/dashboard/shifts/cancel", data={**fields, **confirm})
        assert refused.status_code == 400 and "9999-12-31" in refused.text, refused.status_code
    assert await outbox(https_ctx, Kind.SHIFT_CANCELLED) == []
