"""``POST /sms/inbound`` and ``POST /sms/status``: Twilio's webhooks (``docs/interface.md``, HTTP).

Every request must carry a valid ``X-Twilio-Signature`` over ``<public_url><path><?query>`` and
the form fields (checked with twilio's RequestValidator); anything else is 403 and changes
nothing. The body is read as a bounded stream and parsed here before the signature is checked
and before anything else looks at it (``webhook_body``): more than 64 kB is 413, a body that
is not an url-encoded form (multipart) is 415. Inbound answers go back as TwiML; a MessageSid
already handled gets an empty ``<Response/>``. Status callbacks are 204 whether the message is
known or not.
"""

from __future__ import annotations

import logging
import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from twilio.twiml.messaging_response import MessagingResponse

from bot.channels import sms
from bot.channels.twilio_client import is_permanent_error_code, validate_twilio_signature
from bot.channels.webhook_body import BodyRefused, bounded_form
from bot.dialogue.engine import Dialogue
from bot.i18n import pick_language, t
from scheduling.common.context import Context
from scheduling.common.errors import DomainError
from scheduling.common.failures import cause, connection_lost
from scheduling.common.text import normalise_phone, small_number
from scheduling.messages.delivery_status import record_delivery_status
from scheduling.messages.inbound_seen import first_time
from scheduling.people.sms_opt_out import set_opt_out

log = logging.getLogger("vandra.sms")
MAX_FORM_BYTES = 64 * 1024
Form = dict[str, str]
TWIML = "application/xml"


def sms_routes(ctx: Context, dialogue: Dialogue) -> list[BaseRoute]:
    """The two Twilio webhook routes, bound to this context and dialogue."""

    async def inbound(request: Request) -> Response:
        form = await _signed_form(ctx, request)
        if isinstance(form, Response):
            return form
        try:
            return await _answer(ctx, dialogue, form)
        except Exception as error:
            if not connection_lost(error):
                raise
            # the receipt makes this safe: had the first try committed, this one does nothing
            log.warning("database connection lost (%s); handling the SMS once more",
                        cause(error))
            return await _answer(ctx, dialogue, form)

    async def status(request: Request) -> Response:
        form = await _signed_form(ctx, request)
        if isinstance(form, Response):
            return form
        sid, state = message_sid(form.get("MessageSid")), str(form.get("MessageStatus", ""))
        code = small_number(str(form.get("ErrorCode", "") or ""))
        if sid and state:
            permanent = code is not None and is_permanent_error_code(code)
            await record_delivery_status(ctx, sid, state, permanent)
        return Response(status_code=204)

    return [
        Route("/sms/inbound", inbound, methods=["POST"]),
        Route("/sms/status", status, methods=["POST"]),
    ]


async def _signed_form(ctx: Context, request: Request) -> Form | Response:
    """The form, if the request is signed by Twilio with our auth token; else the refusal
    (403, or 413/415 for a body too large or not a form, refused before it is parsed)."""
    settings = ctx.settings
    token = settings.sms.auth_token
    if token is None or settings.http.public_url is None:
        return Response(status_code=403)
    try:
        form = await bounded_form(request, MAX_FORM_BYTES)
    except BodyRefused as refused:
        log.warning("SMS webhook body refused unread (%s)", refused.status)
        return Response(status_code=refused.status)
    url = f"{settings.http.public_url}{request.url.path}"
    if request.url.query:
        url += f"?{request.url.query}"
    signature = request.headers.get("X-Twilio-Signature")
    if not validate_twilio_signature(token.get_secret_value(), url, form, signature):
        log.warning("SMS webhook with a bad or missing signature refused")
        return Response(status_code=403)
    return form


_SID = re.compile(r"[A-Za-z0-9]{1,80}")


def message_sid(value: object) -> str:
    """A Twilio message SID (``SM`` and 32 hex digits), or "" for anything that cannot be one:
    it is never looked up or stored as given (PostgreSQL refuses a NUL in text, for one)."""
    text = str(value or "")
    return text if _SID.fullmatch(text) else ""


def twiml(texts: list[str]) -> Response:
    response = MessagingResponse()
    for text in texts:
        response.message(text)
    return Response(str(response), media_type=TWIML)


async def _answer(ctx: Context, dialogue: Dialogue, form: Form) -> Response:
    """One inbound SMS as one unit of the store: the MessageSid's receipt commits with what
    the message did, so a message whose handling failed is handled anew when Twilio retries,
    and one that was handled is never handled twice."""
    async with ctx.store.unit():
        sid = message_sid(form.get("MessageSid") or form.get("SmsSid"))
        if sid and not await first_time(ctx, "sms", sid):
            return twiml([])
        try:
            phone = normalise_phone(str(form.get("From", "")))
        except DomainError:
            return twiml([])
        body = str(form.get("Body", ""))
        parsed = sms.parse(body, phone)
        if parsed.special is not None:
            return await _special(ctx, dialogue, parsed.special, phone, body)
        assert parsed.inbound is not None
        replies = await dialogue.handle(parsed.inbound)
    return twiml([sms.render(reply) for reply in replies])


async def _special(
    ctx: Context, dialogue: Dialogue, special: sms.Special, phone: str, body: str
) -> Response:
    """Opt-out and opt-in; Twilio has answered its own keywords, so those get no reply, but
    for a YES that answers a yes/no question the dialogue has pending."""
    if special in ("twilio_opt_out", "opt_out"):
        person = await set_opt_out(ctx, phone, True)
    elif special == "twilio_opt_in":
        await set_opt_out(ctx, phone, False)
        if sms.as_typed(body) != "YES":
            return twiml([])
        replies = await dialogue.handle(sms.yes_answer(phone))
        return twiml([sms.render(reply) for reply in replies])
    else:
        return twiml([])
    if special != "opt_out":
        return twiml([])
    lang = pick_language(person.language if person is not None else None)
    return twiml([sms.to_gsm7(t(lang, "sms.opted_out"))])
