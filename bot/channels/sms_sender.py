"""The SMS ``Sender``: outbox messages as GSM-7 text through ``TwilioSender``.

Options become a keyword hint ("Svara JA 42 = Anmäl mig, NEJ 42 = Avboka."), since an SMS
has no buttons; an ``Outgoing.keyword_hint`` given by the caller is used as it is. A message
that expires (a reminder, at the walk's start) is sent with Twilio's ``ValidityPeriod`` so it
is dropped unsent rather than delivered too late. Twilio's errors become the dispatcher's
``TransientSendError`` (try again) or ``PermanentSendError`` (this number will not do).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime

from bot.channels.gsm7 import to_gsm7
from bot.channels.sms import within_limit
from bot.channels.twilio_client import (
    SmsError,
    SmsPermanentError,
    SmsTransientError,
    TwilioSender,
)
from bot.i18n import catalogue, t
from scheduling.messages.content import (
    Delivery,
    Option,
    Outgoing,
    PermanentSendError,
    Recipient,
    TransientSendError,
)
from scheduling.messages.routing import SMS

OPTED_OUT_CODE = 21610
MESSAGE_PROBLEMS = frozenset({21602, 21617, 90007})  # body or validity, not the number


def keyword_for(action: str, language: str) -> str | None:
    """The SMS keyword that does what an option's action does (``signup:42`` -> ``JA 42``,
    ``ack:ref:K7QM2X`` -> ``KVITTERA K7QM2X``; an alert's id is never offered by SMS)."""
    verb, _, rest = action.partition(":")
    argument = rest.rsplit(":", 1)[-1]
    key = f"notify.keyword.{verb}"
    if verb == "ack":
        usable = rest.startswith("ref:") and argument.isascii() and argument.isalnum()
    else:
        usable = argument.isascii() and argument.isdigit()
    if not usable or key not in catalogue("sv"):
        return None
    return f"{t(language, key)} {argument}"


def keyword_hint(options: tuple[Option, ...], language: str) -> str | None:
    """ "Svara JA 42 = Anmäl mig, NEJ 42 = Avboka." for the options an SMS can answer."""
    choices = [
        t(language, "notify.sms_choice", keyword=keyword, label=option.label)
        for option in options
        if (keyword := keyword_for(option.action, language)) is not None
    ]
    return t(language, "notify.sms_hint", choices=", ".join(choices)) if choices else None


def sms_text(message: Outgoing, language: str) -> str:
    """The whole SMS: text, then the keyword hint, in GSM-7 and at most 1,600 characters."""
    hint = message.keyword_hint or keyword_hint(message.options, language)
    return within_limit(to_gsm7(f"{message.text}\n{hint}" if hint else message.text))


class SmsSender:
    """Implements ``scheduling.messages.content.Sender`` for the ``sms`` channel."""

    channel = SMS

    def __init__(
        self, client: TwilioSender, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.client = client
        self._clock = clock

    async def send(
        self, recipient: Recipient, message: Outgoing, valid_until: datetime | None = None
    ) -> Delivery:
        if not recipient.phone:
            raise PermanentSendError("no phone number")
        validity = self._validity(valid_until)
        try:
            sent = await self.client.send(
                recipient.phone, sms_text(message, recipient.language), validity
            )
        except SmsPermanentError as exc:
            raise _permanent(exc) from exc
        except SmsTransientError as exc:
            raise TransientSendError(exc.message, uncertain=exc.uncertain) from exc
        return Delivery(channel=SMS, provider_message_id=sent.sid, status=sent.status)

    async def find_accepted(
        self, recipient: Recipient, message: Outgoing, since: datetime
    ) -> list[Delivery]:
        """What Twilio accepted for this person with these words since ``since`` (the
        dispatcher asks before sending again after an attempt of unknown outcome)."""
        if not recipient.phone:
            return []
        body = sms_text(message, recipient.language)
        try:
            found = await self.client.accepted_since(recipient.phone, body, since)
        except SmsError as exc:
            raise TransientSendError(exc.message) from exc
        return [Delivery(channel=SMS, provider_message_id=s.sid, status=s.status) for s in found]

    def _validity(self, valid_until: datetime | None) -> int | None:
        if valid_until is None:
            return None
        seconds = math.floor((valid_until - self._clock()).total_seconds())
        if seconds < 1:
            raise PermanentSendError("expired before it could be sent", unreachable=False)
        return seconds

    async def close(self) -> None:
        await self.client.close()


def _permanent(exc: SmsPermanentError) -> PermanentSendError:
    if exc.code == OPTED_OUT_CODE:
        return PermanentSendError(f"opted_out: {exc.message}")
    number_problem = exc.code is not None and exc.code not in MESSAGE_PROBLEMS
    return PermanentSendError(exc.message, unreachable=number_problem)
