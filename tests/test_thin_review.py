"""A review of ``models/thin.py``: where the statements it sends past SQLAlchemy behaved
otherwise than SQLAlchemy's own execution of the same statements."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import bindparam, insert, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError
from sqlmodel import col, select

from bot.dialogue.engine import Dialogue
from models import thin
from models.tables import Person
from models.writes import write_rows
from scheduling.common.context import Context
from scheduling.walks.view_statements import LOCKED_SHIFT_WITH_NAMES
from tests.fakes.chat import Chat
from tests.helpers import add_shift, seed_org_area
from tests.test_faults import SORRY, pg, terminate  # noqa: F401  (pg: the fixture)
from tests.world import person


async def _two_connections_used_just_now(ctx: Context) -> None:
    """Two connections in the pool, both returned moments ago (so not checked on checkout)."""
    both = asyncio.Barrier(2)

    async def hold() -> None:
        async with ctx.store.transaction() as session:
            await (await session.connection()).execute(text("SELECT 1"))
            await both.wait()

    await asyncio.gather(hold(), hold())
    assert ctx.store.engine.sync_engine.pool.checkedin() == 2


@pytest.mark.postgres
async def test_a_dropped_connection_replaces_the_pools_older_ones(
    pg: tuple[Context, str],  # noqa: F811
) -> None:
    """As SQLAlchemy does on a disconnect (``invalidate_pool_on_disconnect``): when the
    server went away (a restart), the statement that finds out invalidates the whole pool,
    so the turn's second try takes a fresh connection rather than the next dead one."""
    ctx, app_name = pg
    org, _ = await seed_org_area(ctx)
    await person(ctx, "Ada", org=org, telegram_id=4242)
    chat = Chat(Dialogue(ctx), address="4242", telegram_id=4242, name="Ada")
    await chat.command("help")
    await _two_connections_used_just_now(ctx)
    # the server restarted: the two in the pool, and the one the first turn kept (a seat,
    # models/seats.py) where there are seats
    kept = 1 if ctx.store.seats is not None else 0
    assert terminate("application_name = %s", app_name) == 2 + kept
    assert SORRY not in await chat.command("help")


async def test_a_missing_parameter_is_an_error(ctx: Context) -> None:
    """SQLAlchemy refuses to run a statement without a value for one of its parameters
    (``A value is required for bind parameter``); it does not write NULL in its place."""
    org, _ = await seed_org_area(ctx)
    ada = await person(ctx, "Ada", org=org, telegram_id=4242)
    ada_id = ada.id or 0
    note = update(Person).where(col(Person.id) == bindparam("person_id"))
    note = note.values(last_active_at=bindparam("now"))
    async with ctx.store.transaction() as session:
        await write_rows(session, note, {"person_id": ada_id, "now": ctx.now()})
    with pytest.raises(StatementError, match="A value is required"):
        async with ctx.store.transaction() as session:
            await write_rows(session, note, {"person_id": ada_id})  # "now" forgotten
    async with ctx.store.transaction() as session:
        stored = await session.get(Person, ada_id)
        assert stored is not None and stored.last_active_at == ctx.now()


async def test_an_insert_gets_the_columns_defaults(ctx: Context) -> None:
    """An INSERT that leaves out columns with a default (``Field(default=...)``) gets the
    default, as SQLAlchemy computes it for each run."""
    statement = insert(Person).values(name=bindparam("name"), created_at=bindparam("at"))
    async with ctx.store.transaction() as session:
        await write_rows(session, statement, {"name": "Bo", "at": ctx.now()})
    async with ctx.store.transaction() as session:
        connection = await session.connection()
        (bo,) = (await connection.execute(text("SELECT language, role FROM person"))).all()
    assert tuple(bo) == ("sv", "volunteer")


async def test_a_parameter_name_sqlalchemy_escapes(ctx: Context) -> None:
    """A parameter whose name SQLAlchemy escapes in the SQL (a dot, a space, brackets):
    given by its own name, as to SQLAlchemy."""
    org, _ = await seed_org_area(ctx)
    ada = await person(ctx, "Ada", org=org, telegram_id=4242)
    rename = update(Person).where(col(Person.id) == bindparam("person.id"))
    rename = rename.values(name=bindparam("new name"))
    async with ctx.store.transaction() as session:
        params = {"person.id": ada.id, "new name": "Ada L"}
        assert await write_rows(session, rename, params) == 1
    async with ctx.store.transaction() as session:
        stored = await session.get(Person, ada.id)
        assert stored is not None and stored.name == "Ada L"



@pytest.mark.postgres
async def test_the_lock_taken_through_thin_lasts_until_the_unit_ends(
    pg: tuple[Context, str],  # noqa: F811
) -> None:
    """The locked shift read in a lazy unit (``BEGIN`` riding with it): another transaction
    cannot lock the row until the unit ends."""
    ctx, _ = pg
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    nowait = text("SELECT id FROM shift WHERE id = :id FOR UPDATE NOWAIT")

    async def try_lock() -> bool:
        return await asyncio.create_task(lock())  # another task: not in the unit

    async def lock() -> bool:
        try:
            async with ctx.store.transaction() as other:
                await (await other.connection()).execute(nowait, {"id": shift.id})
            return True
        except DBAPIError:
            return False

    async with ctx.store.unit(first_write_begins=True) as session:
        await thin.objects(session, LOCKED_SHIFT_WITH_NAMES, {"shift_id": shift.id})
        assert not await try_lock()
        await asyncio.sleep(0.05)
        assert not await try_lock()
    assert await try_lock()


async def test_a_failed_thin_write_in_a_savepoint_leaves_the_unit_going(ctx: Context) -> None:
    """A thin write that fails inside ``Store.transaction`` (a savepoint of the unit) undoes
    only the savepoint; the unit's other writes commit."""
    org, _ = await seed_org_area(ctx)
    ada = await person(ctx, "Ada", org=org, telegram_id=4242)
    bo = await person(ctx, "Bo", org=org, telegram_id=4343)
    rename = update(Person).where(col(Person.id) == bindparam("person_id"))
    rename = rename.values(telegram_id=bindparam("telegram_id"), name=bindparam("name"))
    async with ctx.store.unit(first_write_begins=True) as session:
        await write_rows(session, rename, {"person_id": ada.id, "telegram_id": 4242,
                                           "name": "Ada L"})
        with pytest.raises(IntegrityError):
            async with ctx.store.transaction() as inner:  # Bo takes Ada's telegram id
                await write_rows(inner, rename, {"person_id": bo.id, "telegram_id": 4242,
                                                 "name": "Bo B"})
        await write_rows(session, rename, {"person_id": bo.id, "telegram_id": 4343,
                                           "name": "Bo C"})
    async with ctx.store.transaction() as session:
        names = {p.id: p.name for p in (await session.exec(select(Person))).all()}
    assert names[ada.id] == "Ada L" and names[bo.id] == "Bo C"
