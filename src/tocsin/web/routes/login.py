"""Signing in and out."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Form, Query
from fastapi.responses import RedirectResponse, Response
from starlette.requests import Request

from tocsin.accounts import Account, authenticate
from tocsin.accounts.service import recent_failures
from tocsin.errors import AuthError
from tocsin.web.auth import current_account, end_session, safe_next, start_session
from tocsin.web.context import WebContext, web_context
from tocsin.web.csrf import page_router
from tocsin.web.i18n import N_
from tocsin.web.render import render

router = page_router()

INVALID = N_("Invalid username or password.")
LIMITED = N_("Too many failed sign-in attempts. Wait a few minutes and try again.")
MAX_USERNAME = 256
MAX_PASSWORD = 1024


def _check(context: WebContext, username: str, password: str, remote: str | None) -> Account | int:
    """The account, or the HTTP status to answer: 401 wrong credentials, 429 rate-limited."""
    web = context.settings.web
    window = timedelta(seconds=web.login_window_seconds)
    with context.database.session() as session:
        # The service refuses once the failures reach the limit; the page says so with a 429.
        limited = recent_failures(session, username.strip()[:128], window) >= (
            web.login_max_failures
        )
        try:
            return authenticate(
                session,
                username,
                password,
                remote_addr=remote,
                max_failures=web.login_max_failures,
                window=window,
            )
        except AuthError:
            return 429 if limited else 401


def _form(
    request: Request,
    next_url: str,
    username: str = "",
    error: str | None = None,
    status: int = 200,
) -> Response:
    context = {"next": safe_next(next_url), "username": username, "error": error}
    headers = {}
    if status == 429:
        headers["Retry-After"] = str(web_context(request).settings.web.login_window_seconds)
    return render(request, "login.html", context, status_code=status, headers=headers)


@router.get("/login")
def login_page(
    request: Request, next_url: Annotated[str, Query(alias="next", max_length=2048)] = "/"
) -> Response:
    if current_account(request) is not None:
        return RedirectResponse(safe_next(next_url), status_code=303)
    return _form(request, next_url)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=MAX_USERNAME)] = "",
    password: Annotated[str, Form(max_length=MAX_PASSWORD)] = "",
    next_url: Annotated[str, Form(alias="next", max_length=2048)] = "/",
) -> Response:
    if not username.strip() or not password:
        return _form(request, next_url, username, INVALID, 401)
    remote = request.client.host if request.client else None
    outcome = _check(web_context(request), username, password, remote)
    if isinstance(outcome, Account):
        start_session(request, outcome)
        return RedirectResponse(safe_next(next_url), status_code=303)
    message = LIMITED if outcome == 429 else INVALID
    return _form(request, next_url, username, message, outcome)


@router.post("/logout")
def logout(request: Request) -> Response:
    end_session(request)
    return RedirectResponse("/login", status_code=303)
