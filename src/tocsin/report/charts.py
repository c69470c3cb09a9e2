"""The bulletin's chart, drawn as inline SVG: open exposures by decision over time.

A stacked area chart, one band per decision (most urgent at the bottom), one point per day,
with a legend and the scale written out. No JavaScript, no fonts or images to fetch: the
markup goes straight into the HTML bulletin (and so into its PDF) and into the dashboard's
bulletin page. :func:`chart_description` says the same in one sentence, for readers who
cannot see the chart (``aria-describedby``, a caption).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

from tocsin.model.finding import Decision
from tocsin.watch.bulletin import Lang, label
from tocsin.watch.lifecycle import DayCount

__all__ = ["COLOURS", "chart_description", "open_exposures_chart"]

COLOURS = {
    Decision.ACT_NOW: "#c0392b",
    Decision.OUT_OF_CYCLE: "#e67e22",
    Decision.SCHEDULED: "#f1c40f",
    Decision.TRACK: "#7f8c8d",
}
_ORDER = (Decision.ACT_NOW, Decision.OUT_OF_CYCLE, Decision.SCHEDULED, Decision.TRACK)
WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 10, 60


def _nice_max(value: int) -> int:
    """A round top for the scale (at least 1)."""
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step * 4:
            return step * 4
    return value


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _day(day: date, lang: Lang) -> str:
    return day.strftime("%d/%m/%Y" if lang == "fr" else "%Y-%m-%d")


def _breakdown(count: DayCount, lang: Lang) -> str:
    parts = [
        f"{count.by_decision(d)} {label(lang, f'decision.{d.value}').lower()}"
        for d in _ORDER
        if count.by_decision(d)
    ]
    return f" ({', '.join(parts)})" if parts else ""


def chart_description(history: Sequence[DayCount], lang: Lang = "fr") -> str:
    """The chart in one or two sentences: the last day's open exposures by decision, the
    first day's, and the highest point."""
    if not history:
        return label(lang, "chart.empty")
    first, last = history[0], history[-1]
    peak = max(history, key=lambda d: (d.total, d.day))
    values = {
        "day": _day(last.day, lang),
        "n": str(last.total),
        "detail": _breakdown(last, lang),
        "first_day": _day(first.day, lang),
        "first": str(first.total),
        "peak_day": _day(peak.day, lang),
        "peak": str(peak.total),
    }
    return label(lang, "chart.summary", **values)


def open_exposures_chart(
    history: Sequence[DayCount], lang: Lang = "fr", *, described_by: str | None = None
) -> str:
    """SVG markup of ``history`` (an empty history gives a chart with no bands);
    ``described_by`` is the id of the element describing it in words."""
    title = escape(label(lang, "chart"))
    described = f' aria-describedby="{escape(described_by)}"' if described_by else ""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = _nice_max(max((d.total for d in history), default=0))
    count = len(history)

    def x(index: int) -> float:
        return LEFT + (plot_w * index / (count - 1) if count > 1 else plot_w / 2)

    def y(value: float) -> float:
        return TOP + plot_h - plot_h * value / top

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{title}"{described} '
        'font-family="sans-serif" font-size="11">',
        f"<title>{title}</title>",
    ]
    for tick in range(5):
        value = top * tick / 4
        ty = _fmt(y(value))
        parts.append(
            f'<line x1="{LEFT}" y1="{ty}" x2="{WIDTH - RIGHT}" y2="{ty}" stroke="#ddd"/>'
            f'<text x="{LEFT - 4}" y="{ty}" text-anchor="end" dy="4">{_fmt(value)}</text>'
        )
    below = [0] * count
    for decision in _ORDER:
        above = [below[i] + history[i].by_decision(decision) for i in range(count)]
        if count and any(a != b for a, b in zip(above, below, strict=True)):
            upper = [f"{_fmt(x(i))},{_fmt(y(above[i]))}" for i in range(count)]
            lower = [f"{_fmt(x(i))},{_fmt(y(below[i]))}" for i in reversed(range(count))]
            if count == 1:  # a single day: a bar-wide band
                upper = [f"{_fmt(x(0) - 8)},{_fmt(y(above[0]))}", upper[0]]
                lower = [lower[0], f"{_fmt(x(0) - 8)},{_fmt(y(below[0]))}"]
            parts.append(
                f'<polygon class="band-{decision.value}" points="{" ".join(upper + lower)}" '
                f'fill="{COLOURS[decision]}" fill-opacity="0.85"/>'
            )
        below = above
    axis_y = _fmt(y(0))
    parts.append(
        f'<line x1="{LEFT}" y1="{axis_y}" x2="{WIDTH - RIGHT}" y2="{axis_y}" stroke="#333"/>'
    )
    if history:
        for index in sorted({0, count // 2, count - 1}):
            day = history[index].day.strftime("%d/%m" if lang == "fr" else "%m-%d")
            anchor = "start" if index == 0 else "end" if index == count - 1 else "middle"
            parts.append(
                f'<text x="{_fmt(x(index))}" y="{_fmt(y(0) + 14)}" '
                f'text-anchor="{anchor}">{day}</text>'
            )
    legend_y = HEIGHT - 18
    for position, decision in enumerate(_ORDER):
        lx = LEFT + position * 150
        name = escape(label(lang, f"decision.{decision.value}"))
        parts.append(
            f'<rect x="{lx}" y="{legend_y - 9}" width="10" height="10" '
            f'fill="{COLOURS[decision]}"/><text x="{lx + 14}" y="{legend_y}">{name}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
