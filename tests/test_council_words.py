"""Every word of the council's report, the dashboard's charts and the exports is a word for
people: no stored code (``glass_litter``, ``guards``, ``other``) reaches them, in Swedish or
English, and names typed by people are shown as written, never run (``<script>``,
``=HYPERLINK(``)."""

from __future__ import annotations

import re
from datetime import date
from functools import partial
from html.parser import HTMLParser

import pytest

from bot.dashboard.figures import stats_charts
from bot.i18n import t
from evaluation import council, exports
from evaluation import statistics as stats
from evaluation.walk_facts import MOODS
from scheduling.common.context import Context
from scheduling.people import directory
from scheduling.people.access import Actor
from scheduling.walks.reports import HELP_KINDS, OTHER_PLACE, PLACE_ISSUES, SERVICES
from tests.coord_data import DataSet, build, report, shift_at, signup
from tests.helpers import OPERATOR
from tests.test_council_report import cells_after, lines_of, pdf_text

NOV_1, NOV_30 = date(2026, 11, 1), date(2026, 11, 30)
SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://x.example/","klicka")'
SNAKE = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b")
CODES = {*SERVICES, *PLACE_ISSUES, *HELP_KINDS, *MOODS, OTHER_PLACE, "risk", "ordinary"} - {"112"}


@pytest.fixture
async def data(ctx: Context) -> DataSet:
    """The hand-built November, and a walk of an organisation and an area with hostile names
    whose report names every service, every kind of place problem and "another place"."""
    found = await build(ctx)
    org = (await directory.add_organisation(ctx, OPERATOR, SCRIPT)).id or 0
    area = (await directory.add_area(ctx, OPERATOR, FORMULA, "Torget")).id or 0
    shift = await shift_at(ctx, org, area, "2026-11-21 21:00", 4, 2, 4)
    issues = [{"place": OTHER_PLACE, "category": c} for c in PLACE_ISSUES]
    async with ctx.store.transaction() as session:
        session.add(signup(shift, found.people["P1"], ctx, "2026-11-21 21:00", "2026-11-22 01:00"))
        session.add(
            report(
                shift,
                found.people["P1"],
                walkers_present=2,
                youth_met="50+",
                mood="unruly",
                help_given=list(HELP_KINDS),
                services_contacted=list(SERVICES),
                place_issues=[*issues, {"place": "Larmtorget", "category": "bushes"}],
                areas=[OTHER_PLACE],
                follow_up=True,
            )
        )
    return found


class _Visible(HTMLParser):
    """The text a reader sees: no markup, no stylesheet."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._style = tag == "style"
        self.parts += [value or "" for name, value in attrs if name == "aria-label"]

    def handle_endtag(self, tag: str) -> None:
        self._style = False

    def handle_data(self, data: str) -> None:
        if not self._style:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return "\n".join(parser.parts)


def codes_in(text: str, language: str) -> set[str]:
    """snake_case words, and in Swedish any stored code as a word of its own."""
    found = set(SNAKE.findall(text))
    if language == "sv":
        found |= {
            code for code in CODES if re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", text)
        }
    return found


@pytest.mark.parametrize("language", ["sv", "en"])
async def test_the_report_has_no_internal_codes(ctx: Context, data: DataSet, language: str) -> None:
    """Both formats, both languages: every code in words (places, problems, services,
    moods, time bands, "another place")."""
    texts = partial(t, language)
    pdf = await council.council_report(ctx, Actor.operator(), NOV_1, NOV_30, "pdf", language, texts)
    html = await council.council_report(
        ctx, Actor.operator(), NOV_1, NOV_30, "html", language, texts
    )
    for text in (pdf_text(pdf), visible(html.decode())):
        assert codes_in(text, language) == set()
        assert t(language, "coordinator.place.glass_litter").capitalize() in text
        assert t(language, "coordinator.spot.other").capitalize() in text


async def test_names_are_shown_as_written_and_never_run(ctx: Context, data: DataSet) -> None:
    """A ``<script>`` organisation and a ``=HYPERLINK(`` area: escaped in the HTML (tables
    and charts alike), printed as written in the PDF."""
    texts = partial(t, "sv")
    html = (
        await council.council_report(ctx, Actor.operator(), NOV_1, NOV_30, "html", "sv", texts)
    ).decode()
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<th scope="row">=HYPERLINK(&quot;http://x.example/&quot;,&quot;klicka&quot;)' in html
    charts = re.findall(r"<svg.*?</svg>", html, re.S)
    assert any("=HYPERLINK(" in c for c in charts) and any("&lt;script&gt;" in c for c in charts)
    text = pdf_text(
        await council.council_report(ctx, Actor.operator(), NOV_1, NOV_30, "pdf", "sv", texts)
    )
    lines = lines_of(text)
    assert cells_after(lines, SCRIPT, 4, last=True) == [
        "1 (0)",
        "8 (0)",
        "1 (0)",
        "0 (0)",
    ]  # 2 present: 4 h each
    assert FORMULA in text.replace("\n", "")


async def test_dashboard_charts_and_exports_have_no_internal_codes(
    ctx: Context, data: DataSet
) -> None:
    """The statistics page's charts and the reports and statistics exports, in Swedish."""
    texts = partial(t, "sv")
    report_ = await stats.statistics(ctx, Actor.operator(), NOV_1, NOV_30)
    charts = stats_charts(report_, "sv")
    assert codes_in(visible("".join(str(c) for c in charts.values())), "sv") == set()
    for kind in ("reports", "stats"):
        request = exports.ExportRequest(kind, NOV_1, NOV_30)  # type: ignore[arg-type]
        tables = await exports.build_export(ctx, Actor.operator(), request, texts)
        cells = [str(c) for table in tables for row in table.rows for c in row if c is not None]
        headers = [texts(f"coordinator.col.{c.key}") for tb in tables for c in tb.columns]
        found = codes_in("\n".join(cells + headers), "sv") - {SCRIPT}
        assert found == set(), (kind, found)
