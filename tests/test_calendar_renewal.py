"""/mina offers a new calendar link; taking it revokes the old one (404 from then on)."""

from __future__ import annotations

import re

from bot.dialogue.engine import Dialogue
from bot.dialogue.turn import Inbound
from scheduling.common.context import Context
from scheduling.links.calendar import feed_for_token
from tests.world import make_world

TOKEN = re.compile(r"/ical/([A-Za-z0-9_-]+)\.ics")


async def test_mina_offers_a_new_link_that_revokes_the_old(ctx: Context) -> None:
    world = await make_world(ctx)
    walker = world.walkers[0]
    dialogue = Dialogue(ctx)
    address = f"console:{walker.name.casefold()}"
    mine = await dialogue.handle(
        Inbound(channel="console", address=address, display_name=walker.name, command="my")
    )
    old = TOKEN.search(mine[0].text)
    assert old is not None and await feed_for_token(ctx, old.group(1)) is not None
    (renew,) = [o for o in mine[0].options if o.action == "cal:new"]
    (reply,) = await dialogue.handle(
        Inbound(channel="console", address=address, display_name=walker.name, action=renew.action)
    )
    new = TOKEN.search(reply.text)
    assert new is not None and new.group(1) != old.group(1)
    assert await feed_for_token(ctx, old.group(1)) is None
    assert await feed_for_token(ctx, new.group(1)) is not None
