"""SMS exactly once: an attempt whose outcome is unknown is settled by asking Twilio's Messages
list before anything is sent again (docs/delivery.md), with the fake Twilio's list endpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot.channels.sms_sender import SmsSender
from bot.channels.twilio_client import SmsTransientError, TwilioSender
from fakes.twilio_server import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_FROM_NUMBER,
    FakeTwilioServer,
)
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from tests.test_dispatch import dispatcher, queue
from tests.world import outbox, person

TO = "+46701234567"


@pytest.fixture
async def tw() -> AsyncIterator[FakeTwilioServer]:
    async with FakeTwilioServer(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN) as server:
        yield server


def client(tw: FakeTwilioServer, timeout_s: float = 5.0) -> TwilioSender:
    return TwilioSender(
        TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, tw.base_url, from_number=TEST_FROM_NUMBER,
        timeout_s=timeout_s,
    )


async def test_the_fake_lists_messages_newest_first_with_twilios_filters(
    tw: FakeTwilioServer,
) -> None:
    """GET Messages.json: To, PageSize, newest first; DateSent> leaves out what is still
    queued (no DateSent yet) and takes it once Twilio reports it sent."""
    sender = client(tw)
    try:
        first = await sender.send(TO, "Ett")
        await sender.send("+46709999999", "Annan")
        second = await sender.send(TO, "Två")
    finally:
        await sender.close()
    url = f"{tw.base_url}/2010-04-01/Accounts/{TEST_ACCOUNT_SID}/Messages.json"
    auth = (TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
    async with httpx.AsyncClient(auth=auth) as http:
        listed = (await http.get(url, params={"To": TO})).json()["messages"]
        assert [m["sid"] for m in listed] == [second.sid, first.sid]
        assert len((await http.get(url, params={"To": TO, "PageSize": 1})).json()["messages"]) == 1
        today = datetime.now(UTC).strftime("%Y-%m-%d")
        since = {"To": TO, "DateSent>": today}
        assert (await http.get(url, params=since)).json()["messages"] == []
        tw.message(first.sid).status_callback = "http://127.0.0.1:9/unused"
        tw.message(first.sid).date_sent = datetime.now(UTC)
        assert [m["sid"] for m in (await http.get(url, params=since)).json()["messages"]] == [
            first.sid
        ]
        assert (await http.get(url, auth=(TEST_ACCOUNT_SID, "wrong"))).status_code == 401


async def test_asking_twilio_finds_the_message_by_number_body_and_time(
    tw: FakeTwilioServer,
) -> None:
    """``accepted_since``: same number, same words, created since the attempt began."""
    sender = client(tw)
    try:
        before = datetime.now(UTC)
        sent = await sender.send(TO, "Påminnelse: pass i kväll 22:00")
        await sender.send(TO, "Något annat")
        found = await sender.accepted_since(TO, "Påminnelse: pass i kväll 22:00", before)
        later = await sender.accepted_since(
            TO, "Påminnelse: pass i kväll 22:00", before + timedelta(hours=1)
        )
    finally:
        await sender.close()
    assert [s.sid for s in found] == [sent.sid]
    assert later == []


async def test_a_time_out_after_twilio_accepted_is_uncertain_a_refusal_is_not(
    tw: FakeTwilioServer,
) -> None:
    """The fake accepts and never answers: the client's time-out says the outcome is
    unknown; a 500 answer says it was not accepted."""
    tw.hang_after_accepting()
    sender = client(tw, timeout_s=0.3)
    try:
        with pytest.raises(SmsTransientError) as caught:
            await sender.send(TO, "Hej")
        assert caught.value.uncertain and len(tw.sent) == 1
        tw.fail_next(500)
        with pytest.raises(SmsTransientError) as refused:
            await sender.send(TO, "Hej")
        assert not refused.value.uncertain
    finally:
        await sender.close()


async def test_a_provider_time_out_after_accepting_is_not_sent_twice(
    ctx: Context, clock: ManualClock, tw: FakeTwilioServer
) -> None:
    """Twilio accepts the SMS and the answer never comes: the row is pending with the doubt
    noted; the next attempt asks Twilio, finds the message and records it as sent, with
    Twilio's sid, without sending it again."""
    tw.hang_after_accepting()
    sms = SmsSender(client(tw, timeout_s=0.3), clock=ctx.now)
    walker = await person(ctx, "Sms", phone="0701234567")
    await queue(ctx, walker.id or 0)
    worker = dispatcher(ctx, clock, sms)  # type: ignore[arg-type]
    try:
        assert (await worker.dispatch_once()).retried == 1
        (row,) = await outbox(ctx)
        assert row.status == "pending" and (row.last_error or "").startswith("outcome unknown")
        clock.advance(timedelta(seconds=5))
        assert (await worker.dispatch_once()).sent == 1
    finally:
        await sms.close()
    (row,) = await outbox(ctx)
    (accepted,) = tw.sent
    assert (row.status, row.provider_message_id) == ("sent", accepted.sid)
    assert "found at sms" in (row.last_error or "")
    assert tw.lists == 1


async def test_a_refused_send_is_sent_again_without_asking(
    ctx: Context, clock: ManualClock, tw: FakeTwilioServer
) -> None:
    """A 500 answer is a known outcome (not accepted): the retry sends at once, no lookup."""
    tw.fail_next(500)
    sms = SmsSender(client(tw), clock=ctx.now)
    walker = await person(ctx, "Sms", phone="0701234567")
    await queue(ctx, walker.id or 0)
    worker = dispatcher(ctx, clock, sms)  # type: ignore[arg-type]
    try:
        await worker.dispatch_once()
        clock.advance(timedelta(seconds=5))
        assert (await worker.dispatch_once()).sent == 1
    finally:
        await sms.close()
    assert (len(tw.sent), tw.lists) == (1, 0)
