"""Places flagged in the reports, and alarms and follow-ups.

Places come from the reports as they stand: each (place, problem) with the walks that flagged
it. ``PlaceRow.fixed`` is there for the places list (marked reported, fixed or dismissed by the
coordinator): when it exists, fill it in ``place_rows`` and the table gains its column.
"""

from __future__ import annotations

from dataclasses import dataclass

from evaluation.council.blocks import Block, Grid, Heading, Text
from evaluation.council.figures import CouncilFigures
from evaluation.council.words import Words
from evaluation.stats_report import Stats
from scheduling.common.labels import place_label
from scheduling.walks.reports import OTHER_PLACE, SERVICES


@dataclass(frozen=True)
class PlaceRow:
    place: str
    category: str
    walks: int
    fixed: bool | None = None  # None: not known (no places list yet)


def place_rows(stats: Stats) -> list[PlaceRow]:
    return [PlaceRow(p.place, p.category, p.walks) for p in stats.places]


def place_name(words: Words, place: str) -> str:
    """A configured place's name, or "other place" in words, capitalised."""
    name = place_label(words.texts, place)
    return name[:1].upper() + name[1:] if place == OTHER_PLACE else name


def places(words: Words, figures: CouncilFigures) -> list[Block]:
    rows = place_rows(figures.current.stats.overall)
    blocks: list[Block] = [Heading(words("heading.places"))]
    if not rows:
        return [*blocks, Text(words("no_places"))]
    with_fixed = any(r.fixed is not None for r in rows)
    header = [words("col.place"), words("col.problem"), words("col.walks")]
    header += [words("col.fixed")] if with_fixed else []
    table = [
        [place_name(words, r.place), words.code("place", r.category), words.number(r.walks)]
        + ([words.yes_no(r.fixed)] if with_fixed else [])
        for r in rows
    ]
    return [*blocks, Text(words("places_intro")), Grid(header, table, text_columns=2)]


def alarms(words: Words, figures: CouncilFigures) -> list[Block]:
    now, before = figures.current, figures.previous
    a, b = now.stats.overall, before.stats.overall
    rows = [
        [words("figure.alarms"), words.number(a.alarms), words.number(b.alarms)],
        [words("figure.false_alarms"), words.number(a.false_alarms), words.number(b.false_alarms)],
        [words("figure.follow_ups"), words.number(now.follow_ups), words.number(before.follow_ups)],
    ]
    rows += [
        [
            words("service_walks", service=words.code("service", code, capital=False)),
            words.number(a.services.get(code, 0)),
            words.number(b.services.get(code, 0)),
        ]
        for code in SERVICES
    ]
    header = [words("col.figure"), words("col.this_period"), words("col.previous_period")]
    return [Heading(words("heading.alarms")), Text(words("alarms_intro")), Grid(header, rows)]
