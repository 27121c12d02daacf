"""The PDF's paragraph styles and tables."""

from __future__ import annotations

from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.platypus import Paragraph, Table, TableStyle

from evaluation.council.blocks import Grid
from evaluation.council.style import ACCENT, BOLD, FONT, INK, MUTED, RULE, ZEBRA

TEXT_WIDTH = 17 * cm - 12  # A4 less two 2 cm margins and the frame's padding

STYLES = {
    "title": ParagraphStyle(
        "title",
        fontName=BOLD,
        fontSize=19,
        leading=23,
        textColor=ACCENT,
        spaceBefore=4,
        spaceAfter=8,
    ),
    "meta": ParagraphStyle("meta", fontName=FONT, fontSize=9.5, leading=13, textColor=MUTED),
    "heading": ParagraphStyle(
        "heading",
        fontName=BOLD,
        fontSize=12.5,
        leading=16,
        textColor=ACCENT,
        spaceBefore=10,
        spaceAfter=5,
        keepWithNext=1,
    ),
    "body": ParagraphStyle(
        "body", fontName=FONT, fontSize=9, leading=12.5, textColor=INK, spaceAfter=6
    ),
    "small": ParagraphStyle(
        "small", fontName=FONT, fontSize=7.5, leading=10, textColor=MUTED, spaceAfter=6
    ),
    "cell": ParagraphStyle("cell", fontName=FONT, fontSize=8.5, leading=10.5, textColor=INK),
    "head": ParagraphStyle("head", fontName=BOLD, fontSize=7.5, leading=9.5, textColor=INK),
    "head_right": ParagraphStyle(
        "head_right", fontName=BOLD, fontSize=7.5, leading=9.5, textColor=INK, alignment=TA_RIGHT
    ),
}


def widths(columns: int, text_columns: int) -> list[float]:
    """The first column wide (names), the others shared out evenly."""
    first = TEXT_WIDTH * {3: 0.5, 4: 0.4, 5: 0.3}.get(columns, 0.22 if columns > 5 else 0.5)
    if text_columns > 1:
        first = TEXT_WIDTH * 0.3
    return [first] + [(TEXT_WIDTH - first) / max(columns - 1, 1)] * (columns - 1)


def grid(block: Grid) -> Table:
    """A table: words left, figures right-aligned; the header repeats on a new page."""
    texts = block.text_columns
    head = [Paragraph(escape(h), STYLES["head"]) for h in block.header[:texts]]
    head += [Paragraph(escape(h), STYLES["head_right"]) for h in block.header[texts:]]
    body = [
        [*(Paragraph(escape(c), STYLES["cell"]) for c in row[:texts]), *row[texts:]]
        for row in block.rows
    ]
    table = Table([head, *body], colWidths=widths(len(block.header), texts), repeatRows=1)
    style = [
        ("FONT", (0, 1), (-1, -1), FONT, 8.5),
        ("TEXTCOLOR", (0, 1), (-1, -1), INK),
        ("ALIGN", (texts, 1), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LINEBELOW", (0, 0), (-1, 0), 1, ACCENT),
        ("LINEBELOW", (0, -1), (-1, -1), 0.5, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 2.2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.2),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    style += [("BACKGROUND", (0, r), (-1, r), ZEBRA) for r in range(2, len(body) + 1, 2)]
    table.setStyle(TableStyle(style))
    table.hAlign = "LEFT"
    return table
