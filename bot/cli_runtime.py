"""Commands that run things: the server (``vandra run``)."""

from __future__ import annotations

import click

from bot.cli.context import open_context, run_async
from bot.cli.root import cli, config_option, settings_of


@cli.command("run")
@config_option
def run_command() -> None:
    """Run the bot, the scheduler, the dispatcher and the HTTP server until stopped.

    \b
    Stops within 10 s on SIGTERM or Ctrl-C; unsent messages stay queued.
    Example:  vandra --config vandra.toml run
    """
    from bot.bootstrap import bootstrap
    from bot.logging_setup import configure_logging
    from bot.runtime import check_startup, serve

    settings = settings_of(click.get_current_context())
    configure_logging(settings)
    check_startup(settings)

    async def body() -> None:
        ctx = await open_context(settings, create_if_empty=False)  # the schema checked
        app = bootstrap(settings, store=ctx.store)
        try:
            await serve(app)
        finally:
            await app.close()

    run_async(body())


@cli.command("demo")
@click.option(
    "--database",
    type=click.Path(dir_okay=False),
    default="data/demo.db",
    show_default=True,
    help="Example database (recreated on every run).",
)
@config_option
def demo_command(database: str) -> None:
    """Show vandra working offline: a seeded Kalmar weekend on an accelerated clock.

    \b
    Example:  vandra demo
    """
    from pathlib import Path

    from bot.demo import run_demo
    from scheduling.common.clock import SystemClock

    settings = settings_of(click.get_current_context())
    run_async(run_demo(settings, Path(database), SystemClock().now()))


@cli.command("chat")
@click.option(
    "--as",
    "as_who",
    metavar="NAME|PHONE",
    help="Talk as this person (a stored person's name, or a phone number); else as a new person.",
)
@config_option
def chat_command(as_who: str | None) -> None:
    """Talk to the bot in the terminal: the same dialogue as Telegram and SMS.

    Options are numbered: answer with the number. Commands as in Telegram (/pass, /mina,
    /rapport, /hjalp ...). Quit with /quit or Ctrl-D.

    \b
    Example:  vandra chat --as "Anna Lindqvist"
    """
    import asyncio

    from bot.bootstrap import bootstrap
    from bot.channels.console import chat_loop, may_act_as
    from scheduling.common.errors import DomainError

    settings = settings_of(click.get_current_context())

    async def read_line(prompt: str) -> str | None:
        try:
            return await asyncio.to_thread(input, prompt)
        except EOFError:
            return None

    async def body() -> None:
        ctx = await open_context(settings)
        if as_who and not await may_act_as(ctx, as_who):
            await ctx.store.close()
            raise DomainError("person_not_found", ref=as_who)
        app = bootstrap(settings, store=ctx.store)
        try:
            await chat_loop(app.dialogue, read_line, click.echo, as_who)
        finally:
            await app.close()

    run_async(body())
