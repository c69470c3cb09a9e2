"""The watch pages in a real browser: Debian's chromium driven by Playwright.

A security officer (rssi) signs in on the demo hospital, opens the French bulletin, clicks
through to an exposure, accepts its risk with a reason and an expiry date, and sees the new
status and the history entry. Skipped when /usr/bin/chromium is missing, unless
TOCSIN_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_browser import CHROMIUM, CHROMIUM_ARGS, _require_chromium, live_dashboard
from web_helpers import PASSWORD, make_settings

from tocsin import accounts
from tocsin.demo import run_demo
from tocsin.inventory.normalise import load_aliases
from tocsin.model import Role
from tocsin.store.db import Database
from tocsin.web.app import create_app

pytestmark = pytest.mark.browser


@pytest.fixture
def backend_fixed() -> str:
    """Requesting this keeps ``database`` on SQLite only (see tests/conftest.py)."""
    return "sqlite"


@pytest.fixture
def server(backend_fixed: str, database: Database, tmp_path: Path) -> Iterator[str]:
    _require_chromium()
    run_demo(database, load_aliases())
    with database.session() as session:
        accounts.create_user(session, "rssi", PASSWORD, Role.RSSI, all_establishments=True)
    app = create_app(make_settings(tmp_path / "home"), database, bind_host="127.0.0.1")
    with live_dashboard(app) as url:
        yield url


def test_rssi_accepts_a_risk_from_the_bulletin(server: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="fr-FR")
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(server + "/watch/bulletin?establishment=ch-demo")
            assert page.url.startswith(server + "/login?next=")
            page.fill("#username", "rssi")
            page.fill("#password", PASSWORD)
            page.click("form.stack button[type=submit]")
            page.wait_for_url(server + "/watch/bulletin?establishment=ch-demo")
            assert "Bulletin de veille quotidien" in page.locator("h1").inner_text()
            assert page.locator('nav a[href="/watch/exposures"]').inner_text() == "Veille"

            first = page.locator("#bulletin-new .bulletin-assets a").first
            target = first.get_attribute("href")
            assert target is not None and target.startswith("/watch/exposures/")
            first.click()
            page.wait_for_url(server + target)
            assert page.locator("#exposure-status").inner_text() == "Nouvelle"

            page.select_option("#t-status", "risk_accepted")
            page.fill("#t-reason", "Poste isolé du réseau, remplacement au budget 2027")
            page.fill("#t-until", "2027-03-31")
            page.click("#status-form button[type=submit]")
            page.wait_for_url(server + target)
            assert page.locator(".flash").inner_text() == "Statut modifié."
            assert page.locator("#exposure-status").inner_text() == "Risque accepté"
            assert page.locator("#status-until").inner_text() == "2027-03-31"
            last = page.locator("#history tbody tr").last.inner_text()
            assert "rssi" in last
            assert "Risque accepté" in last
            assert "Poste isolé du réseau" in last
            assert not [e for e in errors if "Content Security Policy" in e], errors
        finally:
            browser.close()
