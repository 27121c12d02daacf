"""The schema's state and its migrations (Alembic, in ``models/migrations``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"


def _alembic_config(connection: Connection | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


def _current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _has_tables(connection: Connection) -> bool:
    return bool(inspect(connection).get_table_names())


@dataclass(frozen=True)
class SchemaState:
    current: str | None
    head: str
    empty: bool

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


async def schema_state(engine: AsyncEngine) -> SchemaState:
    """Which migration the database is at, compared with the code's."""
    async with engine.connect() as connection:
        current = await connection.run_sync(_current_revision)
        empty = not await connection.run_sync(_has_tables)
        await connection.rollback()
    return SchemaState(current=current, head=head_revision(), empty=empty)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply the migrations up to ``revision``."""
    from alembic import command

    def _run(connection: Connection) -> None:
        command.upgrade(_alembic_config(connection), revision)

    async with engine.begin() as connection:
        await connection.run_sync(_run)
