"""Small charts drawn on the server as inline SVG (no JavaScript, nothing to download)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tocsin.model import Criticality, Exposure
from tocsin.web.labels import CRITICALITY

BAR_HEIGHT = 18
BAR_GAP = 8
LABEL_WIDTH = 110
BAR_AREA = 220


@dataclass(frozen=True)
class Bar:
    key: str
    label: str  # English message id, translated in the template
    value: int
    y: int
    width: float


@dataclass(frozen=True)
class BarChart:
    bars: tuple[Bar, ...]
    label_width: int = LABEL_WIDTH
    bar_area: int = BAR_AREA

    @property
    def height(self) -> int:
        return len(self.bars) * (BAR_HEIGHT + BAR_GAP)

    @property
    def width(self) -> int:
        return self.label_width + self.bar_area + 60

    @property
    def bar_height(self) -> int:
        return BAR_HEIGHT


def criticality_chart(counts: Mapping[str, int]) -> BarChart:
    """Bars of assets by criticality, vital first, scaled to the largest."""
    values = [(c, counts.get(c.value, 0)) for c in Criticality]
    largest = max((v for _c, v in values), default=0) or 1
    bars = tuple(
        Bar(
            key=c.value,
            label=CRITICALITY[c],
            value=value,
            y=index * (BAR_HEIGHT + BAR_GAP),
            width=round(BAR_AREA * value / largest, 1),
        )
        for index, (c, value) in enumerate(values)
    )
    return BarChart(bars)


@dataclass(frozen=True)
class EstablishmentSummary:
    """What the overview shows for one establishment."""

    slug: str
    name: str
    type: str
    total: int
    by_criticality: tuple[tuple[str, int], ...]
    internet: int
    chart: BarChart


def summarise(slug: str, name: str, type_: str, counts: Mapping[str, int]) -> EstablishmentSummary:
    return EstablishmentSummary(
        slug=slug,
        name=name,
        type=type_,
        total=counts.get("total", 0),
        by_criticality=tuple((c.value, counts.get(c.value, 0)) for c in Criticality),
        internet=counts.get(Exposure.INTERNET.value, 0),
        chart=criticality_chart(counts),
    )
