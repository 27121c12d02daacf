"""Monday: the coordinator's figures for the weekend, an XLSX export and a dashboard link."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial
from pathlib import Path

import click

from bot.demo.cast import COORDINATOR
from bot.demo.council import council_report
from bot.demo.places_pay import flagged_places, tiered_payments
from bot.demo.talk import say
from bot.demo.world import Demo
from bot.i18n import t
from evaluation import exports
from evaluation import statistics as stats
from scheduling.common.clock import SystemClock
from scheduling.common.context import Context
from scheduling.links.logins import issue_dashboard_link
from scheduling.people import directory
from scheduling.people.access import Actor

DEMO_LINK_LIFETIME = timedelta(hours=24)  # a newcomer reads the demo first, then opens it


async def the_coordinator(demo: Demo, out_dir: Path) -> None:
    say("Monday: the coordinator's figures for the weekend")
    async with demo.ctx.store.transaction() as session:
        person = await directory.get_person(session, demo.people[COORDINATOR.name])
    coordinator = Actor.of(person, "cli")
    local_day = demo.clock.now().astimezone(demo.ctx.zone).date()
    first, last = local_day - timedelta(days=7), local_day
    report = await stats.statistics(demo.ctx, coordinator, first, last)
    overall = report.overall
    click.echo(
        f"  shifts planned {overall.planned}, held {overall.held}, walker-hours "
        f"{overall.walker_hours:.1f}, walkers {overall.unique_walkers}, reports "
        f"{overall.reports}, young people met (estimate) {overall.youth_contacts}"
    )
    for name, figures in report.by_area:
        click.echo(f"  {name}: held {figures.held}, walker-hours {figures.walker_hours:.1f}")
    await export(demo, coordinator, first, last, out_dir)
    say("The places walkers flagged, for the kommun's fault reporting")
    await flagged_places(demo.ctx, coordinator)
    say("The payment basis in tiers: 2 000 kr with four walkers, 1 500 kr with three")
    await tiered_payments(demo.ctx, coordinator, first, last)
    await council_report(demo, coordinator, first, last, out_dir)
    real_time = Context(store=demo.ctx.store, settings=demo.ctx.settings, clock=SystemClock())
    link = await issue_dashboard_link(real_time, coordinator, DEMO_LINK_LIFETIME)
    hours = int(DEMO_LINK_LIFETIME.total_seconds() // 3600)
    click.echo(f"  the coordinator's dashboard link (one use, {hours} hours): {link}")
    click.echo(
        f"  to open it: VANDRA_DATABASE_URL=sqlite:///{demo.database} "
        ".venv/bin/vandra run   (then open the link)"
    )


async def export(demo: Demo, coordinator: Actor, first: date, last: date, out_dir: Path) -> None:
    """The week's reports as an XLSX file in ``out_dir``."""
    texts = partial(t, "sv")
    tables = await exports.build_export(
        demo.ctx, coordinator, exports.ExportRequest("reports", first, last), texts
    )
    path = out_dir / exports.filename("reports", first, last, "xlsx")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(exports.render(tables, texts, "xlsx"))
    click.echo(f"  XLSX export written: {path}")
