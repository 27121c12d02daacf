"""Places on the dashboard (marking with a CSRF token) and in the places export (text stays
text, every label translated)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from bot.cli.export import swedish
from bot.dashboard import dashboard_routes
from bot.http import build_app
from evaluation import exports
from models.tables import Role
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.people.access import Actor
from tests.places_data import file_report, walked_shift
from tests.test_dashboard import BASE, person, sign_in
from tests.test_export_injection import HYPERLINK, csv_rows, workbook_cells

LIGHT = {"place": "Larmtorget", "category": "broken_light"}


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


async def place_export(ctx: Context, fmt: str) -> bytes:
    today = ctx.now().astimezone(ctx.zone).date()
    request = exports.ExportRequest("places", today - timedelta(days=7), today)
    tables = await exports.build_export(ctx, Actor.operator(), request, swedish)
    return exports.render(tables, swedish, fmt)


async def test_a_hostile_spot_stays_text_and_labels_are_words(
    ctx: Context, clock: ManualClock
) -> None:
    """A spot typed as =HYPERLINK(...) is a string cell in the XLSX and behind an apostrophe
    in the CSV; kind and status are Swedish words, never codes such as glass_litter."""
    shift_id, (p1, _) = await walked_shift(ctx, clock)
    await file_report(ctx, shift_id, p1, [
        {"place": "other", "category": "glass_litter", "spot": HYPERLINK}, LIGHT])
    cells = workbook_cells(await place_export(ctx, "xlsx"))
    assert not [c for c in cells if c.data_type == "f"]
    spot = next(c for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value)
    assert spot.value == HYPERLINK and spot.data_type == "s" and spot.quotePrefix
    words = {c.value for c in cells if isinstance(c.value, str)}
    assert {"glas eller skräp", "trasig belysning", "öppen", "Antal rapporter"} <= words
    assert not words & {"glass_litter", "broken_light", "open"}
    rows = csv_rows(await place_export(ctx, "csv"))
    assert rows[0][:4] == ["Plats-id", "Område", "Plats", "Problem"]
    assert "'" + HYPERLINK in [field for row in rows for field in row]


async def test_the_coordinator_marks_a_place_with_the_pages_token(
    https_ctx: Context, clock: ManualClock, client: httpx.AsyncClient
) -> None:
    """The page lists the place with its count; a mark without the page's token (a forged
    form) changes nothing; with it the place is "felanmäld till kommunen"."""
    shift_id, (p1, p2) = await walked_shift(https_ctx, clock)
    for walker in (p1, p2):
        await file_report(https_ctx, shift_id, walker, [LIGHT])
    coordinator = await person(https_ctx, Role.COORDINATOR, None, "Maria K")
    await sign_in(https_ctx, client, coordinator)
    page = await client.get("/dashboard/places")
    assert page.status_code == 200 and "Larmtorget" in page.text
    assert "trasig belysning" in page.text
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    action = re.search(r'action="/natt(/dashboard/places/\d+/mark)"', page.text)
    assert token and action
    forged = await client.post(action.group(1), data={"status": "fixed", "csrf": "x" * 64})
    assert forged.status_code == 400
    assert "öppen" in (await client.get("/dashboard/places")).text
    done = await client.post(action.group(1), data={"status": "reported", "csrf": token.group(1)})
    assert done.status_code == 303
    after = (await client.get("/dashboard/places?status=reported")).text
    assert "felanmäld till kommunen" in after and "Larmtorget" in after


async def test_a_lead_sees_places_but_may_not_mark(
    https_ctx: Context, clock: ManualClock, client: httpx.AsyncClient
) -> None:
    """A lead's page has no mark buttons, and a mark they post anyway is refused (403)."""
    shift_id, (p1, _) = await walked_shift(https_ctx, clock)
    await file_report(https_ctx, shift_id, p1, [LIGHT])
    lead = await person(https_ctx, Role.LEAD, 1, "Lena L")
    await sign_in(https_ctx, client, lead)
    page = await client.get("/dashboard/places")
    assert page.status_code == 200 and "Larmtorget" in page.text and "/mark" not in page.text
    from bot.dashboard.places import csrf_token  # the lead's own valid token

    class Req:
        cookies = client.cookies

    token = csrf_token(type("S", (), {"ctx": https_ctx})(), Req())  # type: ignore[arg-type]
    refused = await client.post("/dashboard/places/1/mark", data={"status": "fixed", "csrf": token})
    assert refused.status_code == 403
