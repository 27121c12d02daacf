"""A lead's or the coordinator's decisions in chat: cancel a shift, go ahead with an
understaffed one (the final staffing check), acknowledge a safety alert (or, by its
reference, a walker's alarm: ``alarm_code.py``)."""

from __future__ import annotations

from bot.dialogue import trust
from bot.dialogue.alarm_code import acknowledge_by_code
from bot.dialogue.confirm import confirmed_actor
from bot.dialogue.registry import Routes
from bot.dialogue.roles import require_shift_manager
from bot.dialogue.turn import Turn
from scheduling.common.errors import DomainError, PermissionDenied
from scheduling.common.text import small_number
from scheduling.people.access import Actor
from scheduling.walks import safety, shifts, staffing
from scheduling.walks.alarm_changes import alarm_id_for_ref


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
    await shifts.require_cancellable(turn.ctx, shift_id)  # a begun shift: refused at once
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
    """``ack:ref:<ref>`` (or ``ack:alert:<id>`` from a trusted channel): a safety alert is
    taken care of; its repeats stop. By SMS only a lead or coordinator, with the one-time
    code texted to their number (``KVITTERA K7QM2X 4821``)."""
    parts = action.split(":")
    if len(parts) != 3 or parts[1] not in ("ref", "alert"):
        turn.say("common.stale_button")
        return
    if parts[1] == "ref":
        ref = parts[2].upper()
        alarm_id = await alarm_id_for_ref(turn.ctx, ref)
        if alarm_id is not None:  # a walker's alarm, not a missed check-out
            await acknowledge_by_code(turn, alarm_id, ref)
            return
        alert_id: int | None = await safety.alert_id_for_ref(turn.ctx, ref)
    else:
        alert_id = small_number(parts[2])
        ref = parts[2]
    if alert_id is None:
        turn.say("common.stale_button")
        return
    actor: Actor | None = turn.actor
    if trust.untrusted(turn.inbound.channel):
        if turn.person is None or not turn.person.is_manager:
            raise PermissionDenied("alerts.acknowledge")
        again = f"{turn.text('notify.keyword.ack')} {ref}"
        actor = await confirmed_actor(
            turn, f"ack:{alert_id}", turn.inbound.code, "sms.ack_code", again, ref=ref
        )
    if actor is not None:
        await safety.acknowledge_alert(turn.ctx, actor, alert_id)
        turn.say("safety.acknowledged", id=ref)


def _number(action: str) -> int:
    number = small_number(action.rsplit(":", 1)[-1])
    if number is None:
        raise DomainError("stale_button")
    return number

