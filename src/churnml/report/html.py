"""HTML building blocks for the summary: escaped text, tables, number formats."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape


def count(n: float) -> str:
    """A whole number with thousands separators."""
    return f"{int(n):,}"


def money(x: float) -> str:
    """An amount rounded to whole units, with thousands separators (no currency sign)."""
    return "n/a" if x is None or not math.isfinite(float(x)) else f"{float(x):,.0f}"


def percent(x: float, digits: int = 1) -> str:
    """A share in [0, 1] as a percentage."""
    return "n/a" if x is None or not math.isfinite(float(x)) else f"{100 * float(x):.{digits}f} %"


def paragraph(text: str, css: str | None = None) -> str:
    """An escaped paragraph."""
    attr = f' class="{css}"' if css else ""
    return f"<p{attr}>{escape(text)}</p>"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], caption: str = "") -> str:
    """A simple table of already formatted cells (escaped here); numbers align right."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td class="{_align(cell)}">{escape(cell)}</td>' for cell in row)
        + "</tr>" for row in rows)
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _align(cell: str) -> str:
    stripped = cell.replace(",", "").replace(" %", "").replace(".", "").lstrip("-")
    return "num" if stripped.isdigit() else "text"


def tiles(items: Sequence[tuple[str, str]]) -> str:
    """Key figures as a row of tiles: (figure, label)."""
    cells = "".join(f'<div class="tile"><div class="figure">{escape(figure)}</div>'
                    f'<div class="label">{escape(label)}</div></div>' for figure, label in items)
    return f'<div class="tiles">{cells}</div>'


def section(title: str, body: str, anchor: str) -> str:
    """A titled section of the page."""
    return f'<section id="{escape(anchor)}"><h2>{escape(title)}</h2>{body}</section>'
