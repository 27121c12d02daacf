"""On the walk, in chat: "Jag blir sen" (``/sen 12 15``, SMS ``SEN 12 15``, the button on the
card and in the group intro) and sharing one's number with the group for the night (``/dela
12``, SMS ``DELA 12``, the "Dela mitt nummer med gruppen" button). Both only for one's own
confirmed sign-up (``scheduling/walks/running_late.py``, ``sharing.py``); bad input gets a
polite word on how to write it.
"""

from __future__ import annotations

from datetime import datetime

from bot.dialogue.registry import Routes
from bot.dialogue.turn import Turn
from scheduling.common.errors import DomainError
from scheduling.common.text import small_number
from scheduling.walks.cards import CHECKED_IN, ShiftCard
from scheduling.walks.running_late import LATE_FROM, MAX_MINUTES, running_late, valid_minutes
from scheduling.walks.sharing import share_number

LATE_CHOICES = (10, 20, 30)


def register(routes: Routes) -> None:
    routes.command("late", _late_command)
    routes.command("share", _share_command)
    routes.action("late", _late_action)
    routes.action("share", _share_action)


def on_the_walk(card: ShiftCard, now: datetime) -> bool:
    """Whether the card shows "Jag blir sen" and "Dela mitt nummer": one's own confirmed
    sign-up, from ``LATE_FROM`` before the start until the end."""
    shift = card.view.shift
    return (
        card.my_status in ("confirmed", CHECKED_IN)
        and not card.view.cancelled
        and shift.start_at - LATE_FROM <= now < shift.end_at
    )


async def _late_command(turn: Turn, args: str) -> None:
    """``/sen <id> [minutes]``."""
    words = args.split()
    shift_id = small_number(words[0]) if words else None
    if shift_id is None or len(words) > 2:
        turn.say("street.late_usage")
        return
    minutes = small_number(words[1], digits=4) if len(words) == 2 else None
    if len(words) == 2 and (minutes is None or not valid_minutes(minutes)):
        raise DomainError("late_minutes", max=MAX_MINUTES)
    await _tell_late(turn, shift_id, minutes)


async def _late_action(turn: Turn, action: str) -> None:
    """``late:<id>`` asks how late (a few choices); ``late:<id>:<minutes>`` tells (0: unknown)."""
    parts = action.split(":")
    shift_id = small_number(parts[1]) if len(parts) >= 2 else None
    minutes = small_number(parts[2], digits=4) if len(parts) == 3 else None
    if shift_id is None or len(parts) > 3 or (len(parts) == 3 and minutes is None):
        turn.say("common.stale_button")
        return
    if len(parts) == 3:
        await _tell_late(turn, shift_id, minutes or None)
        return
    options = [turn.option("street.late_minutes_option", f"late:{shift_id}:{m}", minutes=m)
               for m in LATE_CHOICES]
    options.append(turn.option("street.late_unknown", f"late:{shift_id}:0"))
    turn.say("street.late_ask", id=shift_id, options=options)


async def _tell_late(turn: Turn, shift_id: int, minutes: int | None) -> None:
    told = await running_late(turn.ctx, turn.actor, shift_id, minutes)
    if not told:
        turn.say("street.late_nobody", id=shift_id)
    elif minutes:
        turn.say("street.late_done_minutes", id=shift_id, count=told, minutes=minutes)
    else:
        turn.say("street.late_done", id=shift_id, count=told)


async def _share_command(turn: Turn, args: str) -> None:
    """``/dela <id>``."""
    shift_id = small_number(args)
    if shift_id is None:
        turn.say("street.share_usage")
        return
    await _share(turn, shift_id)


async def _share_action(turn: Turn, action: str) -> None:
    """``share:<id>``: the button."""
    shift_id = small_number(action.split(":", 1)[1]) if ":" in action else None
    if shift_id is None:
        turn.say("common.stale_button")
        return
    await _share(turn, shift_id)


async def _share(turn: Turn, shift_id: int) -> None:
    shared = await share_number(turn.ctx, turn.actor, shift_id)
    if not shared.new:
        turn.say("street.share_again", id=shift_id)
    elif shared.told:
        turn.say("street.share_done", id=shift_id, count=shared.told)
    else:
        turn.say("street.share_done_alone", id=shift_id)
