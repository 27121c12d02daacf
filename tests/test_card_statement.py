"""The card's group lead, chosen in SQL (``card_statement``), is the one ``group_lead`` chooses."""

from __future__ import annotations

from scheduling.common.context import Context
from scheduling.people.access import Actor
from scheduling.people.erasure import erase_person
from scheduling.walks import signups
from scheduling.walks.card_statement import card_view
from scheduling.walks.group_lead import GroupLead, group_lead, name_group_lead
from tests.helpers import OPERATOR
from tests.world import make_world, person, shift_at


async def _both(ctx: Context, shift_id: int, viewer: int) -> tuple[GroupLead | None, ...]:
    async with ctx.store.transaction() as session:
        view, _, in_sql = await card_view(session, ctx, shift_id, viewer)
        in_python = await group_lead(session, view.shift)
    return in_sql, in_python


async def test_the_card_names_the_lead_group_lead_names(ctx: Context) -> None:
    """Nobody confirmed, only the untrained, the first trained proposed, a named lead, the named
    lead cancelled (the proposal again), the proposal erased (the next trained walker)."""
    world = await make_world(ctx, walkers=0)
    shift = await shift_at(ctx, world, "2026-11-28 21:00", "2026-11-29 01:00")
    sid = shift.id or 0
    ulla = await person(ctx, "Ulla", org=world.org, telegram_id=2001)
    tove = await person(ctx, "Tove", org=world.org, telegram_id=2002, trained=True)
    tim = await person(ctx, "Tim", org=world.org, telegram_id=2003, trained=True)
    seen: list[tuple[GroupLead | None, ...]] = [await _both(ctx, sid, ulla.id or 0)]
    await signups.sign_up(ctx, ulla.id or 0, sid)
    seen.append(await _both(ctx, sid, ulla.id or 0))
    for walker in (tove, tim):
        await signups.sign_up(ctx, walker.id or 0, sid)
    seen.append(await _both(ctx, sid, ulla.id or 0))
    coordinator = Actor.of(world.coordinator, "telegram")
    await name_group_lead(ctx, coordinator, sid, ulla.id or 0)
    seen.append(await _both(ctx, sid, tim.id or 0))
    await signups.cancel_signup(ctx, ulla.id or 0, sid)
    seen.append(await _both(ctx, sid, tim.id or 0))
    await erase_person(ctx, OPERATOR, tove.id or 0)
    seen.append(await _both(ctx, sid, tim.id or 0))
    for in_sql, in_python in seen:
        assert in_sql == in_python
    leads = [(lead.name, lead.proposed) if lead else None for lead, _ in seen]
    assert leads == [
        None,
        None,
        ("Tove", True),
        ("Ulla", False),
        ("Tove", True),
        ("Tim", True),
    ]
