"""The overview, the inventory (list, CSV export, asset page) and the audit log."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Annotated

from fastapi import Depends
from fastapi.responses import Response, StreamingResponse
from starlette.requests import Request

from tocsin.accounts import Account
from tocsin.inventory.export import asset_document, iter_csv
from tocsin.model import Permission
from tocsin.model.inventory import CARE_FUNCTIONS
from tocsin.store import audit
from tocsin.store.alerts import alert_counts
from tocsin.store.inventory import (
    asset_counts,
    count_assets,
    get_asset,
    iter_assets,
    list_establishments,
)
from tocsin.web.auth import require
from tocsin.web.charts import summarise
from tocsin.web.context import web_context
from tocsin.web.csrf import page_router
from tocsin.web.filters import PAGE_SIZE, page_count, page_links, parse_inventory_query
from tocsin.web.render import render

router = page_router()

InventoryReader = Annotated[Account, Depends(require(Permission.INVENTORY_READ))]
AuditReader = Annotated[Account, Depends(require(Permission.AUDIT_READ))]
AUDIT_LIMIT = 200
CSV_ROWS_PER_CHUNK = 200


@router.get("/")
def home(request: Request, account: InventoryReader) -> Response:
    with web_context(request).database.session() as session:
        rows = list_establishments(session, account.scope)
        counts = asset_counts(session, account.scope)
        summaries = [summarise(r.slug, r.name, r.type, counts.get(r.id, {})) for r in rows]
        detection = (
            {r.slug: alert_counts(session, r.id) for r in rows}
            if account.can(Permission.DETECT_READ)
            else None
        )
    total = sum(s.total for s in summaries)
    context = {"active": "home", "summaries": summaries, "total": total, "detection": detection}
    return render(request, "home.html", context)


@router.get("/inventory")
def inventory(request: Request, account: InventoryReader) -> Response:
    query = parse_inventory_query(request.query_params)
    with web_context(request).database.session() as session:
        establishments = list_establishments(session, account.scope)
        total = count_assets(session, query.filter, account.scope)
        pages = page_count(total)
        page = min(query.page, pages)
        offset = (page - 1) * PAGE_SIZE
        found = iter_assets(session, query.filter, account.scope, offset=offset, limit=PAGE_SIZE)
        assets = list(found)
    context = {
        "active": "inventory",
        "query": query,
        "establishments": establishments,
        "names": {e.slug: e.name for e in establishments},
        "functions": CARE_FUNCTIONS,
        "assets": assets,
        "total": total,
        "page": page,
        "pages": pages,
        "page_links": page_links(page, pages),
        "first": offset + 1 if total else 0,
        "last": offset + len(assets),
    }
    return render(request, "inventory.html", context)


def _chunks(lines: Iterable[str], size: int = CSV_ROWS_PER_CHUNK) -> Iterator[str]:
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= size:
            yield "".join(batch)
            batch.clear()
    if batch:
        yield "".join(batch)


@router.get("/inventory.csv")
def inventory_csv(request: Request, account: InventoryReader) -> StreamingResponse:
    """The filtered inventory in Tocsin's CSV format (re-importable), streamed."""
    query = parse_inventory_query(request.query_params)
    database = web_context(request).database

    def body() -> Iterator[str]:
        with database.session() as session:
            yield from _chunks(iter_csv(iter_assets(session, query.filter, account.scope)))

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="tocsin-inventory.csv"'},
    )


@router.get("/inventory/{establishment}/{asset_id:path}")
def asset_page(
    request: Request, establishment: str, asset_id: str, account: InventoryReader
) -> Response:
    with web_context(request).database.session() as session:
        stored = get_asset(session, establishment, asset_id, account.scope)
        names = {e.slug: e.name for e in list_establishments(session, account.scope)}
    context = {
        "active": "inventory",
        "asset": stored.asset,
        "document": asset_document(stored),
        "establishment_name": names.get(stored.establishment, stored.establishment),
        "updated_at": stored.updated_at,
    }
    return render(request, "asset.html", context)


@router.get("/audit")
def audit_log(request: Request, account: AuditReader) -> Response:
    """The latest entries; a user limited to some establishments sees only theirs."""
    with web_context(request).database.session() as session:
        entries = audit.recent(session, limit=AUDIT_LIMIT)
        slugs = {e.id: e.slug for e in list_establishments(session)}
    scope = account.scope
    if scope.establishment_ids is not None:
        entries = [
            e
            for e in entries
            if e.establishment_id is not None and scope.allows(e.establishment_id)
        ]
    context = {"active": "audit", "entries": entries, "slugs": slugs, "limit": AUDIT_LIMIT}
    return render(request, "audit.html", context)
