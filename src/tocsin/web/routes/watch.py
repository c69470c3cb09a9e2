"""Web pages of the watch capability: exposures, one advisory, one asset's exposures, bulletin.

Everything is read through the store's exposure queries with the account's scope, so other
establishments stay hidden (an exposure outside the scope is a 404, as if it did not exist).
Status changes go through :func:`tocsin.watch.triage.transition` with the username as actor;
a change the lifecycle refuses is reported on its row, never as a server error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.responses import RedirectResponse, Response
from starlette.requests import Request

from tocsin.accounts import Account
from tocsin.errors import NotFoundError, UsageError
from tocsin.model import Permission
from tocsin.model.finding import Decision
from tocsin.model.inventory import CARE_FUNCTIONS
from tocsin.model.reasons import Lang, Reason, ReasonCode, read_reasons, reason_text
from tocsin.report import collect_bulletin
from tocsin.report.charts import chart_description, open_exposures_chart
from tocsin.store import exposure_queries as queries
from tocsin.store.db import Database
from tocsin.store.inventory import get_asset, list_establishments
from tocsin.store.watch import EnrichmentLookup, advisory_records
from tocsin.watch import triage
from tocsin.watch.bulletin import Period, advisory_link
from tocsin.watch.bulletin import label as bulletin_label
from tocsin.watch.lifecycle import USER_TRANSITIONS, Status
from tocsin.web.auth import require
from tocsin.web.context import web_context
from tocsin.web.csrf import page_router
from tocsin.web.filters import PAGE_SIZE, page_count, page_links
from tocsin.web.i18n import N_
from tocsin.web.nav import NavItem, register
from tocsin.web.render import flash, page_language, render
from tocsin.web.watch_forms import (
    DECISION_LABELS,
    STATUS_LABELS,
    TRIAGE_TARGETS,
    TriageForm,
    parse_exposure_query,
    parse_triage,
)

router = page_router()  # every POST route of this router is CSRF-checked
register(NavItem("watch", N_("Watch"), "/watch/exposures", Permission.WATCH_READ, order=20))

Reader = Annotated[Account, Depends(require(Permission.WATCH_READ))]
Triager = Annotated[Account, Depends(require(Permission.WATCH_TRIAGE))]
MAX_ADVISORY_EXPOSURES = 500


def _labels() -> dict[str, object]:
    return {
        "decision_labels": DECISION_LABELS,
        "status_labels": STATUS_LABELS,
        "decisions": list(Decision),
        "statuses": list(Status),
        "triage_targets": TRIAGE_TARGETS,
    }


def _database(request: Request) -> Database:
    return web_context(request).database


def _lang(request: Request) -> Lang:
    return "en" if page_language(request) == "en" else "fr"


# Reasons about the asset or the match, not about the advisory's flaws.
_ASSET_REASONS = frozenset(
    {
        ReasonCode.CRITICALITY,
        ReasonCode.EXPOSURE,
        ReasonCode.ACT_NOW_WITHHELD,
        ReasonCode.LOW_CONFIDENCE,
    }
)


def _advisory_reasons(rows: list[queries.ExposureView], lang: Lang) -> list[str]:
    """What makes the advisory urgent (exploitation, impact), from its most urgent exposure,
    in ``lang``; stored phrases the priority model does not know are left out."""
    if not rows:
        return []
    worst = max(rows, key=lambda v: (v.decision.rank, v.score))
    return [
        reason_text(r, lang)
        for r in read_reasons(worst.reasons)
        if isinstance(r, Reason) and r.code not in _ASSET_REASONS
    ]


@router.get("/watch")
def watch_home(account: Reader) -> Response:
    return RedirectResponse("/watch/exposures", status_code=303)


@router.get("/watch/exposures")
def exposures(request: Request, account: Reader) -> Response:
    query = parse_exposure_query(request.query_params)
    with _database(request).session() as session:
        establishments = list_establishments(session, account.scope)
        total = queries.count_exposures(session, query.filter, account.scope)
        counts = queries.decision_counts(session, query.without("decision"), account.scope)
        pages = page_count(total)
        page = min(query.page, pages)
        offset = (page - 1) * PAGE_SIZE
        rows = list(
            queries.iter_exposures(
                session, query.filter, account.scope, offset=offset, limit=PAGE_SIZE
            )
        )
    context = {
        "active": "watch",
        "query": query,
        "establishments": establishments,
        "names": {e.slug: e.name for e in establishments},
        "functions": CARE_FUNCTIONS,
        "exposures": rows,
        "counts": counts,
        "total": total,
        "page": page,
        "pages": pages,
        "page_links": page_links(page, pages),
        "first": offset + 1 if total else 0,
        "last": offset + len(rows),
        "can_triage": account.can(Permission.WATCH_TRIAGE),
        **_labels(),
    }
    return render(request, "watch_exposures.html", context)


@dataclass(frozen=True)
class RowResult:
    """What a triage form did to one exposure: the exposure after, or why it was refused."""

    exposure_id: int
    view: queries.ExposureView | None
    error: str | None


def _apply(database: Database, form: TriageForm, account: Account) -> list[RowResult]:
    results: list[RowResult] = []
    for exposure_id in form.ids:
        try:
            view = triage.transition(
                database,
                exposure_id,
                form.status,
                account.username,
                form.reason,
                form.until,
                scope=form.scope,
                access=account.scope,
            )
        except (UsageError, NotFoundError) as exc:
            results.append(RowResult(exposure_id, None, exc.message))
        else:
            results.append(RowResult(exposure_id, view, None))
    return results


async def _triage_form(request: Request) -> TriageForm | str:
    form = await request.form()
    ids = [str(v) for v in form.getlist("ids")]
    return parse_triage({k: form.get(k) for k in ("status", "reason", "until", "scope")}, ids)


@router.post("/watch/exposures/bulk")
async def bulk(request: Request, account: Triager) -> Response:
    parsed = await _triage_form(request)
    if isinstance(parsed, str):
        return render(
            request,
            "watch_bulk.html",
            {"active": "watch", "error": parsed, "results": [], **_labels()},
            status_code=400,
        )
    results = _apply(_database(request), parsed, account)
    failed = sum(1 for r in results if r.error)
    context = {
        "active": "watch",
        "error": None,
        "results": results,
        "target": parsed.status,
        "changed": len(results) - failed,
        "failed": failed,
        **_labels(),
    }
    return render(request, "watch_bulk.html", context)


def _exposure_context(request: Request, account: Account, exposure_id: int) -> dict[str, object]:
    with _database(request).session() as session:
        try:
            view = queries.get_exposure(session, exposure_id, account.scope)
        except NotFoundError as exc:
            raise HTTPException(404, exc.message) from exc
        events = queries.exposure_events(session, exposure_id)
        names = {e.slug: e.name for e in list_establishments(session, account.scope)}
    allowed = sorted(USER_TRANSITIONS[view.status], key=list(Status).index)
    return {
        "active": "watch",
        "exposure": view,
        "events": events,
        "establishment_name": names.get(view.establishment, view.establishment),
        "allowed": allowed,
        "can_triage": account.can(Permission.WATCH_TRIAGE),
        "advisory_url": advisory_link(view.advisory),
        "reasons": [reason_text(r, _lang(request)) for r in view.reasons],
        "error": None,
        **_labels(),
    }


@router.get("/watch/exposures/{exposure_id}")
def exposure_page(request: Request, exposure_id: int, account: Reader) -> Response:
    return render(request, "watch_exposure.html", _exposure_context(request, account, exposure_id))


@router.post("/watch/exposures/{exposure_id}/status")
async def exposure_status(request: Request, exposure_id: int, account: Triager) -> Response:
    form = await request.form()
    fields = {k: form.get(k) for k in ("status", "reason", "until", "scope")}
    parsed = parse_triage(fields, [str(exposure_id)])
    if not isinstance(parsed, str):
        result = _apply(_database(request), parsed, account)[0]
        if result.error is None:
            flash(request, N_("Status changed."))
            return RedirectResponse(f"/watch/exposures/{exposure_id}", status_code=303)
        parsed = result.error
    context = _exposure_context(request, account, exposure_id)
    context["error"] = parsed
    return render(request, "watch_exposure.html", context, status_code=400)


@router.get("/watch/advisories/{advisory_id}")
def advisory_page(request: Request, advisory_id: str, account: Reader) -> Response:
    flt = queries.ExposureFilter(advisory=advisory_id)
    with _database(request).session() as session:
        records = advisory_records(session, advisory_id)
        rows = list(
            queries.iter_exposures(session, flt, account.scope, limit=MAX_ADVISORY_EXPOSURES)
        )
        cves = sorted({c for r in records for c in r.cves} | {c for v in rows for c in v.cves})
        lookup = EnrichmentLookup(session)
        signals = {cve: found for cve in cves if (found := lookup.get(cve)) is not None}
    if not records and not rows:
        raise HTTPException(404, f"no advisory {advisory_id}")
    references = list(dict.fromkeys(ref for r in records for ref in r.references))
    context = {
        "active": "watch",
        "advisory_id": advisory_id,
        "records": records,
        "title": next((r.title for r in records if r.title), rows[0].title if rows else ""),
        "cves": cves,
        "signals": signals,
        "kev": any(s.kev for s in signals.values()) or any(r.exploitation.kev for r in records),
        "references": references,
        "advisory_url": advisory_link(advisory_id),
        "exposures": rows,
        "urgency": _advisory_reasons(rows, _lang(request)),
        **_labels(),
    }
    return render(request, "watch_advisory.html", context)


@router.get("/watch/assets/{establishment}/{asset_id:path}")
def asset_exposures(
    request: Request, establishment: str, asset_id: str, account: Reader
) -> Response:
    flt = queries.ExposureFilter(establishments=(establishment,), asset=asset_id)
    with _database(request).session() as session:
        try:
            stored = get_asset(session, establishment, asset_id, account.scope)
        except NotFoundError as exc:
            raise HTTPException(404, exc.message) from exc
        rows = list(queries.iter_exposures(session, flt, account.scope))
    context = {
        "active": "watch",
        "asset": stored.asset,
        "establishment": establishment,
        "exposures": rows,
        **_labels(),
    }
    return render(request, "watch_asset.html", context)


@router.get("/watch/bulletin")
def bulletin_page(request: Request, account: Reader) -> Response:
    slug = (request.query_params.get("establishment") or "").strip()
    try:
        period = Period((request.query_params.get("period") or "daily").strip())
    except ValueError as exc:
        raise HTTPException(400, "period must be daily or weekly") from exc
    with _database(request).session() as session:
        establishments = list_establishments(session, account.scope)
    slugs = [e.slug for e in establishments]
    if not slug and slugs:
        slug = slugs[0]
    if slug not in slugs:
        raise HTTPException(404, f"no establishment {slug!r}")
    bulletin = collect_bulletin(
        _database(request), slug, period=period, lang=_lang(request), now=datetime.now(UTC)
    )
    context = {
        "active": "watch",
        "bulletin": bulletin,
        "blabel": bulletin_label,
        "chart": open_exposures_chart(
            bulletin.history, bulletin.lang, described_by="bulletin-chart-summary"
        ),
        "chart_summary": chart_description(bulletin.history, bulletin.lang),
        "establishments": establishments,
        "periods": list(Period),
        **_labels(),
    }
    return render(request, "watch_bulletin.html", context)
