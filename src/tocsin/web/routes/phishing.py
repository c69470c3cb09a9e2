"""Web pages of the phishing capability: the queue of reported emails, one report with its
reasons and the message shown safely, the analyst's override, and an upload form.

Reports belong to an establishment; the account's scope decides which it may see (a report
outside the scope is a 404). Overrides and uploads are audited with the username.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile
from starlette.requests import Request

from tocsin.accounts import Account
from tocsin.errors import InputError, UsageError
from tocsin.model import Permission
from tocsin.phishing.model import Verdict
from tocsin.phishing.render import message_view
from tocsin.phishing.service import record_report
from tocsin.store.db import Database
from tocsin.store.inventory import list_establishments
from tocsin.store.phishing import (
    MAX_RAW_BYTES,
    get_report,
    list_reports,
    override_verdict,
    raw_message,
    report_counts,
)
from tocsin.store.tables import EstablishmentRow
from tocsin.web.auth import require
from tocsin.web.context import web_context
from tocsin.web.csrf import page_router
from tocsin.web.filters import PAGE_SIZE, page_count, page_links, page_param, text_param
from tocsin.web.i18n import N_
from tocsin.web.nav import NavItem, register
from tocsin.web.render import flash, render
from tocsin.web.scoping import scoped_item

router = page_router()  # every POST route of this router is CSRF-checked
register(
    NavItem("phishing", N_("Phishing"), "/phishing/reports", Permission.PHISHING_READ, order=40)
)

Reader = Annotated[Account, Depends(require(Permission.PHISHING_READ))]
Triager = Annotated[Account, Depends(require(Permission.PHISHING_TRIAGE))]
VERDICT_LABELS = {
    Verdict.PHISHING.value: N_("phishing"),
    Verdict.SUSPICIOUS.value: N_("suspicious"),
    Verdict.LEGITIMATE.value: N_("legitimate"),
}
MAX_NOTE = 2000


def _database(request: Request) -> Database:
    return web_context(request).database


def _chosen(establishments: list[EstablishmentRow], slug: str | None) -> EstablishmentRow | None:
    if not establishments:
        return None
    if slug is None:
        return establishments[0]
    for row in establishments:
        if row.slug == slug:
            return row
    raise HTTPException(404, "no such establishment")


@router.get("/phishing")
def phishing_home(account: Reader) -> Response:
    return RedirectResponse("/phishing/reports", status_code=303)


@router.get("/phishing/reports")
def reports_page(request: Request, account: Reader) -> Response:
    params = request.query_params
    verdict_text = text_param(params, "verdict")
    if verdict_text is not None and verdict_text not in VERDICT_LABELS:
        raise HTTPException(400, "unknown verdict")
    verdict = Verdict(verdict_text) if verdict_text else None
    with _database(request).session() as session:
        establishments = list_establishments(session, account.scope)
        chosen = _chosen(establishments, text_param(params, "establishment"))
        counts = report_counts(session, chosen.id) if chosen else {}
        total = counts.get(verdict.value, 0) if verdict else sum(counts.values())
        pages = page_count(total)
        page = min(page_param(params), pages)
        rows = (
            list_reports(
                session, chosen.id, verdict, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
            )
            if chosen
            else []
        )
    context = {
        "active": "phishing",
        "establishments": establishments,
        "chosen": chosen,
        "verdict": verdict_text or "",
        "reports": rows,
        "counts": counts,
        "total": total,
        "page": page,
        "pages": pages,
        "page_links": page_links(page, pages),
        "verdict_labels": VERDICT_LABELS,
        "can_triage": account.can(Permission.PHISHING_TRIAGE),
    }
    return render(request, "phishing_reports.html", context)


def _report_context(request: Request, account: Account, report_id: int) -> dict[str, object]:
    with _database(request).session() as session:
        report = scoped_item(session, account, get_report, report_id, "report")
        raw = raw_message(session, None, report_id)
        establishment = session.get(EstablishmentRow, report.establishment_id)
    try:
        view = message_view(raw)
    except InputError:
        view = None
    return {
        "active": "phishing",
        "report": report,
        "view": view,
        "establishment": establishment,
        "verdict_labels": VERDICT_LABELS,
        "can_triage": account.can(Permission.PHISHING_TRIAGE),
        "error": None,
    }


@router.get("/phishing/reports/{report_id}")
def report_page(request: Request, report_id: int, account: Reader) -> Response:
    return render(request, "phishing_report.html", _report_context(request, account, report_id))


@router.post("/phishing/reports/{report_id}/verdict")
async def report_verdict(request: Request, report_id: int, account: Triager) -> Response:
    form = await request.form()
    verdict = str(form.get("verdict") or "")
    note = str(form.get("note") or "")[:MAX_NOTE]
    context = _report_context(request, account, report_id)  # 404 outside the scope
    try:
        with _database(request).session() as session:
            override_verdict(session, None, report_id, verdict or None, account.username, note)
    except UsageError:
        context["error"] = N_("Unknown verdict.")
        return render(request, "phishing_report.html", context, status_code=400)
    flash(request, N_("Verdict changed."))
    return RedirectResponse(f"/phishing/reports/{report_id}", status_code=303)


@router.get("/phishing/upload")
def upload_page(request: Request, account: Triager) -> Response:
    with _database(request).session() as session:
        establishments = list_establishments(session, account.scope)
    context = {"active": "phishing", "establishments": establishments, "error": None}
    return render(request, "phishing_upload.html", context)


@router.post("/phishing/upload")
async def upload(request: Request, account: Triager) -> Response:
    form = await request.form(max_files=1, max_fields=10)
    slug = str(form.get("establishment") or "")
    upload = form.get("message")
    with _database(request).session() as session:
        establishments = list_establishments(session, account.scope)
    context = {"active": "phishing", "establishments": establishments, "error": None}
    if slug not in {e.slug for e in establishments}:
        raise HTTPException(404, "no such establishment")
    raw = await upload.read(MAX_RAW_BYTES + 1) if isinstance(upload, UploadFile) else b""
    if not raw.strip() or len(raw) > MAX_RAW_BYTES:
        context["error"] = N_("Choose an email file (.eml) of at most 30 MB.")
        return render(request, "phishing_upload.html", context, status_code=400)
    name = upload.filename if isinstance(upload, UploadFile) and upload.filename else "upload.eml"
    try:
        outcome = record_report(
            _database(request), web_context(request).settings, slug, raw,
            origin="upload", name=name, reporter=account.username, actor=account.username,
        )  # fmt: skip
    except InputError:
        context["error"] = N_("This file is not an email Tocsin can read.")
        return render(request, "phishing_upload.html", context, status_code=400)
    flash(request, N_("Message analysed.") if outcome.created else N_("Already reported."))
    return RedirectResponse(f"/phishing/reports/{outcome.report.id}", status_code=303)
