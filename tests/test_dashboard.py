"""The dashboard over HTTP (no browser): sign-in, pages, filters, scope and downloads."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook

from bot.dashboard import dashboard_routes, issue_dashboard_link
from bot.dashboard.charts import bar_list, column_chart, stacked_bars
from bot.http import build_app
from models.tables import Person, Role
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.people import directory
from scheduling.people.access import Actor
from tests.coord_data import DataSet, build
from tests.helpers import OPERATOR
from tests.test_run import free_port, vandra, vandra_env

BASE = "https://vandra.kalmar.se/natt"


@pytest.fixture
async def https_ctx(ctx: Context) -> Context:
    """The context with [http] public_url on https with a path prefix."""
    http = ctx.settings.http.model_copy(update={"public_url": BASE})
    return Context(ctx.store, ctx.settings.model_copy(update={"http": http}), ctx.clock)


@pytest.fixture
async def data(https_ctx: Context) -> DataSet:
    return await build(https_ctx)


@pytest.fixture
async def client(https_ctx: Context) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(https_ctx, {}, dashboard_routes(https_ctx))
    # behind the reverse proxy: the browser sees /natt/..., the app gets root_path /natt
    transport = httpx.ASGITransport(app=app, root_path="/natt")
    async with httpx.AsyncClient(
        transport=transport, base_url="https://vandra.test/natt"
    ) as client:
        yield client


async def person(ctx: Context, role: str, org: int | None, name: str) -> Person:
    return await directory.add_person(
        ctx, OPERATOR, name=name, role=role, organisation=org, phone=None
    )


def path_of(link: str) -> str:
    """The link without the public prefix: what reaches the app behind the proxy."""
    assert link.startswith(BASE)
    return link.removeprefix(BASE)


async def sign_in(ctx: Context, client: httpx.AsyncClient, who: Person) -> httpx.Response:
    link = await issue_dashboard_link(ctx, Actor.of(who, "telegram"))
    return await press_sign_in(client, path_of(link))


async def press_sign_in(client: httpx.AsyncClient, path: str) -> httpx.Response:
    """Open a one-time link (a page with a button) and press the button (a POST)."""
    page = await client.get(path)
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    if page.status_code != 200 or found is None:
        return page
    return await client.post(path, data={"csrf": found.group(1)})


async def test_link_starts_a_secure_session_cookie(
    https_ctx: Context, data: DataSet, client: httpx.AsyncClient
) -> None:
    """The link redirects to the calendar with an HttpOnly, SameSite=Lax, Secure cookie."""
    coordinator = await person(https_ctx, Role.COORDINATOR, None, "Maria K")
    response = await sign_in(https_ctx, client, coordinator)
    assert response.status_code == 303
    assert response.headers["location"] == "/natt/dashboard/"
    cookie = response.headers["set-cookie"].lower()
    for attribute in ("httponly", "samesite=lax", "secure", "path=/natt/dashboard"):
        assert attribute in cookie


async def test_reused_and_expired_links_are_refused(
    https_ctx: Context, data: DataSet, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    """A used link and a 16-minute-old link both answer 403 and set no cookie."""
    coordinator = await person(https_ctx, Role.COORDINATOR, None, "Maria K")
    link = await issue_dashboard_link(https_ctx, Actor.of(coordinator, "telegram"))
    assert (await press_sign_in(client, path_of(link))).status_code == 303
    reused = await client.get(path_of(link))
    assert reused.status_code == 403 and "set-cookie" not in reused.headers
    assert "redan använts" in reused.text
    stale = await issue_dashboard_link(https_ctx, Actor.of(coordinator, "telegram"))
    clock.advance(timedelta(minutes=16))
    assert (await press_sign_in(client, path_of(stale))).status_code == 403


async def test_pages_need_a_session(client: httpx.AsyncClient, data: DataSet) -> None:
    """Without signing in every page answers 401 with a pointer to /dashboard."""
    for path in ("/dashboard/", "/dashboard/reports", "/dashboard/stats", "/dashboard/exports"):
        response = await client.get(path)
        assert response.status_code == 401 and "/dashboard" in response.text


async def test_calendar_shows_understaffed_shift_with_names_only(
    https_ctx: Context, data: DataSet, client: httpx.AsyncClient
) -> None:
    """Friday's shift (1 of min 2) is listed as understaffed with its roster, no phone numbers."""
    await sign_in(https_ctx, client, await person(https_ctx, Role.COORDINATOR, None, "Maria"))
    page = await client.get("/dashboard/")
    assert page.status_code == 200
    html = page.text
    assert "Behöver fler vandrare (1)" in html
    assert f'data-shift="{data.shifts["S6"]}"' in html and "fre 27/11" in html
    assert "Walker P2" in html and "+46" not in html
    assert "default-src 'self'" in page.headers["content-security-policy"]


async def test_reports_filter_by_mood_and_incidents(
    https_ctx: Context, data: DataSet, client: httpx.AsyncClient
) -> None:
    """Mood=mixed keeps P1's report; incidents=no keeps the two quiet ones."""
    await sign_in(https_ctx, client, await person(https_ctx, Role.COORDINATOR, None, "Maria"))
    query = {"from": "2026-11-01", "to": "2026-11-30"}
    everything = (await client.get("/dashboard/reports", params=query)).text
    assert everything.count('href="/natt/dashboard/reports/') == 3
    mixed = (await client.get("/dashboard/reports", params={**query, "mood": "mixed"})).text
    assert mixed.count('href="/natt/dashboard/reports/') == 1 and "polisen" in mixed
    quiet = (await client.get("/dashboard/reports", params={**query, "incidents": "no"})).text
    assert quiet.count('href="/natt/dashboard/reports/') == 2


async def test_lead_sees_only_their_organisation(
    https_ctx: Context, data: DataSet, client: httpx.AsyncClient
) -> None:
    """A Nattugglorna lead sees S4's report, not IFK's; IFK's report detail is 404."""
    lead = await person(https_ctx, Role.LEAD, data.org_b, "Lena Lead")
    await sign_in(https_ctx, client, lead)
    query = {"from": "2026-11-01", "to": "2026-11-30"}
    listed = (await client.get("/dashboard/reports", params=query)).text
    assert listed.count('href="/natt/dashboard/reports/') == 1
    assert "IFK Kalmar" not in listed.split("<table", 1)[1]
    assert (await client.get("/dashboard/reports/1")).status_code == 404
    stats = (await client.get("/dashboard/stats", params=query)).text
    assert "Nattugglorna" in stats and "IFK Kalmar" not in stats


async def test_stats_summary_and_download(
    https_ctx: Context, data: DataSet, client: httpx.AsyncClient
) -> None:
    """Statistics carry SVG charts; the summary is printable; the XLSX download opens."""
    await sign_in(https_ctx, client, await person(https_ctx, Role.COORDINATOR, None, "Maria"))
    stats = await client.get("/dashboard/stats", params={"from": "2026-11-01", "to": "2026-11-30"})
    assert stats.status_code == 200 and stats.text.count("<svg") == 4
    summary = await client.get("/dashboard/summary", params={"month": "2026-11"})
    assert summary.status_code == 200 and "Sammanställning 2026-11" in summary.text
    assert "data-print" in summary.text
    download = await client.get(
        "/dashboard/export/stats.xlsx", params={"from": "2026-11-01", "to": "2026-11-30"}
    )
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    book = load_workbook(io.BytesIO(download.content))
    assert book.sheetnames[0] == "Statistik"


async def test_bad_query_values_are_a_400_page(
    https_ctx: Context, data: DataSet, client: httpx.AsyncClient
) -> None:
    """A malformed date or an unknown export kind is answered with a short 400 page."""
    await sign_in(https_ctx, client, await person(https_ctx, Role.COORDINATOR, None, "Maria"))
    assert (await client.get("/dashboard/stats", params={"from": "yesterday"})).status_code == 400
    assert (await client.get("/dashboard/export/people.xlsx")).status_code == 400
    assert (await client.get("/dashboard/export/stats.pdf")).status_code == 400


def test_charts_escape_labels_and_scale_to_the_peak() -> None:
    """Labels are escaped; the tallest bar fills the plot; stacked bars carry a legend."""
    svg = column_chart("Pass <per> vecka", ["v45", "v46"], [2, 1])
    assert "&lt;per&gt;" in svg and "<per>" not in svg
    assert 'height="180.0"' in svg and 'height="90.0"' in svg
    assert "Larmtorget" in bar_list("Platser", [("Larmtorget", 2)])
    stacked = stacked_bars("Stämning", [("Baronen", {"calm": 1})], [("calm", "lugn")])
    assert "lugn" in stacked and "Baronen" in stacked


def test_vandra_run_serves_feeds_and_dashboard(tmp_path: Path) -> None:
    """`vandra run` carries /ical/<token>.ics (404 unknown) and /dashboard (401 signed out)."""
    port = free_port()
    env = vandra_env(tmp_path, VANDRA_HTTP_PORT=str(port))
    assert vandra("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], env=env, cwd=tmp_path, stderr=subprocess.PIPE
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert httpx.get(f"{base}/ical/unknown.ics").status_code == 404
        assert httpx.get(f"{base}/dashboard/").status_code == 401
        css = httpx.get(f"{base}/dashboard/static/style.css")
        assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.communicate(timeout=15)
