"""The dashboard and the JSON API as one ASGI application.

``create_app`` wires: the signed session cookie, security headers, static files, the page
routers (CSRF-checked), the error pages, the API mounted under ``/api/v1``, the Atom feeds,
and, when ``[schedule]`` is enabled, the watch scheduler started and stopped with the app's
lifespan (:mod:`tocsin.watch.scheduler`).
Capabilities add their pages by listing their web module in :data:`CAPABILITY_MODULES`
(see docs/web.md).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from tocsin import __version__
from tocsin.config import Settings
from tocsin.inventory.normalise import load_aliases
from tocsin.store.db import Database
from tocsin.watch.scheduler import WatchScheduler, cycle_runner
from tocsin.web.context import WebContext
from tocsin.web.errors import install_error_pages
from tocsin.web.i18n import remember_language
from tocsin.web.nav import NavRegistry, navigation
from tocsin.web.render import create_environment
from tocsin.web.routes import api, feed, login, pages, users
from tocsin.web.security import SecurityHeadersMiddleware, cookie_secure
from tocsin.web.watch_status import install_run_status

STATIC_DIR = Path(__file__).parent / "static"
SESSION_COOKIE = "tocsin_session"

#: Web faces of capabilities, imported by name. Each module exposes ``router`` (built with
#: ``tocsin.web.csrf.page_router()``) and registers its menu items with ``tocsin.web.nav``
#: when imported.
CAPABILITY_MODULES: tuple[str, ...] = (
    "tocsin.web.routes.watch",
    "tocsin.web.routes.policy",
    "tocsin.web.routes.detect",
    "tocsin.web.routes.phishing",
)


def _capability_routers() -> list[APIRouter]:
    routers: list[APIRouter] = []
    for name in CAPABILITY_MODULES:
        router = getattr(importlib.import_module(name), "router", None)
        if not isinstance(router, APIRouter):
            raise TypeError(f"{name} has no APIRouter named 'router'")
        routers.append(router)
    return routers


log = logging.getLogger("tocsin.web")


def default_scheduler(settings: Settings, database: Database) -> WatchScheduler | None:
    """The watch scheduler ``[schedule]`` asks for, or None when it is not enabled."""
    if not settings.schedule.enabled:
        return None
    runner = cycle_runner(database, settings, load_aliases(settings.aliases_file))
    return WatchScheduler(settings.schedule, runner)


def create_app(
    settings: Settings,
    database: Database,
    *,
    bind_host: str = "127.0.0.1",
    nav: NavRegistry | None = None,
    scheduler: WatchScheduler | None = None,
) -> FastAPI:
    """Build the dashboard for ``database``; ``bind_host`` decides the cookie's Secure flag.

    ``scheduler`` (default: :func:`default_scheduler`) runs while the app is up.
    """
    context = WebContext(settings, database, create_environment(), nav or navigation)
    install_run_status(context.templates, database, settings)
    chosen = scheduler if scheduler is not None else default_scheduler(settings, database)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if chosen is not None:
            chosen.start()
        try:
            yield
        finally:
            if chosen is not None:
                chosen.stop()
                log.info("watch scheduler stopped")

    app = FastAPI(
        title="Tocsin",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(remember_language)],
        lifespan=lifespan,
    )
    app.state.tocsin = context
    app.state.scheduler = chosen
    install_error_pages(app)
    routers = (login.router, pages.router, users.router, feed.router, *_capability_routers())
    for router in routers:
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
