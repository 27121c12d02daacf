"""A lead's or the coordinator's decisions in chat: cancel a shift, go ahead with an
understaffed one (the final staffing check), acknowledge a safety alert."""

from __future__ import annotations

from bot.dialogue.registry import Routes
from bot.dialogue.roles import require_shift_manager
from bot.dialogue.turn import Turn
from scheduling.common.errors import DomainError
from scheduling.common.text import small_number
from scheduling.walks import safety, shifts, staffing


def register(routes: Routes) -> None:
    routes.action("sc", _cancel_shift_action)
    routes.action("cancelshift", _cancel_shift_now)
    routes.action("keep", _keep_shift)
    routes.action("ack", _acknowledge)


async def _cancel_shift_action(turn: Turn, action: str) -> None:
    """``sc:<id>`` asks to confirm; ``sc:<id>:yes`` cancels (everyone signed up is told)."""
    parts = action.split(":")
    shift_id = small_number(parts[1]) if len(parts) >= 2 else None
    if shift_id is None:
        turn.say("common.stale_button")
        return
    if len(parts) == 3 and parts[2] == "yes":
        await shifts.cancel_shift(turn.ctx, turn.actor, shift_id)
        turn.say("cancelshift.done", id=shift_id)
        return
    await require_shift_manager(turn, shift_id, "shifts.cancel")
    turn.say(
        "cancelshift.confirm",
        id=shift_id,
        options=[
            turn.option("cancelshift.yes", f"sc:{shift_id}:yes"),
            turn.option("delete.no", "menu"),
        ],
    )


async def _cancel_shift_now(turn: Turn, action: str) -> None:
    """``cancelshift:<id>`` from the final staffing check: cancel (everyone is told)."""
    await _cancel_shift_action(turn, f"sc:{_number(action)}:yes")


async def _keep_shift(turn: Turn, action: str) -> None:
    """``keep:<id>``: the lead or coordinator goes ahead with an understaffed shift."""
    await staffing.go_ahead(turn.ctx, turn.actor, _number(action))
    turn.say("finalcheck.kept", id=_number(action))


async def _acknowledge(turn: Turn, action: str) -> None:
    """``ack:alert:<id>``: a safety alert is taken care of; its repeats stop."""
    parts = action.split(":")
    alert_id = small_number(parts[2]) if len(parts) == 3 and parts[1] == "alert" else None
    if alert_id is None:
        turn.say("common.stale_button")
        return
    await safety.acknowledge_alert(turn.ctx, turn.actor, alert_id)
    turn.say("safety.acknowledged", id=alert_id)


def _number(action: str) -> int:
    number = small_number(action.rsplit(":", 1)[-1])
    if number is None:
        raise DomainError("stale_button")
    return number

