"""Cover of Friday and Saturday nights and of risk nights, and the young people met."""

from __future__ import annotations

from evaluation.council.blocks import Block, Grid, Heading, Text
from evaluation.council.figures import CouncilFigures
from evaluation.council.nights import Coverage
from evaluation.council.words import Words
from evaluation.walk_facts import YOUTH_BUCKETS


def coverage(words: Words, figures: CouncilFigures) -> list[Block]:
    now, before = figures.current, figures.previous

    def row(key: str, a: Coverage, b: Coverage) -> list[str]:
        return [
            words(f"nights.{key}"),
            words.number(a.nights),
            words.number(a.planned),
            words.number(a.covered),
            words.with_previous(words.percent(a.share), words.percent(b.share)),
        ]

    header = [
        words("col.nights"),
        words("col.nights_total"),
        words("col.nights_planned"),
        words("col.nights_covered"),
        words("col.nights_share"),
    ]
    nights = dict(now.stats.by_night)
    earlier = dict(before.stats.by_night)
    walks = [
        [
            words(f"nights.walks_{kind}"),
            words.with_previous(words.number(nights[kind].held), words.number(earlier[kind].held)),
            words.with_previous(
                words.hours(nights[kind].walker_hours), words.hours(earlier[kind].walker_hours)
            ),
        ]
        for kind in ("risk", "ordinary")
    ]
    return [
        Heading(words("heading.coverage")),
        Text(words("coverage_intro")),
        Grid(
            header,
            [row("weekend", now.weekend, before.weekend), row("risk", now.risk, before.risk)],
        ),
        Grid([words("col.nights"), words("col.held"), words("col.walker_hours")], walks),
    ]


def youth(words: Words, figures: CouncilFigures) -> list[Block]:
    now, before = figures.current.stats.overall, figures.previous.stats.overall
    rows = [
        [
            words(f"youth.{bucket}"),
            words.number(now.youth_buckets[bucket]),
            words.number(before.youth_buckets[bucket]),
        ]
        for bucket in YOUTH_BUCKETS
    ]
    rows.append(
        [
            words("youth.estimate"),
            words.number(now.youth_contacts),
            words.number(before.youth_contacts),
        ]
    )
    header = [
        words("col.youth_met"),
        words("col.walks_this_period"),
        words("col.walks_previous_period"),
    ]
    return [Heading(words("heading.youth")), Text(words("youth_intro")), Grid(header, rows)]
