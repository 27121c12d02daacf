"""The report as a list of blocks that both the PDF and the HTML writer lay out, so the two
formats cannot say different things. Every string is plain text (user text included): each
writer escapes it for its own format."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from reportlab.graphics.shapes import Drawing


@dataclass(frozen=True)
class Title:
    kicker: str  # the kommun or the service, above the title
    title: str
    lines: list[str]  # period, comparison, when made


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Text:
    text: str
    small: bool = False


@dataclass(frozen=True)
class Grid:
    """A table: a header row and rows of cells; the first ``text_columns`` columns are words,
    the others figures."""

    header: list[str]
    rows: list[list[str]]
    text_columns: int = 1


@dataclass(frozen=True)
class Chart:
    """A picture: ``draw()`` makes a fresh ReportLab drawing each time it is laid out."""

    title: str
    draw: Callable[[], Drawing]


@dataclass(frozen=True)
class PageBreak:
    pass


Block = Title | Heading | Text | Grid | Chart | PageBreak


@dataclass
class Document:
    """The report: its blocks in order and the words of the page footer."""

    language: str
    title: str
    footer: str
    page_word: str  # "Sida" before the page number
    blocks: list[Block] = field(default_factory=list)
