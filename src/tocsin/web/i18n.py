"""Languages of the dashboard: Babel catalogues read at run time, no compile step.

Source strings are English; ``locale/<lang>/LC_MESSAGES/messages.po`` holds each
translation. The catalogue in use is held in a context variable for the duration of one
render, so concurrent requests in other languages never see it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from babel.dates import format_datetime as _format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations
from starlette.requests import Request

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
LANGUAGES: tuple[str, ...] = ("fr", "en")
# Each language is offered under its own name (an autonym), so it is never translated.
LANGUAGE_NAMES: dict[str, str] = {"fr": "Français", "en": "English"}
SESSION_KEY = "lang"

_current: ContextVar[tuple[str, Translations] | None] = ContextVar("tocsin_lang", default=None)


def N_(message: str) -> str:  # noqa: N802 - the name extraction tools look for
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=len(LANGUAGES))
def translations(language: str) -> Translations:
    """The catalogue of ``language``, read from its .po file (untranslated entries fall back)."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    with catalogue_path(language).open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


@contextmanager
def use_language(language: str) -> Iterator[None]:
    """Make ``language`` the one :func:`gettext` and the formatters use, in this context."""
    token = _current.set((language, translations(language)))
    try:
        yield
    finally:
        _current.reset(token)


def current_language() -> str:
    state = _current.get()
    return state[0] if state else LANGUAGES[0]


def gettext(message: str) -> str:
    state = _current.get()
    return state[1].gettext(message) if state else message


def ngettext(singular: str, plural: str, count: int) -> str:
    state = _current.get()
    if state is None:
        return singular if count == 1 else plural
    return state[1].ngettext(singular, plural, count)


def format_number(value: int | float) -> str:
    return format_decimal(value, locale=current_language())


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return _format_datetime(value, format="medium", locale=current_language())


def from_accept_language(header: str | None) -> str | None:
    """The supported language the browser prefers most, from an Accept-Language header."""
    if not header:
        return None
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:32]):
        tag, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            name, _sep, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.split("-")[0].lower()
        if primary in LANGUAGES and quality > 0:
            choices.append((-quality, index, primary))
    return min(choices)[2] if choices else None


def remember_language(request: Request) -> None:
    """App-wide dependency: ``?lang=fr|en`` on any page is kept in the session."""
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        request.session[SESSION_KEY] = asked


def request_language(request: Request, account_language: str | None, default: str) -> str:
    """``?lang``, else the session's choice, else the user's, else the browser's, else default."""
    for candidate in (
        request.query_params.get("lang"),
        request.session.get(SESSION_KEY),
        account_language,
        from_accept_language(request.headers.get("accept-language")),
    ):
        if candidate in LANGUAGES:
            return str(candidate)
    return default if default in LANGUAGES else LANGUAGES[0]
