"""Approval in the conversation (``[walks] approval``): the walker waiting for it, and the
lead's or coordinator's Godkänn / Avböj on the notice about them."""

from __future__ import annotations

from bot.dialogue.registry import Routes
from bot.dialogue.turn import Turn
from scheduling.common.errors import DomainError
from scheduling.common.text import small_number
from scheduling.walks import approval


def register(routes: Routes) -> None:
    routes.action("approve", _approve)
    routes.action("reject", _reject)


def waiting(turn: Turn) -> bool:
    """Whether the person is registered but not yet approved."""
    return turn.person is not None and not turn.person.approved


async def wait_with(turn: Turn, pending: str | None) -> None:
    """Say what happens next; a shift asked for is remembered and signed up for on approval."""
    prefix, _, rest = (pending or "").partition(":")
    shift_id = small_number(rest) if prefix in ("shift", "signup") else None
    if shift_id is not None:
        await approval.wait_for_shift(turn.ctx, turn.person_id, shift_id)
        turn.say("lifecycle.waiting_shift", id=shift_id)
    else:
        turn.say("lifecycle.pending")


def _person_id(action: str) -> int:
    number = small_number(action.split(":", 1)[1]) if ":" in action else None
    if number is None:
        raise DomainError("stale_button")
    return number


async def _approve(turn: Turn, action: str) -> None:
    done = await approval.approve_person(turn.ctx, turn.actor, _person_id(action))
    turn.say("lifecycle.you_approved", name=done.person.name)


async def _reject(turn: Turn, action: str) -> None:
    person = await approval.reject_person(turn.ctx, turn.actor, _person_id(action))
    turn.say("lifecycle.you_rejected", name=person.name)
