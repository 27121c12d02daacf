"""The figures: the statistics page and the printable monthly summary."""

from __future__ import annotations

from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from bot.dashboard import charts
from bot.dashboard.params import date_param, default_range, month_range
from bot.dashboard.payments import payment_values
from bot.dashboard.web import Site, Viewer
from bot.i18n import t
from evaluation import statistics as stats
from evaluation.walk_facts import MOODS
from scheduling.common.labels import label, place_label


def stats_charts(report: stats.StatsReport, language: str) -> dict[str, Any]:
    """The four pictures of the statistics page."""
    text = partial(t, language)
    weeks = [text("coordinator.dash.week", week=w.week) for w in report.weeks]
    moods = [(m, text(f"coordinator.mood.{m}")) for m in MOODS]
    return {
        "walks": charts.column_chart(
            text("coordinator.dash.chart_walks"), weeks, [w.held for w in report.weeks]
        ),
        "hours": charts.column_chart(
            text("coordinator.dash.chart_hours"), weeks, [w.walker_hours for w in report.weeks]
        ),
        "mood": charts.stacked_bars(
            text("coordinator.dash.chart_mood"),
            [(name, s.moods) for name, s in report.by_area],
            moods,
        ),
        "places": charts.bar_list(
            text("coordinator.dash.chart_places"),
            [
                (f"{place_label(text, p.place)}: {label(text, 'place', p.category)}", p.walks)
                for p in report.overall.places
            ],
        ),
    }


async def stats_page(site: Site, request: Request, viewer: Viewer) -> Response:
    default_first, default_last = default_range(site.today())
    first = date_param(request, "from", default_first)
    last = date_param(request, "to", default_last)
    report = await stats.statistics(site.ctx, viewer.actor, first, last)
    return site.render(
        "stats.html",
        viewer.language,
        **site.values(viewer, "stats"),
        report=report,
        charts=stats_charts(report, viewer.language),
        band_names={band: band.replace("-", "–") for band in stats.BANDS},
        first=first,
        last=last,
    )


async def summary_page(site: Site, request: Request, viewer: Viewer) -> Response:
    """A printable one-month summary: figures, areas, mood, places, payment basis."""
    first, last = month_range(request.query_params.get("month"), site.today())
    report = await stats.statistics(site.ctx, viewer.actor, first, last)
    return site.render(
        "summary.html",
        viewer.language,
        **site.values(viewer, "summary"),
        report=report,
        **await payment_values(site, viewer, first, last),
        charts=stats_charts(report, viewer.language),
        month=f"{first:%Y-%m}",
        first=first,
        last=last,
        label=partial(label, partial(t, viewer.language)),
    )
