"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright.

The server is the same Starlette app `vandra run` serves, on 127.0.0.1, over the hand-built
November (tests/coord_data.py) with the clock at Tue 24 Nov 2026. A screenshot of every page
goes to artefacts/ (gitignored). Without /usr/bin/chromium or the playwright package these tests
skip and say why; `.ci/run` installs Debian's chromium.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from openpyxl import load_workbook

from bot.dashboard import dashboard_routes, issue_dashboard_link
from bot.http import build_app
from bot.ical import ical_routes
from models.db import Store, upgrade
from models.tables import Person, Role
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.people import directory
from scheduling.people.access import Actor
from scheduling.walks import shifts
from tests.conftest import T0, make_settings
from tests.coord_data import DataSet, build, shift_at, signup
from tests.helpers import OPERATOR
from tests.test_run import free_port

CHROMIUM = Path("/usr/bin/chromium")
ARTEFACTS = Path(__file__).resolve().parent.parent / "artefacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NOVEMBER = "from=2026-11-01&to=2026-11-30"

pytestmark = pytest.mark.slow


def browser_unavailable() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (Debian package chromium; .ci/run installs it)"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    return None


@dataclass
class Served:
    ctx: Context
    clock: ManualClock
    data: DataSet
    base: str


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    """The dashboard and feeds on a free local port, over the November data set (SQLite)."""
    problem = browser_unavailable()
    if problem:
        pytest.skip(problem)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = make_settings(
        f"sqlite:///{tmp_path / 'browser.db'}", http={"port": port, "public_url": base}
    )
    clock = ManualClock(T0)
    store = Store.open(settings.database.url)
    await upgrade(store.engine)
    ctx = Context(store=store, settings=settings, clock=clock)
    data = await build(ctx)
    await more_weekends(ctx, data)
    app = build_app(ctx, {}, [*ical_routes(ctx), *dashboard_routes(ctx)])
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="off", log_level="warning", ws="none"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(200):  # at most 10 s
        if server.started or task.done():
            break
        await asyncio.sleep(0.05)
    assert server.started, "the test server did not start"
    try:
        yield Served(ctx, clock, data, base)
    finally:
        server.should_exit = True
        await task
        await store.close()


async def more_weekends(ctx: Context, data: DataSet) -> None:
    """Upcoming shifts in every colour: staffed, full, cancelled (and S6, understaffed)."""
    p = data.people
    ok = await shift_at(ctx, data.org_a, data.larmtorget, "2026-11-28 21:00", 4, 2, 4)
    full = await shift_at(ctx, data.org_b, data.baronen, "2026-12-04 21:00", 4, 2, 3, risk=True)
    off = await shift_at(ctx, data.org_a, data.baronen, "2026-12-05 21:00", 4, 2, 4)
    async with ctx.store.transaction() as session:
        session.add_all(
            [
                signup(ok, p["P1"], ctx),
                signup(ok, p["P3"], ctx),
                *(signup(full, p[name], ctx) for name in ("P4", "P5", "P6")),
            ]
        )
    await shifts.cancel_shift(ctx, OPERATOR, off, "Storm")


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    problem = browser_unavailable()
    if problem:
        pytest.skip(problem)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            await launched.close()


async def new_page(browser: Any) -> Any:
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="sv-SE", accept_downloads=True
    )
    return await context.new_page()


async def shot(page: Any, name: str) -> None:
    ARTEFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTEFACTS / f"dashboard-{name}.png"), full_page=True)


async def person(ctx: Context, role: str, org: int | None, name: str) -> Person:
    return await directory.add_person(ctx, OPERATOR, name=name, role=role, organisation=org)


async def sign_in_with(page: Any, link: str) -> None:
    """Open the one-time link (a page with a button, so a link preview cannot use it up) and
    press the button."""
    await page.goto(link)
    await page.locator("form button[type=submit]").click()
    await page.wait_for_load_state()


async def link_for(served: Served, who: Person) -> str:
    """What the bot's /dashboard command hands out."""
    return await issue_dashboard_link(served.ctx, Actor.of(who, "telegram"))


async def test_coordinator_signs_in_sees_understaffing_filters_and_downloads(
    served: Served, browser: Any, tmp_path: Path
) -> None:
    """Via the bot's link: see the understaffed shift, filter reports, download an XLSX."""
    page = await new_page(browser)
    coordinator = await person(served.ctx, Role.COORDINATOR, None, "Maria Samordnare")
    await sign_in_with(page, await link_for(served, coordinator))
    assert page.url == f"{served.base}/dashboard/"
    needs = page.locator("section.needs")
    assert "Behöver fler vandrare (1)" in await needs.inner_text()
    card = page.locator(f'article.shift.understaffed[data-shift="{served.data.shifts["S6"]}"]')
    assert await card.is_visible()
    assert "Walker P2" in await card.inner_text()
    await shot(page, "calendar")
    await page.set_viewport_size({"width": 390, "height": 844})
    await shot(page, "calendar-phone")
    await page.set_viewport_size({"width": 1280, "height": 900})

    await page.goto(f"{served.base}/dashboard/reports?{NOVEMBER}")
    assert await page.locator("table.reports tbody tr").count() == 3
    await page.select_option("select[name=mood]", "mixed")
    await page.click("form.filters button[type=submit]")
    await page.wait_for_url("**mood=mixed**")
    rows = page.locator("table.reports tbody tr")
    assert await rows.count() == 1
    assert "blandad" in await rows.first.inner_text()
    await shot(page, "reports-filtered")
    await rows.first.locator("a").click()
    await page.wait_for_url("**/dashboard/reports/*")
    assert "Bråk vid kiosken" in await page.locator("dl.detail").inner_text()
    await shot(page, "report")

    await page.goto(f"{served.base}/dashboard/stats?{NOVEMBER}")
    assert await page.locator("svg.chart").count() == 4
    await shot(page, "stats")
    await page.goto(f"{served.base}/dashboard/summary?month=2026-11")
    assert "Sammanställning 2026-11" in await page.locator("h1").inner_text()
    await shot(page, "summary")

    await page.goto(f"{served.base}/dashboard/exports?{NOVEMBER}")
    await shot(page, "exports")
    async with page.expect_download() as info:
        await page.click("a[href*='/dashboard/export/stats.xlsx']")
    download = await info.value
    target = tmp_path / download.suggested_filename
    await download.save_as(str(target))
    assert target.name == "vandra-stats-2026-11-01-2026-11-30.xlsx"
    sheet = load_workbook(target)["Statistik"]
    assert [c.value for c in sheet[2]][:4] == ["Totalt", "Alla", 7, 3]  # + 28 Nov


async def test_a_lead_cannot_see_another_organisation(served: Served, browser: Any) -> None:
    """A Nattugglorna lead sees only Nattugglorna's report and shifts; IFK's report is 404."""
    page = await new_page(browser)
    lead = await person(served.ctx, Role.LEAD, served.data.org_b, "Lena Gruppledare")
    await sign_in_with(page, await link_for(served, lead))
    calendar = await page.locator(".calendar").inner_text()
    assert "IFK Kalmar" not in calendar
    await page.goto(f"{served.base}/dashboard/reports?{NOVEMBER}")
    table = await page.locator("table.reports").inner_text()
    assert "Nattugglorna" in table and "IFK Kalmar" not in table
    assert await page.locator("select[name=org]").count() == 0
    await shot(page, "lead-reports")
    response = await page.goto(f"{served.base}/dashboard/reports/1")
    assert response is not None and response.status == 404
    await shot(page, "lead-refused-report")


async def test_expired_and_reused_links_are_refused(served: Served, browser: Any) -> None:
    """A link works once; the second opening and a 16-minute-old link show the refusal."""
    coordinator = await person(served.ctx, Role.COORDINATOR, None, "Maria Samordnare")
    link = await link_for(served, coordinator)
    first = await new_page(browser)
    await sign_in_with(first, link)
    assert first.url.endswith("/dashboard/")
    again = await new_page(browser)
    response = await again.goto(link)
    assert response is not None and response.status == 403
    assert "Länken fungerar inte" in await again.locator("h1").inner_text()
    await shot(again, "link-reused")
    stale = await link_for(served, coordinator)
    served.clock.advance(timedelta(minutes=16))
    late = await new_page(browser)
    response = await late.goto(stale)
    assert response is not None and response.status == 403
    assert await late.context.cookies() == []
    await shot(late, "link-expired")
    response = await late.goto(f"{served.base}/dashboard/")
    assert response is not None and response.status == 401


def test_browser_is_there_or_the_skip_says_why() -> None:
    """Either Chromium and Playwright are usable, or the reason names what is missing."""
    problem = browser_unavailable()
    assert problem is None or "chromium" in problem or "playwright" in problem
    assert shutil.which("chromium") or problem
