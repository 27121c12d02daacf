"""Mood and incidents per area and per Purple Flag time band (17–20, 20–23, 23–02, 02–05):
a stacked chart of the walks' mood, and a table with the previous period in brackets."""

from __future__ import annotations

from evaluation.council.blocks import Block, Chart, Grid, Heading, Text
from evaluation.council.charts import Series, bars
from evaluation.council.figures import CouncilFigures
from evaluation.council.sections import figure_of, paired, too_many, with_previous
from evaluation.council.style import MOOD_COLOURS
from evaluation.council.words import Words
from evaluation.stats_report import Stats
from evaluation.walk_facts import MOODS


def band_name(band: str) -> str:
    """``23-02`` as ``23–02``."""
    return band.replace("-", "–")


AREA_FIGURES = ("held", *(f"mood:{m}" for m in MOODS), "incidents", "emergency_contacts")


def _section(
    words: Words,
    kind: str,
    rows: list[tuple[str, Stats | None, Stats | None]],
) -> list[Block]:
    names = [name for name, _, _ in rows]
    series = [
        Series(
            words.code("mood", m), [figure_of(s, f"mood:{m}") for _, s, _ in rows], MOOD_COLOURS[m]
        )
        for m in MOODS
    ]
    header = [
        words(f"col.{kind}"),
        words("col.held"),
        *(words.code("mood", m) for m in MOODS),
        words("col.incidents"),
        words("col.emergency"),
    ]
    table = [[name, *(with_previous(words, s, p, f) for f in AREA_FIGURES)] for name, s, p in rows]
    title = words(f"chart.mood_per_{kind}")
    return [
        Heading(words(f"heading.per_{kind}")),
        Chart(title, lambda: bars(names, series, stacked=True)),
        *too_many(words, names),
        Grid(header, table),
        Text(words(f"{kind}_note"), small=True),
    ]


def per_area(words: Words, figures: CouncilFigures) -> list[Block]:
    rows = paired(figures.current.stats.by_area, figures.previous.stats.by_area)
    return _section(words, "area", rows)


def per_band(words: Words, figures: CouncilFigures) -> list[Block]:
    now = [(band_name(b), s) for b, s in figures.current.stats.by_band]
    before = [(band_name(b), s) for b, s in figures.previous.stats.by_band]
    return _section(words, "band", paired(now, before))
