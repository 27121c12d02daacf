"""The report's charts as ReportLab drawings: drawn into the PDF as vector graphics, and
turned into inline SVG for the HTML (``renderSVG``), so both show the same picture.

Every chart has a legend naming its series, numbers on its value axis, and category labels
that are the caller's words (names of areas and organisations included; renderSVG escapes
them, the PDF draws them as text).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.colors import Color

from evaluation.council.style import FONT, INK, MUTED, RULE, register_fonts

WIDTH = 470  # points: the text width of an A4 page with 2 cm margins and the frame's padding
LABEL_CHARS = 28  # longer category labels are cut with an ellipsis
MAX_ROWS = 20  # a bar chart shows at most this many rows: the largest (its table has all)
MAX_LABELS = 26  # a column chart names at most this many of its columns (every n-th)


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float]
    colour: Color


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _legend(series: Sequence[Series], x: float, y: float) -> Legend:
    legend = Legend()
    legend.x, legend.y = x, y
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.deltax = 0
    legend.dx = legend.dy = 8
    legend.fontName, legend.fontSize, legend.fillColor = FONT, 8, INK
    legend.strokeWidth = 0
    legend.colorNamePairs = [(s.colour, s.label) for s in series]
    legend.dxTextSpace = 4
    legend.deltax = 90
    legend.columnMaximum = 1
    legend.boxAnchor = "nw"
    return legend


def _style(chart: VerticalBarChart | HorizontalBarChart, series: Sequence[Series]) -> None:
    peak = max([v for s in series for v in s.values] + [1])
    chart.data = [tuple(s.values) for s in series] or [(0,)]
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = peak * 1.12 if peak > 4 else 5
    chart.valueAxis.labels.fontName = chart.categoryAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = chart.categoryAxis.labels.fontSize = 8
    chart.valueAxis.labels.fillColor = MUTED
    chart.categoryAxis.labels.fillColor = INK
    chart.valueAxis.strokeColor = chart.categoryAxis.strokeColor = RULE
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = RULE
    chart.valueAxis.gridStrokeWidth = 0.5
    chart.valueAxis.labelTextFormat = _axis_number
    chart.bars.strokeWidth = 0
    chart.bars.strokeColor = None
    chart.barLabels.fontName, chart.barLabels.fontSize = FONT, 7
    chart.barLabels.fillColor = INK
    for index, one in enumerate(series):
        chart.bars[index].fillColor = one.colour
        chart.bars[index].strokeColor = None


def _axis_number(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def columns(categories: Sequence[str], series: Sequence[Series], height: int = 150) -> Drawing:
    """Vertical bars, one group per category (weeks), a bar per series."""
    register_fonts()
    drawing = Drawing(WIDTH, height)
    chart = VerticalBarChart()
    # a few weeks get bars of a sensible width, not the whole page each
    wide = 40 + max(len(categories), 1) * (len(series) * 24 + 24)
    chart.x, chart.y, chart.width, chart.height = 34, 34, min(WIDTH - 44, wide), height - 62
    _style(chart, series)
    step = -(-len(categories) // MAX_LABELS)  # every week named up to 26, then every n-th
    names = [_short(c) if n % step == 0 else "" for n, c in enumerate(categories)]
    chart.categoryAxis.categoryNames = names or [""]
    chart.groupSpacing, chart.barSpacing = 6, 1
    if len(categories) <= 14:
        chart.barLabelFormat = _bar_label
        chart.barLabels.boxAnchor, chart.barLabels.dy = "s", 2
    if len(categories) > 14:
        chart.categoryAxis.labels.angle = 90
        chart.categoryAxis.labels.boxAnchor = "e"
    drawing.add(chart)
    drawing.add(_legend(series, 34, height - 4))
    return drawing


def largest(
    categories: Sequence[str], series: Sequence[Series], count: int = MAX_ROWS
) -> tuple[list[str], list[Series]]:
    """The ``count`` rows with the largest totals, in their order: a big town's 300 areas
    would not fit on a page."""
    totals = [sum(s.values[n] for s in series) for n in range(len(categories))]
    kept = sorted(sorted(range(len(categories)), key=lambda n: -totals[n])[:count])
    return [categories[n] for n in kept], [
        Series(s.label, [s.values[n] for n in kept], s.colour) for s in series
    ]


def bars(categories: Sequence[str], series: Sequence[Series], stacked: bool = False) -> Drawing:
    """Horizontal bars, one row per category (areas, organisations, time bands): side by
    side per series, or stacked into one bar; at most ``MAX_ROWS`` rows, the largest."""
    register_fonts()
    categories, series = largest(categories, series)
    per_row = 16 if stacked else 8 * len(series) + 8
    height = 40 + max(len(categories), 1) * per_row
    drawing = Drawing(WIDTH, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = 150, 20
    chart.width, chart.height = WIDTH - 160, height - 44
    # ReportLab draws the first category and the first series at the bottom: both reversed,
    # the chart reads top-down in the legend's order (stacked: left to right already)
    _style(chart, series if stacked else list(reversed(series)))
    chart.data = [tuple(reversed(v)) for v in chart.data]
    chart.categoryAxis.categoryNames = [_short(c) for c in reversed(categories)] or [""]
    if stacked:
        chart.categoryAxis.style = "stacked"
        chart.valueAxis.valueMax = max([sum(v) for v in zip(*chart.data, strict=True)] + [4]) * 1.1
    chart.barLabelFormat = _bar_label
    chart.barLabels.boxTarget = "mid" if stacked else "hi"
    chart.barLabels.boxAnchor = "c" if stacked else "w"
    chart.barLabels.dx = 0 if stacked else 3
    if stacked:
        chart.barLabels.fillColor = colors.white
    drawing.add(chart)
    drawing.add(_legend(series, 150, height - 4))
    return drawing


def _bar_label(value: float) -> str:
    """Whole numbers on the bars (the tables hold the decimals); nothing on an empty one."""
    return f"{value:.0f}" if value else ""
