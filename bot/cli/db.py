"""``vandra db upgrade``: create the database or bring its schema up to date."""

from __future__ import annotations

import click

from bot.cli.context import run_async
from bot.cli.root import config_option, settings_of
from models.db import schema_state, upgrade
from scheduling.common.context import Context


@click.group()
def db() -> None:
    """The database: create it, bring its schema up to date, back it up and restore it."""


@db.command("upgrade")
@config_option
def db_upgrade() -> None:
    """Create the database or migrate it to this version's schema.

    \b
    Example:  vandra db upgrade
    """
    settings = settings_of(click.get_current_context())

    async def body() -> str:
        ctx = Context.create(settings)
        try:
            before = await schema_state(ctx.store.engine)
            await upgrade(ctx.store.engine)
            return f"database at {before.head} (was {before.current or 'empty'})"
        finally:
            await ctx.store.close()

    click.echo(run_async(body()))
