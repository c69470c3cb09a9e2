"""The authenticated Atom feed of an establishment's bulletin, and personal feed tokens.

``GET /watch/{establishment}/feed.atom`` serves :func:`tocsin.watch.atom.atom_feed` of the
establishment's current bulletin (``?period=daily|weekly``, ``?lang=fr|en``). Feed readers
cannot sign in, so it also accepts a personal feed token (``Authorization: Bearer …`` or
``?token=…``, see :func:`tocsin.web.auth.feed_account`). ``/watch/feed-tokens`` lists the
user's tokens, creates one (its subscription address is shown once) and revokes them; a
user with ``users:admin`` also sees the other users' tokens of the establishments in their
scope and may revoke them (audited as the CLI's revoke, with the administrator as actor).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.requests import Request

from tocsin.accounts import Account
from tocsin.errors import NotFoundError, UsageError
from tocsin.model import Permission
from tocsin.report import collect_bulletin
from tocsin.store.feed_tokens import (
    FeedToken,
    create_feed_token,
    get_feed_token,
    list_feed_tokens,
    revoke_feed_token,
)
from tocsin.store.inventory import list_establishments
from tocsin.watch.atom import atom_feed
from tocsin.watch.bulletin import Period
from tocsin.web.auth import FEED_TOKEN_PARAM, feed_account, require
from tocsin.web.context import web_context
from tocsin.web.csrf import page_router
from tocsin.web.i18n import N_, request_language
from tocsin.web.render import flash, render

router = page_router()  # every POST route of this router is CSRF-checked
Reader = Annotated[Account, Depends(require(Permission.WATCH_READ))]
ATOM_TYPE = "application/atom+xml; charset=utf-8"


def base_url(request: Request) -> str:
    """The dashboard's public address: ``web.base_url``, else the one of this request."""
    configured = web_context(request).settings.web.base_url
    return (configured or str(request.base_url)).rstrip("/")


def feed_url(request: Request, establishment: str, token: str | None = None) -> str:
    url = f"{base_url(request)}/watch/{quote(establishment, safe='')}/feed.atom"
    return url if token is None else f"{url}?{FEED_TOKEN_PARAM}={token}"


@router.get("/watch/{establishment}/feed.atom")
def atom(request: Request, establishment: str) -> Response:
    account = feed_account(request, establishment)
    try:
        period = Period((request.query_params.get("period") or "daily").strip())
    except ValueError as exc:
        raise HTTPException(400, "period must be daily or weekly") from exc
    settings = web_context(request).settings
    lang = request_language(request, account.language, settings.language)
    bulletin = collect_bulletin(
        web_context(request).database,
        establishment,
        period=period,
        lang="en" if lang == "en" else "fr",
        now=datetime.now(UTC),
    )
    body = atom_feed(bulletin, base_url(request))
    headers = {"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex"}
    return Response(body.encode("utf-8"), media_type=ATOM_TYPE, headers=headers)


def _others(session: Session, account: Account, slugs: set[str]) -> list[FeedToken] | None:
    """For a ``users:admin``: the other users' tokens of ``slugs`` (their scope); else None."""
    if not account.can(Permission.USERS_ADMIN):
        return None
    return [
        t
        for t in list_feed_tokens(session)
        if t.username != account.username and t.establishment in slugs
    ]


def _tokens_page(
    request: Request,
    account: Account,
    *,
    created: tuple[FeedToken, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    database = web_context(request).database
    with database.session() as session:
        establishments = list_establishments(session, account.scope)
        tokens = list_feed_tokens(session, username=account.username)
        others = _others(session, account, {e.slug for e in establishments})
    context = {
        "active": "watch",
        "establishments": establishments,
        "names": {e.slug: e.name for e in establishments},
        "tokens": tokens,
        "others": others,
        "created": None if created is None else created[0],
        "created_url": None
        if created is None
        else feed_url(request, created[0].establishment, created[1]),
        "error": error,
        "chosen": request.query_params.get("establishment", ""),
    }
    return render(request, "watch_feed_tokens.html", context, status_code=status_code)


@router.get("/watch/feed-tokens")
def tokens(request: Request, account: Reader) -> Response:
    return _tokens_page(request, account)


@router.post("/watch/feed-tokens")
async def create(request: Request, account: Reader) -> Response:
    form = await request.form()
    slug = str(form.get("establishment") or "").strip()
    label = str(form.get("label") or "").strip()[:128] or "feed"
    database = web_context(request).database
    try:
        with database.session() as session:
            made = create_feed_token(session, account.username, slug, label, actor=account.username)
    except (UsageError, NotFoundError):
        # The same answer for an establishment that does not exist and one out of scope.
        message = N_("This establishment does not exist, or it is outside your establishments.")
        return _tokens_page(request, account, error=message, status_code=404)
    return _tokens_page(request, account, created=made)


@router.post("/watch/feed-tokens/{token_id}/revoke")
def revoke(request: Request, token_id: int, account: Reader) -> Response:
    database = web_context(request).database
    try:
        with database.session() as session:
            owner: str | None = account.username
            if account.can(Permission.USERS_ADMIN):
                # Anyone's token, as long as its establishment is in the administrator's scope.
                found = get_feed_token(session, token_id)
                slugs = {e.slug for e in list_establishments(session, account.scope)}
                if found.username != account.username and found.establishment not in slugs:
                    raise NotFoundError(f"no feed token {token_id}")
                owner = None
            revoke_feed_token(session, token_id, actor=account.username, owner=owner)
    except NotFoundError as exc:
        raise HTTPException(404, exc.message) from exc
    flash(request, N_("Feed address revoked."))
    return RedirectResponse("/watch/feed-tokens", status_code=303)
