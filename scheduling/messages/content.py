"""What the core says to people, independent of the channel that carries it.

A message is text plus options (one-tap choices). Each option carries a compact action string
(``signup:42``, at most 64 bytes, so a Telegram button still works after a restart); a channel
renders options its own way: inline keyboard buttons (Telegram), numbered choices or keywords
(SMS), a numbered menu (console).

Channels that send outbox messages implement ``Sender``; what they raise tells the
dispatcher whether to retry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

MAX_ACTION_BYTES = 64


@dataclass(frozen=True)
class Option:
    """One choice: the label shown and the action sent back when chosen."""

    label: str
    action: str

    def __post_init__(self) -> None:
        if len(self.action.encode("utf-8")) > MAX_ACTION_BYTES:
            raise ValueError(f"action {self.action!r} is longer than {MAX_ACTION_BYTES} bytes")


@dataclass(frozen=True)
class Document:
    filename: str
    content: bytes
    caption: str | None = None


@dataclass(frozen=True)
class Outgoing:
    """One message to one person."""

    text: str
    options: tuple[Option, ...] = ()
    request_contact: bool = False  # Telegram: offer the share-contact button
    document: Document | None = None
    edit_key: str | None = None  # the same key again edits the earlier message where possible
    keyword_hint: str | None = None  # SMS: the keywords that answer this message


@dataclass(frozen=True)
class Recipient:
    """Where a message can reach a person."""

    person_id: int
    language: str
    telegram_id: int | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Delivery:
    """What a channel reports after the provider accepted a message: its id there and the first
    delivery status."""

    channel: str
    provider_message_id: str | None = None
    status: str = "sent"


class TransientSendError(Exception):
    """Try again later (network, 5xx, rate limit); ``retry_after`` seconds if the provider said.
    ``uncertain``: the request may have reached the provider (a time-out after sending), so the
    message may have been accepted."""

    def __init__(
        self, reason: str, retry_after: float | None = None, *, uncertain: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.uncertain = uncertain


class ChannelNotReady(TransientSendError):
    """The channel has not started yet: nothing was attempted, no attempt is counted."""


class PermanentSendError(Exception):
    """This channel will not reach this person (blocked the bot, opted out, invalid number)."""

    def __init__(self, reason: str, *, unreachable: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.unreachable = unreachable


class Sender(Protocol):
    channel: str

    async def send(self, recipient: Recipient, message: Outgoing,
                   valid_until: datetime | None = None) -> Delivery:
        """Hand one message to the provider; raise Transient/PermanentSendError on failure."""
        ...


class AskingSender(Sender, Protocol):
    """A ``Sender`` whose provider can be asked what it accepted (Twilio can; Telegram cannot).
    The dispatcher asks before sending again a message whose earlier attempt has no known
    outcome."""

    async def find_accepted(
        self, recipient: Recipient, message: Outgoing, since: datetime
    ) -> list[Delivery]:
        """What the provider accepted for ``recipient`` with this message's words since
        ``since``, oldest first; raise ``TransientSendError`` when it cannot be asked now."""
        ...
