"""The SMS Sender over the real twilio client and the fake Twilio server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.channels.sms_sender import SmsSender, keyword_hint, sms_text
from bot.channels.twilio_client import TwilioSender
from fakes.twilio_server import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_FROM_NUMBER,
    FakeTwilioServer,
)
from scheduling.messages.content import (
    Option,
    Outgoing,
    PermanentSendError,
    Recipient,
    TransientSendError,
)

NOW = datetime(2026, 11, 27, 19, 0, tzinfo=UTC)
TO = "+46701234567"
ANNA = Recipient(person_id=1, language="sv", phone=TO)


@pytest.fixture
async def tw() -> AsyncIterator[FakeTwilioServer]:
    async with FakeTwilioServer(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN) as server:
        yield server


@pytest.fixture
async def sms(tw: FakeTwilioServer) -> AsyncIterator[SmsSender]:
    client = TwilioSender(
        TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, tw.base_url, from_number=TEST_FROM_NUMBER
    )
    sender = SmsSender(client, clock=lambda: NOW)
    yield sender
    await sender.close()


async def test_sends_gsm7_text_with_keyword_hints_and_validity(
    tw: FakeTwilioServer, sms: SmsSender
) -> None:
    """Options become "Svara JA 42 = ..."; text is GSM-7; it expires with the message."""
    message = Outgoing(
        "Påminnelse: passet börjar 21:00 – mötesplats “Baronen”.",
        (
            Option("Anmäl mig", "signup:42"),
            Option("Avboka", "cancel:42"),
            Option("« Alla pass", "menu"),  # no SMS keyword: left out of the hint
        ),
    )
    delivery = await sms.send(ANNA, message, valid_until=NOW + timedelta(hours=2))
    sent = await tw.wait_for_sms(TO)
    assert delivery.channel == "sms" and delivery.provider_message_id == sent.sid
    assert sent.encoding == "GSM-7"
    assert sent.body == (
        'Påminnelse: passet börjar 21:00 - mötesplats "Baronen".\n'
        "Svara JA 42 = Anmäl mig, NEJ 42 = Avboka."
    )
    assert sent.validity_period == 7200


async def test_opted_out_number_is_permanent_and_says_so(
    tw: FakeTwilioServer, sms: SmsSender
) -> None:
    """Twilio 21610 (the person texted STOP): a permanent error marked opted_out."""
    tw.opt_out(TO)
    with pytest.raises(PermanentSendError) as caught:
        await sms.send(ANNA, Outgoing("Hej"))
    assert caught.value.reason.startswith("opted_out") and caught.value.unreachable


async def test_twilio_overload_is_transient(tw: FakeTwilioServer, sms: SmsSender) -> None:
    """HTTP 503 from Twilio: try again later."""
    tw.fail_next(503)
    with pytest.raises(TransientSendError):
        await sms.send(ANNA, Outgoing("Hej"))


async def test_a_message_already_expired_is_not_sent(tw: FakeTwilioServer, sms: SmsSender) -> None:
    """Valid until now: refused as a message problem, the number stays usable."""
    with pytest.raises(PermanentSendError) as caught:
        await sms.send(ANNA, Outgoing("Hej"), valid_until=NOW)
    assert not caught.value.unreachable
    assert tw.requests == 0


def test_english_hints_and_a_given_hint_win() -> None:
    """English keywords are YES/NO; an Outgoing's own keyword_hint is used as it is."""
    options = (Option("Sign me up", "signup:7"), Option("Acknowledge", "ack:ref:K7QM2X"))
    assert keyword_hint(options, "en") == "Reply YES 7 = Sign me up, ACK K7QM2X = Acknowledge."
    own = Outgoing("Hi", options, keyword_hint="Reply JA 7")
    assert sms_text(own, "en") == "Hi\nReply JA 7"
