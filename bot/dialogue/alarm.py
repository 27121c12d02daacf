"""The alarm in chat: ``/larm`` (``/alarm``) or SMS ``LARM [text]``, the "🚨 Larm" button on
the card of the shift one is on, a shared location, "Falskt larm", and a lead's or
coordinator's acknowledgement (``scheduling/walks/alarms.py``).

The first reply comes at once and always says to call 112 if anyone is in danger, also when no
alarm could be raised (no shift on now). A location shared in Telegram before the alarm is kept
for ``LOCATION_FRESH`` and goes with it; after that it is forgotten (on the person's next turn,
``forget_stale_location``, or by the daily retention run); one shared while an alarm is open
goes to everyone alerted.
"""

from __future__ import annotations

from datetime import datetime

from bot.dialogue.confirm import confirmed_actor
from bot.dialogue.registry import Routes
from bot.dialogue.trust import untrusted
from bot.dialogue.turn import Turn
from scheduling.common.errors import DomainError
from scheduling.common.text import small_number
from scheduling.walks import alarm_changes, alarms
from scheduling.walks.details import person_name

LOCATION_FRESH = alarms.LOCATION_KEPT


def register(routes: Routes) -> None:
    routes.command("alarm", _alarm)
    routes.command("false_alarm", _false_alarm_command)
    routes.action("larm", lambda turn, action: _alarm(turn, ""))
    routes.action("alarmoff", _false_alarm)
    routes.action("alarmack", _acknowledge)
    routes.action("loc", _location)


async def _alarm(turn: Turn, args: str) -> None:
    """Raise the alarm; the reply says 112 first, whatever else happens."""
    text = args.strip()
    try:
        raised = await alarms.raise_alarm(turn.ctx, turn.actor, text, _fresh_location(turn))
    except DomainError as error:
        turn.say("alarm.call_112", text=_quoted(turn, text))
        turn.refuse(error)
        return
    turn.data.pop("location", None)
    sms = turn.inbound.channel == "sms"
    key = "alarm.already"
    if raised.new:  # an alarm that reached nobody must not claim it went to the group
        key = "alarm.raised" if raised.alerted else "alarm.raised_nobody"
    false_alarm = turn.option("alarm.false_button", f"alarmoff:{raised.alarm_id}")
    turn.say(  # by SMS its _sms text and no option: it says FALSKT LARM, which asks for a code
        key,
        text=_quoted(turn, text),
        count=raised.alerted,
        options=[] if sms else [false_alarm],
    )


def _quoted(turn: Turn, text: str) -> str:
    return turn.text("alarm.your_text", text=text) if text else ""


def _fresh_location(turn: Turn) -> tuple[float, float] | None:
    kept = turn.data.get("location")
    if not isinstance(kept, list) or len(kept) != 3:
        return None
    try:
        at = datetime.fromisoformat(str(kept[2]))
    except ValueError:
        return None
    if turn.ctx.now() - at > LOCATION_FRESH:
        return None
    return float(kept[0]), float(kept[1])


def forget_stale_location(turn: Turn) -> None:
    """Drop a kept location once it is too old to go with an alarm ("sparad i 15 minuter"):
    the engine calls it before every conversation is saved."""
    if "location" in turn.data and _fresh_location(turn) is None:
        turn.data.pop("location", None)


async def _location(turn: Turn, action: str) -> None:
    """``loc:<lat>:<lon>`` from a shared location (``loc:<lat>:<lon>:live`` for an update of a
    live location, which is not answered): to the open alarm, or kept for one."""
    parts = action.split(":")
    try:
        latitude, longitude = float(parts[1]), float(parts[2])
    except (ValueError, IndexError):
        turn.say("common.stale_button")
        return
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        turn.say("common.stale_button")
        return
    alarm_id = await alarm_changes.share_location(turn.ctx, turn.actor, latitude, longitude)
    if alarm_id is None:
        turn.data["location"] = [latitude, longitude, turn.ctx.now().isoformat()]
        turn.say("alarm.location_kept")
    elif parts[-1] != "live":
        turn.say("alarm.location_sent")


async def _false_alarm_command(turn: Turn, args: str) -> None:
    """``/falskt_larm`` calls off one's latest alarm. By SMS (a sender can be forged, and a
    false alarm silences the alarm for everyone) ``FALSKT LARM`` texts a one-time code bound
    to that alarm, and only ``FALSKT LARM <code>`` calls it off."""
    if not untrusted(turn.inbound.channel):
        await _false_alarm(turn, "alarmoff")
        return
    alarm_id = await alarm_changes.alarm_to_call_off(turn.ctx, turn.actor)
    again = turn.text("alarm.false_keyword")
    actor = await confirmed_actor(turn, f"alarmoff:{alarm_id}", args, "alarm.false_code", again)
    if actor is not None:
        alarm = await alarm_changes.cancel_alarm(turn.ctx, actor, alarm_id)
        turn.say("alarm.cancelled", id=alarm.id)


async def _false_alarm(turn: Turn, action: str) -> None:
    """``alarmoff:<id>`` (or the command: the latest open one) calls a false alarm off."""
    alarm_id = small_number(action.split(":", 1)[1]) if ":" in action else None
    alarm = await alarm_changes.cancel_alarm(turn.ctx, turn.actor, alarm_id)
    turn.say("alarm.cancelled", id=alarm.id)


async def _acknowledge(turn: Turn, action: str) -> None:
    """``alarmack:<id>``: a lead or coordinator takes the alarm; the repeats stop."""
    alarm_id = small_number(action.split(":", 1)[1]) if ":" in action else None
    if alarm_id is None:
        turn.say("common.stale_button")
        return
    alarm = await alarm_changes.acknowledge_alarm(turn.ctx, turn.actor, alarm_id)
    if alarm.status == alarm_changes.CANCELLED:
        turn.say("alarm.was_cancelled", id=alarm_id)
    elif alarm.acknowledged_by == turn.person_id:
        turn.say("alarm.acknowledged", id=alarm_id)
    else:
        by = await person_name(turn.ctx, alarm.acknowledged_by) or "?"
        turn.say("alarm.acknowledged_before", id=alarm_id, by=by)
