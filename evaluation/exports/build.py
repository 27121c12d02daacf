"""Building an export: its tables, for what the actor may see, audited."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from evaluation.exports.files import render
from evaluation.exports.payments import payments_export
from evaluation.exports.places import places_export
from evaluation.exports.reports import reports
from evaluation.exports.shifts import shifts
from evaluation.exports.signups import signups
from evaluation.exports.stats import stats_export
from evaluation.exports.tables import KINDS, ExportRequest, Table
from evaluation.off_loop import collector_paused, off_loop
from evaluation.walk_facts import bounded_range
from scheduling.common.context import Context
from scheduling.common.errors import InvalidInput
from scheduling.common.labels import Texts
from scheduling.people.access import Actor, audit, require_coordinator
from scheduling.people.scope import organisation_scope

Builder = Callable[[Context, ExportRequest, int | None, Texts], Awaitable[list[Table]]]
BUILDERS: dict[str, Builder] = {
    "reports": reports,
    "shifts": shifts,
    "signups": signups,
    "stats": stats_export,
    "payments": payments_export,
    "places": places_export,
}


async def build_export(
    ctx: Context, actor: Actor, request: ExportRequest, texts: Texts
) -> list[Table]:
    """The tables of one export, for what the actor may see; audited. The range is at most
    ``[evaluation] max_range_days``; the tables are made off the event loop."""
    if request.kind not in KINDS:
        raise InvalidInput("bad_export_kind", kind=request.kind)
    bounded_range(ctx, request.first_day, request.last_day)
    action = f"export.{request.kind}"
    organisation_id = await organisation_scope(ctx, actor, action)
    if request.with_contacts:
        await require_coordinator(ctx.store, actor, f"{action}.contacts", ctx.now())
    builder = BUILDERS[request.kind]

    async def build(reader: Context) -> list[Table]:
        return await builder(reader, request, organisation_id, texts)

    tables = await off_loop(ctx, build)
    async with ctx.store.transaction() as session:
        audit(
            session,
            actor,
            action,
            ctx.now(),
            target=f"organisation:{organisation_id}" if organisation_id else None,
            first_day=request.first_day.isoformat(),
            last_day=request.last_day.isoformat(),
            with_contacts=request.with_contacts,
            rows=sum(len(t.rows) for t in tables),
        )
    return tables


async def export_file(
    ctx: Context, actor: Actor, request: ExportRequest, texts: Texts, fmt: str
) -> bytes:
    """``build_export`` written as a file, off the event loop, with the garbage collector
    paused until the tables are gone (evaluation/off_loop.py): a year's sign-ups are hundreds
    of thousands of rows, which a collector's run would otherwise walk with every thread
    stopped; the tables are freed off the loop too."""
    with collector_paused():
        held = [await build_export(ctx, actor, request, texts)]
        return await asyncio.to_thread(_render_and_free, held, texts, fmt)


def _render_and_free(held: list[list[Table]], texts: Texts, fmt: str) -> bytes:
    """The file; the tables' last reference is dropped here, so that freeing their hundreds
    of thousands of cells happens on this worker thread, not on the event loop's."""
    tables = held.pop()
    try:
        return render(tables, texts, fmt)
    finally:
        del tables
