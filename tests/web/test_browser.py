"""The dashboard in a real browser: Debian's chromium driven by Playwright.

A viewer signs in, reads and filters the inventory, opens an asset, and is refused the
accounts page. Skipped when /usr/bin/chromium is missing, unless TOCSIN_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn
from fastapi import FastAPI
from web_helpers import PASSWORD, make_settings

from tocsin import accounts
from tocsin.model import Asset, Criticality, Establishment, Role
from tocsin.store.db import Database
from tocsin.store.inventory import add_establishment, apply_import
from tocsin.web.app import create_app

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CRITICALITIES = (Criticality.VITAL, Criticality.HIGH, Criticality.MEDIUM, Criticality.LOW)

pytestmark = pytest.mark.browser


@pytest.fixture
def backend_fixed() -> str:
    """Requesting this keeps ``database`` on SQLite only (see tests/conftest.py)."""
    return "sqlite"


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: install Debian's chromium to run the browser test"
    if os.environ.get("TOCSIN_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


def _seed(database: Database) -> None:
    """20 assets: every 3rd is a "Moniteur", criticality cycles vital/high/medium/low."""
    assets = [
        Asset(
            id=f"dm-{n:02d}",
            name=f"{'Moniteur' if n % 3 == 0 else 'Pompe'} {n:02d}",
            criticality=CRITICALITIES[n % 4],
            vendor="Dräger",
            location="Réanimation",
        )
        for n in range(20)
    ]
    with database.session() as session:
        row = add_establishment(session, Establishment("chu-test", "CHU de Test"))
        apply_import(session, row.id, "browser-test", assets)
        accounts.create_user(session, "lecteur", PASSWORD, Role.VIEWER, establishments=["chu-test"])
        accounts.create_user(session, "admin", PASSWORD, Role.ADMIN)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def live_dashboard(app: FastAPI) -> Iterator[str]:
    """``app`` served by uvicorn on a free loopback port in a thread; its base URL."""
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uvicorn_server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the dashboard did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def server(backend_fixed: str, database: Database, tmp_path: Path) -> Iterator[str]:
    _require_chromium()
    _seed(database)
    app = create_app(make_settings(tmp_path / "home"), database, bind_host="127.0.0.1")
    with live_dashboard(app) as url:
        yield url


def _sign_in(page: Page, server: str) -> None:
    page.goto(server + "/inventory")
    assert page.url.startswith(server + "/login?next=")
    page.fill("#username", "lecteur")
    page.fill("#password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(server + "/inventory")


def _filter_inventory(page: Page) -> None:
    assert page.locator("#result-count").inner_text().startswith("20 actifs")
    assert page.locator("table.assets tbody tr").count() == 20
    page.select_option("#f-criticality", "vital")
    page.click(".filters button[type=submit]")
    page.wait_for_url("**/inventory?*criticality=vital*")
    assert page.locator("table.assets tbody tr").count() == 5
    page.fill("#f-q", "moniteur")
    page.click(".filters button[type=submit]")
    page.wait_for_url("**q=moniteur*")
    names = page.locator("table.assets tbody tr td:first-child").all_inner_texts()
    assert names == ["Moniteur 00", "Moniteur 12"]
    assert page.locator("#f-criticality").input_value() == "vital"


def _open_asset(page: Page, server: str) -> None:
    page.click("text=Moniteur 12")
    page.wait_for_url(server + "/inventory/chu-test/dm-12")
    assert page.locator("h1").inner_text() == "Moniteur 12"
    assert "Réanimation" in page.locator("dl.fields").inner_text()
    assert page.locator('nav a[href="/users"]').count() == 0


def test_viewer_uses_the_dashboard_in_chromium(server: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="fr-FR")
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            _sign_in(page, server)
            _filter_inventory(page)
            _open_asset(page, server)
            response = page.goto(server + "/users")
            assert response is not None and response.status == 403
            assert page.locator("h1").inner_text().startswith("Accès refusé")
            assert not [e for e in errors if "Content Security Policy" in e], errors
        finally:
            browser.close()
