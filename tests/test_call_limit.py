"""One call for walkers per shift per alert window, unless the coordinator confirms another."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.dialogue.engine import Dialogue
from bot.dialogue.turn import Inbound
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.common.errors import DomainError
from scheduling.messages.broadcast import call_for_walkers, call_window
from scheduling.people.access import Actor
from tests.helpers import add_shift
from tests.world import make_world


async def test_a_second_call_within_the_window_is_refused(
    ctx: Context, clock: ManualClock
) -> None:
    world = await make_world(ctx)
    shift = await add_shift(ctx, world.org, world.area, start_in=timedelta(days=4))
    lead = Actor.of(world.lead, "telegram")
    coordinator = Actor.of(world.coordinator, "telegram")
    assert call_window(ctx) == timedelta(hours=24)
    await call_for_walkers(ctx, lead, shift.id or 0)
    clock.advance(timedelta(hours=23))
    for actor in (lead, coordinator):
        with pytest.raises(DomainError, match="call_recently_made"):
            await call_for_walkers(ctx, actor, shift.id or 0)
    with pytest.raises(DomainError, match="call_recently_made"):
        await call_for_walkers(ctx, lead, shift.id or 0, again=True)  # a lead cannot confirm
    again = await call_for_walkers(ctx, coordinator, shift.id or 0, again=True)
    assert again.recipients > 0
    clock.advance(timedelta(hours=25))
    assert (await call_for_walkers(ctx, lead, shift.id or 0)).recipients > 0


async def test_the_coordinator_confirms_in_chat(ctx: Context) -> None:
    """In chat the coordinator is asked to confirm a second call; a lead is told to wait."""
    world = await make_world(ctx)
    shift = await add_shift(ctx, world.org, world.area, start_in=timedelta(days=4))
    dialogue = Dialogue(ctx)

    async def press(who: str, name: str, action: str) -> list[str]:
        inbound = Inbound(channel="console", address=f"console:{who}", display_name=name,
                          action=action)
        return [r.text for r in await dialogue.handle(inbound)]

    lead, coordinator = world.lead.name, world.coordinator.name
    assert any("vandrare" in t for t in await press("lena ledare", lead, f"bc:org:{shift.id}"))
    waited = await press("lena ledare", lead, f"bc:org:{shift.id}")
    assert any("ett dygn" in t for t in waited), waited
    asked = await press("maria samordnare", coordinator, f"bc:org:{shift.id}")
    assert any("Skicka ett till" in t for t in asked), asked
    sent = await press("maria samordnare", coordinator, f"bc:org:{shift.id}:again")
    assert any("går till" in t for t in sent), sent
