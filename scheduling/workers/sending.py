"""Sending one claimed message: render it, wait for a slot, send it, record what happened."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from scheduling.common.context import Context
from scheduling.messages.content import (
    ChannelNotReady,
    Delivery,
    Outgoing,
    PermanentSendError,
    Recipient,
    Sender,
    TransientSendError,
)
from scheduling.workers.claiming import Claim
from scheduling.workers.limits import Pacing
from scheduling.workers.outcomes import STORE_DOWN, Outcomes, until_stored

log = logging.getLogger("vandra.dispatch")


class Renderer(Protocol):
    """Turns an outbox message into words for one person (``bot/notifications.py``)."""

    async def __call__(
        self, kind: str, payload: dict[str, Any], recipient: Recipient, ctx: Context
    ) -> Outgoing: ...


@dataclass(frozen=True)
class SendOne:
    """What one pass of the dispatcher needs to send a claim; called with the claim, it returns
    the outcome's name (``sent``, ``retried``, ``rerouted``, ``failed``, ``released``,
    ``lost``: the claim was taken over after its lease ran out, nothing recorded)."""

    ctx: Context
    senders: Mapping[str, Sender]
    renderer: Renderer
    pacing: Pacing
    outcomes: Outcomes
    stopping: Callable[[], bool]
    wake: Callable[[], None]

    async def __call__(self, claim: Claim) -> str:
        outgoing = await self._render(claim)
        if isinstance(outgoing, str):
            return outgoing
        async with self.pacing.in_flight(claim.channel):
            return await self._attempt(claim, outgoing)

    async def _render(self, claim: Claim) -> Outgoing | str:
        """The words, or the outcome when there are none: ``released`` while the database is
        down (not the message's fault: back to the outbox), else ``failed``."""
        try:
            return await self.renderer(claim.kind, claim.payload, claim.recipient, self.ctx)
        except STORE_DOWN as exc:
            log.warning("cannot render outbox message %s, the database is unavailable (%s); "
                        "it goes back to the outbox", claim.message_id, type(exc.orig).__name__)
            await until_stored(claim, lambda: self.outcomes.release([claim.message_id]))
            return "released"
        except Exception as exc:
            log.exception("cannot render outbox message %s", claim.message_id)
            reason = f"render: {type(exc).__name__}: {exc}"
            return await until_stored(claim, lambda: self.outcomes.failure(claim, reason))

    async def _attempt(self, claim: Claim, outgoing: Outgoing) -> str:
        """Settle an earlier attempt of unknown outcome by asking the provider (where it can
        be asked), write the marker of this attempt, wait for the slot, then send."""
        settled = await self._ask(claim, outgoing)
        if settled is not None:
            return settled
        async with self.pacing.turn(claim.channel):
            if not await until_stored(claim, lambda: self.outcomes.begin(claim)):
                return "lost"
        # The marker goes first: the slot's moment is then the moment the provider sees it.
        await self.pacing.wait_for_slot(claim.channel, claim.recipient)
        if self.stopping():
            return await until_stored(claim, lambda: self.outcomes.not_ready(claim, "stopping"))
        return await self._send(claim, outgoing)

    async def _ask(self, claim: Claim, outgoing: Outgoing) -> str | None:
        """The outcome when the provider already has the message (recorded as sent, not sent
        again) or cannot be asked now (retried); None when it must be sent."""
        ask = getattr(self.senders[claim.channel], "find_accepted", None)
        if claim.in_doubt_since is None or ask is None:
            return None
        try:
            found: list[Delivery] = await ask(claim.recipient, outgoing, claim.in_doubt_since)
        except TransientSendError as exc:
            reason = f"asking {claim.channel} what it accepted: {exc.reason}"
            return await until_stored(
                claim, self._retry(claim, reason, exc.retry_after, uncertain=True)
            )
        fresh = await until_stored(claim, lambda: self.outcomes.unrecorded(found))
        if not fresh:
            log.info("outbox message %s: %s has no copy of the attempt begun at %s; sending",
                     claim.message_id, claim.channel, claim.in_doubt_since)
            return None
        copy = fresh[0]
        log.warning("outbox message %s: %s had accepted it (%s) though the outcome was unknown; "
                    "recorded as sent, not sent again", claim.message_id, claim.channel,
                    copy.provider_message_id)
        note = f"found at {claim.channel} after an attempt of unknown outcome"
        return await until_stored(claim, lambda: self.outcomes.sent(
            claim, copy.channel, copy.provider_message_id, copy.status, note=note))

    async def _send(self, claim: Claim, outgoing: Outgoing) -> str:
        try:
            sent = await self.senders[claim.channel].send(
                claim.recipient, outgoing, claim.expires_at
            )
        except ChannelNotReady as exc:
            why = exc.reason
            return await until_stored(claim, lambda: self.outcomes.not_ready(claim, why))
        except TransientSendError as exc:
            return await until_stored(
                claim, self._retry(claim, exc.reason, exc.retry_after, uncertain=exc.uncertain)
            )
        except PermanentSendError as exc:
            return await self._reroute(claim, exc)
        except Exception as exc:  # an unexpected error in a channel: maybe after sending
            log.exception("sender %s failed on outbox message %s", claim.channel, claim.message_id)
            reason = f"{type(exc).__name__}: {exc}"
            return await until_stored(
                claim, self._retry(claim, reason, None, uncertain=True, unexpected=True)
            )
        return await until_stored(
            claim,
            lambda: self.outcomes.sent(claim, sent.channel, sent.provider_message_id, sent.status),
        )

    def _retry(
        self, claim: Claim, reason: str, retry_after: float | None, *,
        uncertain: bool = False, unexpected: bool = False,
    ) -> Callable[[], Awaitable[str]]:
        async def record() -> str:
            if retry_after is not None:
                self.pacing.pause(claim.channel, retry_after)
            return await self.outcomes.retry(
                claim, reason, retry_after, uncertain=uncertain, unexpected=unexpected
            )

        return record

    async def _reroute(self, claim: Claim, exc: PermanentSendError) -> str:
        outcome = await until_stored(claim, lambda: self.outcomes.permanent(claim, exc))
        if outcome == "rerouted":
            self.wake()  # the other channel may take it at once
        return outcome
