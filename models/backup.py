"""Backups of the whole store, and restoring one (``vandra db backup`` / ``vandra db restore``).

SQLite: the file is copied with SQLite's online backup API in one step, which reads a single
snapshot while other processes (a running ``vandra run``) go on writing (WAL lets readers and
the writer pass each other). The copy is a plain SQLite database with no WAL beside it.

PostgreSQL: ``pg_dump --format=custom`` of the schema the configured URL works in (its
``search_path``, normally ``public``); pg_dump reads one snapshot too. pg_dump and pg_restore
are taken from ``PATH``, else from the newest ``/usr/lib/postgresql/*/bin`` (Debian's
packages), since a dump needs a pg_dump at least as new as the server. A dump restores into a
database whose configured schema has the same name (objects in a dump carry their schema's
name); the schema must exist, as ``public`` always does.

Restoring needs an empty target (no rows in any table: a schema just made by ``vandra db
upgrade`` counts as empty) unless ``force`` is given; what is there is replaced. The schema is
brought up to this version's afterwards by the caller (``models.db.upgrade``), so a backup
taken by an older version restores into a newer one.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from glob import glob
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import make_url

from models.db import StoreError
from models.engine import async_url
from models.whole_files import fsync, partial_beside

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"


class BackupRefused(StoreError):
    """Bad input for a backup or restore (exit 2): a non-empty target, a wrong file, a
    missing tool."""


class BackupFailed(Exception):
    """The backup or restore itself went wrong (exit 1)."""


@dataclass(frozen=True)
class Done:
    """What a backup or restore did, for the one line the CLI prints."""

    what: str


def backup(url: str, out: Path) -> Done:
    """Write a consistent copy of the configured store to ``out`` (replaced atomically)."""
    target = async_url(url)
    if target.get_backend_name() == "sqlite":
        return _sqlite_backup(_sqlite_path(url), out)
    return _pg_backup(_Pg.of(url), out)


def restore(url: str, source: Path, *, force: bool = False) -> Done:
    """Load a backup into the configured store, which must be empty unless ``force``."""
    try:
        with source.open("rb") as file:
            head = file.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupRefused(f"cannot read {source}: {exc.strerror or exc}") from None
    sqlite_target = async_url(url).get_backend_name() == "sqlite"
    if head.startswith(SQLITE_MAGIC):
        if not sqlite_target:
            raise BackupRefused(f"{source} is a SQLite backup: it restores only on SQLite")
        return _sqlite_restore(_sqlite_path(url), source, force=force)
    if head.startswith(PG_DUMP_MAGIC):
        if sqlite_target:
            raise BackupRefused(f"{source} is a PostgreSQL dump: it restores only on PostgreSQL")
        return _pg_restore(_Pg.of(url), source, force=force)
    raise BackupRefused(f"{source} is not a vandra backup (neither SQLite nor pg_dump's format)")


# --- SQLite -----------------------------------------------------------------------------------


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupRefused("[database] url: backup and restore need a SQLite file path")
    return Path(database).expanduser()


def _tables(connection: sqlite3.Connection) -> list[str]:
    rows = connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    return [str(row[0]) for row in rows]


def _sqlite_backup(database: Path, out: Path) -> Done:
    if not database.is_file():
        raise BackupRefused(f"no database at {database}")
    partial = partial_beside(out)
    try:
        source = sqlite3.connect(database, timeout=30)
        try:
            copy = sqlite3.connect(partial)
            try:
                source.backup(copy)  # all pages in one step: one snapshot
                copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
                _check(copy, partial)
            finally:
                copy.close()
        finally:
            source.close()
        fsync(partial)
        os.replace(partial, out)
    except sqlite3.Error as exc:
        raise BackupFailed(f"SQLite backup failed: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    return Done(f"backup of {database} written to {out} ({out.stat().st_size} bytes)")


def _check(connection: sqlite3.Connection, path: Path) -> None:
    verdict = connection.execute("PRAGMA quick_check").fetchone()
    if not verdict or verdict[0] != "ok":
        raise BackupFailed(f"{path} failed SQLite's check: {verdict}")


def _sqlite_restore(database: Path, source: Path, *, force: bool) -> Done:
    backup_file = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        _check(backup_file, source)
        if "alembic_version" not in _tables(backup_file):
            raise BackupRefused(f"{source} is a SQLite database but not a vandra backup")
        database.parent.mkdir(parents=True, exist_ok=True)
        target = sqlite3.connect(database, timeout=30)
        try:
            filled = [
                table for table in _tables(target)
                if table != "alembic_version"
                and target.execute(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone()
            ]
            if filled and not force:
                raise BackupRefused(_not_empty(str(database), len(filled)))
            backup_file.backup(target)
        finally:
            target.close()
    except sqlite3.Error as exc:
        raise BackupFailed(f"SQLite restore failed: {exc}") from None
    finally:
        backup_file.close()
    return Done(f"restored {source} into {database}")


def _not_empty(where: str, tables: int) -> str:
    return (
        f"{where} is not empty ({tables} tables hold rows): restore into an empty database, "
        "or give --force to replace what it holds"
    )


# --- PostgreSQL -------------------------------------------------------------------------------


def pg_tool(name: str) -> str:
    """The path of ``pg_dump`` or ``pg_restore``: on PATH, else Debian's newest."""
    found = shutil.which(name)
    if found:
        return found

    def version(folder: str) -> tuple[int, ...]:
        number = Path(folder).parent.name
        return tuple(int(part) for part in re.findall(r"\d+", number)) or (0,)

    for folder in sorted(glob(PG_BIN_GLOB), key=version, reverse=True):
        candidate = Path(folder) / name
        if os.access(candidate, os.X_OK):
            return str(candidate)
    raise BackupRefused(
        f"{name} not found on PATH or in {PG_BIN_GLOB}: install PostgreSQL's client programs "
        "(Debian: apt-get install postgresql-client)"
    )


@dataclass(frozen=True)
class _Pg:
    """How to reach the configured PostgreSQL database with libpq tools (the password goes
    through the environment, never the command line)."""

    conninfo: str
    password: str | None

    @classmethod
    def of(cls, url: str) -> _Pg:
        parsed = make_url(url)
        params: dict[str, str] = {}
        for key, value in parsed.query.items():
            params[key] = value if isinstance(value, str) else value[-1]
        given = {
            "host": parsed.host,
            "port": parsed.port,
            "user": parsed.username,
            "dbname": parsed.database,
        }
        params.update({key: str(value) for key, value in given.items() if value is not None})
        return cls(conninfo=make_conninfo(**params), password=parsed.password)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password is not None:
            env["PGPASSWORD"] = self.password
        return env

    def connect(self) -> psycopg.Connection[tuple[object, ...]]:
        try:
            return psycopg.connect(self.conninfo, password=self.password, connect_timeout=10)
        except psycopg.Error as exc:
            raise BackupFailed(f"cannot connect to PostgreSQL: {_first_line(exc)}") from None

    def schema(self) -> str:
        """The schema the configured connection works in (first existing one on its path)."""
        with self.connect() as connection:
            row = connection.execute("SELECT current_schema()").fetchone()
            path = connection.execute("SHOW search_path").fetchone()
        if not row or row[0] is None:
            shown = path[0] if path else "?"
            raise BackupRefused(
                f"no schema of the search path ({shown}) exists in the configured database: "
                "create it first"
            )
        return str(row[0])

    def run(self, args: list[str], what: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(args, env=self.env(), capture_output=True, text=True)
        if result.returncode != 0:
            lines = [line for line in result.stderr.splitlines() if line.strip()]
            raise BackupFailed(f"{what} failed: {lines[-1] if lines else result.returncode}")
        return result


_RELATIONS = """
    SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
"""
# the schema's own functions (the statistics' tally triggers call them): a dump brings them
_FUNCTIONS = """
    SELECT p.proname, pg_get_function_identity_arguments(p.oid) FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %s
"""
_DROP = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE",
         "f": "FOREIGN TABLE"}


def _pg_backup(pg: _Pg, out: Path) -> Done:
    pg_dump = pg_tool("pg_dump")
    schema = pg.schema()
    partial = partial_beside(out)
    try:
        pg.run(
            [pg_dump, "--format=custom", f"--schema={_quoted(schema)}", "--file", str(partial),
             "--dbname", pg.conninfo],
            "pg_dump",
        )
        fsync(partial)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return Done(f"backup of schema {schema} written to {out} ({out.stat().st_size} bytes)")


def _pg_restore(pg: _Pg, source: Path, *, force: bool) -> Done:
    pg_restore = pg_tool("pg_restore")
    listing = pg.run([pg_restore, "--list", str(source)], "pg_restore --list").stdout
    dumped = {m.group(1) for m in re.finditer(r"^\d+; \d+ \d+ SCHEMA - (\S+) ", listing, re.M)}
    schema = pg.schema()
    if dumped != {schema}:
        raise BackupRefused(
            f"{source} holds schema {', '.join(sorted(dumped)) or '(none)'}, the configured "
            f"database works in {schema}: restore into a database whose search path names it"
        )
    _pg_make_room(pg, schema, force=force)
    # The schema exists already: everything but its own entries (CREATE, COMMENT) is loaded.
    entries = [
        line for line in listing.splitlines()
        if not re.match(r"^\d+; \d+ \d+ (SCHEMA|COMMENT) - (SCHEMA )?\S+ ", line)
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".list") as chosen:
        chosen.write("\n".join(entries) + "\n")
        chosen.flush()
        pg.run(
            [pg_restore, "--no-owner", "--no-privileges", "--single-transaction",
             "--exit-on-error", "--use-list", chosen.name, "--dbname", pg.conninfo, str(source)],
            "pg_restore",
        )
    return Done(f"restored {source} into schema {schema}")


def _pg_make_room(pg: _Pg, schema: str, *, force: bool) -> None:
    """Refuse a schema that holds tables, or (``force``) drop them all in one transaction;
    its functions go too (a schema just made by ``vandra db upgrade`` has them, and so has
    the dump)."""
    with pg.connect() as connection:
        present = connection.execute(_RELATIONS, (schema,)).fetchall()
        filled = [
            name for name, kind in present
            if kind in ("r", "p") and name != "alembic_version"
            and connection.execute(
                sql.SQL("SELECT 1 FROM {}.{} LIMIT 1").format(
                    sql.Identifier(schema), sql.Identifier(str(name))
                )
            ).fetchone()
        ]
        if filled and not force:
            where = f"schema {schema} of the configured database"
            raise BackupRefused(_not_empty(where, len(filled)))
        for name, kind in present:
            statement = sql.SQL("DROP {} IF EXISTS {}.{} CASCADE").format(
                sql.SQL(_DROP[str(kind)]), sql.Identifier(schema), sql.Identifier(str(name))
            )
            connection.execute(statement)
        for name, arguments in connection.execute(_FUNCTIONS, (schema,)).fetchall():
            connection.execute(sql.SQL("DROP FUNCTION IF EXISTS {}.{}({}) CASCADE").format(
                sql.Identifier(schema), sql.Identifier(str(name)), sql.SQL(str(arguments))
            ))  # fmt: skip


def _quoted(name: str) -> str:
    """A pg_dump pattern matching exactly this name."""
    return '"' + name.replace('"', '""') + '"'


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
