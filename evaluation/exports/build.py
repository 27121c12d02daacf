"""Building an export: its tables or its file, for what the actor may see, audited."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from evaluation.exports.files import FORMATS, render
from evaluation.exports.payments import payments_export
from evaluation.exports.places import places_export
from evaluation.exports.reports import reports
from evaluation.exports.shifts import shifts
from evaluation.exports.signups import signups
from evaluation.exports.stats import stats_export
from evaluation.exports.tables import KINDS, ExportRequest, Table
from evaluation.off_loop import off_loop
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
    ``[evaluation] max_range_days``; the tables are made in a worker process (off_loop.py)
    and handed back whole: for the command line and the demo, where no webhook waits."""
    organisation_id = await _allowed(ctx, actor, request)
    tables = await off_loop(ctx, build_tables, request, organisation_id, texts)
    await _audit(ctx, actor, request, organisation_id, sum(len(t.rows) for t in tables))
    return tables


async def export_file(
    ctx: Context, actor: Actor, request: ExportRequest, texts: Texts, fmt: str
) -> bytes:
    """``build_export`` written as a file (``csv`` or ``xlsx``), tables and file made in a
    worker process, which hands back only the file's path; the bytes are read on a thread,
    which holds no lock while the disk is read."""
    if fmt not in FORMATS:
        raise InvalidInput("bad_export_format", format=fmt)
    organisation_id = await _allowed(ctx, actor, request)
    path, rows = await off_loop(ctx, build_file, request, organisation_id, texts, fmt)
    try:
        content = await asyncio.to_thread(Path(path).read_bytes)
    finally:
        await asyncio.to_thread(_remove, path)
    await _audit(ctx, actor, request, organisation_id, rows)
    return content


async def build_tables(
    ctx: Context, request: ExportRequest, organisation_id: int | None, texts: Texts
) -> list[Table]:
    """The export's tables (no permission check)."""
    return await BUILDERS[request.kind](ctx, request, organisation_id, texts)


async def build_file(
    ctx: Context, request: ExportRequest, organisation_id: int | None, texts: Texts, fmt: str
) -> tuple[str, int]:
    """The export written to a temporary file (no permission check): its path, and how many
    rows its tables held."""
    tables = await build_tables(ctx, request, organisation_id, texts)
    handle, path = tempfile.mkstemp(prefix="vandra-export-", suffix=f".{fmt}")
    with os.fdopen(handle, "wb") as target:
        target.write(render(tables, texts, fmt))
    return path, sum(len(t.rows) for t in tables)


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


async def _allowed(ctx: Context, actor: Actor, request: ExportRequest) -> int | None:
    """The organisation the actor's export covers (None: all); refuses a bad kind, a range
    beyond ``[evaluation] max_range_days`` and contacts for anyone but a coordinator."""
    if request.kind not in KINDS:
        raise InvalidInput("bad_export_kind", kind=request.kind)
    bounded_range(ctx, request.first_day, request.last_day)
    action = f"export.{request.kind}"
    organisation_id = await organisation_scope(ctx, actor, action)
    if request.with_contacts:
        await require_coordinator(ctx.store, actor, f"{action}.contacts", ctx.now())
    return organisation_id


async def _audit(
    ctx: Context, actor: Actor, request: ExportRequest, organisation_id: int | None, rows: int
) -> None:
    async with ctx.store.transaction() as session:
        audit(
            session,
            actor,
            f"export.{request.kind}",
            ctx.now(),
            target=f"organisation:{organisation_id}" if organisation_id else None,
            first_day=request.first_day.isoformat(),
            last_day=request.last_day.isoformat(),
            with_contacts=request.with_contacts,
            rows=rows,
        )
