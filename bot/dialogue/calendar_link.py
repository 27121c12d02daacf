"""A new private calendar link, offered with ``/mina``: the old link stops working at once
(an address shared by mistake can be taken back without the operator). Not by SMS: the
action is not one an SMS may reach (``trust``)."""

from __future__ import annotations

from bot.dialogue.registry import Routes
from bot.dialogue.turn import Turn
from scheduling.links.calendar import feed_url_for_person, person_owner, revoke_tokens


def register(routes: Routes) -> None:
    routes.action("cal", _new_link)


async def _new_link(turn: Turn, action: str) -> None:
    """``cal:new``: revoke the person's calendar links and hand out a fresh one."""
    if action != "cal:new":
        turn.say("common.stale_button")
        return
    await revoke_tokens(turn.ctx, turn.actor, await person_owner(turn.ctx, turn.person_id))
    url = await feed_url_for_person(turn.ctx, turn.person_id)
    turn.say("my.calendar_renewed", url=url)
