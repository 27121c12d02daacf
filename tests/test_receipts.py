"""Inbound ids and outbox keys are taken once, on either database."""

from __future__ import annotations

from scheduling.common.context import Context
from scheduling.messages.inbound_seen import first_time
from scheduling.messages.outbox import enqueue
from tests.helpers import add_people


async def test_inbound_id_is_new_only_once(ctx: Context) -> None:
    """The first sighting of an update id is new; a repeat is not."""
    assert await first_time(ctx, "telegram", "77") is True
    assert await first_time(ctx, "telegram", "77") is False
    assert await first_time(ctx, "sms", "77") is True


async def test_enqueue_reports_whether_it_wrote(ctx: Context) -> None:
    """Enqueueing a key twice writes one row and says so."""
    (person,) = await add_people(ctx, 1)
    async with ctx.store.transaction() as session:
        first = await enqueue(
            session, key="k:1", kind="x", person_id=person.id or 0, due_at=ctx.now(), now=ctx.now()
        )
        second = await enqueue(
            session, key="k:1", kind="x", person_id=person.id or 0, due_at=ctx.now(), now=ctx.now()
        )
    assert (first, second) == (True, False)
