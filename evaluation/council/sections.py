"""Walker-hours per organisation, and how groups of both periods are set side by side.

A table cell holds this period's figure with the previous period's in brackets; a group that
had no walks in one of the periods counts zero there.
"""

from __future__ import annotations

from evaluation.council.blocks import Block, Chart, Grid, Heading, Text
from evaluation.council.charts import MAX_ROWS, Series, bars
from evaluation.council.figures import CouncilFigures
from evaluation.council.style import ACCENT, PREVIOUS
from evaluation.council.words import Words
from evaluation.stats_report import Stats


def paired(
    now: list[tuple[str, Stats]], before: list[tuple[str, Stats]]
) -> list[tuple[str, Stats | None, Stats | None]]:
    """Groups of both periods side by side, in this period's order then the previous one's."""
    earlier = dict(before)
    names = [name for name, _ in now] + [n for n, _ in before if n not in dict(now)]
    return [(name, dict(now).get(name), earlier.get(name)) for name in names]


def too_many(words: Words, names: list[str]) -> list[Block]:
    """A note under a chart that shows only the largest rows."""
    if len(names) <= MAX_ROWS:
        return []
    return [Text(words("chart_largest", count=MAX_ROWS, all=len(names)), small=True)]


def figure_of(stats: Stats | None, figure: str) -> float:
    """A figure of a group (``mood:calm`` for a mood's walks); zero for a group without walks."""
    if stats is None:
        return 0
    if figure.startswith("mood:"):
        return stats.moods[figure.removeprefix("mood:")]
    return float(getattr(stats, figure))


def with_previous(words: Words, now: Stats | None, before: Stats | None, figure: str) -> str:
    """``18,5 (4)``: this period's figure, the previous period's in brackets."""
    return words.with_previous(*(words.hours(figure_of(s, figure)) for s in (now, before)))


ORGANISATION_FIGURES = ("held", "walker_hours", "unique_walkers", "new_walkers")


def organisations(words: Words, figures: CouncilFigures) -> list[Block]:
    rows = paired(figures.current.stats.by_organisation, figures.previous.stats.by_organisation)
    names = [name for name, _, _ in rows]
    series = [
        Series(
            words("series.this_period"), [figure_of(s, "walker_hours") for _, s, _ in rows], ACCENT
        ),
        Series(
            words("series.previous_period"),
            [figure_of(p, "walker_hours") for _, _, p in rows],
            PREVIOUS,
        ),
    ]
    header = [words("col.organisation"), *(words(f"col.{f}") for f in ORGANISATION_FIGURES)]
    table = [
        [name, *(with_previous(words, s, p, f) for f in ORGANISATION_FIGURES)]
        for name, s, p in rows
    ]
    chart_title = words("chart.hours_per_organisation")
    return [
        Heading(words("heading.organisations")),
        Chart(chart_title, lambda: bars(names, series)),
        *too_many(words, names),
        Grid(header, table),
        Text(words("brackets_note"), small=True),
    ]
