"""The dashboard and the JSON API as one ASGI application.

``create_app`` wires: the signed session cookie, security headers, static files, the page
routers (CSRF-checked), the error pages and the API mounted under ``/api/v1``.
Capabilities add their pages by listing their web module in :data:`CAPABILITY_MODULES`
(see docs/web.md).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from tocsin import __version__
from tocsin.config import Settings
from tocsin.store.db import Database
from tocsin.web.context import WebContext
from tocsin.web.errors import install_error_pages
from tocsin.web.i18n import remember_language
from tocsin.web.nav import NavRegistry, navigation
from tocsin.web.render import create_environment
from tocsin.web.routes import api, login, pages, users
from tocsin.web.security import SecurityHeadersMiddleware, cookie_secure

STATIC_DIR = Path(__file__).parent / "static"
SESSION_COOKIE = "tocsin_session"

#: Web faces of capabilities, imported by name. Each module exposes ``router`` (built with
#: ``tocsin.web.csrf.page_router()``) and registers its menu items with ``tocsin.web.nav``
#: when imported.
CAPABILITY_MODULES: tuple[str, ...] = ("tocsin.web.routes.watch",)


def _capability_routers() -> list[APIRouter]:
    routers: list[APIRouter] = []
    for name in CAPABILITY_MODULES:
        router = getattr(importlib.import_module(name), "router", None)
        if not isinstance(router, APIRouter):
            raise TypeError(f"{name} has no APIRouter named 'router'")
        routers.append(router)
    return routers


def create_app(
    settings: Settings,
    database: Database,
    *,
    bind_host: str = "127.0.0.1",
    nav: NavRegistry | None = None,
) -> FastAPI:
    """Build the dashboard for ``database``; ``bind_host`` decides the cookie's Secure flag."""
    context = WebContext(settings, database, create_environment(), nav or navigation)
    app = FastAPI(
        title="Tocsin",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(remember_language)],
    )
    app.state.tocsin = context
    install_error_pages(app)
    for router in (login.router, pages.router, users.router, *_capability_routers()):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    api_app = api.create_api()
    api_app.state.tocsin = context
    app.mount(api.PREFIX, api_app, name="api")
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.web_secret_key(),
        session_cookie=SESSION_COOKIE,
        max_age=settings.web.session_max_age,
        same_site="strict",
        https_only=cookie_secure(settings, bind_host),
    )
    app.add_middleware(SecurityHeadersMiddleware)
    return app
