"""Page one: the title, the key figures against the previous period, and walks per week."""

from __future__ import annotations

from collections.abc import Callable

from evaluation.council.blocks import Block, Chart, Grid, Heading, Text, Title
from evaluation.council.charts import Series, columns
from evaluation.council.figures import CouncilFigures, Period
from evaluation.council.style import ACCENT, ACCENT_LIGHT, CANCELLED
from evaluation.council.words import Words
from evaluation.stats_report import Stats

# (catalogue key under council.figure., the figure of a period, decimals)
FIGURES: list[tuple[str, Callable[[Period], float], int]] = [
    ("planned", lambda p: p.stats.overall.planned, 0),
    ("held", lambda p: p.stats.overall.held, 0),
    ("cancelled", lambda p: p.stats.overall.cancelled, 0),
    ("understaffed", lambda p: p.stats.overall.understaffed, 0),
    ("walker_hours", lambda p: p.stats.overall.walker_hours, 1),
    ("unique_walkers", lambda p: p.stats.overall.unique_walkers, 0),
    ("new_walkers", lambda p: p.stats.overall.new_walkers, 0),
    ("youth", lambda p: p.stats.overall.youth_contacts, 0),
    ("incidents", lambda p: p.stats.overall.incidents, 0),
    ("emergency", lambda p: p.stats.overall.emergency_contacts, 0),
    ("alarms", lambda p: p.stats.overall.alarms, 0),
    ("follow_ups", lambda p: p.follow_ups, 0),
    ("places", lambda p: places_flagged(p.stats.overall), 0),
    ("weekend_nights", lambda p: p.weekend.covered, 0),
    ("risk_nights", lambda p: p.risk.covered, 0),
]
SHARES: list[tuple[str, Callable[[Period], float | None]]] = [
    ("report_rate", lambda p: p.stats.overall.report_rate),
    ("fill_rate", lambda p: p.stats.overall.fill_rate),
    ("weekend_share", lambda p: p.weekend.share),
]


def places_flagged(stats: Stats) -> int:
    """Flaggings: each (place, problem) once per walk that flagged it."""
    return sum(p.walks for p in stats.places)


def _points(share: float | None) -> int | None:
    return None if share is None else round(share * 100)


def title(words: Words, figures: CouncilFigures, kicker: str, organisation: str | None) -> Title:
    now, before = figures.current, figures.previous
    lines = [
        words("period_line", period=words.period(now.first_day, now.last_day)),
        words("previous_line", period=words.period(before.first_day, before.last_day)),
    ]
    if organisation is not None:
        lines.append(words("organisation_line", organisation=organisation))
    lines.append(words("made_line", day=words.day(figures.made_on)))
    return Title(kicker=kicker, title=words("title"), lines=lines)


def key_figures(words: Words, figures: CouncilFigures) -> list[Block]:
    """The key figures of the period, the previous period and the change."""
    now, before = figures.current, figures.previous
    rows = []
    for key, figure, decimals in FIGURES:
        a, b = figure(now), figure(before)
        shown = words.hours if decimals else words.number
        rows.append([words(f"figure.{key}"), shown(a), shown(b), words.change(a, b, decimals)])
    for key, share in SHARES:
        x, y = share(now), share(before)
        change = words.change(_points(x), _points(y))
        points = change if change == "–" else words("points", change=change)
        rows.append([words(f"figure.{key}"), words.percent(x), words.percent(y), points])
    header = [
        words("col.figure"),
        words("col.this_period"),
        words("col.previous_period"),
        words("col.change"),
    ]
    return [Heading(words("heading.summary")), Text(words("summary_intro")), Grid(header, rows)]


def weeks_chart(words: Words, figures: CouncilFigures) -> list[Block]:
    weeks = figures.current.weeks
    names = [words("week", week=w.week) for w in weeks]
    series = [
        Series(words("series.planned"), [w.planned for w in weeks], ACCENT_LIGHT),
        Series(words("series.held"), [w.held for w in weeks], ACCENT),
        Series(words("series.cancelled"), [w.cancelled for w in weeks], CANCELLED),
    ]
    title_ = words("chart.weeks")
    return [Heading(title_), Chart(title_, lambda: columns(names, series))]
