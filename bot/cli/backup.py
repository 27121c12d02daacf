"""``vandra db backup`` and ``vandra db restore`` (the work is done in models/backup.py)."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.context import run_async
from bot.cli.db import db
from bot.cli.errors import fail
from bot.cli.root import config_option, settings_of
from models.backup import BackupFailed, backup, restore
from models.db import Store, schema_state, upgrade


@db.command("backup")
@click.option(
    "--out",
    "out",
    required=True,
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the backup (replaced if it exists).",
)
@config_option
def db_backup(out: Path) -> None:
    """Write a consistent copy of the whole database to FILE, also while `vandra run` runs.

    SQLite: a SQLite file (the online backup API). PostgreSQL: pg_dump's custom format of the
    configured schema (pg_dump from PATH or /usr/lib/postgresql/*/bin).

    \b
    Example:  vandra db backup --out /var/backups/vandra/vandra-2026-12-01.db
    """
    settings = settings_of(click.get_current_context())
    try:
        done = backup(settings.database.url, out)
    except BackupFailed as exc:
        fail(str(exc), 1)
    click.echo(done.what)


@db.command("restore")
@click.argument("file", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace what the configured database holds.")
@config_option
def db_restore(file: Path, force: bool) -> None:
    """Load a backup made by `vandra db backup` into the configured, empty database, then
    bring its schema up to this version. Stop `vandra run` first.

    \b
    Example:  vandra db restore /var/backups/vandra/vandra-2026-12-01.db
    """
    url = settings_of(click.get_current_context()).database.url
    try:
        done = restore(url, file, force=force)
    except BackupFailed as exc:
        fail(str(exc), 1)

    async def migrate() -> str:
        store = Store.open(url)
        try:
            before = await schema_state(store.engine)
            await upgrade(store.engine)
            return f"schema at {before.head} (backup at {before.current or 'none'})"
        finally:
            await store.close()

    click.echo(f"{done.what}; {run_async(migrate())}")
