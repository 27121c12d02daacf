"""The evaluation report for the crime-prevention council (BRÅ): a period's walks against the
period of equal length before it, with charts, as a print-ready PDF or a self-contained HTML
file, Swedish by default.

Front door: ``council_report`` (permission, range check, audit; the figures gathered and the
file written off the event loop). The figures are the statistics' own (``figures.py``); the
content is one list of blocks (``content.py``) that ``pdf.py`` and ``html.py`` lay out. Words
come from the caller (``texts``, bot.i18n.t bound to a language): the core has none of its own.
"""

from __future__ import annotations

from datetime import date
from functools import partial

from evaluation.council.content import document
from evaluation.council.figures import CouncilFigures, council_figures, previous_period
from evaluation.council.html import render_html
from evaluation.council.pdf import render_pdf
from evaluation.off_loop import off_loop
from evaluation.walk_facts import bounded_range
from models.tables import Organisation
from scheduling.common.context import Context
from scheduling.common.errors import InvalidInput
from scheduling.common.labels import Texts
from scheduling.people.access import Actor, audit
from scheduling.people.scope import organisation_scope

FORMATS = ("pdf", "html")
MEDIA_TYPES = {"pdf": "application/pdf", "html": "text/html; charset=utf-8"}
ACTION = "report.council"

__all__ = [
    "FORMATS",
    "MEDIA_TYPES",
    "CouncilFigures",
    "council_figures",
    "council_report",
    "filename",
    "previous_period",
    "render_html",
    "render_pdf",
]


def filename(first_day: date, last_day: date, fmt: str, texts: Texts) -> str:
    """``vandra-rapport-2026-11-01-2026-11-30.pdf`` (``report`` in English)."""
    word = texts("council.file_word")
    return f"vandra-{word}-{first_day.isoformat()}-{last_day.isoformat()}.{fmt}"


async def council_report(
    ctx: Context,
    actor: Actor,
    first_day: date,
    last_day: date,
    fmt: str,
    language: str,
    texts: Texts,
) -> bytes:
    """The report as a file, for what the actor may see (a coordinator everything, a lead
    their organisation); audited. The range is at most ``[evaluation] max_range_days``."""
    if fmt not in FORMATS:
        raise InvalidInput("bad_report_format", format=fmt)
    bounded_range(ctx, first_day, last_day)
    organisation_id = await organisation_scope(ctx, actor, ACTION)
    work = partial(
        _write,
        first_day=first_day,
        last_day=last_day,
        organisation_id=organisation_id,
        fmt=fmt,
        language=language,
        texts=texts,
    )
    body = await off_loop(ctx, work)
    async with ctx.store.transaction() as session:
        audit(
            session,
            actor,
            ACTION,
            ctx.now(),
            target=f"organisation:{organisation_id}" if organisation_id else None,
            first_day=first_day.isoformat(),
            last_day=last_day.isoformat(),
            format=fmt,
        )
    return body


async def _write(
    ctx: Context,
    *,
    first_day: date,
    last_day: date,
    organisation_id: int | None,
    fmt: str,
    language: str,
    texts: Texts,
) -> bytes:
    """Gather the figures and write the file (on the reader, off the event loop)."""
    figures = await council_figures(ctx, first_day, last_day, organisation_id)
    organisation = None
    if organisation_id is not None:
        async with ctx.store.transaction() as session:
            found = await session.get(Organisation, organisation_id)
            organisation = found.name if found else None
    doc = document(figures, texts, language, ctx.settings.privacy.controller, organisation)
    return render_pdf(doc) if fmt == "pdf" else render_html(doc)
