"""The real twilio client, pointed at the fake Twilio server through `[sms] api_base_url`."""

from __future__ import annotations

import re
import socket
import traceback
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.channels.twilio_client import (
    SentSms,
    SmsAuthError,
    SmsError,
    SmsPermanentError,
    SmsTransientError,
    TwilioSender,
    is_permanent_error_code,
    validate_twilio_signature,
)
from fakes.twilio_server import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_FROM_NUMBER,
    FakeTwilioServer,
    LocalAsgiServer,
    signed_inbound_form,
)

TO = "+46701234567"
CALLBACK = "https://vandra.example.se/sms/status"
WEBHOOK = "https://vandra.example.se/sms/inbound"


@pytest.fixture
async def tw() -> AsyncIterator[FakeTwilioServer]:
    async with FakeTwilioServer(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN) as server:
        yield server


@pytest.fixture
async def sender(tw: FakeTwilioServer) -> AsyncIterator[TwilioSender]:
    sms = TwilioSender(
        TEST_ACCOUNT_SID,
        TEST_AUTH_TOKEN,
        tw.base_url,
        from_number=TEST_FROM_NUMBER,
        status_callback_url=CALLBACK,
    )
    yield sms
    await sms.close()


async def test_send_returns_sid_and_the_fake_records_the_message(
    tw: FakeTwilioServer, sender: TwilioSender
) -> None:
    """A send returns Twilio's sid and status; body, sender, validity and callback arrive."""
    sent = await sender.send(TO, "Hej! Passet börjar 21:00 vid Baronen.", validity_period_s=600)

    assert isinstance(sent, SentSms)
    assert re.fullmatch(r"SM[0-9a-f]{32}", sent.sid)
    assert sent.status == "queued"
    sms = await tw.wait_for_sms(TO)
    assert sms.sid == sent.sid
    assert sms.body == "Hej! Passet börjar 21:00 vid Baronen."
    assert sms.from_ == TEST_FROM_NUMBER
    assert sms.validity_period == 600
    assert sms.status_callback == CALLBACK
    assert (sms.segments, sms.encoding) == (1, "GSM-7")


async def test_messaging_service_is_used_when_there_is_no_from_number(
    tw: FakeTwilioServer,
) -> None:
    """With only a messaging service sid, Twilio picks the sender and answers "accepted"."""
    sender = TwilioSender(
        TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, tw.base_url, messaging_service_sid="MG" + "1" * 32
    )
    try:
        sent = await sender.send(TO, "Hej")
    finally:
        await sender.close()

    assert sent.status == "accepted"
    sms = tw.message(sent.sid)
    assert (sms.from_, sms.messaging_service_sid) == (None, "MG" + "1" * 32)
    assert sms.validity_period is None and sms.status_callback is None


async def test_validity_period_is_capped_at_twilios_maximum(
    tw: FakeTwilioServer, sender: TwilioSender
) -> None:
    """A validity period beyond 10 hours is sent as Twilio's maximum, 36,000 s."""
    await sender.send(TO, "Påminnelse", validity_period_s=86_400)

    assert (await tw.wait_for_sms(TO)).validity_period == 36_000


async def test_validity_period_below_one_second_is_refused(sender: TwilioSender) -> None:
    """A validity period under a second is a caller's mistake, refused before sending."""
    with pytest.raises(ValueError, match="validity_period_s"):
        await sender.send(TO, "Hej", validity_period_s=0)


async def test_opted_out_recipient_is_a_permanent_error_with_code_21610(
    tw: FakeTwilioServer, sender: TwilioSender
) -> None:
    """A send to a number that replied STOP fails for good with Twilio's code 21610."""
    tw.opt_out(TO)

    with pytest.raises(SmsPermanentError) as caught:
        await sender.send(TO, "Hej")

    assert (caught.value.code, caught.value.status) == (21610, 400)
    assert "21610" in str(caught.value)
    assert tw.sent == []


async def test_invalid_number_is_a_permanent_error_with_code_21211(sender: TwilioSender) -> None:
    """A number that is not E.164 fails for good with Twilio's code 21211."""
    with pytest.raises(SmsPermanentError) as caught:
        await sender.send("0701234567", "Hej")

    assert caught.value.code == 21211


async def test_body_over_1600_characters_is_a_permanent_error(sender: TwilioSender) -> None:
    """Twilio refuses a body longer than 1,600 characters (21617); retrying cannot help."""
    with pytest.raises(SmsPermanentError) as caught:
        await sender.send(TO, "x" * 1601)

    assert caught.value.code == 21617


@pytest.mark.parametrize(("status", "code"), [(500, 20500), (429, 20429), (503, 20503)])
async def test_server_errors_and_rate_limits_are_transient(
    tw: FakeTwilioServer, sender: TwilioSender, status: int, code: int
) -> None:
    """HTTP 5xx and 429 raise SmsTransientError with Twilio's code; the next try goes through."""
    tw.fail_next(status=status, count=1)

    with pytest.raises(SmsTransientError) as caught:
        await sender.send(TO, "Hej")

    assert (caught.value.status, caught.value.code) == (status, code)
    assert not isinstance(caught.value, SmsPermanentError)
    assert (await sender.send(TO, "Hej")).status == "queued"
    assert len(tw.sent) == 1


async def test_fail_next_counts_down(tw: FakeTwilioServer, sender: TwilioSender) -> None:
    """fail_next(count=2) fails exactly the next two sends."""
    tw.fail_next(status=500, count=2)

    for _ in range(2):
        with pytest.raises(SmsTransientError):
            await sender.send(TO, "Hej")
    await sender.send(TO, "Hej")

    assert (tw.requests, len(tw.sent)) == (3, 1)


async def test_nothing_listening_is_a_transient_error() -> None:
    """A refused connection is a transient network error, not twilio's or aiohttp's exception."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sender = TwilioSender(
        TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, f"http://127.0.0.1:{port}", from_number=TEST_FROM_NUMBER
    )
    try:
        with pytest.raises(SmsTransientError) as caught:
            await sender.send(TO, "Hej")
    finally:
        await sender.close()

    assert caught.value.code is None
    assert "network error" in str(caught.value)


async def test_slow_api_is_a_transient_timeout(tw: FakeTwilioServer) -> None:
    """A send that outlasts the sender's time-out raises SmsTransientError."""
    tw.delay_next(0.5)
    sender = TwilioSender(
        TEST_ACCOUNT_SID,
        TEST_AUTH_TOKEN,
        tw.base_url,
        from_number=TEST_FROM_NUMBER,
        timeout_s=0.1,
    )
    try:
        with pytest.raises(SmsTransientError, match=r"network error: .*Timeout"):
            await sender.send(TO, "Hej")
    finally:
        await sender.close()


async def test_wrong_auth_token_raises_an_error_that_never_shows_the_token(
    tw: FakeTwilioServer,
) -> None:
    """Rejected credentials raise SmsAuthError (20003); the token is in no message or repr."""
    wrong_token = "wr0ng-t0ken-" + "f" * 20
    sender = TwilioSender(TEST_ACCOUNT_SID, wrong_token, tw.base_url, from_number=TEST_FROM_NUMBER)
    try:
        with pytest.raises(SmsAuthError) as caught:
            await sender.send(TO, "Hej")
    finally:
        await sender.close()

    error = caught.value
    assert isinstance(error, SmsTransientError)  # the message stays queued for a retry
    assert (error.code, error.status) == (20003, 401)
    shown = [str(error), repr(error), repr(sender), *traceback.format_exception(error)]
    assert not any(wrong_token in text for text in shown)
    assert tw.sent == []


def test_sender_repr_masks_the_auth_token() -> None:
    """repr(sender) names the account but never the auth token."""
    sender = TwilioSender(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, from_number=TEST_FROM_NUMBER)

    assert TEST_AUTH_TOKEN not in repr(sender)
    assert TEST_ACCOUNT_SID in repr(sender)


def test_sender_needs_a_from_number_or_a_messaging_service() -> None:
    """A sender with neither a from number nor a messaging service is refused at once."""
    with pytest.raises(ValueError, match="from_number or messaging_service_sid"):
        TwilioSender(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)


async def test_long_body_and_odd_unicode_arrive_intact(
    tw: FakeTwilioServer, sender: TwilioSender
) -> None:
    """A 1,600-character body and odd Unicode (emoji, astral, combining, zero-width) go as is."""
    long_body = ("Nattvandring fredag 21-01, samling vid Kalmar C. " * 40)[:1600]
    odd = "Hej 👋🏽 åäö – “citat” 𝄞 e\u0301 zero\u200bwidth \u00a0nbsp ☃ Ω"

    await sender.send(TO, long_body)
    await sender.send(TO, odd)

    first, second = await tw.wait_for_sms(TO), await tw.wait_for_sms(TO)
    assert (first.body, first.segments, first.encoding) == (long_body, 11, "GSM-7")
    assert second.body == odd
    assert second.encoding == "UCS-2"


async def test_environment_edge_and_region_do_not_redirect_the_client(
    tw: FakeTwilioServer, sender: TwilioSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TWILIO_EDGE / TWILIO_REGION in the environment do not take sends away from the base URL."""
    monkeypatch.setenv("TWILIO_EDGE", "dublin")
    monkeypatch.setenv("TWILIO_REGION", "ie1")

    await sender.send(TO, "Hej")

    assert len(tw.sent) == 1


async def test_status_callback_is_posted_signed_to_the_callback_url(tw: FakeTwilioServer) -> None:
    """deliver_status posts Twilio's status fields, signed so the app's check accepts them."""
    received: list[tuple[bool, dict[str, str]]] = []

    async def status(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode()))
        signature = request.headers.get("X-Twilio-Signature")
        received.append(
            (validate_twilio_signature(TEST_AUTH_TOKEN, str(request.url), form, signature), form)
        )
        return Response(status_code=204)

    app = Starlette(routes=[Route("/sms/status", status, methods=["POST"])])
    async with LocalAsgiServer(app) as receiver_url:
        sender = TwilioSender(
            TEST_ACCOUNT_SID,
            TEST_AUTH_TOKEN,
            tw.base_url,
            from_number=TEST_FROM_NUMBER,
            status_callback_url=f"{receiver_url}/sms/status",
        )
        try:
            sent = await sender.send(TO, "Hej")
        finally:
            await sender.close()
        delivered = await tw.deliver_status(sent.sid, "delivered")
        failed = await tw.deliver_status(sent.sid, "undelivered", error_code=30003)

    assert (delivered.status_code, failed.status_code) == (204, 204)
    (ok1, form1), (ok2, form2) = received
    assert ok1 and ok2
    assert form1["MessageSid"] == sent.sid and form1["MessageStatus"] == "delivered"
    assert form1["AccountSid"] == TEST_ACCOUNT_SID and form1["To"] == TO
    assert "ErrorCode" not in form1
    assert (form2["MessageStatus"], form2["ErrorCode"]) == ("undelivered", "30003")
    assert tw.message(sent.sid).status_history == ["queued", "delivered", "undelivered"]


def test_signature_helper_accepts_a_correctly_signed_inbound_sms() -> None:
    """A webhook signed with the auth token over the exact URL and form validates."""
    headers, form = signed_inbound_form(TEST_AUTH_TOKEN, WEBHOOK, TO, "JA 12")

    assert form["Body"] == "JA 12" and form["From"] == TO
    assert form["MessageSid"] == form["SmsSid"] and form["NumSegments"] == "1"
    assert validate_twilio_signature(TEST_AUTH_TOKEN, WEBHOOK, form, headers["X-Twilio-Signature"])


def test_signature_helper_rejects_a_tampered_form() -> None:
    """Changing any form field after signing makes the signature invalid."""
    headers, form = signed_inbound_form(TEST_AUTH_TOKEN, WEBHOOK, TO, "JA 12")

    tampered = {**form, "Body": "NEJ 12"}

    assert not validate_twilio_signature(
        TEST_AUTH_TOKEN, WEBHOOK, tampered, headers["X-Twilio-Signature"]
    )


def test_signature_helper_rejects_a_different_url() -> None:
    """A signature made for one URL does not validate for another (path or query differ)."""
    headers, form = signed_inbound_form(TEST_AUTH_TOKEN, WEBHOOK, TO, "JA 12")
    signature = headers["X-Twilio-Signature"]

    assert not validate_twilio_signature(TEST_AUTH_TOKEN, WEBHOOK + "?x=1", form, signature)
    assert not validate_twilio_signature(
        TEST_AUTH_TOKEN, "https://evil.example/sms/inbound", form, signature
    )


@pytest.mark.parametrize("signature", [None, ""])
def test_signature_helper_rejects_a_missing_signature(signature: str | None) -> None:
    """A request without X-Twilio-Signature is never valid."""
    _, form = signed_inbound_form(TEST_AUTH_TOKEN, WEBHOOK, TO, "JA 12")

    assert not validate_twilio_signature(TEST_AUTH_TOKEN, WEBHOOK, form, signature)


def test_signature_helper_rejects_another_accounts_token() -> None:
    """A signature made with a different auth token does not validate."""
    headers, form = signed_inbound_form("other-token", WEBHOOK, TO, "JA 12")

    assert not validate_twilio_signature(
        TEST_AUTH_TOKEN, WEBHOOK, form, headers["X-Twilio-Signature"]
    )


@pytest.mark.parametrize(
    ("code", "permanent"),
    [(21610, True), (30005, True), (30007, True), (30003, False), (30008, False), (None, False)],
)
def test_error_codes_are_classified(code: int | None, permanent: bool) -> None:
    """Recipient and number errors are permanent; unreachable handsets and unknowns are not."""
    assert is_permanent_error_code(code) is permanent


def test_every_sms_error_carries_code_and_status() -> None:
    """SmsError subclasses keep Twilio's code and the HTTP status for the outbox to record."""
    error = SmsPermanentError("Twilio error 21610 (HTTP 400): unsubscribed", 21610, 400)

    assert isinstance(error, SmsError)
    assert (error.code, error.status, error.message) == (21610, 400, str(error))
