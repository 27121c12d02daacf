"""The HTML report's stylesheet: the PDF's look on screen and on paper (A4)."""

from __future__ import annotations

from evaluation.council.style import ACCENT, HTML_FONTS, INK, MUTED, RULE, ZEBRA, hex_of


def stylesheet() -> str:
    accent, ink, muted, rule, zebra = (hex_of(c) for c in (ACCENT, INK, MUTED, RULE, ZEBRA))
    return f"""
@page {{ size: A4; margin: 2cm; }}
body {{ margin: 0; font-family: {HTML_FONTS}; color: {ink}; font-size: 11pt;
  line-height: 1.45; background: #fff; }}
.band {{ background: {accent}; color: #fff; font-weight: bold; font-size: 15pt;
  padding: 0.8em 2rem; }}
main {{ max-width: 50rem; margin: 0 auto; padding: 1rem 2rem 2rem; }}
h1 {{ color: {accent}; font-size: 20pt; margin: 0.6em 0 0.4em; line-height: 1.2; }}
h2 {{ color: {accent}; font-size: 14pt; margin: 1.6em 0 0.5em; break-after: avoid; }}
.meta {{ color: {muted}; margin: 0.15em 0; }}
.small {{ color: {muted}; font-size: 9pt; }}
table {{ border-collapse: collapse; width: 100%; margin: 0.5em 0 1em; font-size: 10pt;
  break-inside: avoid; }}
th, td {{ padding: 0.25em 0.5em; text-align: right; }}
th:first-child, td.words {{ text-align: left; font-weight: normal; }}
thead th {{ font-weight: bold; border-bottom: 2px solid {accent}; vertical-align: bottom; }}
thead th:first-child {{ font-weight: bold; }}
tbody tr:nth-child(even) {{ background: {zebra}; }}
tbody tr:last-child {{ border-bottom: 1px solid {rule}; }}
figure.chart {{ margin: 0.5em 0 1em; break-inside: avoid; }}
figure.chart svg {{ max-width: 100%; height: auto; }}
footer {{ color: {muted}; font-size: 9pt; text-align: center; padding: 1rem; }}
.page-break {{ break-after: page; }}
"""
