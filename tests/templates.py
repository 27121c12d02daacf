"""Migrated databases for tests without running every migration for every test.

The migrations run once per test session into a template: a SQLite file, and a PostgreSQL
schema of its own. A test's database is then a copy of it: the file copied, or, on
PostgreSQL, a schema filled from the template's dump (``pg_dump``: its tables, columns,
defaults, constraints, indexes, sequences and rows, ``alembic_version`` among them, replayed
in one round trip) and renamed to the test's schema. A thread of this process keeps two such
schemas ready and drops the tests' schemas afterwards, so that PostgreSQL does that work on
the other core while tests run; a test waits only for the rename. Running the migrations takes
about 120 ms on SQLite and 300 ms on PostgreSQL per test; a copy a few milliseconds.
``tests/test_templates.py`` proves a copy equals a freshly migrated database on both
backends (``fingerprint``), and that the comparison sees a missing index, constraint or
sequence value.

Tests about migrating itself (an empty database, ``vandra db upgrade``, an upgrade from an
old revision) still get an empty database: only ``copy_migrated`` fills one.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import queue
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Coroutine
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from models.backup import BackupRefused, pg_tool
from models.db import Store, upgrade

_SCHEMA_OPTION = "search_path%3D"
_TOKEN = "__vandra_template_schema__"


def schema_of(url: str) -> str:
    """The schema a test's PostgreSQL URL puts first on the search path (``database_for``)."""
    schema = url.rsplit(_SCHEMA_OPTION, 1)[1]
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", schema):
        raise ValueError(f"not a plain schema name: {schema!r}")
    return schema


def libpq_url(url: str) -> str:
    """The URL for psycopg and libpq tools: no SQLAlchemy driver, no ``options`` query."""
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url.split("?", 1)[0])


def run_in_thread(make: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a coroutine to completion on a loop of its own (callers may be inside a loop)."""
    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(make())
        except BaseException as exc:  # handed to the caller
            failure.append(exc)

    thread = threading.Thread(target=target, name="vandra-template")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


async def migrate(url: str) -> None:
    """Run every migration on the database at ``url`` (the real, slow way)."""
    store = Store.open(url)
    try:
        await upgrade(store.engine)
    finally:
        await store.close()


def replayable(dump: str, schema: str) -> str:
    """A plain ``pg_dump`` of one schema as a script for another: psql's meta-commands
    (``\\restrict``) and comments out, no ``CREATE SCHEMA`` (the target exists), and the
    schema's name a placeholder."""
    lines = [
        line for line in dump.splitlines()
        if not line.startswith("\\") and not line.startswith("--")
    ]
    script = "\n".join(lines)
    script, created = re.subn(rf"^CREATE SCHEMA {schema};$", "", script, flags=re.MULTILINE)
    if created != 1:
        raise RuntimeError(f"pg_dump of {schema} holds no CREATE SCHEMA statement")
    return re.sub(rf"\b{schema}\b", _TOKEN, script)


class Templates:
    """The session's migrated templates, made on first use; ``drop`` removes them."""

    def __init__(self, postgres_url: str) -> None:
        self.postgres_url = postgres_url
        self._lock = threading.Lock()
        self._folder: Path | None = None
        self._sqlite: Path | None = None
        self._pg_schema: str | None = None
        self._pg_script: str | None = None
        self._pg_failure: Exception | None = None
        self._pg_made = False
        self._schemas: SchemaPool | None = None

    def copy_migrated(self, url: str) -> None:
        """Fill the empty database at ``url`` (a test's SQLite file, not yet there, or a
        test's empty PostgreSQL schema) with a copy of the migrated template."""
        if make_url(url).get_backend_name() == "sqlite":
            self._copy_sqlite(url)
        else:
            self._copy_postgres(url)

    def _copy_sqlite(self, url: str) -> None:
        database = make_url(url).database
        assert database, url
        target = Path(database)
        if target.exists():
            raise FileExistsError(f"{target}: a migrated copy goes to a new file only")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self._sqlite_template(), target)

    def _sqlite_template(self) -> Path:
        with self._lock:
            if self._sqlite is None:
                self._folder = Path(tempfile.mkdtemp(prefix="vandra-template-"))
                path = self._folder / "template.db"
                run_in_thread(lambda: migrate(f"sqlite:///{path}"))
                # everything in the one file (WAL emptied), so that copying the file is enough
                with closing(sqlite3.connect(path)) as connection:
                    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                assert not Path(f"{path}-wal").exists() or not Path(f"{path}-wal").stat().st_size
                self._sqlite = path
            return self._sqlite

    def _copy_postgres(self, url: str) -> None:
        """The test's empty schema replaced by a filled one of the pool, renamed to its name
        (sequences and defaults refer to each other by oid: a rename changes nothing else)."""
        target = schema_of(url)
        ready = self._pool().take()
        with psycopg.connect(libpq_url(url), autocommit=True) as connection:
            connection.execute(
                f'DROP SCHEMA "{target}"; ALTER SCHEMA "{ready}" RENAME TO "{target}"'.encode()
            )

    def fill(self, schema: str, connection: psycopg.Connection[Any]) -> None:
        """Make ``schema`` a copy of the migrated template (without pg_dump here: migrated)."""
        script = self._postgres_script()
        if script is None:
            connection.execute(f'CREATE SCHEMA "{schema}"')
            try:
                run_in_thread(lambda: migrate(self._schema_url(schema)))
            except BaseException:
                connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
                raise
            return
        script = script.replace(_TOKEN, schema)
        connection.execute(f'CREATE SCHEMA "{schema}"; {script}'.encode())  # one simple query

    def _schema_url(self, schema: str) -> str:
        return f"{self.postgres_url.split('?', 1)[0]}?options=-c{_SCHEMA_OPTION}{schema}"

    def drop_schema(self, schema: str) -> None:
        """Drop a test's PostgreSQL schema, soon, on the pool's thread."""
        self._pool().drop(schema)

    def _pool(self) -> SchemaPool:
        with self._lock:
            if self._schemas is None:
                self._schemas = SchemaPool(libpq_url(self.postgres_url), self.fill)
            return self._schemas

    def _postgres_script(self) -> str | None:
        """The template's dump as a script, or None where there is no pg_dump."""
        with self._lock:
            if self._pg_failure is not None:
                raise self._pg_failure
            if not self._pg_made:
                try:
                    self._pg_script = self._make_postgres_template()
                except Exception as exc:
                    self._pg_failure = exc
                    raise
                self._pg_made = True
            return self._pg_script

    def _make_postgres_template(self) -> str | None:
        try:
            pg_dump = pg_tool("pg_dump")
        except BackupRefused:
            return None  # each schema is migrated instead: slower, as correct
        schema = f"tmpl_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(libpq_url(self.postgres_url), autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA "{schema}"')
        self._pg_schema = schema
        run_in_thread(lambda: migrate(self._schema_url(schema)))
        return replayable(self._pg_dump(pg_dump, schema), schema)

    def _pg_dump(self, pg_dump: str, schema: str) -> str:
        parsed = make_url(self.postgres_url)
        env = dict(os.environ)
        if parsed.password:
            env["PGPASSWORD"] = str(parsed.password)
        target = libpq_url(parsed.set(password=None).render_as_string(hide_password=False))
        done = subprocess.run(
            [pg_dump, "--schema", schema, "--no-owner", "--no-privileges",
             "--inserts", "--dbname", target],
            capture_output=True, text=True, env=env, check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"pg_dump of the template failed: {done.stderr.strip()}")
        return done.stdout

    def drop(self) -> None:
        """Remove the templates, the pool and what it had still to drop (end of session)."""
        if self._schemas is not None:
            self._schemas.close()
            self._schemas = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = self._sqlite = None
        if self._pg_schema is not None:
            with psycopg.connect(libpq_url(self.postgres_url), autocommit=True) as connection:
                connection.execute(f'DROP SCHEMA IF EXISTS "{self._pg_schema}" CASCADE')
            self._pg_schema = self._pg_script = None
            self._pg_made = False


class SchemaPool:
    """Filled PostgreSQL schemas ready to be taken, and tests' schemas to drop: the work of
    one thread with a connection of its own; filling comes before dropping."""

    SIZE = 2
    FILL, DROP, STOP = 0, 1, 2

    def __init__(self, admin_url: str, fill: Callable[[str, psycopg.Connection[Any]], None]):
        self.admin_url = admin_url
        self._fill = fill
        self._ready: queue.Queue[str | BaseException] = queue.Queue()
        self._jobs: queue.PriorityQueue[tuple[int, int, str]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._unclaimed: set[str] = set()
        self.failures: list[str] = []
        self._thread = threading.Thread(target=self._work, name="vandra-schemas", daemon=True)
        self._thread.start()
        for _ in range(self.SIZE):
            self._put(self.FILL)

    def take(self) -> str:
        """A filled schema (waiting for one if none is ready); another is made in its place."""
        self._put(self.FILL)
        made = self._ready.get(timeout=300)
        if isinstance(made, BaseException):
            raise RuntimeError("could not fill a schema from the migrated template") from made
        self._unclaimed.discard(made)
        return made

    def drop(self, schema: str) -> None:
        self._put(self.DROP, schema)

    def close(self) -> None:
        """Finish the drops, stop the thread, drop the schemas nobody took."""
        self._put(self.STOP)
        self._thread.join(timeout=300)
        leftovers = sorted(self._unclaimed)
        if leftovers:
            names = ", ".join(f'"{name}"' for name in leftovers)
            with psycopg.connect(self.admin_url, autocommit=True) as connection:
                connection.execute(f"DROP SCHEMA IF EXISTS {names} CASCADE")
        if self.failures:
            print("tests/templates.py: " + "; ".join(self.failures), file=sys.stderr)

    def _put(self, job: int, schema: str = "") -> None:
        self._jobs.put((job, next(self._order), schema))

    def _work(self) -> None:
        connection: psycopg.Connection[Any] | None = None
        while True:
            job, _, schema = self._jobs.get()
            if job == self.STOP:
                break
            try:
                if connection is None or connection.closed:
                    connection = psycopg.connect(
                        self.admin_url, autocommit=True, application_name="vandra-test-schemas"
                    )
                    connection.execute("SET lock_timeout = '60s'")
                self._do(job, schema, connection)
            except BaseException as exc:  # reported to the test that waits, or at the end
                if job == self.FILL:
                    self._ready.put(exc)
                else:
                    self.failures.append(f"could not drop schema {schema}: {exc}")
                if connection is not None:
                    connection.close()
        if connection is not None:
            connection.close()

    def _do(self, job: int, schema: str, connection: psycopg.Connection[Any]) -> None:
        if job == self.DROP:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            return
        made = f"p_{uuid.uuid4().hex[:12]}"
        self._fill(made, connection)  # one transaction: a schema filled, or none at all
        self._unclaimed.add(made)
        self._ready.put(made)
