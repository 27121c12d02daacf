"""The dialogue's hottest statements, sent straight to psycopg.

Every dialogue turn loads its person and conversation and writes the conversation back; a
sign-up reads the shift and its sign-ups. Through SQLAlchemy's execution layer (a greenlet
hop, the compiled cache, the result's metadata, psycopg's column descriptions built anew for
each statement) and the ORM's loading, one such statement cost the bot's event loop 0.5-0.9
ms on PostgreSQL; sent on the session's own psycopg connection as the same SQL, with the same
type conversions, about 0.25 ms (bench/README.md). Used for a few statements built once
(module constants), not as a way to write SQL by hand: each is still a SQLAlchemy statement,
compiled once per dialect.

``rows`` runs a statement in the session's transaction and returns its rows as tuples, each
value converted as SQLAlchemy's result would (the ``UTCDateTime`` columns, JSON). On
PostgreSQL through psycopg it sends the statement itself, prepared as SQLAlchemy's would be
after five runs; elsewhere it runs it through SQLAlchemy, so SQLite and asyncpg see no
difference. What the session holds unwritten is flushed first, as a query's autoflush would,
and a lazy unit (``models/first_write.py``) begins its transaction with a statement that
needs one, or ends it with its last write, exactly as through SQLAlchemy.

``adopt`` turns a row's columns into the session's object, as the ORM's loading would: the
object the session already holds for that key, else one made from the row and held by the
session as loaded (no history, nothing to flush), so the turn's use cases find it without a
query and what they change in it is written at the commit.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import psycopg
from psycopg.pq import ExecStatus
from sqlalchemy import Executable, bindparam, inspect
from sqlalchemy import insert as sa_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Mapper, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import AliasedInsp
from sqlalchemy.sql import ClauseElement, Select
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase, ValuesBase
from sqlmodel.ext.asyncio.session import AsyncSession

from models import first_write

Model = TypeVar("Model")
Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    """A statement as psycopg takes it: its SQL, and how its parameters and columns convert."""

    sql: str
    # each parameter's name in the SQL, its key as given, its value unless given, its conversion
    binds: tuple[tuple[str, str, Any, Processor], ...]
    required: frozenset[str]  # the keys SQLAlchemy will not run the statement without
    results: tuple[Processor, ...]  # one per selected column
    # the columns with a conversion, by their place in a row
    converted: tuple[tuple[int, Callable[[Any], Any]], ...] = ()

    def parameters(self, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """The values as psycopg takes them; None when one required is missing (SQLAlchemy
        then runs the statement, and refuses it as it always does, rather than bind NULL)."""
        if not self.required.issubset(params):
            return None
        values: dict[str, Any] = {}
        for name, key, default, process in self.binds:
            value = params.get(key, default)
            values[name] = process(value) if process is not None else value
        return values

    def convert(self, row: Sequence[Any]) -> tuple[Any, ...]:
        """A row's values as SQLAlchemy's result gives them (only the columns with a
        conversion are touched: most have none on psycopg)."""
        if not self.converted:
            return tuple(row)
        values = list(row)
        for at, process in self.converted:
            values[at] = process(values[at])
        return tuple(values)


@functools.cache
def _compiled(statement: Executable, dialect: Dialect) -> _Compiled | None:
    """Compiled once per statement (a module constant) and dialect; None for one that
    SQLAlchemy compiles or completes at each run: parameters rendered into the SQL (lists,
    literals), an INSERT or UPDATE whose columns are the parameters given, column defaults
    computed for each row. It goes through SQLAlchemy."""
    if isinstance(statement, ValuesBase) and not (
        statement._values or statement._multi_values or statement._select_names
    ):
        return None
    compiled = cast(SQLCompiler, cast(ClauseElement, statement).compile(dialect=dialect))
    if compiled.insert_prefetch or compiled.update_prefetch:
        return None
    escaped = compiled.escaped_bind_names  # names SQLAlchemy changed in the SQL ("a.b": a_b)
    binds = []
    for name, bind in compiled.binds.items():
        if bind.expanding or bind.literal_execute or bind.callable is not None:
            return None
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        binds.append((escaped.get(name, name), bind.key, bind.value, process))
    required = frozenset(bind.key for bind in compiled.binds.values() if bind.required)
    returned = _returned(statement)
    results = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in returned
    )
    converted = tuple((at, p) for at, p in enumerate(results) if p is not None)
    return _Compiled(compiled.string, tuple(binds), required, results, converted)


def _returned(statement: Executable) -> Sequence[Any]:
    """The columns a statement answers with: a SELECT's, or a write's ``RETURNING``."""
    if isinstance(statement, Select):
        return list(statement.selected_columns)
    return list(getattr(statement, "exported_columns", ()))


async def rows(
    session: AsyncSession, statement: Executable, params: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """The statement's rows, in the session's transaction (see the top of this module)."""
    return (await _run(session, statement, params, {}))[0]


async def write(
    session: AsyncSession,
    statement: Executable,
    params: Mapping[str, Any],
    options: Mapping[str, Any] | None = None,
) -> int:
    """How many rows a write changed (``models/writes.py``; ``options``: ``first_write``'s
    ``LAST_WRITE`` or ``LONE_WRITE``, else none)."""
    return (await _run(session, statement, params, options or {}))[1]


async def _run(
    session: AsyncSession,
    statement: Executable,
    params: Mapping[str, Any],
    options: Mapping[str, Any],
) -> tuple[list[tuple[Any, ...]], int]:
    # a read flushes as a query would (not in ``no_autoflush``), a write always (write_rows)
    flush = session.sync_session.autoflush or isinstance(statement, UpdateBase)
    if flush and (session.new or session.dirty or session.deleted):
        await session.flush()
    connection = await _connection(session)
    on_psycopg = connection.dialect.driver == "psycopg"
    compiled = _compiled(statement, connection.dialect) if on_psycopg else None
    values = compiled.parameters(params) if compiled is not None else None
    if compiled is None or values is None:
        result = await connection.execute(statement, dict(params), execution_options=options)
        found = [tuple(row) for row in result] if result.returns_rows else []
        return found, int(result.rowcount or 0)
    driver = await _driver(connection)
    joined = None
    sync = connection.sync_connection
    if sync is not None and sync.get_execution_options().get(first_write.LAZY):
        last, lone = options.get(first_write.LAST_WRITE), options.get(first_write.LONE_WRITE)
        joined = first_write.joined_cursor(driver, compiled.sql, last=bool(last), lone=bool(lone))
    cursor = joined(driver) if joined is not None else driver.cursor()
    try:
        return await _send(cursor, compiled, values)
    except psycopg.Error as error:
        raise await _failed(connection, compiled, error) from error


async def _failed(connection: Any, compiled: _Compiled, error: psycopg.Error) -> StatementError:
    """The driver's error as SQLAlchemy raises it (``DBAPIError``), the connection
    invalidated when it dropped: so a turn fails, or is tried again, as any statement's."""
    dialect = connection.dialect
    pooled = connection.sync_connection.connection
    lost = bool(dialect.is_disconnect(error, pooled.dbapi_connection, None))
    if lost:  # as SQLAlchemy: the pool's older connections are replaced at their checkout
        connection.sync_engine.pool._invalidate(pooled, error)
        await connection.invalidate(error)
    return DBAPIError.instance(
        compiled.sql, None, error, psycopg.Error, connection_invalidated=lost, dialect=dialect
    )


async def _send(
    cursor: Any, compiled: _Compiled, values: dict[str, Any]
) -> tuple[list[tuple[Any, ...]], int]:
    """The statement on psycopg's cursor (``values``: its parameters, converted): its rows,
    converted, and its row count."""
    async with cursor:
        await cursor.execute(compiled.sql, values)
        result = cursor.pgresult  # not ``description``: psycopg builds that anew at each look
        rows = result is not None and result.status == ExecStatus.TUPLES_OK
        found = await cursor.fetchall() if rows else []
        return [compiled.convert(row) for row in found], cursor.rowcount


_CONNECTION = "vandra_thin_connection"  # in the session's ``info``: its transaction's connection


async def _connection(session: AsyncSession) -> AsyncConnection:
    """The connection the session's innermost transaction holds: remembered on the session
    for that transaction (asking SQLAlchemy is a hop through its greenlet each time), and
    asked for again in any other. Asking is what makes SQLAlchemy begin a savepoint it
    opened lazily, so a transaction begun since (a savepoint) must ask."""
    sync_session = session.sync_session
    current = sync_session.get_nested_transaction() or sync_session.get_transaction()
    held = session.info.get(_CONNECTION)
    if held is not None and current is not None and held[0] is current and current.is_active:
        sync = held[1].sync_connection
        if sync is not None and not sync.closed and not sync.invalidated:
            return cast(AsyncConnection, held[1])
    connection = await session.connection()
    current = sync_session.get_nested_transaction() or sync_session.get_transaction()
    session.info[_CONNECTION] = (current, connection)
    return connection


async def _driver(connection: Any) -> Any:
    """The psycopg connection under the session's: without a hop through SQLAlchemy's
    greenlet when the connection is checked out and valid (it is, after ``connection()``)."""
    sync = connection.sync_connection
    if sync is not None and not sync.invalidated:
        return sync.connection.driver_connection
    return (await connection.get_raw_connection()).driver_connection


async def insert(session: AsyncSession, model: type[Model], values: Mapping[str, Any]) -> Model:
    """A new row of ``model`` written at once, with ``values`` and the model's defaults for
    the rest (its key from the database), and held by the session as loaded: what adding it
    and flushing would give, without the model's validation, the flush, or a second look."""
    mapper = inspect(model)
    params = dict(_defaults(mapper)) | dict(values)
    found = await rows(session, _insert_statement(mapper.local_table), params)
    return adopt(session, model, found[0])


@functools.cache
def _insert_statement(table: Any) -> Executable:
    written: dict[str, Any] = {c.key: bindparam(c.key) for c in table.columns if not c.primary_key}
    return sa_insert(table).values(written).returning(*table.columns)


@functools.cache
def _defaults(mapper: Mapper[Any]) -> tuple[tuple[str, Any], ...]:
    """A model's field defaults (not its key's, which the database gives, nor factories: a
    caller gives those values)."""
    keys = set(_primary_keys(mapper))
    fields = mapper.class_.model_fields.items()
    return tuple(
        (name, field.default)
        for name, field in fields
        if name not in keys and not field.is_required() and field.default_factory is None
    )


async def objects(
    session: AsyncSession, statement: Select[*tuple[Any, ...]], params: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """The statement's rows as ``session.exec`` gives them: each entity it selects (a model,
    or an alias of one, which an outer join may leave empty: None) as the session's object
    (``adopt``; refreshed when the statement asks for ``populate_existing``), each other
    column as its value. Through SQLAlchemy itself where ``rows`` would be."""
    layout = _layout(statement)
    if layout is None or (await _connection(session)).dialect.driver != "psycopg":
        return [tuple(row) for row in await session.exec(statement, params=params)]  # type: ignore[call-overload]
    refresh = bool(statement.get_execution_options().get("populate_existing"))
    return [
        _objects_of(session, layout, row, refresh) for row in await rows(session, statement, params)
    ]


def _objects_of(
    session: AsyncSession, layout: tuple[tuple[Any, int], ...], row: tuple[Any, ...], refresh: bool
) -> tuple[Any, ...]:
    values: list[Any] = []
    at = 0
    for mapper, width in layout:
        if mapper is None:
            values.append(row[at])
        else:
            columns = row[at : at + width]
            keys = dict(zip(_column_keys(mapper), columns, strict=True))
            empty = any(keys[name] is None for name in _primary_keys(mapper))  # as the ORM's
            values.append(
                None if empty else adopt(session, mapper.class_, columns, refresh=refresh)
            )
        at += width
    return tuple(values)


@functools.cache
def _layout(statement: Select[*tuple[Any, ...]]) -> tuple[tuple[Any, int], ...] | None:
    """Per selected item: its model's mapper and how many columns it spans, or (None, 1) for a plain
    column; None when the columns do not add up (a deferred column: SQLAlchemy loads it)."""
    layout: list[tuple[Any, int]] = []
    for described in statement.column_descriptions:
        found = inspect(described["expr"], raiseerr=False)
        if isinstance(found, Mapper | AliasedInsp):
            layout.append((found.mapper, len(_column_keys(found.mapper))))
        else:
            layout.append((None, 1))
    if sum(width for _, width in layout) != len(statement.selected_columns):
        return None
    return tuple(layout)


def adopt(
    session: AsyncSession, model: type[Model], values: Sequence[Any], *, refresh: bool = False
) -> Model:
    """The session's object for a row's columns (``values``, in the order of the model's
    columns), as the ORM's loading gives it (see the top of this module)."""
    mapper = inspect(model)
    fields = dict(zip(_column_keys(mapper), values, strict=True))
    key = mapper.identity_key_from_primary_key([fields[k] for k in _primary_keys(mapper)])
    held = session.identity_map.get(key)
    if held is not None:
        stale = fields.keys() if refresh else inspect(held).expired_attributes & fields.keys()
        for name in stale:
            set_committed_value(held, name, fields[name])  # as a query refreshes them
        return cast(Model, held)
    instance = mapper.class_manager.new_instance()
    instance.__dict__.update(fields)
    make_transient_to_detached(instance)
    session.add(instance)
    return cast(Model, instance)


@functools.cache
def _column_keys(mapper: Mapper[Any]) -> tuple[str, ...]:
    """The model's column attributes, in its table's order (as ``select(model)`` lists them)."""
    return tuple(column.key for column in mapper.columns)


@functools.cache
def _primary_keys(mapper: Mapper[Any]) -> tuple[str, ...]:
    return tuple(mapper.get_property_by_column(column).key for column in mapper.primary_key)
