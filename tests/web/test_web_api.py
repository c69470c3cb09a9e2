"""The JSON API: bearer tokens only, the same roles and establishment scope as the pages."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from web_helpers import Browser

from tocsin import accounts
from tocsin.inventory.export import asset_document
from tocsin.store.db import Database
from tocsin.store.inventory import get_asset


@pytest.fixture
def tokens(seeded: Database) -> dict[str, str]:
    with seeded.session() as session:
        return {
            name: accounts.create_token(session, name, "tests")
            for name in ("viewer-a", "rssi", "admin")
        }


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_api_needs_a_token(client: TestClient) -> None:
    response = client.get("/api/v1/assets")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/v1/assets", headers=_auth("tcs_forged")).status_code == 401
    basic = {"Authorization": "Basic dmlld2VyLWE6eA=="}
    assert client.get("/api/v1/assets", headers=basic).status_code == 401


def test_api_ignores_the_session_cookie(client: TestClient) -> None:
    Browser(client).login("rssi")
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/establishments").status_code == 401


def test_api_lists_establishments_in_scope(client: TestClient, tokens: dict[str, str]) -> None:
    everything = client.get("/api/v1/establishments", headers=_auth(tokens["rssi"])).json()
    assert [e["slug"] for e in everything["establishments"]] == ["ch-b", "chu-a"]
    assert everything["version"] == 1
    scoped = client.get("/api/v1/establishments", headers=_auth(tokens["viewer-a"])).json()
    assert scoped["establishments"] == [
        {"slug": "chu-a", "name": "CHU Alpha", "type": "chu", "finess": None, "region": None}
    ]


def test_api_assets_with_filters_and_paging(client: TestClient, tokens: dict[str, str]) -> None:
    headers = _auth(tokens["viewer-a"])
    body = client.get("/api/v1/assets?limit=10&offset=5", headers=headers).json()
    assert body["version"] == 1 and body["total"] == 60
    assert [a["id"] for a in body["assets"]] == [f"a-{n:03d}" for n in range(5, 15)]
    vital = client.get(
        "/api/v1/assets?criticality=vital&exposure=internet&limit=1000", headers=headers
    ).json()
    assert [a["id"] for a in vital["assets"]] == ["a-000", "a-020", "a-040"]
    both = client.get(
        "/api/v1/assets?criticality=vital&criticality=low&q=intellivue", headers=headers
    ).json()
    assert both["total"] == 15
    bad = client.get("/api/v1/assets?criticality=catastrophic", headers=headers)
    assert bad.status_code == 422
    assert client.get("/api/v1/assets?limit=100000", headers=headers).status_code == 422


def test_api_asset_document_has_the_export_shape(
    client: TestClient, tokens: dict[str, str], seeded: Database
) -> None:
    response = client.get("/api/v1/assets/chu-a/a-007", headers=_auth(tokens["viewer-a"]))
    assert response.status_code == 200
    with seeded.session() as session:
        expected = asset_document(get_asset(session, "chu-a", "a-007"))
    assert response.json() == expected


def test_api_enforces_the_establishment_scope(client: TestClient, tokens: dict[str, str]) -> None:
    viewer = _auth(tokens["viewer-a"])
    assert client.get("/api/v1/assets/ch-b/b-secret", headers=viewer).status_code == 404
    listed = client.get("/api/v1/assets?establishment=ch-b", headers=viewer).json()
    assert listed == {"version": 1, "total": 0, "assets": []}
    found = client.get("/api/v1/assets?q=confidentiel", headers=viewer).json()
    assert found["total"] == 0
    rssi = _auth(tokens["rssi"])
    assert client.get("/api/v1/assets/ch-b/b-secret", headers=rssi).status_code == 200


def test_api_token_of_a_deactivated_account_is_refused(
    client: TestClient, tokens: dict[str, str], seeded: Database
) -> None:
    with seeded.session() as session:
        accounts.update_user(session, "viewer-a", active=False)
    response = client.get("/api/v1/assets", headers=_auth(tokens["viewer-a"]))
    assert response.status_code == 401


def test_openapi_schema_is_served_without_cdn_pages(client: TestClient) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    assert set(schema["paths"]) == {
        "/establishments",
        "/assets",
        "/assets/{establishment}/{asset_id}",
        "/alerts",
        "/phishing/reports",
    }
    assert "AssetList" in schema["components"]["schemas"]
    assert "token" in schema["components"]["securitySchemes"]
    for page in ("/api/v1/docs", "/api/v1/redoc", "/docs", "/openapi.json"):
        assert client.get(page).status_code == 404, page
