"""The report as one self-contained HTML file: no script, no external resource of any kind
(no CDN, font or image to fetch), the charts inline as SVG drawn from the same ReportLab
drawings as the PDF's, a stylesheet in the file that also prints on A4. Every text is escaped.
"""

from __future__ import annotations

import re
from html import escape

from reportlab.graphics import renderSVG

from evaluation.council.blocks import Block, Chart, Document, Grid, Heading, PageBreak, Text, Title
from evaluation.council.html_style import stylesheet
from evaluation.council.style import BOLD, FONT, HTML_FONTS


def render_html(doc: Document) -> bytes:
    title = next((b for b in doc.blocks if isinstance(b, Title)), None)
    band = f'<header class="band">{escape(title.kicker)}</header>' if title else ""
    body = "\n".join(_block(block, n) for n, block in enumerate(doc.blocks))
    page = (
        f'<!DOCTYPE html>\n<html lang="{escape(doc.language)}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(doc.title)}</title>\n<style>{stylesheet()}</style>\n</head>\n<body>\n"
        f"{band}\n<main>\n{body}\n</main>\n<footer>{escape(doc.footer)}</footer>\n</body>\n</html>\n"
    )
    return page.encode("utf-8")


def _block(block: Block, number: int) -> str:
    if isinstance(block, Title):
        lines = "".join(f'<p class="meta">{escape(line)}</p>' for line in block.lines)
        return f"<h1>{escape(block.title)}</h1>{lines}"
    if isinstance(block, Heading):
        return f"<h2>{escape(block.text)}</h2>"
    if isinstance(block, Text):
        return f'<p class="{"small" if block.small else "text"}">{escape(block.text)}</p>'
    if isinstance(block, Grid):
        return _table(block)
    if isinstance(block, Chart):
        return f'<figure class="chart">{svg(block, f"chart{number}")}</figure>'
    if isinstance(block, PageBreak):
        return '<div class="page-break"></div>'
    raise TypeError(block)


def _table(block: Grid) -> str:
    head = "".join(f'<th scope="col">{escape(cell)}</th>' for cell in block.header)
    words = block.text_columns
    rows = "".join(
        "<tr>"
        + f'<th scope="row">{escape(row[0])}</th>'
        + "".join(f'<td class="words">{escape(cell)}</td>' for cell in row[1:words])
        + "".join(f"<td>{escape(cell)}</td>" for cell in row[words:])
        + "</tr>"
        for row in block.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def svg(chart: Chart, ident: str) -> str:
    """The chart's drawing as inline SVG: no XML prolog, ids of its own, the page's fonts,
    and its title as the accessible name."""
    text = renderSVG.drawToString(chart.draw())
    text = text[text.index("<svg") :]
    text = text.replace('id="clip"', f'id="{ident}-clip"').replace(
        "url(#clip)", f"url(#{ident}-clip)"
    )
    text = text.replace('id="group"', f'id="{ident}-group"')
    text = re.sub(
        rf"font-family: ({BOLD}|{FONT});",
        lambda m: (
            f"font-family: {HTML_FONTS};" + (" font-weight: bold;" if m.group(1) == BOLD else "")
        ),
        text,
    )
    text = text.replace("<title>...</title>", f"<title>{escape(chart.title)}</title>")
    text = text.replace("<desc>...</desc>", "")
    return text.replace("<svg ", f'<svg role="img" aria-label="{escape(chart.title)}" ', 1)
