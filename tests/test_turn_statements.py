"""How many statements a volunteer's turns cost the store, on SQLite and PostgreSQL.

``bench/updates.py`` measures these two turns (a deep link to a shift, then its "Anmäl mig"
button); every statement is a round trip to PostgreSQL, so a statement more fails here before
it slows the bench. ``tests/test_dialogue.py`` pins the plain turn (load, save).

On psycopg (the default PostgreSQL driver) what is counted is what psycopg sends, BEGIN and
COMMIT included (each a round trip of its own): a turn's transaction begins at its first
write or lock (``models/first_write.py``), so the deep link, which only reads before writing
its conversation, sends no BEGIN and no COMMIT at all. On asyncpg (the driver recommended
for production) what SQLAlchemy's adapter sends is counted the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from psycopg.pq import TransactionStatus

from bot.dialogue.engine import Dialogue
from evaluation.statistics import statistics_for
from models import first_write
from models.db import Store
from scheduling.common.context import Context
from tests.fakes.chat import Chat
from tests.helpers import add_shift, recorded, seed_org_area
from tests.world import person


@contextmanager
def sent_by_psycopg(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The first word of every command psycopg sends, one entry per round trip: its own
    BEGIN before a statement outside autocommit with no transaction open, the statements
    ("BEGIN; SELECT" for two in one), COMMIT and ROLLBACK."""
    sent: list[str] = []
    execute = psycopg.AsyncCursor.execute
    commit = psycopg.AsyncConnection.commit
    rollback = psycopg.AsyncConnection.rollback

    def idle(connection: psycopg.AsyncConnection[Any]) -> bool:
        return connection.info.transaction_status == TransactionStatus.IDLE

    async def recorded_execute(cursor: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        if not cursor.connection.autocommit and idle(cursor.connection):
            sent.append("BEGIN")
        if isinstance(query, psycopg.sql.Composable):  # the driver's own type lookups
            text = query.as_string(cursor.connection)
        else:
            text = query if isinstance(query, str) else query.decode()
        sent.append("; ".join(part.split()[0].upper() for part in text.split(";") if part.strip()))
        return await execute(cursor, query, *args, **kwargs)

    async def recorded_commit(connection: Any) -> None:
        if not idle(connection):
            sent.append("COMMIT")
        await commit(connection)

    async def recorded_rollback(connection: Any) -> None:
        if not idle(connection):
            sent.append("ROLLBACK")
        await rollback(connection)

    with monkeypatch.context() as patch:
        patch.setattr(psycopg.AsyncCursor, "execute", recorded_execute)
        patch.setattr(psycopg.AsyncConnection, "commit", recorded_commit)
        patch.setattr(psycopg.AsyncConnection, "rollback", recorded_rollback)
        yield sent


@contextmanager
def sent_by_asyncpg(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The first word of every command SQLAlchemy's asyncpg adapter sends, one entry per
    round trip: the BEGIN it sends before a statement outside autocommit with no transaction
    open, the statements, COMMIT and ROLLBACK (statements the driver runs on its own, its
    type introspection, are not counted)."""
    from sqlalchemy.dialects.postgresql import asyncpg as adapter

    sent: list[str] = []
    execute = adapter.AsyncAdapt_asyncpg_cursor._prepare_and_execute
    commit = adapter.AsyncAdapt_asyncpg_connection.commit
    rollback = adapter.AsyncAdapt_asyncpg_connection.rollback

    async def recorded_execute(cursor: Any, operation: str, parameters: Any) -> Any:
        connection = cursor._adapt_connection
        if connection._transaction is None and not connection.autocommit:
            sent.append("BEGIN")  # the adapter begins before the statement
        sent.append(operation.split()[0].upper())
        return await execute(cursor, operation, parameters)

    def recorded_commit(connection: Any) -> None:
        if connection._transaction is not None:
            sent.append("COMMIT")
        commit(connection)

    def recorded_rollback(connection: Any) -> None:
        if connection._transaction is not None:
            sent.append("ROLLBACK")
        rollback(connection)

    with monkeypatch.context() as patch:
        patch.setattr(adapter.AsyncAdapt_asyncpg_cursor, "_prepare_and_execute", recorded_execute)
        patch.setattr(adapter.AsyncAdapt_asyncpg_connection, "commit", recorded_commit)
        patch.setattr(adapter.AsyncAdapt_asyncpg_connection, "rollback", recorded_rollback)
        yield sent


def sent(statements: list[str]) -> list[str]:
    return [s for s in statements if s not in ("BEGIN", "COMMIT")]


async def test_a_deep_link_and_a_sign_up_cost_three_and_five_statements(ctx: Context) -> None:
    """The deep link's card: the conversation with the person, the card (the shift, its
    head-counts, the viewer's own sign-up and the group lead in one statement), the
    conversation written. The sign-up: the conversation with the person, the shift locked,
    its sign-ups, the new sign-up, the conversation (on psycopg one upsert, the turn's last
    statement: ``models/first_write.py``). One unit each."""
    deep_link, sign_up = await _two_turns(ctx)
    saved = "INSERT" if first_write.available(ctx.store.engine) else "UPDATE"
    assert deep_link == ["TRANSACTION", "SELECT", "SELECT", "INSERT"]
    assert sign_up == ["TRANSACTION", "SELECT", "SELECT", "SELECT", "INSERT", saved]


async def test_round_trips_on_psycopg(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    """What psycopg sends for the two turns, one command per round trip. The deep link only
    reads before its one write (the conversation), so it runs without a transaction: 3 round
    trips instead of 5. The sign-up's transaction begins with the lock, BEGIN riding with it,
    and ends with the conversation's write, COMMIT riding with it: 5 instead of 7."""
    if ctx.store.engine.dialect.driver != "psycopg":
        pytest.skip("counts what psycopg sends")
    with sent_by_psycopg(monkeypatch) as commands:
        await _two_turns(ctx, commands)
    deep_link, sign_up = commands[: commands.index("|")], commands[commands.index("|") + 1 :]
    assert deep_link == ["SELECT", "SELECT", "INSERT"]
    assert sign_up == ["SELECT", "BEGIN; SELECT", "SELECT", "INSERT", "INSERT; COMMIT"]


async def test_the_same_turns_on_asyncpg(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    """``postgresql+asyncpg://`` (docs/deploy.md): the same statements, the same answers,
    and a coordinator's statistics (read with the driver's own rows). What asyncpg sends, one
    command per round trip: the deep link only reads before its one write, so it runs without
    a transaction (3 round trips instead of 5); the sign-up's transaction begins at the lock,
    its BEGIN a round trip of its own (asyncpg sends a statement with parameters alone), and
    ends with the COMMIT after the conversation's write: 7, as with BEGIN first."""
    if ctx.store.engine.dialect.name != "postgresql":
        pytest.skip("asyncpg is a PostgreSQL driver: nothing to compare on SQLite")
    url = ctx.store.engine.url.set(drivername="postgresql+asyncpg")
    store = Store.open(url.render_as_string(hide_password=False))
    try:
        on_asyncpg = replace(ctx, store=store)
        assert store.engine.dialect.driver == "asyncpg"
        with sent_by_asyncpg(monkeypatch) as commands:
            deep_link, sign_up = await _two_turns(on_asyncpg, commands)
        assert deep_link == ["TRANSACTION", "SELECT", "SELECT", "INSERT"]
        assert sign_up == ["TRANSACTION", "SELECT", "SELECT", "SELECT", "INSERT", "INSERT"]
        deep_link, sign_up = commands[: commands.index("|")], commands[commands.index("|") + 1 :]
        assert deep_link == ["SELECT", "SELECT", "INSERT"]
        assert sign_up == ["SELECT", "BEGIN", "SELECT", "SELECT", "INSERT", "INSERT", "COMMIT"]
        day = (on_asyncpg.now() + timedelta(days=3)).astimezone(ctx.zone).date()
        report = await statistics_for(on_asyncpg, day, day, None)
        assert report.overall.planned == 1 and report.overall.fill_rate is not None
    finally:
        await store.close()


async def _two_turns(ctx: Context, driver: list[str] | None = None) -> tuple[list[str], list[str]]:
    """A registered volunteer follows a deep link to a shift and presses "Anmäl mig" (what
    the driver sent is cleared before the first and marked "|" between the two)."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    await person(ctx, "Vera", org=org, telegram_id=4242)
    chat = Chat(Dialogue(ctx), address="4242", telegram_id=4242)
    if driver is not None:
        driver.clear()
    with recorded(ctx) as statements:
        await chat.command("start", f"pass_{shift.id}")
        deep_link = sent(statements)
        assert "Anmäl mig" in chat.labels
        statements.clear()
        if driver is not None:
            driver.append("|")
        answer = await chat.tap("Anmäl mig")
        sign_up = sent(statements)
    assert "anmäld" in answer
    return deep_link, sign_up
