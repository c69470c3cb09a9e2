"""The phishing pages in a real browser: Debian's chromium driven by Playwright.

The demo hospital's reported emails analysed (as ``tocsin demo`` does): an analyst signs
in, opens the queue, filters the phishing verdicts, opens the fake Ameli refund, reads the
reasons and the message shown safely, then overrides the verdict with a note and sees it
kept. Skipped when /usr/bin/chromium is missing, unless TOCSIN_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_browser import CHROMIUM, CHROMIUM_ARGS, _require_chromium, live_dashboard
from web_helpers import PASSWORD, make_settings

from tocsin import accounts
from tocsin.demo import run_demo
from tocsin.demo.reports import record_demo_reports
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
    assert record_demo_reports(database, settings, "ch-demo").kept == 6
    with database.session() as session:
        accounts.create_user(session, "analyst", PASSWORD, Role.ANALYST, all_establishments=True)
    app = create_app(settings, database, bind_host="127.0.0.1")
    with live_dashboard(app) as url:
        yield url


def test_analyst_overrides_a_verdict(server: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="fr-FR")
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(server + "/phishing/reports")
            page.fill("#username", "analyst")
            page.fill("#password", PASSWORD)
            page.click("form.stack button[type=submit]")
            page.wait_for_url(server + "/phishing/reports")
            assert page.locator('nav a[href="/phishing/reports"]').inner_text() == "Hameçonnage"
            assert page.locator("table.reports tbody tr").count() == 6

            page.select_option("#f-verdict", "phishing")
            page.click("form.filters button[type=submit]")
            page.wait_for_url("**verdict=phishing**")
            page.locator("table.reports a", has_text="remboursement").first.click()
            page.wait_for_url("**/phishing/reports/*")
            assert page.locator("#report-verdict").inner_text() == "hameçonnage"
            reasons = page.locator("#report-reasons").inner_text()
            assert "links.ip-host" in reasons and "185.234.72.10" in reasons
            shown = page.locator("#report-message")
            assert "148,30" in shown.inner_text()
            assert shown.locator("a[href]").count() == 0  # no live link in the message
            assert not any("185.234.72.10" in url for url in requests)  # nothing fetched

            page.select_option("#verdict-form select", "suspicious")
            note = "Vérifié avec la CPAM : faux message"
            page.fill("#f-note", note)
            page.click("#verdict-form button[type=submit]")
            page.wait_for_load_state()
            assert page.locator("#report-verdict").inner_text() == "suspect"
            assert "analyst" in page.locator("#report-analyst").inner_text()
            assert (
                page.locator("#report-note").inner_text() == "Vérifié avec la CPAM : faux message"
            )
            assert errors == []
        finally:
            browser.close()
