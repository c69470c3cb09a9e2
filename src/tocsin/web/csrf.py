"""Protection against cross-site request forgery.

Each session holds a random token; every form that changes something carries it in the
hidden field ``csrf_token``; :func:`csrf_protect` refuses any non-GET request whose form
does not carry the session's token. Routers built by :func:`page_router` apply it to all
their routes, so a new page cannot forget it.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse
from starlette.requests import Request

FIELD = "csrf_token"
SESSION_KEY = "csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class CsrfError(Exception):
    """A form arrived without the session's token."""


def new_token(request: Request) -> str:
    token = secrets.token_urlsafe(32)
    request.session[SESSION_KEY] = token
    return token


def csrf_token(request: Request) -> str:
    """The session's token, created on first use."""
    token = request.session.get(SESSION_KEY)
    if isinstance(token, str) and token:
        return token
    return new_token(request)


async def csrf_protect(request: Request) -> None:
    """Dependency: refuse a state-changing request without the session's token."""
    if request.method in SAFE_METHODS:
        return
    expected = request.session.get(SESSION_KEY)
    submitted: object = None
    if request.headers.get("content-type", "").startswith(FORM_TYPES):
        form = await request.form()
        submitted = form.get(FIELD)
    if not (isinstance(expected, str) and expected and isinstance(submitted, str)):
        raise CsrfError
    if not hmac.compare_digest(expected.encode(), submitted.encode()):
        raise CsrfError


def page_router(**kwargs: Any) -> APIRouter:
    """An APIRouter for HTML pages: CSRF checked on every non-GET route, kept out of OpenAPI."""
    dependencies = [Depends(csrf_protect), *kwargs.pop("dependencies", [])]
    return APIRouter(
        dependencies=dependencies,
        default_response_class=HTMLResponse,
        include_in_schema=False,
        **kwargs,
    )
