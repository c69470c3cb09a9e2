"""The JSON API, ``/api/v1``: token authentication, the same roles and scopes as the pages.

Its OpenAPI schema is served at ``/api/v1/openapi.json``; the interactive docs pages are
off because they load JavaScript from a CDN.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query
from fastapi.responses import JSONResponse
from starlette.requests import Request

from tocsin import __version__
from tocsin.accounts import Account
from tocsin.detect.alert_document import alert_record
from tocsin.errors import NotFoundError
from tocsin.inventory.export import asset_document
from tocsin.model import AssetKind, Criticality, Establishment, Exposure, Permission
from tocsin.model.alerts import LEVELS, AlertStatus
from tocsin.store.alerts import AlertFilter, count_alerts, list_alerts
from tocsin.store.inventory import (
    AssetFilter,
    count_assets,
    establishment_from_row,
    get_asset,
    get_establishment,
    iter_assets,
    list_establishments,
)
from tocsin.web.api_models import (
    ApiError,
    AssetDocument,
    AssetList,
    EstablishmentDocument,
    EstablishmentList,
)
from tocsin.web.auth import require_token
from tocsin.web.context import web_context

PREFIX = "/api/v1"
MAX_LIMIT = 1000
Reader = Annotated[Account, Depends(require_token(Permission.INVENTORY_READ))]
AlertReader = Annotated[Account, Depends(require_token(Permission.DETECT_READ))]
PhishingReader = Annotated[Account, Depends(require_token(Permission.PHISHING_READ))]
PhishingTriager = Annotated[Account, Depends(require_token(Permission.PHISHING_TRIAGE))]
Level = StrEnum("Level", {name: name for name in LEVELS})  # type: ignore[misc]
ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ApiError, "description": "No valid API token."},
    403: {"model": ApiError, "description": "The token's account lacks the permission."},
}
Text = Annotated[str | None, Query(max_length=200)]


router = APIRouter(responses=ERRORS)


@router.get("/establishments", response_model=EstablishmentList)
def establishments(request: Request, account: Reader) -> EstablishmentList:
    """The establishments the token's account may see."""
    with web_context(request).database.session() as session:
        rows = list_establishments(session, account.scope)
        docs = [_establishment(establishment_from_row(r)) for r in rows]
    return EstablishmentList(establishments=docs)


@router.get("/assets", response_model=AssetList)
def assets(
    request: Request,
    account: Reader,
    establishment: Annotated[list[str] | None, Query()] = None,
    kind: Annotated[list[AssetKind] | None, Query()] = None,
    criticality: Annotated[list[Criticality] | None, Query()] = None,
    exposure: Annotated[list[Exposure] | None, Query()] = None,
    function: Text = None,
    tag: Text = None,
    q: Annotated[str | None, Query(max_length=200, description="Free-text search.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AssetList:
    """Assets matching every given filter (a repeated filter matches any of its values)."""
    flt = AssetFilter(
        establishments=tuple(establishment or ()),
        kinds=tuple(kind or ()),
        criticalities=tuple(criticality or ()),
        exposures=tuple(exposure or ()),
        function=function or None,
        tag=tag or None,
        search=q or None,
    )
    with web_context(request).database.session() as session:
        total = count_assets(session, flt, account.scope)
        found = iter_assets(session, flt, account.scope, offset=offset, limit=limit)
        docs = [AssetDocument.model_validate(asset_document(s)) for s in found]
    return AssetList(total=total, assets=docs)


@router.get(
    "/assets/{establishment}/{asset_id:path}",
    response_model=AssetDocument,
    responses={404: {"model": ApiError, "description": "No such asset in your scope."}},
)
def asset(request: Request, establishment: str, asset_id: str, account: Reader) -> AssetDocument:
    """One asset; 404 when it does not exist or is outside the account's establishments."""
    with web_context(request).database.session() as session:
        stored = get_asset(session, establishment, asset_id, account.scope)
    return AssetDocument.model_validate(asset_document(stored))


@router.get(
    "/alerts",
    responses={404: {"model": ApiError, "description": "No such establishment in your scope."}},
)
def alerts(
    request: Request,
    account: AlertReader,
    establishment: Annotated[str, Query(max_length=64)],
    level: Annotated[Level | None, Query(description="At or above this level.")] = None,
    status: Annotated[list[AlertStatus] | None, Query(description="Default: all.")] = None,
    host: Text = None,
    since: Annotated[datetime | None, Query(description="First event at or after.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Detection alerts of one establishment, latest first, with their sample events
    (documents of docs/json-shapes.md, "Stored detection alert")."""
    flt = AlertFilter(
        min_level=level.value if level else None,
        statuses=[s.value for s in status] if status else None,
        host=host or None,
        since=since,
    )
    with web_context(request).database.session() as session:
        row = get_establishment(session, establishment)
        if not account.scope.allows(row.id):
            raise NotFoundError("no such establishment")
        total = count_alerts(session, row.id, flt)
        found = list_alerts(session, row.id, flt, limit=limit, offset=offset)
    return {"version": 1, "total": total, "alerts": [alert_record(a) for a in found]}


@router.post(
    "/phishing/reports",
    status_code=201,
    responses={
        200: {"description": "The same message was reported before: that report."},
        400: {"model": ApiError, "description": "Not an email Tocsin can read."},
        404: {"model": ApiError, "description": "No such establishment in your scope."},
        413: {"model": ApiError, "description": "Over 30 MB."},
    },
)
async def report_phishing(
    request: Request,
    account: PhishingTriager,
    establishment: Annotated[str, Query(max_length=64)],
    reporter: Annotated[str | None, Query(max_length=320)] = None,
) -> JSONResponse:
    """Analyse the email in the body (``message/rfc822``, raw bytes) and keep it as a report
    of ``establishment``; the report (docs/json-shapes.md, "Phishing report")."""
    from tocsin.errors import InputError
    from tocsin.phishing.service import record_report
    from tocsin.store.phishing import MAX_RAW_BYTES

    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_RAW_BYTES:
            return JSONResponse({"detail": "message over 30 MB"}, status_code=413)
    context = web_context(request)
    with context.database.session() as session:
        row = get_establishment(session, establishment)
        if not account.scope.allows(row.id):
            raise NotFoundError("no such establishment")
    try:
        outcome = record_report(
            context.database, context.settings, establishment, bytes(raw),
            origin="api", reporter=reporter, actor=account.username,
        )  # fmt: skip
    except InputError as exc:
        return JSONResponse({"detail": exc.message}, status_code=400)
    return JSONResponse(outcome.report.to_dict(), status_code=201 if outcome.created else 200)


@router.get("/phishing/reports")
def phishing_reports(
    request: Request,
    account: PhishingReader,
    establishment: Annotated[str, Query(max_length=64)],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Reports of one establishment, latest first."""
    from tocsin.store.phishing import list_reports

    with web_context(request).database.session() as session:
        row = get_establishment(session, establishment)
        if not account.scope.allows(row.id):
            raise NotFoundError("no such establishment")
        found = list_reports(session, row.id, limit=limit, offset=offset)
    return {"version": 1, "reports": [r.to_dict() for r in found]}


def _establishment(establishment: Establishment) -> EstablishmentDocument:
    return EstablishmentDocument.model_validate(establishment, from_attributes=True)


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": "not found"}, status_code=404)


def create_api() -> FastAPI:
    """The API as an application of its own, mounted under :data:`PREFIX`."""
    api = FastAPI(
        title="Tocsin API",
        version=__version__,
        description="Read access to Tocsin's inventory and detection alerts. "
        "Send `Authorization: Bearer <token>`.",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    api.include_router(router)
    api.add_exception_handler(NotFoundError, _not_found)
    return api
