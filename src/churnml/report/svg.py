"""Tiny inline SVG charts for the marketing summary: deterministic text, no scripts.

Numbers are formatted with fixed precision, so the same data gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

BAR_HEIGHT = 22
BAR_GAP = 6
LABEL_WIDTH = 190
PLOT_WIDTH = 360
VALUE_WIDTH = 90
COLUMN_WIDTH = 40
COLUMN_PLOT_HEIGHT = 160
FILL = "#2f6db5"
HIGHLIGHT = "#c8402f"


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
            f"<title>{escape(title)}</title>")
    return head + "".join(body) + "</svg>"


def horizontal_bars(labels: Sequence[str], values: Sequence[float], title: str,
                    value_text: Sequence[str] | None = None,
                    highlight: Sequence[bool] | None = None) -> str:
    """One labelled horizontal bar per value (values must be >= 0).

    Parameters
    ----------
    labels, values
        Bar names and lengths, drawn top to bottom in the given order.
    title
        Accessible title of the chart.
    value_text
        Text printed after each bar (default: the value with thousands separators).
    highlight
        Bars drawn in the highlight colour.
    """
    texts = list(value_text) if value_text is not None else [f"{v:,.0f}" for v in values]
    marks = list(highlight) if highlight is not None else [False] * len(values)
    top = max([float(v) for v in values] + [0.0])
    body = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = i * (BAR_HEIGHT + BAR_GAP)
        width = 0.0 if top <= 0 else PLOT_WIDTH * float(value) / top
        colour = HIGHLIGHT if marks[i] else FILL
        body.append(f'<text x="{LABEL_WIDTH - 8}" y="{y + 16}" text-anchor="end" '
                    f'font-size="13">{escape(str(label))}</text>')
        body.append(f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{width:.1f}" '
                    f'height="{BAR_HEIGHT - 6}" fill="{colour}"/>')
        body.append(f'<text x="{LABEL_WIDTH + width + 6:.1f}" y="{y + 16}" '
                    f'font-size="13">{escape(texts[i])}</text>')
    height = max(len(texts), 1) * (BAR_HEIGHT + BAR_GAP)
    return _svg(LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH, height, title, body)


def columns(labels: Sequence[str], counts: Sequence[int], title: str,
            highlight_from: int | None = None) -> str:
    """A histogram-style column chart of ``counts`` with a label under each column.

    Columns at index ``highlight_from`` and after are drawn in the highlight colour
    (e.g. the high-risk end of a probability histogram).
    """
    top = max([int(c) for c in counts] + [0])
    base = COLUMN_PLOT_HEIGHT + 20
    body = []
    for i, (label, count) in enumerate(zip(labels, counts, strict=True)):
        x = 10 + i * COLUMN_WIDTH
        height = 0.0 if top == 0 else COLUMN_PLOT_HEIGHT * int(count) / top
        colour = HIGHLIGHT if highlight_from is not None and i >= highlight_from else FILL
        body.append(f'<rect x="{x + 3}" y="{base - height:.1f}" width="{COLUMN_WIDTH - 6}" '
                    f'height="{height:.1f}" fill="{colour}"/>')
        body.append(f'<text x="{x + COLUMN_WIDTH / 2:.1f}" y="{base - height - 4:.1f}" '
                    f'text-anchor="middle" font-size="11">{int(count):,}</text>')
        body.append(f'<text x="{x + COLUMN_WIDTH / 2:.1f}" y="{base + 16}" '
                    f'text-anchor="middle" font-size="11">{escape(str(label))}</text>')
    return _svg(20 + len(labels) * COLUMN_WIDTH, base + 26, title, body)
