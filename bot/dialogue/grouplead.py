"""Naming a shift's group lead in chat: ``gl:<shift>`` lists the walkers on it, ``gl:<shift>:
<person>`` names one (a lead of the organisation or a coordinator; ``scheduling/walks/
group_lead.py``)."""

from __future__ import annotations

from bot.dialogue.registry import Routes
from bot.dialogue.roles import require_shift_manager
from bot.dialogue.turn import Turn
from scheduling.common.text import small_number
from scheduling.walks.group_lead import name_group_lead, walkers_of


def register(routes: Routes) -> None:
    routes.action("gl", _group_lead)


async def _group_lead(turn: Turn, action: str) -> None:
    parts = [small_number(part) for part in action.split(":")[1:]]
    if not parts or None in parts or len(parts) > 2:
        turn.say("common.stale_button")
        return
    shift_id = parts[0] or 0
    if len(parts) == 2:
        lead = await name_group_lead(turn.ctx, turn.actor, shift_id, parts[1] or 0)
        turn.say("grouplead.done", id=shift_id, name=lead.name)
        return
    await require_shift_manager(turn, shift_id, "shifts.group_lead")
    walkers = await walkers_of(turn.ctx, shift_id)
    options = [turn.option("grouplead.choose", f"gl:{shift_id}:{pid}", name=name)
               for pid, name in walkers]
    turn.say("grouplead.ask", id=shift_id, options=options)
