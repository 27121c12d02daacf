"""The council's report on the hand-built November (tests/coord_data.py) against October.

The figures are worked out by hand from coord_data's table: November 2026 has S1–S6, the
previous period of equal length (2–31 October) has S7 alone. The PDF's text is read back
with pypdf, so a wrong figure in the file fails here, not only a wrong figure in memory.
"""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date
from functools import partial
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader

from bot.i18n import t
from evaluation import council
from evaluation.council.blocks import Document, Title
from evaluation.council.figures import previous_period
from models.tables import Role
from scheduling.common.context import Context
from scheduling.common.errors import InvalidInput, PermissionDenied
from scheduling.people.access import Actor
from tests.coord_data import DataSet, build
from tests.coord_data import report as coord_report

NOV_1, NOV_30 = date(2026, 11, 1), date(2026, 11, 30)


@pytest.fixture
async def data(ctx: Context) -> DataSet:
    return await build(ctx)


def pdf_text(body: bytes) -> str:
    """The PDF's text, page after page, with runs of spaces made one."""
    pages = PdfReader(BytesIO(body)).pages
    return re.sub(r"[ \t]+", " ", "\n".join(page.extract_text() for page in pages))


async def report(ctx: Context, fmt: str, language: str = "sv", actor: Actor | None = None) -> bytes:
    return await council.council_report(
        ctx, actor or Actor.operator(), NOV_1, NOV_30, fmt, language, partial(t, language)
    )


def test_the_previous_period_has_the_same_length_and_ends_the_day_before() -> None:
    """November's 30 days are compared with 2–31 October; a week with the week before."""
    assert previous_period(NOV_1, NOV_30) == (date(2026, 10, 2), date(2026, 10, 31))
    assert previous_period(date(2026, 11, 9), date(2026, 11, 15)) == (
        date(2026, 11, 2),
        date(2026, 11, 8),
    )


async def test_figures_of_the_period_and_the_one_before(ctx: Context, data: DataSet) -> None:
    """Walks per week, night coverage and follow-ups, as worked out by hand; a draft asking
    for a follow-up is not counted."""
    async with ctx.store.transaction() as session:
        session.add(coord_report(data.shifts["S2"], data.people["P4"], "draft", follow_up=True))
    figures = await council.council_figures(ctx, NOV_1, NOV_30)
    now, before = figures.current, figures.previous
    assert [(w.week, w.planned, w.held, w.cancelled) for w in now.weeks] == [
        (44, 0, 0, 0),
        (45, 2, 2, 0),
        (46, 2, 1, 1),
        (47, 1, 0, 0),
        (48, 1, 0, 0),
        (49, 0, 0, 0),
    ]
    # clock at Tue 24 Nov: Fri/Sat 6, 7, 13, 14, 20, 21 have begun; 6, 7 and 14 were walked
    assert (now.weekend.nights, now.weekend.planned, now.weekend.covered) == (6, 5, 3)
    assert (now.risk.nights, now.risk.planned, now.risk.covered) == (1, 1, 1)
    assert now.follow_ups == 1  # P1's report on S1; P3's draft does not count
    assert (before.stats.overall.planned, before.stats.overall.held) == (1, 1)
    assert (before.weekend.nights, before.weekend.covered) == (10, 1)  # Fri 2 to Sat 31 Oct
    assert before.follow_ups == 0


def lines_of(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def cells_after(lines: list[str], label: str, count: int, last: bool = False) -> list[str]:
    """The ``count`` cells after a row's first cell (pypdf gives one cell per line); the
    row's first occurrence, or with ``last`` its last (a chart may name it first)."""
    index = len(lines) - 1 - lines[::-1].index(label) if last else lines.index(label)
    return lines[index + 1 : index + 1 + count]


async def test_pdf_carries_the_figures_against_the_previous_period(
    ctx: Context, data: DataSet
) -> None:
    """Read back from the PDF: this period, the previous one and the change, per key figure;
    walks per organisation with the previous period in brackets; night coverage."""
    body = await report(ctx, "pdf")
    assert body.startswith(b"%PDF-")
    lines = lines_of(pdf_text(body))
    expected = {
        "Planerade pass": ["6", "1", "+5"],
        "Genomförda pass": ["3", "1", "+2"],
        "Inställda pass": ["1", "0", "+1"],
        "Vandrartimmar": ["26,5", "4", "+22,5"],
        "Unga mötta (uppskattat)": ["20", "0", "+20"],
        "Pass med kontakt med 112 eller polis": ["1", "0", "+1"],
        "Rapporter där uppföljning begärdes": ["1", "0", "+1"],
        "Fredags- och lördagsnätter med vandring": ["3", "1", "+2"],
        "Riskkvällar med vandring": ["1", "0", "+1"],
        "Rapportgrad": ["67 %", "0 %", "+67 %-enh."],
        "Andel täckta fredags- och lördagsnätter": ["50 %", "10 %", "+40 %-enh."],
    }
    for label, cells in expected.items():
        assert cells_after(lines, label, 3) == cells, label
    organisations = {
        "IFK Kalmar": ["2 (1)", "18,5 (4)", "3 (1)", "2 (1)"],
        "Nattugglorna": ["1 (0)", "8 (0)", "0 (0)", "0 (0)"],
    }
    for name, cells in organisations.items():
        assert cells_after(lines, name, 4, last=True) == cells, name
    assert cells_after(lines, "Fredags- och lördagsnätter", 4) == ["6", "5", "3", "50 % (10 %)"]
    assert cells_after(lines, "Trasig belysning", 1) == ["2"]  # Larmtorget, S1 and S4
    assert "Period: 1 november 2026 – 30 november 2026 (30 dagar)" in lines
    assert "Jämförs med: 2 oktober 2026 – 31 oktober 2026 (30 dagar)" in lines


async def test_english_on_request(ctx: Context, data: DataSet) -> None:
    """``--lang en``: English words, a decimal point, the same figures."""
    lines = lines_of(pdf_text(await report(ctx, "pdf", "en")))
    assert cells_after(lines, "Walker-hours", 3) == ["26.5", "4", "+22.5"]
    assert cells_after(lines, "Walks held", 3) == ["3", "1", "+2"]
    assert "Compared with: 2 October 2026 – 31 October 2026 (30 days)" in lines


async def test_html_is_self_contained_with_the_same_figures(ctx: Context, data: DataSet) -> None:
    """The HTML has the figures, its charts inline as SVG, and nothing to fetch: no script,
    no link, no source, no URL but the SVG namespace and the charts' own clip paths."""
    html = (await report(ctx, "html")).decode()
    assert html.startswith("<!DOCTYPE html>") and '<html lang="sv">' in html
    assert '<th scope="row">Vandrartimmar</th><td>26,5</td><td>4</td><td>+22,5</td>' in html
    assert html.count("<svg") == 4  # weeks, organisations, mood per area and per time band
    for outside in ("<script", "<link", " src=", " href=", "@import", "<img", "<iframe"):
        assert outside not in html, outside
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", html))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls
    assert set(re.findall(r"url\(([^)]*)\)", html)) == {
        f"#chart{n}-clip" for n in re.findall(r'id="chart(\d+)-clip"', html)
    }
    assert len(set(re.findall(r'id="([^"]+)"', html))) == len(re.findall(r'id="', html))


async def test_a_lead_gets_their_organisation_and_a_volunteer_nothing(
    ctx: Context, data: DataSet
) -> None:
    """A lead's report covers their organisation alone and says so; a volunteer is refused;
    an unknown format is bad input."""
    lead = Actor(person_id=99, role=Role.LEAD, organisation_id=data.org_b, label="lead")
    lines = lines_of(pdf_text(await report(ctx, "pdf", actor=lead)))
    assert cells_after(lines, "Planerade pass", 3) == ["2", "0", "+2"]
    assert "IFK Kalmar" not in lines
    assert "Förening: Nattugglorna (rapporten gäller bara den)" in lines
    volunteer = Actor(person_id=1, role=Role.VOLUNTEER, organisation_id=data.org_a, label="v")
    with pytest.raises(PermissionDenied):
        await report(ctx, "pdf", actor=volunteer)
    with pytest.raises(InvalidInput):
        await report(ctx, "docx")


def test_the_picture_tool_draws_page_one(tmp_path: Path) -> None:
    """tools/report_picture.py turns a report's page one into a PNG (docs/report-example.png)."""
    pdf, png = tmp_path / "rapport.pdf", tmp_path / "sida1.png"
    page = Document("sv", "Rapport", "Kalmar kommun", "Sida", [Title("Kalmar kommun", "T", [])])
    pdf.write_bytes(council.render_pdf(page))
    tool = Path(__file__).parent.parent / "tools" / "report_picture.py"
    done = subprocess.run(
        [sys.executable, str(tool), str(pdf), "--out", str(png), "--width", "300"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    picture = png.read_bytes()
    assert picture.startswith(b"\x89PNG\r\n\x1a\n")
    assert int.from_bytes(picture[16:20], "big") == 300  # the IHDR width


def test_a_big_towns_report_fits_its_pages() -> None:
    """300 areas and three years of weeks: bar charts keep the 20 largest rows, week labels
    thin out, tables run over pages; the PDF is made (no flowable too large for a page)."""
    from evaluation.council.blocks import Chart, Grid
    from evaluation.council.charts import MAX_ROWS, Series, bars, columns, largest
    from evaluation.council.style import ACCENT

    areas = [f"Område {n}" for n in range(300)]
    held = Series("Genomförda", [n % 17 for n in range(300)], ACCENT)
    kept, (series,) = largest(areas, [held])
    assert len(kept) == MAX_ROWS and sum(series.values) == 17 * 16 + 3 * 15  # the largest
    assert kept == sorted(kept, key=areas.index)
    weeks = [f"v{n % 52 + 1}" for n in range(157)]
    blocks = [
        Title("Kalmar kommun", "Rapport", []),
        Chart("Pass per vecka", lambda: columns(weeks, [Series("Planerade", [3] * 157, ACCENT)])),
        Chart("Stämning per område", lambda: bars(areas, [held], stacked=True)),
        Grid(["Område", "Pass"], [[a, str(n)] for n, a in enumerate(areas[:120])]),
    ]
    body = council.render_pdf(Document("sv", "Rapport", "Kalmar kommun", "Sida", blocks))
    text = pdf_text(body)
    assert "Område 119" in text and len(PdfReader(BytesIO(body)).pages) > 3
