"""The council's report from each door: ``vandra report`` (exit codes 0, 2, 1), the dashboard
(a download for staff, in the viewer's language), chat ``/export`` (a PDF document), and
always made off the event loop."""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.dialogue.engine import Dialogue
from bot.i18n import t
from evaluation import council
from evaluation.council.blocks import Document
from evaluation.off_loop import shares_a_file
from models.tables import Role
from scheduling.common.context import Context
from scheduling.people import directory
from scheduling.people.access import Actor
from tests.coord_data import DataSet
from tests.fakes.chat import Chat
from tests.helpers import OPERATOR, seed_org_area
from tests.test_cli import vandra as vandra  # the fixture, re-exported
from tests.test_council_report import NOV_1, NOV_30, cells_after, lines_of, pdf_text
from tests.test_dashboard import client as client
from tests.test_dashboard import data as data
from tests.test_dashboard import https_ctx as https_ctx
from tests.test_dashboard import person, sign_in
from tests.test_dialogue import register


def test_command_line_writes_pdf_and_html_and_refuses_bad_input(vandra, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Exit 0 with a file; exit 2 and one line for a bad date, range or format; the format
    may come from --out's suffix."""
    pdf, html = tmp_path / "rapport.pdf", tmp_path / "rapport.html"
    period = ("--from", "2026-11-01", "--to", "2026-11-30")
    assert vandra("report", *period, "--format", "pdf", "--out", str(pdf))[0] == 0
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert "Vuxenvandring – uppföljning till" in pdf_text(pdf.read_bytes())
    code, out, _ = vandra("report", *period, "--out", str(html), "--lang", "en")
    assert code == 0 and "HTML" in out
    assert '<html lang="en">' in html.read_text()
    for args in (
        ("report", "--from", "2026-11-31", "--to", "2026-11-30", "--out", "x.pdf"),
        ("report", "--from", "2026-11-30", "--to", "2026-11-01", "--out", "x.pdf"),
        ("report", *period, "--out", "x.docx"),
        ("report", *period, "--format", "docx", "--out", "x.pdf"),
        ("report", *period, "--out", "x.pdf", "--lang", "de"),
    ):
        code, _, err = vandra(*args)
        assert code == 2 and err.count("\n") == 1, (args, err)
    missing = tmp_path / "no" / "such"
    code, _, err = vandra("report", *period, "--out", str(missing / "x.pdf"))
    assert code == 2 and err.count("\n") == 1 and f"{missing} does not exist" in err, err
    assert not (tmp_path / "no").exists()


async def test_dashboard_offers_and_serves_the_report(
    https_ctx: Context,
    data: DataSet,
    client: httpx.AsyncClient,
) -> None:
    """The exports page links both formats; the PDF is an attachment with the figures; an
    English-speaking viewer gets English; a volunteer cannot sign in to ask."""
    maria = await person(https_ctx, Role.COORDINATOR, None, "Maria")
    await sign_in(https_ctx, client, maria)
    page = await client.get("/dashboard/exports", params={"from": "2026-11-01", "to": "2026-11-30"})
    assert "/natt/dashboard/report.pdf?from=2026-11-01&amp;to=2026-11-30" in page.text
    assert "/natt/dashboard/report.html?" in page.text
    period = {"from": "2026-11-01", "to": "2026-11-30"}
    pdf = await client.get("/dashboard/report.pdf", params=period)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert (
        (pdf.headers["content-disposition"])
        == 'attachment; filename="vandra-rapport-2026-11-01-2026-11-30.pdf"'
    )
    assert cells_after(lines_of(pdf_text(pdf.content)), "Genomförda pass", 3) == ["3", "1", "+2"]
    html = await client.get("/dashboard/report.html", params=period)
    assert html.status_code == 200 and "26,5" in html.text
    assert (await client.get("/dashboard/report.docx", params=period)).status_code == 400


async def test_dashboard_report_for_a_lead_is_their_organisation_in_their_language(
    https_ctx: Context,
    data: DataSet,
    client: httpx.AsyncClient,
) -> None:
    """A lead of Nattugglorna who reads English gets an English report of Nattugglorna."""
    lead = await directory.add_person(
        https_ctx,
        OPERATOR,
        name="Lena",
        role=Role.LEAD,
        organisation=data.org_b,
        phone=None,
        language="en",
    )
    await sign_in(https_ctx, client, lead)
    period = {"from": "2026-11-01", "to": "2026-11-30"}
    pdf = await client.get("/dashboard/report.pdf", params=period)
    lines = lines_of(pdf_text(pdf.content))
    assert cells_after(lines, "Walks planned", 3) == ["2", "0", "+2"]
    assert "IFK Kalmar" not in lines


async def test_chat_export_sends_the_report_as_a_pdf(ctx: Context) -> None:
    """/export offers the council's report; a tap sends last month's as a PDF document; a
    volunteer's tap is refused with "behörighet"."""
    await seed_org_area(ctx)
    coordinator = await directory.add_person(
        ctx, OPERATOR, name="Maria", telegram_id=5005, role=Role.COORDINATOR
    )
    await directory.record_consent(ctx, coordinator.id or 0)
    chat = Chat(Dialogue(ctx), address="5005", telegram_id=5005, name="Maria")
    await chat.command("export")
    await chat.tap("Rapport till BRÅ")
    document = chat.replies[0].document
    assert document is not None and document.content.startswith(b"%PDF-")
    assert document.filename == "vandra-rapport-2026-10-01-2026-10-31.pdf"  # clock: 24 Nov
    assert "2026-10-01 – 2026-10-31" in chat.text
    assert "Vuxenvandring – uppföljning till" in pdf_text(document.content)
    assert "gäller inte längre" in await chat.act("cr:9")
    volunteer = Chat(Dialogue(ctx), address="6006", telegram_id=6006, name="Vera")
    await register(volunteer)
    assert "behörighet" in await volunteer.act("cr:1")


async def test_the_report_is_made_off_the_event_loop(
    ctx: Context, data: DataSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Figures and file are made by the work handed to ``off_loop`` (evaluation/off_loop.py:
    a worker process, tests/test_off_process.py), not in the caller's process: the event loop
    that serves webhooks only waits."""
    assert shares_a_file(ctx.store)
    handed: list[str] = []
    drawn_here: list[str] = []
    real_off_loop = council.off_loop
    real_render = council.render_pdf

    async def recording_off_loop(ctx: Context, work: Any, *args: Any) -> Any:
        handed.append(getattr(work, "func", work).__name__)
        return await real_off_loop(ctx, work, *args)

    def recording_render(doc: Document) -> bytes:
        drawn_here.append(threading.current_thread().name)
        return real_render(doc)

    monkeypatch.setattr("evaluation.council.off_loop", recording_off_loop)
    monkeypatch.setattr("evaluation.council.render_pdf", recording_render)
    body = await council.council_report(
        ctx, Actor.operator(), NOV_1, NOV_30, "pdf", "sv", partial(t, "sv")
    )
    assert body.startswith(b"%PDF-") and "Vuxenvandring" in pdf_text(body)
    assert handed == ["_write"] and drawn_here == []
