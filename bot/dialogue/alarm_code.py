"""Acknowledging an alarm by SMS: ``KVITTERA <ref>`` texts a one-time code to the number, and
``KVITTERA <ref> <code>`` takes the alarm (``bot/dialogue/confirm.py``).

A sender number can be forged; the code goes to the number's real owner. So only a lead or a
coordinator, and only with the code, silences the alarm: everyone alerted is told who took it
and the repeats stop (``scheduling/walks/alarm_changes.py``). Without the code nothing changes.
"""

from __future__ import annotations

from bot.dialogue.confirm import confirmed_actor
from bot.dialogue.trust import untrusted
from bot.dialogue.turn import Turn
from scheduling.common.errors import PermissionDenied
from scheduling.people.access import Actor
from scheduling.walks import alarm_changes
from scheduling.walks.details import person_name


async def acknowledge_by_code(turn: Turn, alarm_id: int, ref: str) -> None:
    """The alarm ``ref`` names, taken by SMS once the code texted to the number came back."""
    if turn.person is None or not turn.person.is_manager:
        raise PermissionDenied("alarm.acknowledge")
    actor: Actor | None = turn.actor
    if untrusted(turn.inbound.channel):
        again = f"{turn.text('notify.keyword.ack')} {ref}"
        actor = await confirmed_actor(
            turn, f"alarm:{alarm_id}", turn.inbound.code, "street.alarm_ack_code", again, ref=ref
        )
    if actor is None:
        return
    alarm = await alarm_changes.acknowledge_alarm(turn.ctx, actor, alarm_id)
    if alarm.status == alarm_changes.CANCELLED:
        turn.say("alarm.was_cancelled", id=ref)
    elif alarm.acknowledged_by == turn.person_id:
        turn.say("street.alarm_acknowledged", ref=ref)
    else:
        by = await person_name(turn.ctx, alarm.acknowledged_by) or "?"
        turn.say("alarm.acknowledged_before", id=ref, by=by)
