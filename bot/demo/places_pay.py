"""Monday, continued: the places walkers flagged for the kommun's fault reporting, and the
weekend's payment basis in tiers, each night with why."""

from __future__ import annotations

from datetime import date
from functools import partial

import click

from bot.i18n import t
from evaluation import payments, places
from evaluation.exports.payment_tiers import why
from scheduling.common.context import Context
from scheduling.people.access import Actor

DEMO_TIERS = [{"min_walkers": 4, "amount": 2000}, {"min_walkers": 3, "amount": 1500}]


async def flagged_places(ctx: Context, coordinator: Actor) -> None:
    """The places list, and the first one marked as passed on to the kommun."""
    text = partial(t, "sv")
    items = await places.list_places(ctx, coordinator)
    for item in items:
        click.echo(
            f"  place {item.id}: {item.area}, {item.spot or text('places.other_spot')}: "
            f"{text(f'coordinator.place.{item.kind}')}, {item.reports} rapport(er), "
            f"{text(f'coordinator.place_status.{item.status}')}"
        )
    if items:
        marked = await places.mark_place(ctx, coordinator, items[0].id, "reported")
        click.echo(f"  place {marked.id} is now: {text('coordinator.place_status.reported')}")


async def tiered_payments(ctx: Context, coordinator: Actor, first: date, last: date) -> None:
    """Each night of the range with the tier it earned, or why nothing, in Swedish."""
    text = partial(t, "sv")
    basis = await payments.payment_basis(ctx, coordinator, first, last)
    for month in basis.months:
        for line in month.lines:
            click.echo(f"  {month.organisation} pass {line.walk.shift_id}: "
                       f"{line.tier_amount} kr – {why(basis, line, text)}")
    click.echo(f"  to pay in all: {basis.total} kr")
