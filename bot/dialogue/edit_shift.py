"""Editing a shift in chat, for its lead or the coordinator: from the shift card's "Ändra",
choose what (time, meeting point, area, min/max), answer, confirm. The core tells the walkers.

Actions: ``ed:<id>`` the choice; ``ed:<id>:time|point|counts`` asks for text; ``ed:<id>:area``
lists areas, ``ed:<id>:area:<area>`` picks one; ``ed:<id>:yes`` applies the change held in the
conversation. Never by SMS (``trust.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta

from bot.dialogue.registry import Routes
from bot.dialogue.roles import require_shift_manager
from bot.dialogue.turn import Turn
from scheduling.common.errors import DomainError, InvalidInput
from scheduling.common.localtime import parse_clock_time, parse_date
from scheduling.common.text import small_number
from scheduling.people import directory
from scheduling.walks import cards
from scheduling.walks.editing import ShiftChange, edit_shift

FLOW = "editshift"
_TIMES = re.compile(r"^(?:(\d{4}-\d{2}-\d{2})\s+)?(\d{1,2}[:.]\d{2})\s*[-–]\s*(\d{1,2}[:.]\d{2})$")
_COUNTS = re.compile(r"^(\d{1,3})\s*[-–/ ]\s*(\d{1,3})$")


def register(routes: Routes) -> None:
    routes.action("ed", _edit_action)
    routes.flow(FLOW, _edit_text)


async def _edit_action(turn: Turn, action: str) -> None:
    parts = action.split(":")
    shift_id = small_number(parts[1]) if len(parts) >= 2 else None
    if shift_id is None:
        turn.say("common.stale_button")
        return
    await require_shift_manager(turn, shift_id, "shifts.edit")
    what = parts[2] if len(parts) >= 3 else ""
    if what == "":
        turn.say("plan.edit.choose", id=shift_id, options=[
            turn.option(f"plan.edit.{w}", f"ed:{shift_id}:{w}")
            for w in ("time", "point", "area", "counts")
        ])
    elif what in ("time", "point", "counts"):
        turn.goto(FLOW, what, shift=shift_id)
        turn.say(f"plan.edit.ask_{what}", id=shift_id)
    elif what == "area" and len(parts) == 4 and small_number(parts[3]) is not None:
        await _hold(turn, shift_id, ShiftChange(area=small_number(parts[3])))
    elif what == "area":
        areas = await directory.list_areas(turn.ctx)
        turn.say("plan.edit.ask_area", id=shift_id, options=[
            turn.option("registration.org_name", f"ed:{shift_id}:area:{a.id}", name=a.name[:40])
            for a in areas[:20]
        ])
    elif what == "yes" and turn.flow == FLOW and turn.data.get("shift") == shift_id:
        await _apply(turn, shift_id)
    else:
        turn.say("common.stale_button")


async def _edit_text(turn: Turn, text: str) -> None:
    """The answer to "which time / meeting point / min and max"; a bad one says why."""
    shift_id = int(turn.data.get("shift") or 0)
    try:
        change = await _parse(turn, shift_id, turn.step or "", text.strip())
    except DomainError as error:
        turn.refuse(error)
        turn.say(f"plan.edit.ask_{turn.step}", id=shift_id)
        return
    await _hold(turn, shift_id, change)


async def _parse(turn: Turn, shift_id: int, step: str, text: str) -> ShiftChange:
    if step == "point":
        if not text:
            raise InvalidInput("empty_text", field="meeting_point")
        return ShiftChange(meeting_point=text[:201])
    if step == "counts":
        found = _COUNTS.match(text)
        if not found:
            raise InvalidInput("plan_bad_counts")
        return ShiftChange(min_walkers=int(found[1]), max_walkers=int(found[2]))
    found = _TIMES.match(text)
    if step != "time" or not found:
        raise InvalidInput("plan_bad_times")
    card = await cards.shift_card(turn.ctx, turn.actor, shift_id)
    first = card.view.shift.start_at.astimezone(turn.ctx.zone).date()
    day = parse_date(found[1]) if found[1] else first
    return _times(day, found[2], found[3])


def _times(day: date, start_text: str, end_text: str) -> ShiftChange:
    start = datetime.combine(day, parse_clock_time(start_text.replace(".", ":")))
    end = datetime.combine(day, parse_clock_time(end_text.replace(".", ":")))
    if end <= start:
        end += timedelta(days=1)  # a night crosses midnight
    return ShiftChange(start=start, end=end)


async def _hold(turn: Turn, shift_id: int, change: ShiftChange) -> None:
    """Keep the change in the conversation and ask to confirm it."""
    held = {
        "start": change.start.isoformat() if change.start else None,
        "end": change.end.isoformat() if change.end else None,
        "area": change.area, "point": change.meeting_point,
        "min": change.min_walkers, "max": change.max_walkers,
    }
    turn.goto(FLOW, "confirm", shift=shift_id, change=held)
    turn.say("plan.edit.confirm", id=shift_id, what=_describe(turn, held), options=[
        turn.option("plan.edit.yes", f"ed:{shift_id}:yes"),
        turn.option("delete.no", "menu"),
    ])


def _describe(turn: Turn, held: Mapping[str, object]) -> str:
    parts = []
    if held.get("start"):
        start, end = (datetime.fromisoformat(str(held[k])) for k in ("start", "end"))
        parts.append(turn.text("plan.edit.said_time", start=f"{start:%Y-%m-%d %H:%M}",
                               end=f"{end:%H:%M}"))
    if held.get("point"):
        parts.append(turn.text("plan.edit.said_point", point=held["point"]))
    if held.get("area"):
        parts.append(turn.text("plan.edit.said_area"))
    if held.get("min"):
        parts.append(turn.text("plan.edit.said_counts", min=held["min"], max=held["max"]))
    return "; ".join(parts)


async def _apply(turn: Turn, shift_id: int) -> None:
    held = turn.data.get("change") or {}
    change = ShiftChange(
        start=datetime.fromisoformat(held["start"]) if held.get("start") else None,
        end=datetime.fromisoformat(held["end"]) if held.get("end") else None,
        area=held.get("area"), meeting_point=held.get("point"),
        min_walkers=held.get("min"), max_walkers=held.get("max"),
    )
    turn.end_flow()
    await edit_shift(turn.ctx, turn.actor, shift_id, change)
    show = turn.option("plan.edit.show", f"shift:{shift_id}")
    turn.say("plan.edit.done", id=shift_id, options=[show])
