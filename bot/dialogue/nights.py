"""Open nights in chat, for leads and the coordinator (``/natter``, ``/nights``).

A lead sees the coming nights with "Ta natten" (``night:<id>``) and "Ställ upp som reserv"
(``nreserve:<id>``) on those their organisation does not hold, and "Lämna tillbaka"
(``ngive:<id>``, confirmed with ``ngive:<id>:yes``) on its own; the coordinator allocates a
night among its claims (``nalloc:<id>:<org>``). None of it by SMS (``trust.py``: not a
walker's action).
"""

from __future__ import annotations

from bot.dialogue.registry import Routes
from bot.dialogue.roles import managed_scope
from bot.dialogue.turn import Turn
from bot.notifications_nights import night_when
from scheduling.common.errors import DomainError
from scheduling.common.text import small_number
from scheduling.messages.content import Option
from scheduling.nights import claims, handover
from scheduling.nights.views import NightView, upcoming_nights

SHOWN = 8


def register(routes: Routes) -> None:
    routes.command("nights", _list)
    routes.action("nights", _list)
    routes.action("night", _take)
    routes.action("nreserve", _reserve)
    routes.action("ngive", _give_back)
    routes.action("nalloc", _allocate)


async def _list(turn: Turn, _args: str) -> None:
    org = await managed_scope(turn, "nights.list")
    nights = (await upcoming_nights(turn.ctx))[:SHOWN]
    if not nights:
        turn.say("nights.none")
        return
    lines = [turn.text("nights.title")] + [_line(turn, n) for n in nights]
    options = [o for n in nights for o in _options(turn, n, org)]
    turn.send("\n".join(lines), options=options[:12])


def _line(turn: Turn, night: NightView) -> str:
    when = night_when(turn.lang, turn.ctx, night.start_at, night.end_at)
    if night.holder is not None:
        state = turn.text("nights.state_held", organisation=night.holder)
    else:
        state = turn.text("nights.state_open", count=len(night.claims))
    reserves = ", ".join(name for _, name in night.reserves)
    line = turn.text("nights.line", id=night.id, when=when, area=night.area, state=state,
                     min=night.min_walkers)
    return line + (turn.text("nights.reserves", names=reserves) if reserves else "")


def _options(turn: Turn, night: NightView, org: int | None) -> list[Option]:
    if org is None:  # the coordinator: allocate an open night among its claims
        if not night.is_open:
            return []
        return [turn.option("nights.allocate_to", f"nalloc:{night.id}:{o}", id=night.id,
                            organisation=name) for o, name in night.claims[:3]]
    if night.holder_id == org:
        return [turn.option("nights.give_back", f"ngive:{night.id}", id=night.id)]
    options = [turn.option("nights.reserve", f"nreserve:{night.id}", id=night.id)]
    if night.is_open or (night.offered and org in {o for o, _ in night.reserves}):
        options.insert(0, turn.option("nights.take_id", f"night:{night.id}", id=night.id))
    return options


def _ids(action: str) -> list[int]:
    numbers = [small_number(part) for part in action.split(":")[1:]]
    found = [n for n in numbers if n is not None]
    if not found:
        raise DomainError("stale_button")
    return found


async def _take(turn: Turn, action: str) -> None:
    night_id = _ids(action)[0]
    outcome = await claims.claim_night(turn.ctx, turn.actor, night_id)
    turn.say(f"nights.you_{outcome}", id=night_id)


async def _reserve(turn: Turn, action: str) -> None:
    night_id = _ids(action)[0]
    await claims.stand_reserve(turn.ctx, turn.actor, night_id)
    turn.say("nights.you_reserve", id=night_id)


async def _give_back(turn: Turn, action: str) -> None:
    night_id = _ids(action)[0]
    if not action.endswith(":yes"):
        turn.say("nights.give_back_confirm", id=night_id, options=[
            turn.option("nights.give_back_yes", f"ngive:{night_id}:yes"),
            turn.option("delete.no", "menu"),
        ])
        return
    await handover.give_back(turn.ctx, turn.actor, night_id)
    turn.say("nights.you_gave_back", id=night_id)


async def _allocate(turn: Turn, action: str) -> None:
    ids = _ids(action)
    if len(ids) < 2:
        raise DomainError("stale_button")
    await claims.allocate_night(turn.ctx, turn.actor, ids[0], ids[1])
    turn.say("nights.you_allocated", id=ids[0])
