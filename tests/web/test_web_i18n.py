"""Languages: French by default, English on request, and a complete French catalogue."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from web_helpers import signed_in

from tocsin.web import catalog
from tocsin.web.i18n import catalogue_path, from_accept_language

WEB_DIR = Path(catalog.__file__).parent
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _message_ids() -> set[str]:
    """Every message id of the templates and the web code, extracted as translators do."""
    found = extract_from_dir(
        WEB_DIR, catalog.METHOD_MAP, catalog.OPTIONS_MAP, keywords=DEFAULT_KEYWORDS
    )
    ids: set[str] = set()
    for _filename, _lineno, message, _comments, _context in found:
        ids.add(message[0] if isinstance(message, tuple) else message)
    return ids


def test_extraction_finds_the_templates_strings() -> None:
    ids = _message_ids()
    assert {"Sign in", "Inventory", "Export as CSV", "%(count)s asset", "Vital"} <= ids
    assert len(ids) > 100


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, tuple | list):
        return [str(v or "") for v in value]
    return []


def test_every_visible_string_has_a_french_translation() -> None:
    with catalogue_path("fr").open("rb") as handle:
        french = read_po(handle, locale="fr")
    missing, broken = [], []
    for msgid in sorted(_message_ids()):
        message = french.get(msgid)
        strings = _strings(None if message is None else message.string)
        if not strings or not all(s.strip() for s in strings) or (message and message.fuzzy):
            missing.append(msgid)
            continue
        wanted = set(_PLACEHOLDER.findall(msgid))
        if any(set(_PLACEHOLDER.findall(s)) != wanted for s in strings):
            broken.append(msgid)
    assert not missing, f"untranslated (run python -m tocsin.web.catalog): {missing}"
    assert not broken, f"placeholders differ from the English: {broken}"


def test_english_catalogue_exists_for_every_id() -> None:
    with catalogue_path("en").open("rb") as handle:
        english = read_po(handle, locale="en")
    assert {m.id if isinstance(m.id, str) else m.id[0] for m in english if m.id} >= (_message_ids())


def test_french_is_the_default(client: TestClient) -> None:
    page = client.get("/login")
    assert '<html lang="fr">' in page.text
    assert "Se connecter" in page.text and "Mot de passe" in page.text
    assert 'href="/login?lang=en"' in page.text and ">English<" in page.text


def test_lang_parameter_switches_and_is_remembered(client: TestClient) -> None:
    assert "Sign in" in client.get("/login?lang=en").text
    page = client.get("/login")
    assert '<html lang="en">' in page.text and "Password" in page.text
    assert ">Français<" in page.text
    signed_in(client, "viewer-a")
    assert "Export as CSV" in client.get("/inventory").text
    assert "Exporter en CSV" in client.get("/inventory?lang=fr").text
    assert "Exporter en CSV" in client.get("/inventory").text


def test_switch_link_keeps_the_filters(client: TestClient) -> None:
    html = signed_in(client, "viewer-a").get("/inventory?criticality=vital&q=a").text
    assert 'href="/inventory?criticality=vital&amp;q=a&amp;lang=en"' in html


def test_accounts_language_then_browser_language(client: TestClient) -> None:
    signed_in(client, "english")
    assert "60 assets in your establishments." in client.get("/").text
    client.cookies.clear()
    browser_en = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"})
    assert "Sign in" in browser_en.text


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-US,en;q=0.9", "en"),
        ("de-DE,fr;q=0.8,en;q=0.7", "fr"),
        ("en;q=0.2,fr;q=0.9", "fr"),
        ("de, it", None),
        ("en;q=0", None),
        ("", None),
        ("fr;q=abc,en", "en"),
    ],
)
def test_accept_language(header: str, expected: str | None) -> None:
    assert from_accept_language(header) == expected
