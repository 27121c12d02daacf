"""Charts as inline SVG, drawn on the server: no script, no external library, printable.

Colours are presentation attributes (not ``style``), so the page's Content-Security-Policy
can forbid inline styles.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

BAR = "#5b2a86"  # Purple Flag purple
GRID = "#d9d4e0"
TEXT = "#222222"
SERIES_COLOURS = {"calm": "#3a8f5c", "mixed": "#e0a526", "unruly": "#c0392b"}


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".").replace(".", ",")


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="chart" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def column_chart(title: str, labels: Sequence[str], values: Sequence[float]) -> Markup:
    """Vertical bars with the value above each and the label below."""
    width, height, top, bottom, left = 640, 240, 24, 36, 8
    plot = height - top - bottom
    peak = max([*values, 1])
    step = (width - 2 * left) / max(len(values), 1)
    body = [f'<line x1="{left}" y1="{top + plot}" x2="{width - left}" y2="{top + plot}" '
            f'stroke="{GRID}" stroke-width="1"/>']  # fmt: skip
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        bar = plot * value / peak
        x = left + index * step + step * 0.15
        y = top + plot - bar
        centre = x + step * 0.35
        body.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" height="{bar:.1f}" '
            f'fill="{BAR}"/>'
        )
        body.append(
            f'<text x="{centre:.1f}" y="{y - 4:.1f}" text-anchor="middle" font-size="14" '
            f'fill="{TEXT}">{_number(value)}</text>'
        )
        body.append(
            f'<text x="{centre:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
            f'font-size="13" fill="{TEXT}">{escape(label)}</text>'
        )
    return _svg(width, height, title, body)


def bar_list(title: str, rows: Sequence[tuple[str, float]]) -> Markup:
    """Horizontal bars, one per row, label on the left and value on the right."""
    row_height, label_width, width = 26, 230, 640
    height = max(len(rows), 1) * row_height + 8
    peak = max([value for _, value in rows] + [1])
    room = width - label_width - 48
    body = []
    for index, (label, value) in enumerate(rows):
        y = 4 + index * row_height
        length = room * value / peak
        body.append(
            f'<text x="{label_width - 8}" y="{y + 17}" text-anchor="end" font-size="14" '
            f'fill="{TEXT}">{escape(label)}</text>'
        )
        body.append(
            f'<rect x="{label_width}" y="{y + 4}" width="{length:.1f}" height="{row_height - 8}" '
            f'fill="{BAR}"/>'
        )
        body.append(
            f'<text x="{label_width + length + 6:.1f}" y="{y + 17}" font-size="14" '
            f'fill="{TEXT}">{_number(value)}</text>'
        )
    return _svg(width, height, title, body)


def stacked_bars(
    title: str,
    rows: Sequence[tuple[str, dict[str, int]]],
    series: Sequence[tuple[str, str]],
) -> Markup:
    """One horizontal bar per row, split into ``series`` (key, legend label), with a legend."""
    row_height, label_width, width, legend = 26, 180, 640, 28
    height = legend + max(len(rows), 1) * row_height + 8
    peak = max([sum(parts.values()) for _, parts in rows] + [1])
    room = width - label_width - 40
    body = []
    for index, (key, name) in enumerate(series):
        key_x = label_width + index * 130
        body.append(
            f'<rect x="{key_x}" y="6" width="14" height="14" '
            f'fill="{SERIES_COLOURS.get(key, BAR)}"/>'
        )
        body.append(
            f'<text x="{key_x + 20}" y="18" font-size="14" fill="{TEXT}">{escape(name)}</text>'
        )
    for index, (label, parts) in enumerate(rows):
        y = legend + 4 + index * row_height
        body.append(
            f'<text x="{label_width - 8}" y="{y + 17}" text-anchor="end" font-size="14" '
            f'fill="{TEXT}">{escape(label)}</text>'
        )
        x = float(label_width)
        for key, _ in series:
            length = room * parts.get(key, 0) / peak
            if length:
                body.append(
                    f'<rect x="{x:.1f}" y="{y + 4}" width="{length:.1f}" '
                    f'height="{row_height - 8}" fill="{SERIES_COLOURS.get(key, BAR)}"/>'
                )
                body.append(
                    f'<text x="{x + length / 2:.1f}" y="{y + 17}" text-anchor="middle" '
                    f'font-size="13" fill="#ffffff">{parts[key]}</text>'
                )
            x += length
    return _svg(width, height, title, body)
