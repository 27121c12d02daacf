"""A test's migrated database is a copy of the session's template (tests/templates.py): the
copy equals a database the migrations were run on, on SQLite and on PostgreSQL, in every
table, column, default, constraint, index, sequence and row; and the comparison is strict
enough to see a copy that missed an index, a constraint or a sequence's position."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from models.schema import head_revision
from tests import templates
from tests.conftest import TEMPLATES, database_for
from tests.templates import libpq_url, migrate, run_in_thread, schema_of

Fingerprint = dict[str, Any]


def fingerprint(url: str) -> Fingerprint:
    """Everything a migration leaves in the database, in a comparable form."""
    if make_url(url).get_backend_name() == "sqlite":
        return sqlite_fingerprint(Path(make_url(url).database or ""))
    return postgres_fingerprint(url)


def sqlite_fingerprint(path: Path) -> Fingerprint:
    """sqlite_master with each table's clauses as a set: a migration that rebuilds a table
    (Alembic's batch mode) writes its unnamed constraints in no fixed order, so two real
    migrations differ in that order alone."""
    with closing(sqlite3.connect(path)) as connection:
        objects = [
            (kind, name, table, clauses(sql) if kind == "table" and sql else sql)
            for kind, name, table, sql in connection.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
            )
        ]
        tables = [name for kind, name, _table, _sql in objects if kind == "table"]
        rows = {
            table: sorted(connection.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)
            for table in tables
        }
        pragmas = {
            pragma: connection.execute(f"PRAGMA {pragma}").fetchone()
            for pragma in ("journal_mode", "user_version", "application_id", "auto_vacuum",
                           "encoding", "page_size")
        }
    return {"objects": objects, "rows": rows, "pragmas": pragmas}


def clauses(create_table: str) -> tuple[str, list[str]]:
    """``CREATE TABLE name (a, b, ...)`` as its head and its top-level clauses, sorted."""
    head, _, body = create_table.partition("(")
    parts, depth, current = [], 0, ""
    for char in body.rstrip().removesuffix(")"):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return head.strip(), sorted(parts)


POSTGRES_CATALOG = {
    "columns": """
        SELECT table_name, column_name, ordinal_position, data_type, udt_name, column_default,
               is_nullable, character_maximum_length, numeric_precision, numeric_scale,
               datetime_precision, is_identity, identity_generation, identity_start,
               identity_increment, is_generated, generation_expression, collation_name
        FROM information_schema.columns WHERE table_schema = %(s)s""",
    "constraints": """
        SELECT cl.relname, co.conname, co.contype, pg_get_constraintdef(co.oid),
               co.condeferrable, co.condeferred, co.convalidated
        FROM pg_constraint co JOIN pg_namespace n ON n.oid = co.connamespace
        LEFT JOIN pg_class cl ON cl.oid = co.conrelid WHERE n.nspname = %(s)s""",
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = %(s)s",
    "relations": """
        SELECT c.relname, c.relkind, c.relpersistence, c.relhasindex, c.relreplident,
               obj_description(c.oid, 'pg_class')
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %(s)s""",
    "sequences": """
        SELECT sequencename, data_type, start_value, min_value, max_value, increment_by,
               cycle, cache_size, last_value
        FROM pg_sequences WHERE schemaname = %(s)s""",
    "owned_by": """
        SELECT s.relname, t.relname, a.attname, d.deptype
        FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
        JOIN pg_class t ON t.oid = d.refobjid
        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
        JOIN pg_namespace n ON n.oid = s.relnamespace WHERE n.nspname = %(s)s""",
    "types": """
        SELECT t.typname, t.typtype, e.enumlabel, e.enumsortorder
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        LEFT JOIN pg_enum e ON e.enumtypid = t.oid WHERE n.nspname = %(s)s""",
    "functions": """
        SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %(s)s""",
    "triggers": """
        SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t
        JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %(s)s AND NOT t.tgisinternal""",
}


def postgres_fingerprint(url: str) -> Fingerprint:
    schema = schema_of(url)

    def plain(value: Any) -> Any:  # the schema's own name out of definitions
        return value.replace(f"{schema}.", "") if isinstance(value, str) else value

    found: Fingerprint = {}
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        for name, query in POSTGRES_CATALOG.items():
            rows = connection.execute(query, {"s": schema}).fetchall()
            found[name] = sorted((tuple(plain(v) for v in row) for row in rows), key=repr)
        tables = [row[0] for row in found["relations"] if row[1] == "r"]
        found["rows"] = {
            table: sorted(
                connection.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall(), key=repr
            )
            for table in tables
        }
    return found


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def copied(url: str) -> str:
    TEMPLATES.copy_migrated(url)
    return url


def test_a_copy_equals_a_freshly_migrated_database(kind: str, tmp_path: Path) -> None:
    with (
        database_for(kind, tmp_path / "fresh") as fresh,
        database_for(kind, tmp_path / "copy") as copy,
    ):
        run_in_thread(lambda: migrate(fresh))
        expected = fingerprint(fresh)
        assert fingerprint(copied(copy)) == expected
    # and the comparison compares something
    key = "objects" if kind == "sqlite" else "indexes"
    assert len(expected[key]) > 40
    assert expected["rows"]["alembic_version"] == [(head_revision(),)]


INSERT = "INSERT INTO organisation (name, name_key, created_at) VALUES ('X', 'x', '2026-01-01')"


def _drop_index(url: str) -> str:
    return "DROP INDEX ix_outbox_status_due" if url.startswith("sqlite") else (
        f"DROP INDEX {schema_of(url)}.ix_outbox_status_due"
    )


def _drop_constraint(url: str) -> str:
    if url.startswith("sqlite"):  # SQLite keeps a table's constraints in its CREATE TABLE
        return ("UPDATE sqlite_master SET sql = replace(sql, 'name VARCHAR(120) NOT NULL', "
                "'name VARCHAR(120)') WHERE name = 'person'")
    return f"ALTER TABLE {schema_of(url)}.signup DROP CONSTRAINT signup_person_id_fkey"


def _take_an_id(url: str) -> str:
    """A sequence moved on (PostgreSQL); SQLite has no sequence here: a row taken instead."""
    return INSERT if url.startswith("sqlite") else (
        f"SELECT nextval('{schema_of(url)}.person_id_seq')"
    )


@pytest.mark.parametrize("spoil", [_drop_index, _drop_constraint, _take_an_id])
def test_the_comparison_sees_what_a_copy_missed(
    kind: str, tmp_path: Path, spoil: Callable[[str], str]
) -> None:
    with database_for(kind, tmp_path / "a") as first, database_for(kind, tmp_path / "b") as second:
        assert fingerprint(copied(first)) == fingerprint(copied(second))
        _execute(second, spoil(second))
        assert fingerprint(first) != fingerprint(second)


def test_copies_are_independent_of_each_other(kind: str, tmp_path: Path) -> None:
    """A row written in one copy is in no other copy, nor in the template the next copy is
    made from; each copy's ids start at 1 (its sequences are its own)."""
    with (
        database_for(kind, tmp_path / "a", migrated=True) as first,
        database_for(kind, tmp_path / "b", migrated=True) as second,
    ):
        _execute(first, INSERT)
        _execute(first, INSERT.replace("'x'", "'y'"))
        _execute(second, INSERT)
        with database_for(kind, tmp_path / "c", migrated=True) as third:
            counts = [_scalar(url, "SELECT count(*) FROM organisation")
                      for url in (first, second, third)]
            assert counts == [2, 1, 0]
            assert _scalar(second, "SELECT max(id) FROM organisation") == 1


def _execute(url: str, statement: str) -> None:
    if url.startswith("sqlite"):
        with closing(sqlite3.connect(make_url(url).database or "")) as connection:
            if "sqlite_master" in statement:
                connection.execute("PRAGMA writable_schema = ON")
            connection.execute(statement)
            connection.commit()
        return
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        connection.execute(statement.replace("organisation", f"{schema_of(url)}.organisation"))


def _scalar(url: str, query: str) -> Any:
    if url.startswith("sqlite"):
        with closing(sqlite3.connect(make_url(url).database or "")) as connection:
            return connection.execute(query).fetchone()[0]
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        row = connection.execute(query.replace("organisation", f"{schema_of(url)}.organisation"))
        return row.fetchone()[0]  # type: ignore[index]


@pytest.mark.postgres
def test_without_pg_dump_a_copy_is_migrated_in_its_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where pg_dump cannot be found, the pool's schemas are migrated one by one: slower,
    and still equal to a freshly migrated database."""

    def missing(name: str) -> str:
        raise templates.BackupRefused(f"{name} not found")

    monkeypatch.setattr(templates, "pg_tool", missing)
    own = templates.Templates(TEMPLATES.postgres_url)
    try:
        with (
            database_for("postgres", tmp_path / "fresh") as fresh,
            database_for("postgres", tmp_path / "copy") as copy,
        ):
            run_in_thread(lambda: migrate(fresh))
            own.copy_migrated(copy)
            assert fingerprint(copy) == fingerprint(fresh)
    finally:
        own.drop()
