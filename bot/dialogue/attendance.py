"""Who came, in the conversation: the lead (or coordinator) marks the walkers after a shift.

``att:<shift>`` opens the list (those who checked in marked already), ``att:<shift>:<person>``
toggles one walker, ``att:<shift>:done`` records it (the unmarked are no-shows).
"""

from __future__ import annotations

from bot.dialogue.registry import Routes
from bot.dialogue.turn import Turn
from scheduling.common.errors import DomainError
from scheduling.common.text import small_number
from scheduling.walks.attendance import attendees, record_attendance

FLOW = "attendance"


def register(routes: Routes) -> None:
    routes.action("att", _attendance)


async def _attendance(turn: Turn, action: str) -> None:
    parts = action.split(":")
    shift_id = small_number(parts[1]) if len(parts) >= 2 else None
    if shift_id is None:
        raise DomainError("stale_button")
    ongoing = turn.flow == FLOW and turn.data.get("shift") == shift_id
    if len(parts) == 3 and parts[2] == "done" and ongoing:
        came, absent = await record_attendance(
            turn.ctx, turn.actor, shift_id, turn.data.get("present") or []
        )
        turn.end_flow()
        turn.say("lifecycle.attendance_saved", id=shift_id, came=came, absent=absent)
        return
    people = await attendees(turn.ctx, turn.actor, shift_id)
    if not ongoing:
        present = [a.person_id for a in people if a.checked_in]
        turn.goto(FLOW, "mark", shift=shift_id, present=present)
    elif len(parts) == 3 and (person := small_number(parts[2])) is not None:
        marked = set(turn.data.get("present") or [])
        marked ^= {person}
        turn.data["present"] = sorted(marked)
    marked = set(turn.data.get("present") or [])
    options = [
        turn.option(
            "lifecycle.attendance_came" if a.person_id in marked else "lifecycle.attendance_absent",
            f"att:{shift_id}:{a.person_id}",
            name=a.name,
        )
        for a in people
    ]
    options.append(turn.option("lifecycle.attendance_done", f"att:{shift_id}:done"))
    turn.say("lifecycle.attendance_list", id=shift_id, options=options, edit_key=f"att:{shift_id}")
