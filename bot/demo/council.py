"""Monday, last: the report for the crime-prevention council, as the coordinator gets it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from functools import partial
from pathlib import Path

import click

from bot.demo.talk import say
from bot.demo.world import Demo
from bot.i18n import t
from evaluation import council
from scheduling.people.access import Actor

REPORT_NAME = "rapport.pdf"
DEMO_KOMMUN = "Kalmar kommun"


async def council_report(
    demo: Demo, coordinator: Actor, first: date, last: date, out_dir: Path
) -> Path:
    """The week's report for the council (PDF, Swedish) in ``out_dir``: the same file as
    ``vandra report`` writes."""
    say("The report for the crime-prevention council (BRÅ), with charts")
    texts = partial(t, "sv")
    ctx = demo.ctx
    if ctx.settings.privacy.controller is None:  # the demo is Kalmar's: its name heads the report
        privacy = ctx.settings.privacy.model_copy(update={"controller": DEMO_KOMMUN})
        ctx = replace(ctx, settings=ctx.settings.model_copy(update={"privacy": privacy}))
    body = await council.council_report(ctx, coordinator, first, last, "pdf", "sv", texts)
    path = out_dir / REPORT_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    click.echo(f"  the council's report written: {path} (PDF, {len(body) // 1024} kB)")
    click.echo("  (vandra report --from DATE --to DATE --format pdf|html --out FILE writes one)")
    return path
