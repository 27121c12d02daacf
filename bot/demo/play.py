"""The demo from start to end: a fresh database, the story, and where to go next."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import click

from bot.demo.coordinator import the_coordinator
from bot.demo.scenes import (
    newcomer_on_telegram,
    promotion,
    show_shifts,
    signups_by_sms,
    signups_on_telegram,
)
from bot.demo.talk import say
from bot.demo.weekend import the_weekend
from bot.demo.world import fresh_database, running
from scheduling.common.config import Settings


async def run_demo(
    settings: Settings,
    database: Path,
    now: datetime,
    out_dir: Path = Path("demo-out"),
    progress: Callable[[str], None] = click.echo,
) -> None:
    """Seed a fresh example database and play the weekend on an accelerated clock."""
    fresh_database(database)
    progress("vandra demo: a Kalmar weekend of vuxenvandringar, offline")
    progress(f"example database: {database}")
    async with running(settings, database, now) as demo:
        say("Next weekend's shifts, as the coordinator sees them")
        await show_shifts(demo)
        friday = demo.shift_ids[0]
        await signups_on_telegram(demo, friday)
        await signups_by_sms(demo, friday)
        await newcomer_on_telegram(demo, friday)
        await promotion(demo, friday)
        await show_shifts(demo)
        await the_weekend(demo)
        await the_coordinator(demo, out_dir)
        say("Done")
        click.echo("Try the bot yourself, on the demo database, in the terminal:")
        click.echo(
            f"  VANDRA_DATABASE_URL=sqlite:///{database} .venv/bin/vandra chat "
            f'--as "Anna Lindqvist"'
        )
