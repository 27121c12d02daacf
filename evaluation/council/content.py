"""The report's content, in order: what both writers lay out."""

from __future__ import annotations

from evaluation.council import areas, coverage, places, sections, summary
from evaluation.council.blocks import Document, PageBreak, Text
from evaluation.council.figures import CouncilFigures
from evaluation.council.words import Words
from scheduling.common.labels import Texts


def document(
    figures: CouncilFigures,
    texts: Texts,
    language: str,
    kommun: str | None,
    organisation: str | None,
) -> Document:
    """The whole report for ``figures``; ``kommun`` heads it when configured, ``organisation``
    names a lead's own organisation (the report then covers only it)."""
    words = Words(texts)
    kicker = kommun or words("kicker")
    now = figures.current
    doc = Document(
        language=language,
        title=words("document_title", period=words.period(now.first_day, now.last_day)),
        footer=words("footer", kicker=kicker, day=words.day(figures.made_on)),
        page_word=words("page"),
    )
    doc.blocks.append(summary.title(words, figures, kicker, organisation))
    doc.blocks += summary.key_figures(words, figures)
    doc.blocks += summary.weeks_chart(words, figures)
    doc.blocks.append(PageBreak())
    doc.blocks += sections.organisations(words, figures)
    doc.blocks += coverage.coverage(words, figures)
    doc.blocks += coverage.youth(words, figures)
    doc.blocks.append(PageBreak())
    doc.blocks += areas.per_area(words, figures)
    doc.blocks += areas.per_band(words, figures)
    doc.blocks += places.places(words, figures)
    doc.blocks += places.alarms(words, figures)
    doc.blocks.append(Text(words("definitions"), small=True))
    return doc
