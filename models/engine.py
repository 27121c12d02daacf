"""The async engine for the configured URL: its driver, its pool, a check of idle connections."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.engine.url import URL
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from models import first_write
from models.sqlite_loop import prepare_sqlite


class StoreError(Exception):
    """The store cannot be used as configured (bad URL, unreachable, out-of-date schema)."""


def async_url(url: str) -> URL:
    """Map a configured SQLAlchemy URL to its async driver; create a SQLite file's folder."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError with the URL in it
        raise StoreError(
            f"[database] url: not a valid SQLAlchemy URL ({type(exc).__name__})"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend == "postgresql":
        if parsed.get_driver_name() == "asyncpg":
            return parsed
        return parsed.set(drivername="postgresql+psycopg")
    raise StoreError(f"[database] url: unsupported database {backend!r} (use sqlite or postgresql)")


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def create_engine(url: str, *, echo: bool = False, reader: bool = False) -> AsyncEngine:
    """An async engine for the configured URL, with SQLite set up for WAL and safe writes
    (a ``reader``'s SQLite transactions take no write lock: for reads beside the writer).

    Parameters are hidden: a failed statement's error, which reaches the logs, shows the SQL
    with placeholders, never the values (a report text, a name, a phone number)."""
    target = async_url(url)
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    if target.get_backend_name() == "sqlite":
        in_memory = target.database in (None, "", ":memory:")
        if in_memory:
            kwargs["poolclass"] = StaticPool
        else:
            kwargs.update(pool_size=1, max_overflow=0)  # one writer at a time: sqlite_loop.py
        engine = create_async_engine(target, **kwargs)
        prepare_sqlite(engine, wal=not in_memory, begin="BEGIN" if reader else "BEGIN IMMEDIATE")
        return engine
    # A dialogue turn holds one connection for its whole unit, and up to 32 Telegram updates
    # are handled at once (bot/channels/telegram.py), besides webhooks, the dispatcher and
    # the ticker: at most 40 connections per process (docs/deploy.md).
    kwargs.update(pool_size=32, max_overflow=8)
    if target.get_driver_name() == "asyncpg":
        kwargs["connect_args"] = asyncpg_arguments(target)
    if reader:  # a few heavy reads at a time, their rows converted in slices
        kwargs.update(pool_size=2, max_overflow=2)
        if target.get_driver_name() == "psycopg":
            kwargs["connect_args"] = {"cursor_factory": SlicedCursor}
    engine = create_async_engine(target, **kwargs)
    if target.get_driver_name() == "asyncpg":
        event.listen(engine.sync_engine, "do_connect", _without_libpq_options)
    _ping_when_idle(engine)
    first_write.install(engine)
    return engine


def asyncpg_arguments(target: URL) -> dict[str, Any]:
    """asyncpg takes server settings as an argument, not libpq's ``options=-cname=value``
    in the URL (the tests and benches give each run a schema of its own that way). The URL
    keeps them (a reader store is opened from it); ``_without_libpq_options`` drops them from
    what asyncpg is given."""
    options = target.query.get("options")
    if not isinstance(options, str):
        return {}
    settings = {}
    for option in options.split():
        name, _, value = option.removeprefix("-c").partition("=")
        settings[name] = value
    return {"server_settings": settings}


def _without_libpq_options(_dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
    params.pop("options", None)


class SlicedCursor(psycopg.AsyncCursor[Any]):
    """psycopg's cursor whose ``fetchall`` converts the rows a slice at a time. Converting is
    compiled code that holds the interpreter lock throughout: for a reader's 600,000 rows that
    was seconds in which no other thread, the event loop's included, could run."""

    SLICE = 2_000

    async def fetchall(self) -> list[Any]:
        rows: list[Any] = []
        while batch := await self.fetchmany(self.SLICE):
            rows += batch
        return rows


PING_AFTER_IDLE_S = 2.0
# In a connection's ``info``: idle since then, before it came back to the pool (a kept
# connection, ``models/seats.py``); the check on checkout counts from then.
IDLE_SINCE = "vandra_idle_since"


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Check a pooled PostgreSQL connection before use when it has been idle for a while (a
    restart or a dropped connection then costs nobody an error); one that came back moments
    ago is used at once, sparing every input a round trip. A connection that broke in those
    moments fails its first statement, and the pool then replaces every connection older than
    the failure (a dialogue turn tries its load once more)."""
    pool = engine.sync_engine.pool
    dialect = engine.sync_engine.dialect

    @event.listens_for(pool, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["returned_at"] = record.info.pop(IDLE_SINCE, None) or time.monotonic()

    @event.listens_for(pool, "checkout")
    def _check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get("returned_at")
        if returned is None or time.monotonic() - returned < PING_AFTER_IDLE_S:
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as error:
            reason = f"connection lost while idle ({type(error).__name__})"
            raise DisconnectionError(reason) from None
        if not alive:
            raise DisconnectionError("connection lost while idle")
