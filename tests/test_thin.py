"""The hottest statements sent straight to psycopg (``models/thin.py``).

On PostgreSQL through psycopg these hold the thin path to what SQLAlchemy gives for the same
statements: the same values converted the same way (UTC datetimes even when the server's
session speaks another time zone, JSON, NULLs), the ORM's objects with the ORM's identity
rules, pending changes flushed first, and statements SQLAlchemy must render at each run left
to SQLAlchemy. On SQLite the same tests run through SQLAlchemy itself, as the module does.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, inspect, text
from sqlalchemy import select as sa_select
from sqlmodel import col

from models import thin
from models.tables import Person, Shift, Signup, SignupStatus
from scheduling.common.context import Context
from scheduling.people.conversations import (
    _PERSON_AND_CONVERSATION_BY_TELEGRAM_ID,
    Caller,
    ConversationState,
    load_conversation,
    save_conversation,
)
from scheduling.walks import signups
from scheduling.walks.card_statement import ONE_CARD
from scheduling.walks.signup_queries import SIGNUPS_AND_CLASHES
from scheduling.walks.view_statements import LOCKED_SHIFT_WITH_NAMES
from tests.helpers import add_shift, seed_org_area
from tests.world import person


async def _core(session: Any, statement: Any, params: dict[str, Any] | None = None) -> Any:
    """A statement through SQLAlchemy's Core, on the session's connection."""
    return await (await session.connection()).execute(statement, params or {})


def _on_postgres(ctx: Context) -> bool:
    return ctx.store.engine.dialect.name == "postgresql"


async def _speak_stockholm_time(ctx: Context, session: Any) -> None:
    """PostgreSQL then answers timestamptz in Swedish time: only the UTC conversion of
    ``UTCDateTime`` turns them back into UTC, as vandra's values must be."""
    if _on_postgres(ctx):
        await _core(session, text("SET LOCAL TIME ZONE 'Europe/Stockholm'"))


async def _walker_with_a_conversation(ctx: Context) -> tuple[Person, dict[str, Any]]:
    org, _ = await seed_org_area(ctx)
    walker = await person(ctx, "Åsa Öberg", org=org, telegram_id=2**40 + 7)
    data = {"offered": ["shift:1", "shift:2"], "text": "Hej 👋 \u202e", "n": [1, None]}
    state = ConversationState(
        channel="telegram", address=str(walker.telegram_id), data=data, flow="report", step="x"
    )
    async with ctx.store.unit(first_write_begins=True):
        await save_conversation(ctx, state, None)
    return walker, data


async def test_rows_are_what_sqlalchemy_returns(ctx: Context) -> None:
    """The person-and-conversation load, value for value and type for type (``repr``: a
    datetime's time zone included)."""
    walker, data = await _walker_with_a_conversation(ctx)
    params = {"channel": "telegram", "address": str(walker.telegram_id)}
    params["telegram_id"] = walker.telegram_id
    async with ctx.store.transaction() as session:
        await _speak_stockholm_time(ctx, session)
        through_sqlalchemy = [
            tuple(row)
            for row in await _core(session, _PERSON_AND_CONVERSATION_BY_TELEGRAM_ID, params)
        ]
        session.expunge_all()
        thin_rows = await thin.rows(session, _PERSON_AND_CONVERSATION_BY_TELEGRAM_ID, params)
    assert [tuple(repr(v) for v in row) for row in thin_rows] == [
        tuple(repr(v) for v in row) for row in through_sqlalchemy
    ]
    person_at = thin_rows[0][[c.key for c in inspect(Person).columns].index("created_at")]
    assert person_at.tzinfo is UTC
    assert data in thin_rows[0]


async def test_the_load_gives_the_person_as_the_sessions_object(ctx: Context) -> None:
    """The person loaded with the conversation is the session's object, held as loaded:
    nothing to write, found by ``session.get`` without a statement, and a change to it is
    written at the commit."""
    walker, data = await _walker_with_a_conversation(ctx)
    caller = Caller("telegram", str(walker.telegram_id), telegram_id=walker.telegram_id)
    async with ctx.store.unit(first_write_begins=True) as session:
        state, view = await load_conversation(ctx, caller)
        assert view is not None and view.name == "Åsa Öberg" and state.data == data
        row = await session.get(Person, view.id)
        assert row is state.loaded[0]
        assert not session.dirty and not session.new and inspect(row).persistent
        row.trained = True
    async with ctx.store.transaction() as session:
        stored = await session.get(Person, walker.id)
        assert stored is not None and stored.trained


async def test_objects_are_what_the_orm_gives(ctx: Context) -> None:
    """The card, the locked shift and the sign-ups with clashes: the same rows as
    ``session.exec``, entities as objects with the same values, an empty outer join None."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area, max_walkers=3)
    walkers = [await person(ctx, f"W{n}", org=org, telegram_id=800 + n) for n in range(3)]
    for walker in walkers[:2]:
        await signups.sign_up(ctx, walker.id or 0, shift.id or 0)
    overlapping = {"start_at": shift.start_at, "end_at": shift.end_at}
    cases: list[tuple[Any, dict[str, Any]]] = [
        (ONE_CARD, {"shift_id": shift.id, "person_id": walkers[0].id}),
        (ONE_CARD, {"shift_id": shift.id, "person_id": walkers[2].id}),
        (LOCKED_SHIFT_WITH_NAMES, {"shift_id": shift.id}),
        (SIGNUPS_AND_CLASHES, {"shift_id": shift.id, "person_id": walkers[0].id} | overlapping),
    ]
    for statement, params in cases:
        async with ctx.store.transaction() as session:
            await _speak_stockholm_time(ctx, session)
            orm = [tuple(row) for row in await session.exec(statement, params=params)]
            session.expunge_all()
            found = await thin.objects(session, statement, params)
        assert _comparable(found) == _comparable(orm)
    assert _comparable(found)[0][0]["status"] == SignupStatus.CONFIRMED


def _comparable(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Entities as their class and columns (values with their ``repr``), the rest as is."""

    def one(value: Any) -> Any:
        if isinstance(value, Shift | Signup | Person):
            mapper = inspect(type(value))
            return {c.key: repr(getattr(value, c.key)) for c in mapper.columns} | {
                "status": getattr(value, "status", None)
            }
        return repr(value)

    return [tuple(one(value) for value in row) for row in rows]


async def test_a_held_object_is_kept_unless_the_statement_asks_afresh(ctx: Context) -> None:
    """As the ORM: an object the session holds is returned as it is, with what the session
    changed in it; a statement with ``populate_existing`` (the locked shift) reads it
    afresh; an expired attribute is refreshed from the row."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area, max_walkers=3)
    plain = sa_select(Shift).where(col(Shift.id) == bindparam("shift_id"))
    params = {"shift_id": shift.id}
    async with ctx.store.transaction() as session:
        held = await session.get(Shift, shift.id)
        assert held is not None
        held.notes = "ändrad"  # flushed before the statement: the row says so too
        assert (await thin.objects(session, plain, params))[0][0] is held
        set_committed = inspect(held).attrs.notes
        assert set_committed.value == "ändrad"
        await _core(session, text("UPDATE shift SET max_walkers = 9 WHERE id = :shift_id"), params)
        assert (await thin.objects(session, plain, params))[0][0].max_walkers == 3
        locked = (await thin.objects(session, LOCKED_SHIFT_WITH_NAMES, params))[0][0]
        assert locked is held and held.max_walkers == 9
        session.expire(held, ["max_walkers"])
        await _core(session, text("UPDATE shift SET max_walkers = 7 WHERE id = :shift_id"), params)
        assert (await thin.objects(session, plain, params))[0][0].max_walkers == 7
        assert not session.dirty


@pytest.mark.parametrize("autoflush", [True, False], ids=["autoflush", "no_autoflush"])
async def test_what_the_session_holds_unwritten_is_written_first(
    ctx: Context, autoflush: bool
) -> None:
    """As a query: a sign-up added to the session is written first and among the rows read
    after; inside ``session.no_autoflush`` it stays unwritten and unseen, by the ORM's query
    as by the thin read (and a flush error is not raised from the read)."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    walker = await person(ctx, "Nils", org=org, telegram_id=901)
    now = ctx.now()
    params = {"shift_id": shift.id, "person_id": walker.id, "start_at": now, "end_at": now}
    async with ctx.store.transaction() as session:
        with session.no_autoflush if not autoflush else contextlib.nullcontext():
            pending = Signup(
                shift_id=shift.id or 0, person_id=walker.id or 0, status="confirmed", queued_at=now
            )
            session.add(pending)
            found = await thin.objects(session, SIGNUPS_AND_CLASHES, params)
            orm = (await session.exec(SIGNUPS_AND_CLASHES, params=params)).all()  # type: ignore[call-overload]
            assert len(session.new) == (0 if autoflush else 1)
    assert _comparable(found) == _comparable([tuple(row) for row in orm])
    expected = [(walker.id, False)] if autoflush else []
    assert [(s.person_id, trained) for s, trained in found] == expected


async def test_a_statement_with_a_list_goes_through_sqlalchemy(ctx: Context) -> None:
    """A list parameter is rendered into the SQL at each run: SQLAlchemy runs it."""
    org, area = await seed_org_area(ctx)
    shifts = [await add_shift(ctx, org, area, start_in=timedelta(days=d)) for d in (2, 3, 4)]
    listed = sa_select(Shift.id).where(col(Shift.id).in_(bindparam("ids", expanding=True)))
    async with ctx.store.transaction() as session:
        found = await thin.rows(session, listed, {"ids": [shifts[0].id, shifts[2].id]})
    assert sorted(row[0] for row in found) == [shifts[0].id, shifts[2].id]
    assert thin._compiled(listed, ctx.store.engine.dialect) is None


async def test_an_insert_gives_the_sessions_object_as_a_flush_would(ctx: Context) -> None:
    """``thin.insert``: the row written with the model's defaults for what is not given,
    its key from the database, held by the session as loaded (nothing left to write), a
    later change written at the commit; the same row the ORM's add and flush would write."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    walkers = [await person(ctx, f"N{n}", org=org, telegram_id=950 + n) for n in range(2)]
    now = ctx.now()
    given = {"shift_id": shift.id, "status": SignupStatus.WAITLISTED, "queued_at": now}
    async with ctx.store.transaction() as session:
        await _speak_stockholm_time(ctx, session)
        inserted = await thin.insert(session, Signup, given | {"person_id": walkers[0].id})
        assert inserted.id is not None and inspect(inserted).persistent
        assert not session.dirty and not session.new
        assert await session.get(Signup, inserted.id) is inserted
        assert inserted.queued_at == now and inserted.queued_at.tzinfo is UTC
        inserted.status = SignupStatus.CONFIRMED
        flushed = Signup(**given, person_id=walkers[1].id or 0)
        session.add(flushed)
    async with ctx.store.transaction() as session:
        stored = await session.get(Signup, inserted.id)
        other = await session.get(Signup, flushed.id)
        assert stored is not None and other is not None
        assert stored.status == SignupStatus.CONFIRMED
        kept = ("id", "person_id", "status")
        columns = [c.key for c in inspect(Signup).columns if c.key not in kept]
        assert {c: getattr(stored, c) for c in columns} == {c: getattr(other, c) for c in columns}
        assert (stored.offers, stored.no_show, stored.confirmed_at) == (0, False, None)


async def test_each_transaction_of_a_session_runs_on_its_own_connection(ctx: Context) -> None:
    """The connection remembered on the session serves one transaction: the next one, on
    a connection from the pool again, is not sent to the one given back."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    plain = sa_select(Shift.id).where(col(Shift.id) == bindparam("shift_id"))
    async with ctx.store.sessions() as session:
        for _ in range(3):
            async with session.begin():
                assert await thin.rows(session, plain, {"shift_id": shift.id}) == [(shift.id,)]
                first = await session.connection()
                assert session.info[thin._CONNECTION][1] is first
        assert first.closed
