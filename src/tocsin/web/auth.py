"""Who is asking: the signed-in user of a page, or the owner of an API token.

Pages: ``account: Annotated[Account, Depends(require(Permission.X))]`` redirects a visitor
to /login (303) and answers 403 to a user whose role lacks the permission. API routes use
:func:`require_token`, which reads ``Authorization: Bearer <token>`` only (never cookies)
and answers 401 or 403 in JSON. The Atom feeds use :func:`feed_account`: a personal feed
token (``Authorization: Bearer`` or ``?token=``) or the signed-in session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from starlette.requests import Request

from tocsin.accounts import Account, authenticate_token, get_account
from tocsin.errors import AuthError
from tocsin.model import Permission
from tocsin.store.feed_tokens import authenticate_feed_token
from tocsin.store.tables import EstablishmentRow
from tocsin.web.context import web_context
from tocsin.web.csrf import new_token
from tocsin.web.i18n import SESSION_KEY as LANG_KEY

USER_KEY = "uid"
MAX_TOKEN_LENGTH = 256


class LoginRequired(Exception):
    """A page needs a signed-in user; carries where to come back after signing in."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class PermissionDenied(Exception):
    """The user's role lacks ``permission``."""

    def __init__(self, permission: Permission) -> None:
        super().__init__(permission.value)
        self.permission = permission


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else ``/`` (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ord(c) < 32 for c in target):
        return "/"
    return target


def login_url(request: Request) -> str:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login" if here == "/" else "/login?next=" + quote(here, safe="")


def current_account(request: Request) -> Account | None:
    """The signed-in, still active user of this session, or None (and remembered for render)."""
    cached = getattr(request.state, "account", None)
    if isinstance(cached, Account):
        return cached
    user_id = request.session.get(USER_KEY)
    if not isinstance(user_id, int):
        return None
    with web_context(request).database.session() as session:
        account = get_account(session, user_id)
    if account is None:
        end_session(request)
        return None
    request.state.account = account
    return account


def start_session(request: Request, account: Account) -> None:
    """Sign ``account`` in on a fresh session (new CSRF token); the language choice stays."""
    language = request.session.get(LANG_KEY)
    request.session.clear()
    if isinstance(language, str):
        request.session[LANG_KEY] = language
    request.session[USER_KEY] = account.id
    new_token(request)
    request.state.account = account


def end_session(request: Request) -> None:
    language = request.session.get(LANG_KEY)
    request.session.clear()
    if isinstance(language, str):
        request.session[LANG_KEY] = language
    request.state.account = None


def require(permission: Permission) -> Callable[[Request], Account]:
    """Page dependency: the signed-in user, who must hold ``permission``."""

    def dependency(request: Request) -> Account:
        account = current_account(request)
        if account is None:
            raise LoginRequired(login_url(request))
        if not account.can(permission):
            raise PermissionDenied(permission)
        return account

    return dependency


bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="An API token from `tocsin user token USERNAME`.",
)
_UNAUTHENTICATED = {"WWW-Authenticate": "Bearer"}


def _token_account(request: Request, token: str) -> Account:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise HTTPException(401, "invalid API token", headers=_UNAUTHENTICATED)
    try:
        with web_context(request).database.session() as session:
            return authenticate_token(session, token)
    except AuthError as exc:
        raise HTTPException(401, exc.message, headers=_UNAUTHENTICATED) from exc


def require_token(permission: Permission) -> Callable[..., Account]:
    """API dependency: the owner of the bearer token, who must hold ``permission``."""

    def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Account:
        if credentials is None:
            raise HTTPException(401, "an API token is required", headers=_UNAUTHENTICATED)
        account = _token_account(request, credentials.credentials)
        if not account.can(permission):
            raise HTTPException(403, f"the account lacks the permission {permission.value}")
        return account

    return dependency


# -- feed readers ------------------------------------------------------------------------------
FEED_TOKEN_PARAM = "token"  # noqa: S105 - the name of a query parameter
_FEED_UNAUTHENTICATED = {"WWW-Authenticate": 'Bearer realm="tocsin-feed"'}


def presented_feed_token(request: Request) -> str | None:
    """The feed token of ``Authorization: Bearer …``, else of ``?token=…``, else None."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    token = request.query_params.get(FEED_TOKEN_PARAM)
    return token.strip() if token else None


def feed_account(request: Request, establishment: str) -> Account:
    """Who may read ``establishment``'s feed: a feed token's owner or the signed-in user.

    Checked at each request: the owner exists, is active, holds ``watch:read`` and sees the
    establishment. A missing or refused token is a 401 whatever the establishment; a signed-in
    user outside it gets a 404, as for an establishment that does not exist.
    """
    database = web_context(request).database
    token = presented_feed_token(request)
    if token is not None:
        with database.session() as session:
            owner = authenticate_feed_token(session, token, establishment)
        if owner is None:
            raise HTTPException(401, "invalid feed token", headers=_FEED_UNAUTHENTICATED)
        return owner
    account = current_account(request)
    if account is None:
        raise HTTPException(401, "a feed token is required", headers=_FEED_UNAUTHENTICATED)
    with database.session() as session:
        found = session.scalar(
            select(EstablishmentRow.id).where(EstablishmentRow.slug == establishment)
        )
    if found is None or not account.can(Permission.WATCH_READ) or not account.scope.allows(found):
        raise HTTPException(404, "no such feed")
    return account
