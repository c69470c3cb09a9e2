"""Helpers of the dashboard tests: seed data, settings, a client that signs in and posts forms.

Establishment ``chu-a`` has 60 assets (two pages of inventory), ``ch-b`` has 3, among
them ``b-secret`` that users limited to ``chu-a`` must never see.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from pydantic import SecretStr

from tocsin import accounts
from tocsin.config import Settings, WebSettings
from tocsin.model import (
    Asset,
    AssetKind,
    Criticality,
    Establishment,
    EstablishmentType,
    Exposure,
    Role,
)
from tocsin.store.db import Database
from tocsin.store.inventory import add_establishment, apply_import

PASSWORD = "correct horse battery staple"
MAX_FAILURES = 3
CRITICALITIES = (Criticality.VITAL, Criticality.HIGH, Criticality.MEDIUM, Criticality.LOW)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def a_assets() -> list[Asset]:
    """60 assets: criticality cycles vital/high/medium/low, every 10th is internet-exposed."""
    assets = []
    for n in range(60):
        assets.append(
            Asset(
                id=f"a-{n:03d}",
                name=f"Serveur A {n:03d}",
                kind=AssetKind.MEDICAL_DEVICE if n % 3 == 0 else AssetKind.SOFTWARE,
                vendor="Philips" if n % 2 else "Microsoft",
                product="IntelliVue" if n % 2 else "Windows Server",
                version=f"{n % 5}.0",
                criticality=CRITICALITIES[n % 4],
                exposure=Exposure.INTERNET if n % 10 == 0 else Exposure.INTERNAL,
                function="reanimation" if n % 2 else "administration",
                tags=("pacs",) if n % 7 == 0 else (),
                location=f"Bâtiment {n % 3}",
            )
        )
    return assets


def b_assets() -> list[Asset]:
    return [
        Asset(id="b-secret", name="PACS confidentiel B", criticality=Criticality.VITAL),
        Asset(id="b-002", name="Messagerie B", exposure=Exposure.INTERNET),
        Asset(id="b-003", name="Paie B", criticality=Criticality.LOW),
    ]


def seed(database: Database) -> None:
    with database.session() as session:
        a = add_establishment(session, Establishment("chu-a", "CHU Alpha", EstablishmentType.CHU))
        b = add_establishment(session, Establishment("ch-b", "CH Bravo", EstablishmentType.CH))
        apply_import(session, a.id, "test", a_assets())
        apply_import(session, b.id, "test", b_assets())
        accounts.create_user(session, "admin", PASSWORD, Role.ADMIN)
        accounts.create_user(session, "viewer-a", PASSWORD, Role.VIEWER, establishments=["chu-a"])
        accounts.create_user(session, "dpo-a", PASSWORD, Role.DPO, establishments=["chu-a"])
        accounts.create_user(session, "rssi", PASSWORD, Role.RSSI, all_establishments=True)
        accounts.create_user(
            session, "english", PASSWORD, Role.VIEWER, establishments=["chu-a"], language="en"
        )


def make_settings(home: Path, **web: object) -> Settings:
    values: dict[str, object] = {
        "secret_key": SecretStr("test-secret-key-" * 4),
        "login_max_failures": MAX_FAILURES,
        "login_window_seconds": 600,
    }
    values.update(web)
    return Settings(home=home, language="fr", web=WebSettings.model_validate(values))


def csrf_from(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no csrf_token field in the page"
    return found.group(1)


@dataclass
class Browser:
    """A TestClient with the steps of a person using the dashboard."""

    client: TestClient

    def csrf(self, path: str = "/login") -> str:
        return csrf_from(self.client.get(path).text)

    def login(self, username: str, password: str = PASSWORD, **extra: str) -> httpx.Response:
        token = self.csrf("/login")
        data = {"username": username, "password": password, "csrf_token": token, **extra}
        response: httpx.Response = self.client.post("/login", data=data, follow_redirects=False)
        return response

    def post(self, path: str, data: Mapping[str, object], page: str) -> httpx.Response:
        form = {"csrf_token": self.csrf(page), **data}
        response: httpx.Response = self.client.post(path, data=form, follow_redirects=False)
        return response


def signed_in(client: TestClient, username: str) -> TestClient:
    response = Browser(client).login(username)
    assert response.status_code == 303, username
    return client


_ASSET_LINK = re.compile(r'href="/inventory/([^/"]+)/([^"?]+)"')


def asset_links(html: str) -> list[str]:
    """``establishment/id`` of every asset linked from a page, in order."""
    return [f"{est}/{key}" for est, key in _ASSET_LINK.findall(html)]
