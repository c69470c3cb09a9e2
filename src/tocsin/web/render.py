"""Rendering pages: the Jinja2 environment and the context every template receives."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, urlencode

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.requests import Request

from tocsin.accounts import Account
from tocsin.web import i18n
from tocsin.web.context import web_context
from tocsin.web.csrf import csrf_token
from tocsin.web.labels import choices, label

FLASH_KEY = "flash"


def url_part(value: object) -> str:
    """``value`` escaped for one segment of a URL path or one query value."""
    return quote(str(value), safe="")


def create_environment() -> Environment:
    """Templates under ``web/templates``, autoescaped, with ``{% trans %}`` and ``_()``."""
    env = Environment(
        loader=PackageLoader("tocsin.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.policies["ext.i18n.trimmed"] = True
    # The callables read the language of the request being rendered (a context variable).
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    env.filters["url_part"] = url_part
    env.globals.update(
        label=label,
        choices=choices,
        format_number=i18n.format_number,
        format_datetime=i18n.format_datetime,
    )
    return env


def flash(request: Request, message: str) -> None:
    """Show ``message`` (an English message id marked with N_) on the next page."""
    request.session[FLASH_KEY] = message


def _switch_url(request: Request, language: str) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    params.append(("lang", language))
    return request.url.path + "?" + urlencode(params)


def base_context(request: Request, language: str) -> dict[str, object]:
    account = getattr(request.state, "account", None)
    if not isinstance(account, Account):
        account = None
    other = next(code for code in i18n.LANGUAGES if code != language)
    message = request.session.pop(FLASH_KEY, None) if FLASH_KEY in request.session else None
    return {
        "request": request,
        "account": account,
        "nav_items": web_context(request).navigation.visible_to(account),
        "active": "",
        "lang": language,
        "other_lang": other,
        "other_lang_name": i18n.LANGUAGE_NAMES[other],
        "switch_url": _switch_url(request, other),
        "csrf_token": csrf_token(request),
        "flash": message if isinstance(message, str) else None,
    }


def page_language(request: Request) -> str:
    account = getattr(request.state, "account", None)
    account_language = account.language if isinstance(account, Account) else None
    return i18n.request_language(request, account_language, web_context(request).settings.language)


def render(
    request: Request,
    template: str,
    context: Mapping[str, object] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render ``template`` in the request's language (see :func:`i18n.request_language`)."""
    language = page_language(request)
    values = base_context(request, language)
    values.update(context or {})
    with i18n.use_language(language):
        html = web_context(request).templates.get_template(template).render(values)
    return HTMLResponse(html, status_code=status_code, headers=headers)
