"""Commands that run things: the server (``vandra run``)."""

from __future__ import annotations

import click

from bot.cli import cli, config_option, open_context, run_async, settings_of


@cli.command("run")
@config_option
def run_command() -> None:
    """Run the bot, the scheduler, the dispatcher and the HTTP server until stopped.

    \b
    Stops within 10 s on SIGTERM or Ctrl-C; unsent messages stay queued.
    Example:  vandra --config vandra.toml run
    """
    from bot.logging_setup import configure_logging
    from bot.runtime import check_startup, serve

    settings = settings_of(click.get_current_context())
    configure_logging(settings)
    check_startup(settings)

    async def body() -> None:
        ctx = await open_context(settings, create_if_empty=False)
        try:
            await serve(ctx)
        finally:
            await ctx.store.close()

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
    from scheduling.clock import SystemClock

    settings = settings_of(click.get_current_context())
    run_async(run_demo(settings, Path(database), SystemClock().now()))
