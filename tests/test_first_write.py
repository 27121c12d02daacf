"""A dialogue turn's transaction begins at its first write or lock (``models/first_write.py``).

On PostgreSQL (psycopg and asyncpg) a turn reads without a transaction until it writes or
locks; these tests hold it to what one transaction per turn guaranteed: a seat is never given
twice when racers go through the dialogue, a lock lasts until the turn ends, a turn that
fails after writing leaves nothing, and the conversation's write goes without a transaction
only when it is the turn's only write. The same tests run on SQLite, whose units are unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from bot.dialogue.engine import Dialogue
from bot.dialogue.turn import Inbound
from models import first_write
from models.db import Store
from models.tables import Conversation, Person, Shift, Signup, SignupStatus
from scheduling.common.context import Context
from scheduling.people.conversations import ConversationState, save_conversation
from tests.helpers import add_shift, seed_org_area
from tests.race import gate_the_seat_count
from tests.world import person

RACERS = 10


def _lazy(ctx: Context) -> bool:
    return first_write.available(ctx.store.engine)


async def test_racing_for_the_last_seat_through_the_dialogue(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ten volunteers press "Anmäl mig" for the last seat at once, each through a dialogue
    with a store of its own (as if in ten processes): exactly one gets it. The gate holds each
    after it took the shift's lock (``tests/race.py``), so a lock that did not last until the
    turn's end would let all ten count the same free seat."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area, max_walkers=1, min_walkers=1)
    racers = [await person(ctx, f"Racer {n}", org=org, telegram_id=5100 + n) for n in range(RACERS)]
    gate_the_seat_count(monkeypatch, RACERS)
    stores = [Store.open(ctx.settings.database.url) for _ in racers]
    start = asyncio.Event()

    async def race(racer: Person, store: Store) -> str:
        dialogue = Dialogue(dataclasses.replace(ctx, store=store))
        telegram_id = racer.telegram_id or 0
        inbound = Inbound(
            channel="telegram",
            address=str(telegram_id),
            action=f"signup:{shift.id}",
            telegram_id=telegram_id,
        )
        await start.wait()
        return " ".join(reply.text for reply in await dialogue.handle(inbound))

    tasks = [asyncio.create_task(race(r, s)) for r, s in zip(racers, stores, strict=True)]
    await asyncio.sleep(0)
    start.set()
    try:
        answers = await asyncio.gather(*tasks)
    finally:
        for store in stores:
            await store.close()
    assert sum("anmäld" in answer for answer in answers) == 1, answers
    async with ctx.store.sessions() as session:
        rows = (await session.exec(select(Signup).where(col(Signup.shift_id) == shift.id))).all()
    statuses = sorted(row.status for row in rows)
    assert statuses.count(SignupStatus.CONFIRMED) == 1
    assert statuses.count(SignupStatus.WAITLISTED) == RACERS - 1


async def test_a_lock_taken_by_a_turn_lasts_until_the_turn_ends(ctx: Context) -> None:
    """The first statement of a lazy unit locks the shift: another connection cannot take
    the lock until the unit has ended."""
    if not _lazy(ctx):
        pytest.skip("units begin at their first write on PostgreSQL only")
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    other = Store.open(ctx.settings.database.url)
    nowait = text("SELECT id FROM shift WHERE id = :id FOR UPDATE NOWAIT")
    try:
        async with ctx.store.unit(first_write_begins=True) as session:
            locked = select(Shift).where(col(Shift.id) == shift.id).with_for_update()
            assert (await session.exec(locked)).first() is not None
            with pytest.raises(Exception, match="could not obtain lock"):
                async with other.engine.begin() as elsewhere:
                    await elsewhere.execute(nowait, {"id": shift.id})
        async with other.engine.begin() as elsewhere:
            assert (await elsewhere.execute(nowait, {"id": shift.id})).first() is not None
    finally:
        await other.close()


async def test_a_turn_that_fails_after_writing_leaves_nothing(ctx: Context) -> None:
    """Reads, then two writes, then an error: neither write is kept."""
    org, _ = await seed_org_area(ctx)
    vera = await person(ctx, "Vera", org=org)
    with pytest.raises(RuntimeError):
        async with ctx.store.unit(first_write_begins=True) as session:
            stored = await session.get(Person, vera.id)
            assert stored is not None
            stored.name = "Changed"
            session.add(stored)
            await session.flush()
            session.add(Person(name="Nobody", organisation_id=org, created_at=ctx.now()))
            await session.flush()
            raise RuntimeError("the turn failed")
    async with ctx.store.sessions() as session:
        names = set((await session.exec(select(Person.name))).all())
    assert "Changed" not in names and "Nobody" not in names and "Vera" in names


async def test_only_a_units_last_write_goes_alone_or_with_the_commit(ctx: Context) -> None:
    """``last_write`` marks the last statement (alone, or with the COMMIT) only in a lazy
    unit with nothing pending or to be written at the commit."""
    async with ctx.store.unit(first_write_begins=True) as session:
        expected = {first_write.LAST_WRITE: True} if _lazy(ctx) else {}
        assert ctx.store.last_write(session) == expected
        session.add(Person(name="Pending"))
        assert ctx.store.last_write(session) == {}
        session.expunge_all()
        async with ctx.store.transaction():  # a use case's savepoint still open
            assert ctx.store.last_write(session) == {}
        assert ctx.store.last_write(session) == expected
        await ctx.store.regardless(lambda s: None)
        assert ctx.store.last_write(session) == {}
    async with ctx.store.unit() as session:
        assert ctx.store.last_write(session) == {}  # a unit that began at once
    async with ctx.store.sessions() as session:
        assert ctx.store.last_write(session) == {}  # no unit at all


def test_what_needs_a_transaction() -> None:
    assert not first_write.needs_transaction("SELECT person.id FROM person WHERE id = %(id)s")
    assert not first_write.needs_transaction("  select 1")
    for statement in (
        "SELECT shift.id FROM shift WHERE shift.id = %(id)s FOR UPDATE OF shift",
        "SELECT 1 FROM outbox FOR UPDATE SKIP LOCKED",
        "SELECT 1 FROM shift FOR NO KEY UPDATE",
        "SELECT 1 FROM shift\nFOR SHARE",
        "INSERT INTO conversation (channel) VALUES (%(c)s)",
        "UPDATE person SET name = %(n)s",
        "DELETE FROM signup",
        "SAVEPOINT sa_savepoint_1",
        "WITH moved AS (DELETE FROM outbox RETURNING id) SELECT id FROM moved",
    ):
        assert first_write.needs_transaction(statement), statement


@pytest.mark.parametrize("fails", [False, True])
async def test_the_last_write_commits_the_turn_or_nothing(ctx: Context, fails: bool) -> None:
    """A turn writes (its transaction begun with that write), then saves its conversation as
    its last statement, with the COMMIT in the same round trip on psycopg: both are kept, or,
    when the conversation's write fails (a person who does not exist), neither."""
    org, _ = await seed_org_area(ctx)
    vera = await person(ctx, "Vera", org=org, telegram_id=4343)
    state = ConversationState(channel="telegram", address="4343", flow="f", step="s")
    state.person_id = 10**9 if fails else vera.id
    with contextlib.suppress(Exception) if fails else contextlib.nullcontext():
        async with ctx.store.unit(first_write_begins=True) as session:
            session.add(Person(name="Written", organisation_id=org, created_at=ctx.now()))
            await session.flush()
            await save_conversation(ctx, state, None)
    async with ctx.store.sessions() as session:
        names = set((await session.exec(select(Person.name))).all())
        saved = (await session.exec(select(Conversation))).all()
    assert ("Written" in names) is not fails
    assert [(c.address, c.flow, c.step) for c in saved] == ([] if fails else [("4343", "f", "s")])
