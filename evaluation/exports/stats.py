"""The statistics export: the figures by group, the places flagged and the weeks."""

from __future__ import annotations

from evaluation import statistics as stats
from evaluation.exports.tables import Cell, Column, ExportRequest, Table, percent
from scheduling.common.context import Context
from scheduling.common.labels import Texts, label, place_label

STATS_COLUMNS = [
    Column("group", width=14),
    Column("name", width=24),
    Column("planned", "int"),
    Column("held", "int"),
    Column("cancelled", "int"),
    Column("understaffed", "int"),
    Column("fill_rate", "percent"),
    Column("walker_hours", "decimal"),
    Column("unique_walkers", "int"),
    Column("new_walkers", "int"),
    Column("youth_estimate", "int"),
    *[Column(f"youth_{bucket}", "int") for bucket in ("0", "1-10", "11-30", "31-50", "50+")],
    Column("incidents", "int"),
    Column("emergency_contacts", "int"),
    Column("mood_calm", "int"),
    Column("mood_mixed", "int"),
    Column("mood_unruly", "int"),
    Column("places_flagged", "int"),
    Column("reports", "int"),
    Column("report_rate", "percent"),
    Column("no_shows", "int"),
    Column("no_show_rate", "percent"),
]
PLACES_COLUMNS = [Column("place", width=30), Column("category", width=24), Column("walks", "int")]
WEEKS_COLUMNS = [
    Column("year", "int"),
    Column("week", "int"),
    Column("monday", "date"),
    Column("held", "int"),
    Column("walker_hours", "decimal"),
]


async def stats_export(
    ctx: Context, request: ExportRequest, organisation_id: int | None, texts: Texts
) -> list[Table]:
    report = await stats.statistics_for(ctx, request.first_day, request.last_day, organisation_id)
    return stats_tables(report, texts)


def stats_tables(report: stats.StatsReport, texts: Texts) -> list[Table]:
    """Statistics, places flagged and weeks as three tables."""
    places = Table("places", list(PLACES_COLUMNS))
    places.rows = [
        [place_label(texts, p.place), label(texts, "place", p.category), p.walks]
        for p in report.overall.places
    ]
    weeks = Table("weeks", list(WEEKS_COLUMNS))
    weeks.rows = [[w.year, w.week, w.monday, w.held, w.walker_hours] for w in report.weeks]
    return [_main_table(report, texts), places, weeks]


def _main_table(report: stats.StatsReport, texts: Texts) -> Table:
    main = Table("stats", list(STATS_COLUMNS))

    def group(key: str) -> str:
        return texts(f"coordinator.group.{key}")

    main.rows.append(stats_row(group("overall"), texts("coordinator.all"), report.overall))
    for key, parts in (("organisation", report.by_organisation), ("area", report.by_area)):
        main.rows += [stats_row(group(key), name, s) for name, s in parts]
    main.rows += [stats_row(group("band"), band.replace("-", "–"), s) for band, s in report.by_band]
    main.rows += [
        stats_row(group("night"), texts(f"coordinator.night.{kind}"), s)
        for kind, s in report.by_night
    ]
    return main


def stats_row(group: str, name: str, s: stats.Stats) -> list[Cell]:
    return [
        group,
        name,
        s.planned,
        s.held,
        s.cancelled,
        s.understaffed,
        percent(s.fill_rate),
        s.walker_hours,
        s.unique_walkers,
        s.new_walkers,
        s.youth_contacts,
        *s.youth_buckets.values(),
        s.incidents,
        s.emergency_contacts,
        s.moods["calm"],
        s.moods["mixed"],
        s.moods["unruly"],
        sum(p.walks for p in s.places),
        s.reports,
        percent(s.report_rate),
        s.no_shows,
        percent(s.no_show_rate),
    ]
