"""Web pages of the detect capability: alerts with filters, one alert with its events, the
alerts of one host on a timeline, and the export (CSV or JSON lines).

Alerts belong to an establishment; the account's scope decides which it may see (an alert
outside the scope is a 404, as if it did not exist). Status changes are audited with the
username as actor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, HTTPException
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from starlette.requests import Request

from tocsin.accounts import Account
from tocsin.detect.alert_document import export_lines
from tocsin.errors import UsageError
from tocsin.model import Permission
from tocsin.model.alerts import LEVELS, AlertSource, AlertStatus
from tocsin.store.alerts import (
    OPEN_STATUSES,
    AlertFilter,
    StoredAlert,
    alert_counts,
    count_alerts,
    get_alert,
    host_key,
    list_alerts,
    set_status,
)
from tocsin.store.db import Database
from tocsin.store.inventory import list_establishments
from tocsin.store.tables import EstablishmentRow
from tocsin.web.auth import require
from tocsin.web.context import web_context
from tocsin.web.csrf import page_router
from tocsin.web.detect_charts import timeline_svg
from tocsin.web.filters import PAGE_SIZE, page_count, page_links, page_param, text_param
from tocsin.web.i18n import N_, translations
from tocsin.web.nav import NavItem, register
from tocsin.web.render import flash, page_language, render
from tocsin.web.scoping import scoped_item

router = page_router()  # every POST route of this router is CSRF-checked
register(NavItem("detect", N_("Detection"), "/detect/alerts", Permission.DETECT_READ, order=30))

Reader = Annotated[Account, Depends(require(Permission.DETECT_READ))]
Triager = Annotated[Account, Depends(require(Permission.DETECT_TRIAGE))]
LEVEL_LABELS = {
    "informational": N_("informational"),
    "low": N_("low"),
    "medium": N_("medium"),
    "high": N_("high"),
    "critical": N_("critical"),
}
STATUS_LABELS = {
    AlertStatus.NEW.value: N_("new"),
    AlertStatus.ACKNOWLEDGED.value: N_("acknowledged"),
    AlertStatus.CLOSED.value: N_("closed"),
    AlertStatus.FALSE_POSITIVE.value: N_("false positive"),
}
SOURCE_LABELS = {
    AlertSource.SIGMA.value: N_("Sigma rule"),
    AlertSource.DDOS.value: N_("DDoS detector"),
    AlertSource.CANARY.value: N_("canary file"),
    AlertSource.WATCHER.value: N_("file-share watcher"),
}
FILTERS = ("establishment", "level", "status", "source", "host", "q")
MAX_NOTE = 2000


def _database(request: Request) -> Database:
    return web_context(request).database


@dataclass(frozen=True)
class AlertQuery:
    """The filters of the alerts page; ``params`` keeps the non-empty ones for links."""

    establishment: str | None
    filter: AlertFilter
    page: int
    params: dict[str, str]

    def query_string(self, **changes: str | int) -> str:
        values = dict(self.params)
        values.update({k: str(v) for k, v in changes.items()})
        return urlencode({k: v for k, v in values.items() if v != ""})


def _allowed(value: str | None, choices: Mapping[str, str], name: str) -> str | None:
    if value is not None and value not in choices:
        raise HTTPException(400, f"unknown {name} {value!r}")
    return value


def parse_alert_query(params: Mapping[str, str]) -> AlertQuery:
    """Read the filters; empty fields mean "any" (status: the open ones), unknown values 400."""
    status = text_param(params, "status")
    if status not in (None, "open", "all"):
        _allowed(status, STATUS_LABELS, "status")
    statuses = (
        list(OPEN_STATUSES) if status in (None, "open") else None if status == "all" else [status]
    )
    flt = AlertFilter(
        min_level=_allowed(text_param(params, "level"), LEVEL_LABELS, "level"),
        statuses=statuses,
        source=_allowed(text_param(params, "source"), SOURCE_LABELS, "source"),
        host=text_param(params, "host"),
        text=text_param(params, "q"),
    )
    kept = {name: value for name in FILTERS if (value := text_param(params, name))}
    return AlertQuery(text_param(params, "establishment"), flt, page_param(params), kept)


def _establishment(
    establishments: list[EstablishmentRow], slug: str | None
) -> EstablishmentRow | None:
    """The chosen establishment among those in scope (the first when none is chosen)."""
    if not establishments:
        return None
    if slug is None:
        return establishments[0]
    for row in establishments:
        if row.slug == slug:
            return row
    raise HTTPException(404, "no such establishment")


def _labels() -> dict[str, object]:
    return {
        "level_labels": LEVEL_LABELS,
        "status_labels": STATUS_LABELS,
        "source_labels": SOURCE_LABELS,
        "levels": list(reversed(LEVELS)),
    }


@router.get("/detect")
def detect_home(account: Reader) -> Response:
    return RedirectResponse("/detect/alerts", status_code=303)


@router.get("/detect/alerts")
def alerts_page(request: Request, account: Reader) -> Response:
    query = parse_alert_query(request.query_params)
    with _database(request).session() as session:
        establishments = list_establishments(session, account.scope)
        chosen = _establishment(establishments, query.establishment)
        rows: list[StoredAlert] = []
        total, counts = 0, {}
        if chosen is not None:
            total = count_alerts(session, chosen.id, query.filter)
            counts = alert_counts(session, chosen.id)
            pages = page_count(total)
            page = min(query.page, pages)
            rows = list_alerts(
                session, chosen.id, query.filter, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
            )
    pages = page_count(total)
    page = min(query.page, pages)
    context = {
        "active": "detect",
        "query": query,
        "establishments": establishments,
        "chosen": chosen,
        "alerts": rows,
        "total": total,
        "counts": counts,
        "page": page,
        "pages": pages,
        "page_links": page_links(page, pages),
        "first": (page - 1) * PAGE_SIZE + 1,
        "last": (page - 1) * PAGE_SIZE + len(rows),
        **_labels(),
    }
    return render(request, "detect_alerts.html", context)


def _alert_context(request: Request, account: Account, alert_id: int) -> dict[str, object]:
    with _database(request).session() as session:
        stored = scoped_item(session, account, get_alert, alert_id, "alert")
        establishment = session.get(EstablishmentRow, stored.establishment_id)
    return {
        "active": "detect",
        "item": stored,
        "alert": stored.alert,
        "establishment": establishment,
        "can_triage": account.can(Permission.DETECT_TRIAGE),
        "statuses": [s.value for s in AlertStatus],
        "host_key": host_key(stored.alert.host),
        "error": None,
        **_labels(),
    }


@router.get("/detect/alerts/export")
def export(request: Request, account: Reader) -> Response:
    fmt = text_param(request.query_params, "format") or "csv"
    if fmt not in ("csv", "jsonl"):
        raise HTTPException(400, "format is csv or jsonl")
    query = parse_alert_query(request.query_params)
    with _database(request).session() as session:
        chosen = _establishment(list_establishments(session, account.scope), query.establishment)
        if chosen is None:
            raise HTTPException(404, "no establishment")
        found = list_alerts(session, chosen.id, query.filter, limit=None, oldest_first=True)
        slug = chosen.slug
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson"
    headers = {"Content-Disposition": f'attachment; filename="alerts-{slug}-{stamp}.{fmt}"'}
    return StreamingResponse(export_lines(found, fmt), media_type=media, headers=headers)


@router.get("/detect/alerts/{alert_id}")
def alert_page(request: Request, alert_id: int, account: Reader) -> Response:
    return render(request, "detect_alert.html", _alert_context(request, account, alert_id))


@router.post("/detect/alerts/{alert_id}/status")
async def alert_status(request: Request, alert_id: int, account: Triager) -> Response:
    form = await request.form()
    status = str(form.get("status") or "")
    note = str(form.get("note") or "")[:MAX_NOTE]
    context = _alert_context(request, account, alert_id)  # 404 outside the scope
    item = context["item"]
    assert isinstance(item, StoredAlert)
    try:
        with _database(request).session() as session:
            set_status(session, item.establishment_id, alert_id, status, account.username, note)
    except UsageError:
        context["error"] = N_("Unknown status.")
        return render(request, "detect_alert.html", context, status_code=400)
    flash(request, N_("Status changed."))
    return RedirectResponse(f"/detect/alerts/{alert_id}", status_code=303)


@router.get("/detect/hosts/{establishment}/{host}")
def host_page(request: Request, establishment: str, host: str, account: Reader) -> Response:
    with _database(request).session() as session:
        chosen = _establishment(list_establishments(session, account.scope), establishment)
        if chosen is None:
            raise HTTPException(404, "no establishment")
        flt = AlertFilter(host=host)
        found = list_alerts(session, chosen.id, flt, limit=500, oldest_first=True)
    catalogue = translations(page_language(request))
    names = {level: catalogue.gettext(label) for level, label in LEVEL_LABELS.items()}
    title = catalogue.gettext(N_("Alerts of %(host)s over time")) % {"host": host}
    context = {
        "active": "detect",
        "establishment": chosen,
        "host": host,
        "alerts": found,
        "asset_key": next((a.asset_key for a in found if a.asset_key), None),
        "chart": timeline_svg(found, names, title),
        "chart_title": title,
        **_labels(),
    }
    return render(request, "detect_host.html", context)
