"""The report's look: fonts, colours and the page (A4, kommun-style: a coloured band with the
kommun's name, plain headings, tables with thin rules).

Fonts are Bitstream Vera, which ReportLab ships, embedded in the PDF (a print shop needs every
font in the file; they cover Swedish and most European names).
"""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT, BOLD = "Vera", "Vera-Bold"
HTML_FONTS = "'Bitstream Vera Sans', 'DejaVu Sans', Verdana, Arial, sans-serif"

ACCENT = colors.HexColor("#4a2372")  # Purple Flag purple, darkened for print
ACCENT_LIGHT = colors.HexColor("#b9a3d3")
PREVIOUS = colors.HexColor("#a7a9ac")  # the previous period: grey
CANCELLED = colors.HexColor("#c0392b")
RULE = colors.HexColor("#d5d0dc")
ZEBRA = colors.HexColor("#f4f1f8")
INK = colors.HexColor("#1f1f24")
MUTED = colors.HexColor("#5f5a66")
MOOD_COLOURS = {
    "calm": colors.HexColor("#3a8f5c"),
    "mixed": colors.HexColor("#e0a526"),
    "unruly": colors.HexColor("#c0392b"),
}


def hex_of(colour: colors.Color) -> str:
    return "#" + colour.hexval()[2:]


def register_fonts() -> None:
    """Make Vera known to ReportLab (once; it is found in ReportLab's own font folder)."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, "Vera.ttf"))
        pdfmetrics.registerFont(TTFont(BOLD, "VeraBd.ttf"))
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)
