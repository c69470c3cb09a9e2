"""What every route needs: settings, database, templates and navigation of one app."""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import Environment
from starlette.requests import HTTPConnection

from tocsin.config import Settings
from tocsin.store.db import Database
from tocsin.web.nav import NavRegistry


@dataclass(frozen=True)
class WebContext:
    settings: Settings
    database: Database
    templates: Environment
    navigation: NavRegistry


def web_context(connection: HTTPConnection) -> WebContext:
    """The context of the app serving ``connection`` (kept in ``app.state.tocsin``)."""
    context = connection.app.state.tocsin
    if not isinstance(context, WebContext):
        raise TypeError("the app was not built by tocsin.web.app.create_app")
    return context
