"""`vandra db backup` under load and `vandra db restore`, on SQLite and on PostgreSQL.

Sign-ups keep arriving (in this process, through the use case, one transaction each) while
`vandra db backup` runs as a process of its own. The backup restored into a fresh database
holds a consistent state: every row is either as it was before the load or as it is at the
end, and a person's row shows the sign-up's write exactly when their sign-up is there (one
transaction, all or nothing). A second backup taken when the load has stopped restores to a
copy equal to the source in every table; restoring it over a database that holds data is
refused (exit 2) unless `--force` is given.

PostgreSQL: the source is a schema of its own in the test database; a dump carries its schema's
name, so the copy is restored into a fresh database made for the test, with a schema of the
same name (as production restores `public` into a new database's `public`).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, make_url

from bot.cli import main
from models import backup as backup_module
from models.backup import BackupRefused, pg_tool
from models.db import Store
from scheduling.common.clock import ManualClock
from scheduling.common.config import Settings
from scheduling.common.context import Context
from scheduling.people.directory import ACTIVITY_PRECISION
from scheduling.walks.signups import sign_up
from tests.conftest import POSTGRES_URL, _libpq_url, database_for, make_settings
from tests.helpers import add_people, add_shift, seed_org_area
from tests.test_run import vandra_env

PEOPLE = 120
SHIFTS = 6
# While the backup still runs, each of the last RESERVE sign-ups first waits up to
# RESERVE_PACE seconds for it to end: a backup slower than the rest of the load (a loaded
# machine starts its process slowly) still runs under load from start to end.
RESERVE = 100
RESERVE_PACE = 0.2

Tables = dict[str, dict[tuple[Any, ...], tuple[Any, ...]]]


@contextmanager
def restore_target(kind: str, source_url: str, folder: Path, name: str) -> Iterator[str]:
    """An empty database to restore into: a new SQLite file, or a new PostgreSQL database
    holding an empty schema named as the source's (dropped afterwards)."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / name}.db"
        return
    schema = source_url.rsplit("search_path%3D", 1)[1]
    database = f"r_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq_url(POSTGRES_URL), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{database}"')
    url = make_url(POSTGRES_URL).set(database=database).render_as_string(hide_password=False)
    try:
        with psycopg.connect(_libpq_url(url), autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA "{schema}"')
        yield f"{url}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(_libpq_url(POSTGRES_URL), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE "{database}" WITH (FORCE)')


async def cli(url: str, cwd: Path, *args: str) -> tuple[int, str]:
    """`vandra ARGS` as its own process on the database at ``url``: exit code and stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args,
        env=vandra_env(cwd, VANDRA_DATABASE_URL=url),
        cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await process.communicate()
    return process.returncode or 0, stderr.decode()


async def in_process(url: str, *args: str) -> tuple[int, str]:
    """`vandra ARGS` run by ``main`` in this process (on a thread: the command runs an event
    loop of its own), on the database at ``url``: exit code and stderr. Quicker than a
    process of its own where no concurrency is at stake."""

    def run() -> tuple[int, str]:
        stderr = io.StringIO()
        with redirect_stderr(stderr), redirect_stdout(io.StringIO()):
            try:
                main(list(args))
            except SystemExit as exit_:
                return int(exit_.code or 0), stderr.getvalue()
        return 0, stderr.getvalue()

    with pytest.MonkeyPatch.context() as patch:
        for name in [name for name in os.environ if name.startswith("VANDRA_")]:
            patch.delenv(name)
        patch.setenv("VANDRA_DATABASE_URL", url)
        return await asyncio.to_thread(run)


async def read_tables(url: str) -> Tables:
    """Every table of the database, each as its rows keyed by their primary key."""

    def read(connection: Connection) -> Tables:
        inspector = inspect(connection)
        tables: Tables = {}
        for table in inspector.get_table_names():
            key = inspector.get_pk_constraint(table)["constrained_columns"]
            result = connection.execute(text(f'SELECT * FROM "{table}"'))
            columns = list(result.keys())
            positions = [columns.index(column) for column in key] or list(range(len(columns)))
            tables[table] = {
                tuple(row[p] for p in positions): tuple(row) for row in result.all()
            }
        return tables

    store = Store.open(url)
    try:
        async with store.engine.connect() as connection:
            return await connection.run_sync(read)
    finally:
        await store.close()


async def seed(settings: Settings) -> tuple[Context, list[tuple[int, int]]]:
    """People with consent and shifts on separate days, in a migrated store; the sign-ups to
    make, in order (each person through all shifts before the next person)."""
    store = Store.open(settings.database.url)
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    ctx = Context(store=store, settings=settings, clock=clock)
    org, area = await seed_org_area(ctx)
    people = await add_people(ctx, PEOPLE, org=org)
    shifts = [
        await add_shift(ctx, org, area, start_in=timedelta(days=2 + n), max_walkers=20)
        for n in range(SHIFTS)
    ]
    pairs = [(p.id or 0, s.id or 0) for p in people for s in shifts]
    # later on: a person's first sign-up also notes their activity, in its transaction
    clock.advance(ACTIVITY_PRECISION + timedelta(minutes=1))
    return ctx, pairs


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.slow
async def test_backup_under_load_restores_a_consistent_copy(kind: str, tmp_path: Path) -> None:
    with database_for(kind, tmp_path, migrated=True) as source_url:
        ctx, pairs = await seed(make_settings(source_url))
        try:
            before = await read_tables(source_url)
            done = 0
            backup_running, backup_done = asyncio.Event(), asyncio.Event()

            async def load() -> None:
                nonlocal done
                for person, shift in pairs:
                    if done == 10:
                        backup_running.set()
                    if len(pairs) - done <= RESERVE:  # the backup is slow: keep the load going
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(backup_done.wait(), RESERVE_PACE)
                    await sign_up(ctx, person, shift)
                    done += 1
                    await asyncio.sleep(0)

            loader = asyncio.create_task(load())
            await backup_running.wait()
            started = done
            code, stderr = await cli(source_url, tmp_path, "db", "backup", "--out", "busy.bak")
            finished = done
            backup_done.set()
            still_loading = not loader.done()
            loader.cancel()
            await asyncio.gather(loader, return_exceptions=True)
            assert code == 0, stderr
            assert still_loading, "the load ended before the backup did"
            assert finished > started, "no sign-up while the backup ran"
            after = await read_tables(source_url)
            busy, quiet = str(tmp_path / "busy.bak"), str(tmp_path / "quiet.bak")
            with restore_target(kind, source_url, tmp_path, "copy") as copy_url:
                code, stderr = await in_process(copy_url, "db", "restore", busy)
                assert code == 0, stderr
                assert_consistent(before, after, await read_tables(copy_url), started, finished)

                # quiet now: a backup restores to an exact copy, over data only with --force
                code, stderr = await in_process(source_url, "db", "backup", "--out", quiet)
                assert code == 0, stderr
                code, stderr = await in_process(copy_url, "db", "restore", quiet)
                assert code == 2 and "--force" in stderr, stderr
                assert len(stderr.strip().splitlines()) == 1
                code, stderr = await cli(copy_url, tmp_path, "db", "restore", quiet, "--force")
                assert code == 0, stderr
                assert await read_tables(copy_url) == after
        finally:
            await ctx.store.close()


def assert_consistent(
    before: Tables, after: Tables, restored: Tables, started: int, finished: int
) -> None:
    """Every restored row is its row before or after the load; sign-ups restored took place
    while the backup ran; each brought its person's write along (all or nothing)."""
    assert set(restored) == set(after)
    for table, rows in restored.items():
        for key, row in rows.items():
            if table == "walk_tally_due" and key in before[table]:  # a change counter (gen)
                assert_between(before[table][key], row, after[table][key])
                continue
            assert row in (before[table].get(key), after[table].get(key)), (table, key)
    signups = len(restored["signup"])
    assert started <= signups <= finished, (started, signups, finished)
    signed_up = {row[1:3] for row in _named(restored, "signup", "shift_id", "person_id")}
    changed = {
        key for key, row in after["person"].items() if row != before["person"][key]
    }
    assert changed, "a sign-up writes its person's last activity"
    people_with_signups = {person for _shift, person in signed_up}
    for key in changed:
        touched = restored["person"][key] == after["person"][key]
        assert touched == (key[0] in people_with_signups), key


def assert_between(before: tuple[Any, ...], row: tuple[Any, ...], after: tuple[Any, ...]) -> None:
    """A walk listed as due to be counted again (``walk_tally_due``): its ``gen`` grows with
    each change to the walk's rows, so a copy taken midway holds a count in between."""
    from models.tally_tables import WalkTallyDue

    gen = list(WalkTallyDue.__table__.columns.keys()).index("gen")
    same = [value for n, value in enumerate(row) if n != gen]
    assert same in ([v for n, v in enumerate(before) if n != gen],
                    [v for n, v in enumerate(after) if n != gen]), row  # fmt: skip
    assert before[gen] <= row[gen] <= after[gen], (before, row, after)


def _named(tables: Tables, table: str, *columns: str) -> list[tuple[Any, ...]]:
    """Rows of ``table`` as (key, *columns), for the columns named (looked up by model)."""
    from models.tables import SQLModel

    names = [c.name for c in SQLModel.metadata.tables[table].columns]
    return [
        (key, *(row[names.index(column)] for column in columns))
        for key, row in tables[table].items()
    ]


async def test_restore_refuses_what_is_not_its_backup(tmp_path: Path) -> None:
    """A file that is no backup, a missing file, a backup of the other kind: exit 2, one line."""
    url = f"sqlite:///{tmp_path / 'target.db'}"
    (tmp_path / "junk.bak").write_bytes(b"not a backup at all")
    (tmp_path / "pg.bak").write_bytes(b"PGDMP\x01\x0e\x00")
    for name, says in (
        ("junk.bak", "not a vandra backup"),
        ("missing.bak", "cannot read"),
        ("pg.bak", "restores only on PostgreSQL"),
    ):
        code, stderr = await in_process(url, "db", "restore", str(tmp_path / name))
        assert code == 2 and says in stderr, stderr
        assert len(stderr.strip().splitlines()) == 1


def test_missing_pg_dump_is_a_clear_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither on PATH nor in Debian's folders: exit-2 refusal naming the package."""
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(backup_module, "PG_BIN_GLOB", "/nonexistent/*/bin")
    with pytest.raises(BackupRefused, match=r"pg_dump not found.*postgresql-client"):
        pg_tool("pg_dump")


def test_pg_tools_are_found_in_debians_folders(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Not on PATH: the newest /usr/lib/postgresql/<version>/bin holding the tool is used."""
    for version in ("9.6", "16", "15"):
        folder = tmp_path / version / "bin"
        folder.mkdir(parents=True)
        tool = folder / "pg_dump"
        tool.write_text("#!/bin/sh\n")
        tool.chmod(0o755)
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(backup_module, "PG_BIN_GLOB", f"{tmp_path}/*/bin")
    assert pg_tool("pg_dump") == str(tmp_path / "16" / "bin" / "pg_dump")

