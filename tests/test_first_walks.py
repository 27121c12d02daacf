"""Each walker's first walk ever (``first_walk``, migration 0022) stays that of the raw rows
through every change that can move one, as the bot and the dashboard make them, on SQLite and
PostgreSQL; every trigger is needed (with any one of them dropped, some change leaves the
table wrong); the upgrade fills it from the walks already there."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from evaluation import statistics as stats
from models.db import Store, upgrade
from models.tables import FirstWalk, Person, Shift, Signup
from scheduling.common.clock import ManualClock
from scheduling.common.config import Settings
from scheduling.common.context import Context
from scheduling.people.access import Actor
from scheduling.people.erasure import erase_person
from tests.test_stats_tally import by_walks, random_year, same

Firsts = dict[int, tuple[int, datetime]]  # person: (shift, its start)

# each trigger, and the table it is on (SQLite's row triggers; PostgreSQL's statement ones)
TRIGGERS = {
    "sqlite": {
        "first_walk_signup_ins": "signup",
        "first_walk_signup_upd": "signup",
        "first_walk_signup_del": "signup",
        "first_walk_shift_upd": "shift",
    },
    "postgresql": {
        "first_walk_signups_added": "signup",
        "first_walk_signups_changed": "signup",
        "first_walk_signups_deleted": "signup",
        "first_walk_shifts_changed": "shift",
    },
}


async def from_rows(ctx: Context) -> Firsts:
    """Each walker's first walk, from the sign-ups and shifts."""
    found: Firsts = {}
    async with ctx.store.sessions() as session:
        walks = await session.exec(
            select(Signup.person_id, Shift.id, Shift.start_at)
            .join(Shift, col(Shift.id) == col(Signup.shift_id))
            .where(col(Signup.status) == "confirmed", col(Signup.checked_in_at).is_not(None),
                   col(Shift.status) != "cancelled")
            .order_by(col(Shift.start_at), col(Shift.id))
        )  # fmt: skip
        for person_id, shift_id, start_at in walks.all():
            found.setdefault(person_id, (shift_id or 0, start_at))
    return found


async def kept(ctx: Context) -> Firsts:
    async with ctx.store.sessions() as session:
        rows = (await session.exec(select(FirstWalk))).all()
    return {row.person_id: (row.shift_id, row.start_at) for row in rows}


async def changes(ctx: Context) -> AsyncIterator[str]:
    """Every kind of change that can move a first walk, one transaction each; yields what it
    did after each."""
    firsts = await from_rows(ctx)
    people = sorted(firsts)
    now = ctx.now()

    async def first_signup(person_id: int) -> Signup:
        async with ctx.store.sessions() as session:
            return (await session.exec(select(Signup).where(
                col(Signup.person_id) == person_id, col(Signup.shift_id) == firsts[person_id][0],
                col(Signup.status) == "confirmed", col(Signup.checked_in_at).is_not(None),
            ))).first()  # type: ignore[return-value]  # fmt: skip

    async def save(*rows: object) -> None:
        async with ctx.store.transaction() as session:
            for row in rows:
                session.add(await session.merge(row))

    async with ctx.store.sessions() as session:
        shifts = list((await session.exec(select(Shift).order_by(col(Shift.start_at)))).all())
    earliest = shifts[0]
    # a new walk before anyone's first: a sign-up checked in on an earlier shift
    early = Shift(organisation_id=earliest.organisation_id, area_id=earliest.area_id,
                  start_at=earliest.start_at - timedelta(days=20),
                  end_at=earliest.start_at - timedelta(days=20) + timedelta(hours=3),
                  min_walkers=1, max_walkers=6, status="planned", created_at=now)  # fmt: skip
    async with ctx.store.transaction() as session:
        session.add(early)
        await session.flush()
        session.add(Signup(shift_id=early.id, person_id=people[0], status="confirmed",
                           queued_at=early.start_at, checked_in_at=early.start_at,
                           no_show=False))  # fmt: skip
        session.add(Signup(shift_id=early.id, person_id=people[1], status="waitlisted",
                           queued_at=early.start_at, no_show=False))  # fmt: skip
    yield "a new walk before the first"
    async with ctx.store.transaction() as session:  # checked in after all, on the early shift
        signup = (await session.exec(select(Signup).where(
            col(Signup.shift_id) == early.id, col(Signup.person_id) == people[1]))).one()
        signup.status, signup.checked_in_at = "confirmed", early.start_at  # fmt: skip
        session.add(signup)
    yield "a check-in on an earlier walk"
    firsts = await from_rows(ctx)
    signup = await first_signup(people[2])
    signup.status = "cancelled"
    await save(signup)
    yield "the first walk's sign-up cancelled"
    firsts = await from_rows(ctx)
    signup = await first_signup(people[3])
    signup.checked_in_at = None
    await save(signup)
    yield "the first walk's check-in undone"
    firsts = await from_rows(ctx)
    signup = await first_signup(people[4])
    async with ctx.store.transaction() as session:
        await session.delete(await session.merge(signup))
    yield "the first walk's sign-up deleted"
    firsts = await from_rows(ctx)
    async with ctx.store.transaction() as session:
        first = await session.get(Shift, firsts[people[5]][0])
        assert first is not None
        first.status = "cancelled"
        session.add(first)
    yield "the first walk's shift cancelled"
    async with ctx.store.transaction() as session:
        first = await session.get(Shift, first.id)
        assert first is not None
        first.status = "planned"
        session.add(first)
    yield "the shift planned again"
    firsts = await from_rows(ctx)
    async with ctx.store.transaction() as session:
        first = await session.get(Shift, firsts[people[6]][0])
        assert first is not None
        first.start_at += timedelta(days=200)
        first.end_at += timedelta(days=200)
        session.add(first)
    yield "the first walk moved later"
    async with ctx.store.transaction() as session:
        last = await session.get(Shift, shifts[-1].id)
        assert last is not None
        last.start_at = earliest.start_at - timedelta(days=40)
        last.end_at = last.start_at + timedelta(hours=2)
        session.add(last)
    yield "a walk moved earlier than every other"
    await erase_person(ctx, Actor.operator(), people[7])
    yield "a walker erased (the walks stay)"


async def drop(ctx: Context, trigger: str, table: str) -> None:
    async with ctx.store.transaction() as session:
        on = f" ON {table}" if ctx.store.engine.dialect.name == "postgresql" else ""
        await session.exec(text(f"DROP TRIGGER {trigger}{on}"))  # type: ignore[call-overload]


async def test_first_walks_follow_every_change(ctx: Context) -> None:
    """Through every change, the table equals the raw rows' first walks, and the statistics
    (new walkers counted from it) equal ``build_report``'s over the raw rows."""
    await random_year(ctx, random.Random(31))
    assert await kept(ctx) == await from_rows(ctx)
    year = (datetime(2026, 1, 1).date(), datetime(2026, 12, 31).date())
    before = await stats.statistics_for(ctx, *year)
    assert before.overall.new_walkers > 0
    done = []
    async for change in changes(ctx):
        done.append(change)
        assert await kept(ctx) == await from_rows(ctx), change
        same(await by_walks(ctx, *year), await stats.statistics_for(ctx, *year), change)
    assert len(done) == 10


@pytest.mark.parametrize("which", range(4))
async def test_every_trigger_is_needed(ctx: Context, which: int) -> None:
    """With any one trigger dropped, some change leaves the table unlike the raw rows."""
    await random_year(ctx, random.Random(31))
    trigger, table = list(TRIGGERS[ctx.store.engine.dialect.name].items())[which]
    await drop(ctx, trigger, table)
    wrong = [change async for change in changes(ctx) if await kept(ctx) != await from_rows(ctx)]
    assert wrong, f"nothing needed {trigger}"


async def test_the_upgrade_fills_the_first_walks(
    database_url: str, settings: Settings, clock: ManualClock
) -> None:
    """Walks made before migration 0022 (its triggers not there yet) are in the table after
    it."""
    store = Store.open(database_url)
    try:
        await upgrade(store.engine, "0021_tick_pg")
        ctx = Context(store=store, settings=settings, clock=clock)
        await random_year(ctx, random.Random(4))
        async with store.engine.begin() as connection:
            assert not await connection.run_sync(
                lambda sync: sync.dialect.has_table(sync, "first_walk")
            )
        await upgrade(store.engine)
        assert await kept(ctx) == await from_rows(ctx) != {}
    finally:
        await store.close()


async def test_a_walker_without_walks_has_no_first_walk(ctx: Context) -> None:
    """Cancelling a walker's only walk drops their row; checking in again brings it back."""
    now = ctx.now()
    await random_year(ctx, random.Random(2))
    async with ctx.store.transaction() as session:
        person = Person(name="New", created_at=now)
        session.add(person)
        await session.flush()
        shift = (await session.exec(select(Shift).where(col(Shift.status) == "planned"))).first()
        assert shift is not None
        signup = Signup(shift_id=shift.id, person_id=person.id, status="confirmed",
                        queued_at=shift.start_at, checked_in_at=shift.start_at,
                        no_show=False)  # fmt: skip
        session.add(signup)
    assert (await kept(ctx))[person.id or 0][0] == shift.id
    for status in ("cancelled", "confirmed"):
        async with ctx.store.transaction() as session:
            found = await session.get(Signup, signup.id)
            assert found is not None
            found.status = status
            session.add(found)
        assert await kept(ctx) == await from_rows(ctx)
        assert ((person.id or 0) in await kept(ctx)) == (status == "confirmed")


async def test_a_recount_sees_an_earlier_walk_made_meanwhile(ctx: Context) -> None:
    """PostgreSQL: one transaction checks a walker in on an earlier shift; another, meanwhile,
    cancels the sign-up of their first walk, whose trigger counts their first walk again. The
    count waits for the first transaction and sees its walk (without the lock, it counts from
    a snapshot without it and overwrites the earlier walk)."""
    if ctx.store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    await random_year(ctx, random.Random(31))
    firsts = await from_rows(ctx)
    person = sorted(firsts)[0]
    first = firsts[person]
    now = ctx.now()
    async with ctx.store.transaction() as session:
        shift = await session.get(Shift, first[0])
        assert shift is not None
        early = Shift(organisation_id=shift.organisation_id, area_id=shift.area_id,
                      start_at=first[1] - timedelta(days=9),
                      end_at=first[1] - timedelta(days=9) + timedelta(hours=3),
                      min_walkers=1, max_walkers=6, status="planned", created_at=now)  # fmt: skip
        session.add(early)
    engine = ctx.store.engine
    async with engine.connect() as one, engine.connect() as two:
        await one.begin()
        await one.execute(
            text("INSERT INTO signup (shift_id, person_id, status, queued_at, offers, "
                 "checked_in_at, no_show) VALUES (:shift, :person, 'confirmed', :at, 0, :at, "
                 "false)"),
            {"shift": early.id, "person": person, "at": early.start_at},
        )  # fmt: skip
        await two.begin()

        async def cancel() -> None:
            await two.execute(
                text("UPDATE signup SET status = 'cancelled' WHERE person_id = :person "
                     "AND shift_id = :shift AND status = 'confirmed'"),
                {"person": person, "shift": first[0]},
            )  # fmt: skip
            await two.commit()

        cancelling = asyncio.get_running_loop().create_task(cancel())
        await asyncio.sleep(0.5)
        assert not cancelling.done()  # waits for the first transaction
        await one.commit()
        await asyncio.wait_for(cancelling, 10)
    assert (await kept(ctx))[person][0] == early.id
    assert await kept(ctx) == await from_rows(ctx)
