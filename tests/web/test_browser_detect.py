"""The detection pages in a real browser: Debian's chromium driven by Playwright.

The demo hospital with its bundled logs ingested and scanned (as ``tocsin demo`` does): a
security officer signs in, filters the alerts to the critical and high ones, opens the
shadow-copy deletion on the file server, reads the matching event (the vssadmin command
line), follows the host to its timeline, and acknowledges the alert. Skipped when
/usr/bin/chromium is missing, unless TOCSIN_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_browser import CHROMIUM, CHROMIUM_ARGS, _require_chromium, live_dashboard
from web_helpers import PASSWORD, make_settings

from tocsin import accounts
from tocsin.demo import run_demo
from tocsin.demo.detection import run_demo_detection
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
    settings = make_settings(tmp_path / "home")
    run_demo(database, load_aliases())
    found = run_demo_detection(database, settings, "ch-demo")
    assert found.high_or_critical >= 5, found
    with database.session() as session:
        accounts.create_user(session, "rssi", PASSWORD, Role.RSSI, all_establishments=True)
    app = create_app(settings, database, bind_host="127.0.0.1")
    with live_dashboard(app) as url:
        yield url


def test_rssi_opens_a_ransomware_alert_and_its_events(server: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="fr-FR")
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(server + "/detect/alerts")
            page.fill("#username", "rssi")
            page.fill("#password", PASSWORD)
            page.click("form.stack button[type=submit]")
            page.wait_for_url(server + "/detect/alerts")
            assert page.locator('nav a[href="/detect/alerts"]').inner_text() == "Détection"

            page.select_option("#f-level", "high")
            page.click("form.filters button[type=submit]")
            page.wait_for_url("**level=high**")
            rows = page.locator("table.alerts tbody tr")
            assert rows.count() >= 5
            assert "Flood" in page.locator("table.alerts").inner_text()  # the portal's DDoS

            page.locator("table.alerts a", has_text="vssadmin").first.click()
            page.wait_for_url("**/detect/alerts/*")
            assert "vssadmin" in page.locator("h1").inner_text()
            events = page.locator("#alert-events")
            assert "Événements correspondants" in events.inner_text()
            assert "vssadmin" in events.locator(".event-fields").first.inner_text().lower()
            assert page.locator("#alert-level").inner_text() == "élevé"
            asset = page.locator("dl.fields a[href^='/inventory/ch-demo/']")
            assert asset.count() == 1  # linked to the inventory's file server

            page.select_option("#f-status", "acknowledged")
            page.fill("#f-note", "Cellule de crise prévenue")
            page.click("#status-form button[type=submit]")
            page.wait_for_load_state()
            assert page.locator("#alert-status").inner_text() == "prise en compte"
            assert page.locator("#alert-note").inner_text() == "Cellule de crise prévenue"

            page.locator("dl.fields a[href^='/detect/hosts/']").click()
            page.wait_for_url("**/detect/hosts/ch-demo/**")
            assert page.locator("svg.timeline").is_visible()
            assert page.locator("svg.timeline .mark").count() >= 5
            assert page.locator("#host-timeline tbody tr").count() >= 5
            assert errors == []
        finally:
            browser.close()
