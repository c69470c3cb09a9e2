"""The overview, the inventory and its export, asset pages, the audit log, and scoping."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from web_helpers import asset_links, signed_in


def test_overview_counts_assets_per_establishment(client: TestClient) -> None:
    html = signed_in(client, "rssi").get("/").text
    assert "CHU Alpha" in html and "CH Bravo" in html
    assert "63 actifs dans vos établissements." in html
    assert "<svg" in html and 'class="bar bar-vital"' in html
    assert "Actifs de CHU Alpha par criticité" in html
    assert '/inventory?establishment=chu-a&amp;exposure=internet">6<' in html
    assert '/inventory?establishment=chu-a&amp;criticality=vital">15<' in html


def test_overview_shows_only_the_users_establishments(client: TestClient) -> None:
    html = signed_in(client, "viewer-a").get("/").text
    assert "CHU Alpha" in html
    assert "CH Bravo" not in html and "ch-b" not in html
    assert "60 actifs dans vos établissements." in html


def test_inventory_is_paginated_by_fifty(client: TestClient) -> None:
    signed_in(client, "viewer-a")
    first = client.get("/inventory").text
    assert "60 actifs" in first
    assert len(asset_links(first)) == 50
    assert "Page 1 sur 2" in first
    assert 'href="/inventory?page=2" rel="next"' in first
    second = client.get("/inventory?page=2").text
    links = asset_links(second)
    assert links == [f"chu-a/a-{n:03d}" for n in range(50, 60)]
    assert "affichés : 51 à 60" in second
    # A page past the end shows the last one.
    assert asset_links(client.get("/inventory?page=99").text) == links


def test_inventory_filters(client: TestClient) -> None:
    signed_in(client, "viewer-a")

    def ids(query: str) -> set[str]:
        response = client.get("/inventory?" + query)
        assert response.status_code == 200
        return {link.split("/", 1)[1] for link in asset_links(response.text)}

    assert ids("criticality=vital") == {f"a-{n:03d}" for n in range(0, 60, 4)}
    assert ids("exposure=internet") == {f"a-{n:03d}" for n in range(0, 60, 10)}
    assert ids("kind=medical_device&criticality=vital") == {f"a-{n:03d}" for n in range(0, 60, 12)}
    assert ids("tag=pacs") == {f"a-{n:03d}" for n in range(0, 60, 7)}
    assert ids("function=reanimation&criticality=high") == {f"a-{n:03d}" for n in range(1, 60, 4)}
    assert ids("q=serveur+a+042") == {"a-042"}
    assert ids("q=INTELLIVUE&exposure=internet") == set()
    assert ids("q=intellivue&criticality=low") == {f"a-{n:03d}" for n in range(3, 60, 4)}
    # Empty fields of the GET form mean "any".
    assert len(ids("establishment=&kind=&criticality=vital&exposure=&q=")) == 15


def test_filtered_pages_keep_the_filters_in_their_links(client: TestClient) -> None:
    html = signed_in(client, "rssi").get("/inventory?exposure=internal&q=serveur").text
    assert "54 actifs" in html
    assert 'href="/inventory?exposure=internal&amp;q=serveur&amp;page=2"' in html
    assert 'href="/inventory.csv?exposure=internal&amp;q=serveur"' in html
    assert '<option value="internal" selected>' in html
    assert 'value="serveur"' in html


def test_unknown_filter_value_is_a_bad_request(client: TestClient) -> None:
    signed_in(client, "viewer-a")
    response = client.get("/inventory?criticality=catastrophic")
    assert response.status_code == 400
    assert "Requête invalide" in response.text


def test_csv_export_follows_filters_and_scope(client: TestClient) -> None:
    signed_in(client, "viewer-a")
    response = client.get("/inventory.csv?criticality=vital")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 15
    assert {r["criticality"] for r in rows} == {"vital"}
    assert rows[0]["id"] == "a-000" and rows[0]["tags"] == "pacs"
    everything = list(csv.DictReader(io.StringIO(client.get("/inventory.csv").text)))
    assert len(everything) == 60
    assert not any(r["id"].startswith("b-") for r in everything)


def test_asset_page_shows_every_field(client: TestClient) -> None:
    html = signed_in(client, "viewer-a").get("/inventory/chu-a/a-007").text
    for text in (
        "Serveur A 007",
        "Philips",
        "IntelliVue",
        "2.0",
        "reanimation",
        "Bâtiment 1",
        "pacs",
        "Criticité pour la sécurité des patients",
        "Basse",
        "Logiciel",
        "CHU Alpha",
    ):
        assert text in html, text


def test_user_of_one_establishment_never_sees_another(client: TestClient) -> None:
    signed_in(client, "viewer-a")
    assert client.get("/inventory/ch-b/b-secret").status_code == 404
    assert client.get("/inventory/chu-a/b-secret").status_code == 404
    for page in ("/inventory?q=confidentiel", "/inventory?establishment=ch-b", "/"):
        html = client.get(page).text
        assert "PACS confidentiel" not in html and "CH Bravo" not in html, page
    assert "0 actif" in client.get("/inventory?establishment=ch-b").text
    assert "confidentiel" not in client.get("/inventory.csv?establishment=ch-b").text


def test_user_of_all_establishments_sees_both(client: TestClient) -> None:
    signed_in(client, "rssi")
    assert client.get("/inventory/ch-b/b-secret").status_code == 200
    assert "PACS confidentiel B" in client.get("/inventory?q=confidentiel").text


def test_missing_asset_is_a_translated_404(client: TestClient) -> None:
    response = signed_in(client, "rssi").get("/inventory/chu-a/nope")
    assert response.status_code == 404
    assert "Introuvable" in response.text


def test_role_without_permission_gets_the_403_page(client: TestClient) -> None:
    signed_in(client, "viewer-a")
    for page in ("/users", "/audit"):
        response = client.get(page)
        assert response.status_code == 403
        assert "Accès refusé" in response.text
        assert "Votre rôle ne donne pas accès à cette page." in response.text
    english = client.get("/users?lang=en")
    assert english.status_code == 403 and "Access denied" in english.text


def test_menu_shows_only_what_the_role_may_open(client: TestClient) -> None:
    viewer = signed_in(client, "viewer-a").get("/").text
    assert 'href="/inventory"' in viewer
    assert 'href="/users"' not in viewer and 'href="/audit"' not in viewer


def test_audit_log_is_readable_by_dpo_and_admin(client: TestClient) -> None:
    admin = signed_in(client, "admin").get("/audit")
    assert admin.status_code == 200
    assert "user.create" in admin.text and "viewer-a" in admin.text
    client.cookies.clear()
    dpo = signed_in(client, "dpo-a").get("/audit")
    assert dpo.status_code == 200
    # Account changes concern no establishment: a DPO limited to one does not see them.
    assert "user.create" not in dpo.text
