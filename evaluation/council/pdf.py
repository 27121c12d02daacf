"""The report as a print-ready A4 PDF (ReportLab's platypus): a coloured band with the
kommun's name on page one, headings that keep with what follows, tables with a header row
and light zebra stripes, vector charts, fonts embedded, and a footer with the page number.

All text is escaped before ReportLab's paragraph markup sees it: a name like ``<b>`` prints
as written.
"""

from __future__ import annotations

import io
from functools import partial
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import cm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import PageBreak as Break
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer
from reportlab.platypus.flowables import Flowable

from evaluation.council.blocks import Block, Chart, Document, Grid, Heading, PageBreak, Text, Title
from evaluation.council.pdf_parts import STYLES, grid
from evaluation.council.style import ACCENT, BOLD, FONT, MUTED, RULE, register_fonts

BAND = 1.7 * cm  # the coloured band at the top of page one
LEFT = 2 * cm + 6  # where the text starts: the margin and the frame's own padding
RIGHT = A4[0] - LEFT


def render_pdf(doc: Document) -> bytes:
    register_fonts()
    title = next((b for b in doc.blocks if isinstance(b, Title)), None)
    buffer = io.BytesIO()
    template = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=2 * cm,
        rightMargin=2 * cm,
        topMargin=2.4 * cm,
        bottomMargin=2 * cm,
        title=doc.title,
        author=title.kicker if title else "",
        creator="vandra",
        lang=doc.language,
    )
    flow = [item for block in doc.blocks for item in flowables(block)]
    template.build(
        flow, onFirstPage=partial(_page, doc, title), onLaterPages=partial(_page, doc, None)
    )
    return buffer.getvalue()


def flowables(block: Block) -> list[Flowable]:
    if isinstance(block, Title):
        return [
            Paragraph(escape(block.title), STYLES["title"]),
            *(Paragraph(escape(line), STYLES["meta"]) for line in block.lines),
            Spacer(1, 0.3 * cm),
        ]
    if isinstance(block, Heading):
        return [Paragraph(escape(block.text), STYLES["heading"])]
    if isinstance(block, Text):
        return [Paragraph(escape(block.text), STYLES["small" if block.small else "body"])]
    if isinstance(block, Grid):
        return [grid(block), Spacer(1, 0.35 * cm)]
    if isinstance(block, Chart):
        return [block.draw(), Spacer(1, 0.2 * cm)]
    if isinstance(block, PageBreak):
        return [Break()]
    raise TypeError(block)


def _page(doc: Document, title: Title | None, canvas: Canvas, _template: object) -> None:
    """The band with the kommun's name (page one) or a thin rule with the title, and the
    footer with the page number."""
    width, height = A4
    canvas.saveState()
    if title is not None:
        canvas.setFillColor(ACCENT)
        canvas.rect(0, height - BAND, width, BAND, stroke=0, fill=1)
        canvas.setFillColorRGB(1, 1, 1)
        canvas.setFont(BOLD, 13)
        canvas.drawString(LEFT, height - BAND + 0.65 * cm, title.kicker)
    else:
        canvas.setFont(FONT, 8)
        canvas.setFillColor(MUTED)
        canvas.drawString(LEFT, height - 1.4 * cm, doc.title)
        canvas.setStrokeColor(RULE)
        canvas.line(LEFT, height - 1.55 * cm, RIGHT, height - 1.55 * cm)
    canvas.setFont(FONT, 7.5)
    canvas.setFillColor(MUTED)
    canvas.drawString(LEFT, 1.2 * cm, doc.footer)
    canvas.drawRightString(RIGHT, 1.2 * cm, f"{doc.page_word} {canvas.getPageNumber()}")
    canvas.restoreState()
