"""The per-host timeline of detection alerts, drawn on the server as inline SVG.

One row per level (critical at the top), time along the x axis, one mark per alert at its
first event, a line to its last. Colours come from the stylesheet (``level-…`` classes);
the marks carry a ``<title>`` so hovering names the alert; a text alternative is rendered
next to the chart by the template.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from tocsin.model.alerts import LEVELS
from tocsin.store.alerts import StoredAlert

WIDTH = 720
ROW = 26
LEFT, RIGHT, TOP, BOTTOM = 96, 16, 8, 28


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def timeline_svg(alerts: Sequence[StoredAlert], level_names: dict[str, str], title: str) -> str:
    """SVG markup of ``alerts`` on a time axis; ``level_names`` are the shown level labels."""
    timed = [a for a in alerts if a.alert.first is not None]
    rows = list(reversed(LEVELS))  # critical first
    height = TOP + ROW * len(rows) + BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart timeline" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
    ]
    for index, level in enumerate(rows):
        y = TOP + ROW * index + ROW / 2
        parts.append(
            f'<text x="0" y="{_fmt(y + 4)}">{escape(level_names.get(level, level))}</text>'
            f'<line x1="{LEFT}" y1="{_fmt(y)}" x2="{WIDTH - RIGHT}" y2="{_fmt(y)}" '
            'class="timeline-row"/>'
        )
    if timed:
        parts.extend(_marks(timed, rows))
    parts.append("</svg>")
    return "".join(parts)


def _marks(timed: Sequence[StoredAlert], rows: list[str]) -> list[str]:
    starts = [a.alert.first for a in timed if a.alert.first]
    ends = [a.alert.last or a.alert.first for a in timed if a.alert.first]
    low: datetime = min(starts)
    high: datetime = max(e for e in ends if e is not None)
    span = max((high - low).total_seconds(), 60.0)
    plot = WIDTH - LEFT - RIGHT

    def x(moment: datetime) -> float:
        return LEFT + plot * (moment - low).total_seconds() / span

    parts: list[str] = []
    for stored in timed:
        alert = stored.alert
        assert alert.first is not None
        level = alert.level if alert.level in rows else "informational"
        y = TOP + ROW * rows.index(level) + ROW / 2
        x1, x2 = x(alert.first), x(alert.last or alert.first)
        label = escape(f"#{stored.id} {alert.title} ({alert.first:%Y-%m-%d %H:%M} UTC)")
        parts.append(
            f'<a href="/detect/alerts/{stored.id}"><g class="mark level-{escape(level)}">'
            f"<title>{label}</title>"
            f'<line x1="{_fmt(x1)}" y1="{_fmt(y)}" x2="{_fmt(x2)}" y2="{_fmt(y)}" '
            'stroke-width="4"/>'
            f'<circle cx="{_fmt(x1)}" cy="{_fmt(y)}" r="5"/></g></a>'
        )
    bottom = TOP + ROW * len(rows) + 16
    parts.append(
        f'<text x="{LEFT}" y="{bottom}">{low:%Y-%m-%d %H:%M}</text>'
        f'<text x="{WIDTH - RIGHT}" y="{bottom}" text-anchor="end">{high:%Y-%m-%d %H:%M} UTC</text>'
    )
    return parts
