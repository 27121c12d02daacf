"""The store: aware UTC times survive a round trip; migrations match the models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel, select

from models.db import Store, schema_state, upgrade
from models.tables import Organisation
from scheduling.context import Context


async def test_aware_time_round_trips(ctx: Context) -> None:
    """A time stored with an offset reads back timezone-aware and equal, on either database."""
    stockholm_summer = timezone(timedelta(hours=2))
    moment = datetime(2026, 10, 24, 22, 0, 0, 123456, tzinfo=stockholm_summer)
    async with ctx.store.transaction() as session:
        session.add(Organisation(name="X", name_key="x", created_at=moment))
    async with ctx.store.sessions() as session:
        stored = (await session.exec(select(Organisation))).one().created_at
    assert stored.tzinfo is not None
    assert stored == moment
    assert stored.utcoffset() == timedelta(0)


async def test_comparisons_use_utc_instants(ctx: Context) -> None:
    """Filtering by time compares instants, whatever offset the value was given in."""
    async with ctx.store.transaction() as session:
        session.add(
            Organisation(name="A", name_key="a", created_at=datetime(2026, 1, 1, 12, tzinfo=UTC))
        )
    later_local = datetime(2026, 1, 1, 13, 30, tzinfo=timezone(timedelta(hours=1)))
    async with ctx.store.sessions() as session:
        found = (
            await session.exec(select(Organisation).where(Organisation.created_at < later_local))
        ).all()
    assert len(found) == 1


async def test_migrations_match_the_models(ctx: Context) -> None:
    """After `db upgrade` the schema is at head and equals what the models declare."""
    state = await schema_state(ctx.store.engine)
    assert state.up_to_date and not state.empty

    def diff(connection):  # type: ignore[no-untyped-def]
        return compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)

    async with ctx.store.engine.connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == []


async def test_empty_database_is_reported_as_such(database_url: str) -> None:
    """A new database is empty and not up to date until upgraded."""
    store = Store.open(database_url)
    try:
        state = await schema_state(store.engine)
        assert state.empty and not state.up_to_date
        await upgrade(store.engine)
        assert (await schema_state(store.engine)).up_to_date
    finally:
        await store.close()
