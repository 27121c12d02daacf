"""Calendar feeds: private revocable tokens, valid RFC 5545 with stable UIDs, cancelled shifts,
and Europe/Stockholm times with their VTIMEZONE."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from icalendar import Calendar

from bot.http import build_app
from bot.ical import ical_routes
from models.tables import Signup, SignupStatus
from scheduling.common.context import Context
from scheduling.links import calendar
from scheduling.people.access import Actor
from scheduling.walks import shifts
from tests.helpers import add_people, add_shift, seed_org_area

STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture
async def client(ctx: Context) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(ctx, {}, ical_routes(ctx))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://vandra.test") as client:
        yield client


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1].removesuffix(".ics")


async def test_feed_url_is_stable_and_unguessable(ctx: Context) -> None:
    """The same person gets the same URL twice; it carries 256 random bits."""
    org, _ = await seed_org_area(ctx)
    person = (await add_people(ctx, 1, org=org))[0]
    first = await calendar.feed_url_for_person(ctx, person.id or 0)
    assert first == await calendar.feed_url_for_person(ctx, person.id or 0)
    assert first.startswith("http://127.0.0.1:8080/ical/") and first.endswith(".ics")
    assert len(token_of(first)) >= 43


async def test_organisation_feed_is_valid_icalendar_with_zone_and_uids(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    """The feed is text/calendar with UID shift-<id>@vandra, TZID Europe/Stockholm, VTIMEZONE."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area, start_in=timedelta(days=3), risk_night=True)
    url = await calendar.feed_url_for_organisation(ctx, org)
    response = await client.get(f"/ical/{token_of(url)}.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    body = response.text
    assert "DTSTART;TZID=Europe/Stockholm:" in body
    assert "BEGIN:VTIMEZONE" in body and "TZID:Europe/Stockholm" in body
    parsed = Calendar.from_ical(response.content)
    events = list(parsed.walk("VEVENT"))
    assert [str(e["UID"]) for e in events] == [f"shift-{shift.id}@vandra"]
    start = events[0].decoded("DTSTART")
    assert start == shift.start_at and str(start.tzinfo) == "Europe/Stockholm"
    assert str(events[0]["STATUS"]) == "CONFIRMED"
    assert "Riskkväll" in str(events[0]["DESCRIPTION"])
    assert str(events[0]["LOCATION"]) == "Entrén mot stationen"


async def test_cancelled_shift_stays_in_the_feed_as_cancelled(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    """A cancelled shift keeps its UID and gets STATUS:CANCELLED."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    await shifts.cancel_shift(ctx, Actor.operator(), shift.id or 0)
    url = await calendar.feed_url_for_organisation(ctx, org)
    parsed = Calendar.from_ical((await client.get(f"/ical/{token_of(url)}.ics")).content)
    (event,) = parsed.walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == f"shift-{shift.id}@vandra"


async def test_person_feed_holds_only_their_shifts(ctx: Context, client: httpx.AsyncClient) -> None:
    """A person's feed lists the shifts they signed up for, waitlist places as tentative."""
    org, area = await seed_org_area(ctx)
    mine = await add_shift(ctx, org, area, start_in=timedelta(days=2))
    waiting = await add_shift(ctx, org, area, start_in=timedelta(days=4))
    await add_shift(ctx, org, area, start_in=timedelta(days=6))
    person = (await add_people(ctx, 1, org=org))[0]
    async with ctx.store.transaction() as session:
        for shift, status in ((mine, SignupStatus.CONFIRMED), (waiting, SignupStatus.WAITLISTED)):
            session.add(
                Signup(
                    shift_id=shift.id or 0,
                    person_id=person.id or 0,
                    status=status,
                    queued_at=ctx.now(),
                )
            )
    url = await calendar.feed_url_for_person(ctx, person.id or 0)
    parsed = Calendar.from_ical((await client.get(f"/ical/{token_of(url)}.ics")).content)
    found = {str(e["UID"]): str(e["STATUS"]) for e in parsed.walk("VEVENT")}
    assert found == {
        f"shift-{mine.id}@vandra": "CONFIRMED",
        f"shift-{waiting.id}@vandra": "TENTATIVE",
    }


async def test_unknown_and_revoked_tokens_answer_404(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    """A made-up token is 404; a revoked one is 404 too, and a renewed link works."""
    org, _ = await seed_org_area(ctx)
    assert (await client.get("/ical/not-a-token.ics")).status_code == 404
    owner = await calendar.organisation_owner(ctx, org)
    old = token_of(await calendar.feed_url(ctx, owner))
    assert (await client.get(f"/ical/{old}.ics")).status_code == 200
    assert await calendar.revoke_tokens(ctx, Actor.operator(), owner) == 1
    assert (await client.get(f"/ical/{old}.ics")).status_code == 404
    new = token_of(await calendar.feed_url(ctx, owner))
    assert new != old and (await client.get(f"/ical/{new}.ics")).status_code == 200


async def test_feed_times_across_the_october_dst_change(ctx: Context) -> None:
    """A walk across the night the clocks go back keeps its real instants in the feed."""
    org, area = await seed_org_area(ctx)
    spec = shifts.ShiftSpec(
        organisation=org,
        area=area,
        start=datetime(2027, 10, 30, 22, 0),
        end=datetime(2027, 10, 31, 4, 0),
    )
    (shift,) = await shifts.create_shifts(ctx, Actor.operator(), spec)
    feed = await calendar.feed_for_token(
        ctx, token_of(await calendar.feed_url_for_organisation(ctx, org))
    )
    assert feed is not None
    parsed = Calendar.from_ical(calendar.render_ics(feed, _texts, ctx))
    (event,) = parsed.walk("VEVENT")
    start, end = (event.decoded(k).astimezone(UTC) for k in ("DTSTART", "DTEND"))
    assert end - start == timedelta(hours=7)
    assert event.decoded("DTEND") == shift.end_at


def _texts(key: str, /, **params: object) -> str:
    from bot.i18n import t

    return t("sv", key, **params)
