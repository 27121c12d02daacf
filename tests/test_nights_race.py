"""Two leads take the same open night at once: exactly one holds it, with one shift.

The guard is the conditional UPDATE in ``scheduling/nights/holding.take`` (it names the holder
it expects). The racers are forced to meet: each, in a store (a connection) of its own, reads
the night and waits at a gate until all have read it, then takes it.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from sqlmodel import col, select

from models.db import Store
from models.tables import Shift
from scheduling.common.context import Context
from scheduling.common.errors import DomainError
from scheduling.nights import claims, holding
from tests.nights_world import kommun, publish
from tests.race import Gate


async def test_two_leads_claiming_at_once_give_one_holder(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    k = await kommun(ctx)
    night = await publish(ctx, k)
    gate = Gate(len(k.leads))
    read = holding.get_night

    async def at_the_gate(session: Any, night_id: int) -> Any:
        found = await read(session, night_id)
        await gate.arrive()
        return found

    monkeypatch.setattr(holding, "get_night", at_the_gate)
    stores = [Store.open(ctx.settings.database.url) for _ in k.leads]
    start = asyncio.Event()

    async def race(n: int) -> str:
        own = dataclasses.replace(ctx, store=stores[n])
        await start.wait()
        try:
            async with own.store.unit():
                return await claims.claim_night(own, k.lead(n), night)
        except DomainError as error:
            return error.code

    tasks = [asyncio.create_task(race(n)) for n in range(len(k.leads))]
    await asyncio.sleep(0)
    start.set()
    try:
        outcomes = await asyncio.gather(*tasks)
    finally:
        for store in stores:
            await store.close()
    assert sorted(outcomes) == ["night_taken", "night_taken", "taken"]
    async with ctx.store.sessions() as session:
        made = (await session.exec(select(Shift).where(col(Shift.start_at) > ctx.now()))).all()
    assert len(made) == 1
