"""The per-walk tallies (models/tally_tables.py, evaluation/tally_refresh.py, tally_sums.py)
never change a statistic: after they are counted, after every kind of late change to a walk
that is over (before and after the tallies are counted again), the statistics equal those
``build_report`` counts from the raw rows, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text
from sqlmodel import col, select

from evaluation import statistics as stats
from evaluation.tally_refresh import TICK_BATCH, catch_up_tallies, tally_step
from models.db import Store, upgrade
from models.tables import Alarm, Area, Organisation, Person, Report, Shift, Signup
from scheduling.common.clock import ManualClock
from scheduling.common.config import Settings
from scheduling.common.context import Context
from scheduling.people.access import Actor
from scheduling.people.erasure import erase_person
from scheduling.walks.editing import MAX_WALKERS
from scheduling.walks.series import MAX_SHIFT_LENGTH
from tests.test_stats_tally import by_walks, random_year, same

RANGES = (
    (date(2026, 1, 1), date(2026, 12, 31)),
    (date(2026, 3, 28), date(2026, 3, 30)),  # summer time starts on the 29th
    (date(2026, 10, 24), date(2026, 11, 30)),  # ends on the 25th; "now" is the 24th of Nov.
)


async def all_equal(ctx: Context, orgs: list[int]) -> None:
    for first, last in RANGES:
        same(await by_walks(ctx, first, last), await stats.statistics_for(ctx, first, last))
        same(
            await by_walks(ctx, first, last, orgs[1]),
            await stats.statistics_for(ctx, first, last, orgs[1]),
        )


async def count(ctx: Context, sql: str) -> int:
    async with ctx.store.transaction() as session:
        connection = await session.connection()
        return int((await connection.execute(text(sql))).scalar_one())


async def due_now(ctx: Context) -> int:
    async with ctx.store.transaction() as session:
        connection = await session.connection()
        found = await connection.execute(
            text("SELECT COUNT(*) FROM walk_tally_due WHERE due_at <= :now"), {"now": ctx.now()}
        )
        return int(found.scalar_one())


async def late_changes(ctx: Context, rng: random.Random) -> None:
    """Every kind of change to walks that are over, as the bot and the dashboard make them."""
    now = ctx.now()
    async with ctx.store.transaction() as session:
        past = (await session.exec(select(Shift).where(col(Shift.end_at) < now))).all()
        shifts = rng.sample(list(past), 12)
        reports = (await session.exec(select(Report).where(
            col(Report.shift_id).in_([s.id for s in past]), col(Report.status) == "submitted"
        ))).all()  # fmt: skip
        for report in rng.sample(list(reports), 3):  # a report edited
            report.mood, report.youth_met = "unruly", "50+"
            report.services_contacted = ["112"]
            report.place_issues = [{"place": "Larmtorget", "category": "glass"}]
            session.add(report)
        people = (await session.exec(select(Person))).all()
        session.add(Report(shift_id=shifts[0].id, person_id=None, status="submitted",
                           walkers_present=9, youth_met="11-30", mood="mixed",
                           help_given=["first_aid"], created_at=now))  # fmt: skip
        signups = (await session.exec(select(Signup).where(
            col(Signup.shift_id).in_([s.id for s in shifts]))
        )).all()  # fmt: skip
        for signup in signups[:6]:
            if signup.checked_in_at is not None:  # a check-out corrected
                signup.checked_out_at = signup.checked_in_at + timedelta(hours=2, minutes=7)
            else:  # checked in after all
                signup.checked_in_at, signup.status = shifts[1].start_at, "confirmed"
            session.add(signup)
        for signup in signups[6:9]:  # cancelled late, marked absent
            signup.status = "cancelled" if signup.status == "confirmed" else "confirmed"
            signup.no_show = not signup.no_show
            session.add(signup)
        session.add(Alarm(shift_id=shifts[2].id, raised_at=shifts[2].start_at, status="open"))
        session.add(Alarm(shift_id=shifts[3].id, raised_at=shifts[3].start_at,
                          status="cancelled"))  # fmt: skip
        shifts[4].status = "cancelled"  # cancelled after the walk
        shifts[5].end_at += timedelta(hours=1)  # the end moved
        shifts[6].risk_night = not shifts[6].risk_night
        shifts[7].area_id, shifts[8].min_walkers = shifts[9].area_id, 6
        session.add_all(shifts[4:9])
        people[0].trained = not people[0].trained  # "trained" changed
        session.add(people[0])
        erased = rng.choice([p for p in people[1:] if p.erased_at is None])
    await erase_person(ctx, Actor.operator(), erased.id or 0)  # erased: the walks stay


async def test_tallies_equal_the_raw_rows_through_late_changes(ctx: Context) -> None:
    orgs = await random_year(ctx, random.Random(23))
    assert await due_now(ctx) > 0
    await all_equal(ctx, orgs)  # nothing counted yet: every walk from the raw rows
    assert await catch_up_tallies(ctx) > 0
    assert await due_now(ctx) == 0
    assert await count(ctx, "SELECT COUNT(*) FROM walk_tally") > 50
    await all_equal(ctx, orgs)  # from the stored tallies (and the walks not over yet)
    for seed in range(3):
        await late_changes(ctx, random.Random(seed))
        assert await due_now(ctx) > 0  # the triggers listed the changed walks
        await all_equal(ctx, orgs)  # changed walks from the raw rows
        await catch_up_tallies(ctx)
        assert await due_now(ctx) == 0
        await all_equal(ctx, orgs)  # counted again


async def test_walks_that_end_are_counted_by_the_tick(ctx: Context, clock) -> None:  # type: ignore[no-untyped-def]
    orgs = await random_year(ctx, random.Random(5))
    await catch_up_tallies(ctx)
    stored = await count(ctx, "SELECT COUNT(*) FROM walk_tally")
    clock.advance(timedelta(days=10))  # walks end; nothing about them changes
    assert 0 < await due_now(ctx) <= TICK_BATCH
    await all_equal(ctx, orgs)
    assert await tally_step(ctx) > 0
    assert await due_now(ctx) == 0
    assert await count(ctx, "SELECT COUNT(*) FROM walk_tally") > stored
    await all_equal(ctx, orgs)


async def test_the_upgrade_lists_the_walks_already_there(
    database_url: str, settings: Settings, clock: ManualClock
) -> None:
    """A database with walks before migration 0020: every one is listed as due, the
    statistics are right before they are counted and after."""
    store = Store.open(database_url)
    try:
        await upgrade(store.engine, "0019_tick_indexes")
        async with store.engine.begin() as connection:
            for statement in OLD_ROWS:
                at = clock.now() - timedelta(days=3)
                await connection.execute(
                    text(statement), {"at": at, "end": at + timedelta(hours=2)}
                )
        await upgrade(store.engine)
        ctx = Context(store=store, settings=settings, clock=clock)
        assert await due_now(ctx) == 2
        day = (clock.now() - timedelta(days=3)).date()
        before = await stats.statistics_for(ctx, day, day)
        same(await by_walks(ctx, day, day), before)
        assert before.overall.held == 1 and before.overall.cancelled == 1
        assert await catch_up_tallies(ctx) == 2
        assert await count(ctx, "SELECT COUNT(*) FROM walk_tally") == 2
        same(before, await stats.statistics_for(ctx, day, day))
    finally:
        await store.close()


OLD_ROWS = (
    "INSERT INTO organisation (id, name, name_key, created_at) VALUES (1, 'Org', 'org', :at)",
    "INSERT INTO area (id, name, name_key, created_at) VALUES (1, 'Area', 'area', :at)",
    "INSERT INTO person (id, name, preferred_channel, language, role, trained, sms_opted_out, "
    "sms_unreachable, telegram_blocked, no_show_count, created_at, announcements_off) "
    "VALUES (1, 'P', 'sms', 'sv', 'volunteer', true, false, false, false, 0, :at, false)",
    "INSERT INTO shift (id, organisation_id, area_id, start_at, end_at, min_walkers, "
    "max_walkers, status, risk_night, created_at, sequence, moves) VALUES "
    "(1, 1, 1, :at, :end, 1, 4, 'planned', false, :at, 0, 0), "
    "(2, 1, 1, :at, :end, 1, 4, 'cancelled', false, :at, 0, 0)",
    "INSERT INTO signup (id, shift_id, person_id, status, queued_at, offers, checked_in_at, "
    "no_show) VALUES (1, 1, 1, 'confirmed', :at, 0, :at, false)",
)


async def test_tallies_counted_under_other_settings_are_not_used(ctx: Context) -> None:
    """More trained walkers needed (understaffed changes): the old tallies do not count, the
    tick lists them again and they are counted under the new settings."""
    orgs = await random_year(ctx, random.Random(8))
    await catch_up_tallies(ctx)
    walks = ctx.settings.walks.model_copy(update={"trained_walkers_per_shift": 3})
    stricter = Context(
        store=ctx.store, settings=ctx.settings.model_copy(update={"walks": walks}), clock=ctx.clock
    )
    await all_equal(stricter, orgs)
    assert await due_now(stricter) == 0
    await tally_step(stricter)  # lists the old ones
    assert await due_now(stricter) > 0
    await catch_up_tallies(stricter)
    assert await count(ctx, "SELECT COUNT(*) FROM walk_tally WHERE basis LIKE '%|3'") > 50
    await all_equal(stricter, orgs)


async def test_a_busy_batch_is_tried_again(ctx: Context, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A batch that finds the database busy (SQLite: the bot wrote meanwhile) is rolled back
    and counted on the next try; the statistics stay right meanwhile."""
    from sqlalchemy.exc import OperationalError

    from evaluation import tally_refresh

    orgs = await random_year(ctx, random.Random(3))
    real, calls = tally_refresh.refresh_due, []

    async def busy_once(ctx: Context, limit: int) -> int:
        calls.append(limit)
        if len(calls) == 1:
            raise OperationalError("COMMIT", {}, Exception("database is locked"))
        return await real(ctx, limit)

    monkeypatch.setattr(tally_refresh, "refresh_due", busy_once)
    monkeypatch.setattr(tally_refresh, "RETRY_PAUSE", 0)
    assert await tally_refresh.catch_up_tallies(ctx) > 0
    assert len(calls) >= 2 and await due_now(ctx) == 0
    await all_equal(ctx, orgs)



async def test_the_largest_walk_the_plan_allows_is_counted(ctx: Context) -> None:
    """100 walkers (the most a shift takes) for 16 hours (the longest shift) walk 5.76e9
    milliseconds, past a 32-bit integer: the tally holds it, and the statistics agree."""
    now = ctx.now()
    start = datetime(2026, 6, 12, 4, 0, tzinfo=UTC)  # 06:00 local, to 22:00 local
    async with ctx.store.transaction() as session:
        org = Organisation(name="Org", name_key="org", created_at=now)
        area = Area(name="Area", name_key="area", created_at=now)
        session.add_all([org, area])
        await session.flush()
        shift = Shift(organisation_id=org.id, area_id=area.id, start_at=start,
                      end_at=start + MAX_SHIFT_LENGTH, min_walkers=1, max_walkers=MAX_WALKERS,
                      status="planned", created_at=start - timedelta(days=7))  # fmt: skip
        people = [Person(name=f"P{n}", organisation_id=org.id, created_at=now)
                  for n in range(MAX_WALKERS)]  # fmt: skip
        session.add_all([shift, *people])
        await session.flush()
        session.add_all(Signup(shift_id=shift.id, person_id=person.id, status="confirmed",
                               queued_at=start - timedelta(days=2), checked_in_at=start,
                               checked_out_at=start + MAX_SHIFT_LENGTH, no_show=False)
                        for person in people)  # fmt: skip
    assert await catch_up_tallies(ctx) == 1
    walked = MAX_WALKERS * int(MAX_SHIFT_LENGTH.total_seconds()) * 1000
    assert walked > 2**31
    assert await count(ctx, "SELECT walked_ms FROM walk_tally") == walked
    await all_equal(ctx, [org.id or 0, org.id or 0])


async def test_a_backlog_goes_to_a_worker_process(ctx: Context, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A tick counts a full batch in place and hands the rest to a worker process, which
    counts every due walk; the statistics stay right."""
    from evaluation import tally_refresh

    monkeypatch.setattr(tally_refresh, "_catching_up", None)
    orgs = await random_year(ctx, random.Random(11))
    assert await due_now(ctx) > TICK_BATCH
    assert await tally_step(ctx) == TICK_BATCH
    catching_up = tally_refresh._catching_up
    assert catching_up is not None
    assert await catching_up > 0
    assert await due_now(ctx) == 0
    await all_equal(ctx, orgs)
