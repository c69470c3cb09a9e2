"""Inventory filters as they arrive in a query string, and page arithmetic.

Shared by the inventory page and its CSV export so both show the same assets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar
from urllib.parse import urlencode

from fastapi import HTTPException

from tocsin.model import AssetKind, Criticality, Exposure
from tocsin.store.inventory import AssetFilter

PAGE_SIZE = 50
MAX_TEXT = 200
E = TypeVar("E", bound=StrEnum)
FILTER_FIELDS = ("establishment", "kind", "criticality", "exposure", "function", "tag", "q")


@dataclass(frozen=True)
class InventoryQuery:
    """The filters of the inventory page; ``params`` keeps the non-empty ones for links."""

    filter: AssetFilter
    page: int
    params: dict[str, str]

    def query_string(self, **changes: str | int) -> str:
        """The filters (plus ``changes``) as a query string, for page and export links."""
        values: dict[str, str] = dict(self.params)
        values.update({k: str(v) for k, v in changes.items()})
        return urlencode(values)


def text_param(params: Mapping[str, str], name: str) -> str | None:
    """A GET parameter, stripped; None when empty; a 400 when too long."""
    value = (params.get(name) or "").strip()
    if len(value) > MAX_TEXT:
        raise HTTPException(400, f"{name} is too long")
    return value or None


def choice_param(params: Mapping[str, str], name: str, enum: type[E]) -> tuple[E, ...]:
    """A GET parameter naming one member of ``enum`` (a 400 when it names none)."""
    value = text_param(params, name)
    if value is None:
        return ()
    try:
        return (enum(value),)
    except ValueError as exc:
        raise HTTPException(400, f"unknown {name} {value!r}") from exc


def page_param(params: Mapping[str, str]) -> int:
    """The ``page`` parameter: 1 by default, a 400 when not a number."""
    value = text_param(params, "page")
    if value is None:
        return 1
    if not value.isdigit():
        raise HTTPException(400, "page must be a number")
    return max(1, min(int(value), 10**6))


def parse_inventory_query(params: Mapping[str, str]) -> InventoryQuery:
    """Read the filters of a GET form; empty fields mean "any", unknown values are a 400."""
    establishment = text_param(params, "establishment")
    flt = AssetFilter(
        establishments=(establishment,) if establishment else (),
        kinds=choice_param(params, "kind", AssetKind),
        criticalities=choice_param(params, "criticality", Criticality),
        exposures=choice_param(params, "exposure", Exposure),
        function=text_param(params, "function"),
        tag=text_param(params, "tag"),
        search=text_param(params, "q"),
    )
    kept = {name: value for name in FILTER_FIELDS if (value := text_param(params, name))}
    return InventoryQuery(flt, page_param(params), kept)


def page_count(total: int, size: int = PAGE_SIZE) -> int:
    return max(1, -(-total // size))


def page_links(page: int, pages: int, around: int = 2) -> list[int | None]:
    """Page numbers to link: the first, the last and a window around ``page``; None is a gap."""
    shown = sorted({1, pages, *range(max(1, page - around), min(pages, page + around) + 1)})
    links: list[int | None] = []
    for number in shown:
        if links and number - (links[-1] or 0) > 1:
            links.append(None)
        links.append(number)
    return links
