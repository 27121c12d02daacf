"""The follow-up queue on the dashboard: the coordinator sees it with the masked summary only
and changes status and note in one form (the note masked); another organisation's lead sees
none and is refused a change (403, nothing changed); a volunteer cannot sign in at all."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlmodel import select

from bot.dashboard import issue_dashboard_link
from models.tables import FollowUp, FollowUpStatus
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.common.errors import PermissionDenied
from scheduling.people.access import Actor
from tests.followup_world import PNR, file_flagged_report, walked_night
from tests.test_dashboard import client, https_ctx, sign_in  # noqa: F401  (fixtures)


def token_on(page: httpx.Response) -> str:
    """The session's CSRF token, as the page's forms carry it."""
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text[:300]
    return found.group(1)


def session_token(ctx: Context, browser: httpx.AsyncClient) -> str:
    """The signed-in session's own valid token (the lead's page shows no form to carry it)."""
    from bot.dashboard.forms import csrf_token

    class Req:
        cookies = browser.cookies

    return csrf_token(type("S", (), {"ctx": ctx})(), Req())  # type: ignore[arg-type]


async def only_follow_up(ctx: Context) -> FollowUp:
    async with ctx.store.sessions() as session:
        return (await session.exec(select(FollowUp))).one()


async def test_the_follow_up_page_and_its_form(
    https_ctx: Context, client: httpx.AsyncClient, clock: ManualClock  # noqa: F811
) -> None:
    night = await walked_night(https_ctx, clock)
    await file_flagged_report(https_ctx, night)
    opened = await only_follow_up(https_ctx)
    await sign_in(https_ctx, client, night.world.coordinator)
    page = await client.get("/dashboard/followups")
    assert page.status_code == 200 and f"#{opened.id}" in page.text
    assert "[personnummer]" in page.text and "9876" not in page.text and "öppen" in page.text
    token = token_on(page)
    forged = await client.post(f"/dashboard/followups/{opened.id}",
                               data={"status": "handled", "csrf": "forged"})
    assert forged.status_code == 403
    assert (await only_follow_up(https_ctx)).status == FollowUpStatus.OPEN
    answer = await client.post(f"/dashboard/followups/{opened.id}",
                               data={"status": "in_progress", "note": f"Ringt om {PNR}",
                                     "csrf": token})
    assert answer.status_code == 303
    changed = await only_follow_up(https_ctx)
    assert changed.status == FollowUpStatus.IN_PROGRESS
    assert changed.note == "Ringt om [personnummer]"
    assert changed.changed_by == night.world.coordinator.id
    bad = await client.post(f"/dashboard/followups/{opened.id}",
                            data={"status": "closed", "csrf": token})
    assert bad.status_code == 400
    assert (await client.post("/dashboard/followups/99999",
                              data={"status": "open", "csrf": token})).status_code == 404
    everything = await client.get("/dashboard/followups?show=all")
    assert "Ringt om [personnummer]" in everything.text


async def test_another_organisations_lead_and_a_volunteer(
    https_ctx: Context, client: httpx.AsyncClient, clock: ManualClock  # noqa: F811
) -> None:
    night = await walked_night(https_ctx, clock)
    await file_flagged_report(https_ctx, night)
    opened = await only_follow_up(https_ctx)
    await sign_in(https_ctx, client, night.other_lead)
    page = await client.get("/dashboard/followups")
    assert page.status_code == 200 and f"#{opened.id}" not in page.text
    refused = await client.post(f"/dashboard/followups/{opened.id}",
                                data={"status": "handled",
                                      "csrf": session_token(https_ctx, client)})
    assert refused.status_code == 403
    assert (await only_follow_up(https_ctx)).status == FollowUpStatus.OPEN
    with pytest.raises(PermissionDenied):
        await issue_dashboard_link(https_ctx, Actor.of(night.world.walkers[0], "telegram"))
