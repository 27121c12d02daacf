"""Claims on PostgreSQL: a dispatcher's claim in progress neither holds up another's nor shares
rows with it (``FOR UPDATE SKIP LOCKED`` in scheduling/workers/claiming.py).

The first claim's transaction is held open, its rows locked, while a second dispatcher on a
connection of its own claims: it must finish at once, with other rows. Without ``SKIP LOCKED``
it waits for the first; without the row lock it takes the same rows.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from models.db import Store
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.messages.broadcast import Audience, broadcast
from scheduling.workers.claiming import Claim, Lease, claim_batch
from tests.helpers import OPERATOR
from tests.world import person

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", ["postgres"], indirect=True),
]

WAIT_S = 5.0  # far longer than a claim of a few rows takes, even on a loaded machine


@pytest.fixture
async def other(ctx: Context) -> AsyncIterator[Context]:
    """The same database through a store of its own: another process."""
    store = Store.open(ctx.settings.database.url)
    try:
        yield dataclasses.replace(ctx, store=store)
    finally:
        await store.close()


def lease_for(ctx: Context, worker: str) -> Lease:
    """A claim's lease for ``worker``, 30 s from now."""
    return Lease(worker, f"token-{worker}", ctx.now() + timedelta(seconds=30))


async def claim(ctx: Context, worker: str, size: int) -> list[Claim]:
    async with ctx.store.transaction() as session:
        claims, _ = await claim_batch(
            session,
            ctx.now(),
            "telegram",
            size,
            lease_for(ctx, worker),
            ctx.settings.walks.trained_walkers_per_shift,
        )
        return claims


async def test_a_claim_in_progress_neither_blocks_nor_shares_with_another(
    ctx: Context, other: Context, clock: ManualClock
) -> None:
    """Worker A holds 7 rows in an open claim; worker B claims 7 others at once; C the rest."""
    for n in range(20):
        await person(ctx, f"P{n}", telegram_id=100 + n)
    await broadcast(ctx, OPERATOR, "Extra pass i kväll!", Audience())
    required = ctx.settings.walks.trained_walkers_per_shift
    async with ctx.store.transaction() as session:
        first, _ = await claim_batch(
            session, ctx.now(), "telegram", 7, lease_for(ctx, "worker-a"), required
        )
        try:
            second = await asyncio.wait_for(claim(other, "worker-b", 7), WAIT_S)
        except TimeoutError:
            pytest.fail(f"the second claim waited {WAIT_S} s for the first one's rows")
    assert len(first) == len(second) == 7
    assert not {c.message_id for c in first} & {c.message_id for c in second}
    third = await claim(other, "worker-c", 20)
    assert len(third) == 6  # the rest, each once
