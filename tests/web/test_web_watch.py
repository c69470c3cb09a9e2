"""The watch pages: exposures with filters and bulk triage, one exposure, advisory, bulletin.

The seeded database gets the demo hospital (``ch-demo``) and its exposures from the bundled
advisory snapshot; ``viewer-a`` and ``dpo-a`` are limited to ``chu-a`` and must not see them.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from web_helpers import PASSWORD, Browser, csrf_from, signed_in

from tocsin import accounts
from tocsin.demo import run_demo
from tocsin.inventory.normalise import load_aliases
from tocsin.model import Role
from tocsin.model.finding import Decision
from tocsin.store.db import Database
from tocsin.store.exposure_queries import ExposureFilter, ExposureView, iter_exposures
from tocsin.watch.lifecycle import Status

DEMO = "ch-demo"
_EXPOSURE_LINK = re.compile(r'href="/watch/exposures/(\d+)"')


@pytest.fixture
def demo(seeded: Database) -> Database:
    run_demo(seeded, load_aliases())
    with seeded.session() as session:
        accounts.create_user(session, "viewer-all", PASSWORD, Role.VIEWER, all_establishments=True)
        accounts.create_user(session, "analyst", PASSWORD, Role.ANALYST, all_establishments=True)
    return seeded


@pytest.fixture
def rssi(client: TestClient, demo: Database) -> TestClient:
    return signed_in(client, "rssi")


def _views(database: Database, flt: ExposureFilter | None = None) -> list[ExposureView]:
    with database.session() as session:
        return list(iter_exposures(session, flt or ExposureFilter(establishments=(DEMO,))))


def _ids(html: str) -> list[int]:
    return [int(n) for n in dict.fromkeys(_EXPOSURE_LINK.findall(html))]


def test_the_menu_shows_watch_in_french_and_english(rssi: TestClient) -> None:
    assert 'href="/watch/exposures"' in rssi.get("/").text
    assert ">Veille<" in rssi.get("/?lang=fr").text
    assert ">Watch<" in rssi.get("/?lang=en").text


def test_the_list_shows_the_demo_exposures_with_counts(rssi: TestClient, demo: Database) -> None:
    views = _views(demo)
    page = rssi.get(f"/watch/exposures?establishment={DEMO}&lang=en")
    assert page.status_code == 200
    assert f"{len(views)} exposures" in page.text
    assert len(_ids(page.text)) == min(len(views), 50)
    act_now = sum(1 for v in views if v.decision is Decision.ACT_NOW)
    assert re.search(rf"<strong>{act_now}</strong> Act now", page.text)


@pytest.mark.parametrize(
    ("param", "value", "field"),
    [
        ("decision", "act_now", "decision"),
        ("decision", "scheduled", "decision"),
        ("criticality", "vital", "criticality"),
        ("status", "new", "status"),
        ("function", "infrastructure", "function"),
    ],
)
def test_filters_keep_only_matching_exposures(
    rssi: TestClient, demo: Database, param: str, value: str, field: str
) -> None:
    html = rssi.get(f"/watch/exposures?establishment={DEMO}&{param}={value}").text
    shown = set(_ids(html))
    expected = {v.id for v in _views(demo) if str(getattr(v, field) or "") == value}
    assert shown
    assert shown <= expected


def test_advisory_and_text_filters(rssi: TestClient, demo: Database) -> None:
    target = _views(demo)[0]
    by_advisory = set(_ids(rssi.get(f"/watch/exposures?advisory={target.advisory}").text))
    assert target.id in by_advisory
    assert all(v.advisory == target.advisory for v in _views(demo) if v.id in by_advisory)
    by_asset = set(_ids(rssi.get(f"/watch/exposures?asset={target.asset_key}").text))
    assert by_asset == {v.id for v in _views(demo) if v.asset_key == target.asset_key}
    assert rssi.get("/watch/exposures?q=zzz-nothing-zzz").text.count("/watch/exposures/") == 0


def test_unknown_filter_values_are_a_400(rssi: TestClient) -> None:
    assert rssi.get("/watch/exposures?decision=panic").status_code == 400
    assert rssi.get("/watch/bulletin?period=yearly").status_code == 400


def test_users_limited_to_another_establishment_see_nothing_of_it(
    client: TestClient, demo: Database
) -> None:
    exposure = _views(demo)[0]
    signed_in(client, "viewer-a")
    assert _ids(client.get("/watch/exposures").text) == []
    assert client.get(f"/watch/exposures?establishment={DEMO}").text.count("/watch/exposures/") == 0
    assert client.get(f"/watch/exposures/{exposure.id}").status_code == 404
    assert client.get(f"/watch/bulletin?establishment={DEMO}").status_code == 404
    assert client.get(f"/watch/assets/{DEMO}/{exposure.asset_key}").status_code == 404
    advisory = client.get(f"/watch/advisories/{exposure.advisory}")
    assert advisory.status_code == 200  # advisories are public; exposures are not
    assert _ids(advisory.text) == []


def test_viewers_read_but_may_not_triage(client: TestClient, demo: Database) -> None:
    exposure = _views(demo)[0]
    browser = Browser(client)
    assert browser.login("viewer-all").status_code == 303
    page = client.get(f"/watch/exposures/{exposure.id}")
    assert page.status_code == 200
    assert "status-form" not in page.text
    assert 'name="ids"' not in client.get("/watch/exposures").text
    form = {"ids": [str(exposure.id)], "status": "acknowledged"}
    assert browser.post("/watch/exposures/bulk", form, "/watch/exposures").status_code == 403
    single = browser.post(
        f"/watch/exposures/{exposure.id}/status", {"status": "acknowledged"}, "/watch/exposures"
    )
    assert single.status_code == 403
    assert _views(demo)[0].status is Status.NEW


def test_triage_needs_the_csrf_token(rssi: TestClient, demo: Database) -> None:
    exposure = _views(demo)[0]
    form = {"ids": [str(exposure.id)], "status": "acknowledged"}
    assert rssi.post("/watch/exposures/bulk", data=form).status_code == 403
    forged = {**form, "csrf_token": "forged"}
    assert rssi.post("/watch/exposures/bulk", data=forged).status_code == 403
    assert rssi.post(f"/watch/exposures/{exposure.id}/status", data=forged).status_code == 403
    assert _views(demo)[0].status is Status.NEW


def test_bulk_risk_acceptance_with_reason_and_expiry(client: TestClient, demo: Database) -> None:
    browser = Browser(client)
    assert browser.login("analyst").status_code == 303
    chosen = [v.id for v in _views(demo)[:3]]
    form = {
        "ids": [str(i) for i in chosen],
        "status": "risk_accepted",
        "reason": "Réseau isolé, remplacement prévu",
        "until": "2031-06-30",
    }
    response = browser.post("/watch/exposures/bulk", form, "/watch/exposures")
    assert response.status_code == 200
    assert "3 modifiée(s), 0 refusée(s)." in response.text
    after = {v.id: v for v in _views(demo)}
    for exposure_id in chosen:
        view = after[exposure_id]
        assert view.status is Status.RISK_ACCEPTED
        assert view.status_reason == "Réseau isolé, remplacement prévu"
        assert view.status_until is not None
        assert view.status_until.date() == date(2031, 6, 30)
    history = client.get(f"/watch/exposures/{chosen[0]}").text
    assert "analyst" in history
    assert "Réseau isolé, remplacement prévu" in history


def test_invalid_transitions_are_reported_per_row(rssi: TestClient, demo: Database) -> None:
    first, second = (v.id for v in _views(demo)[:2])
    token = csrf_from(rssi.get("/watch/exposures").text)
    rssi.post(
        "/watch/exposures/bulk",
        data={"csrf_token": token, "ids": [str(first)], "status": "acknowledged"},
    )
    # acknowledged → acknowledged is refused; new → acknowledged goes through.
    response = rssi.post(
        "/watch/exposures/bulk?lang=en",
        data={"csrf_token": token, "ids": [str(first), str(second)], "status": "acknowledged"},
    )
    assert response.status_code == 200
    assert "1 changed, 1 refused." in response.text
    assert "cannot go from acknowledged to acknowledged" in response.text
    # A risk acceptance without an expiry is refused for every row, not a server error.
    refused = rssi.post(
        "/watch/exposures/bulk?lang=en",
        data={"csrf_token": token, "ids": [str(second)], "status": "risk_accepted", "reason": "x"},
    )
    assert refused.status_code == 200
    assert "0 changed, 1 refused." in refused.text
    bad_date = rssi.post(
        "/watch/exposures/bulk",
        data={"csrf_token": token, "ids": [str(second)], "status": "risk_accepted", "until": "x"},
    )
    assert bad_date.status_code == 400
    nothing = rssi.post("/watch/exposures/bulk", data={"csrf_token": token, "status": "fixed"})
    assert nothing.status_code == 400


def test_an_exposure_outside_the_scope_cannot_be_changed(
    client: TestClient, demo: Database
) -> None:
    exposure = _views(demo)[0]
    with demo.session() as session:
        accounts.create_user(session, "analyst-a", PASSWORD, Role.ANALYST, establishments=["chu-a"])
    browser = Browser(client)
    assert browser.login("analyst-a").status_code == 303
    form = {"ids": [str(exposure.id)], "status": "acknowledged"}
    response = browser.post("/watch/exposures/bulk", form, "/watch/exposures")
    assert response.status_code == 200
    assert "1 refusée(s)" in response.text
    assert _views(demo)[0].status is Status.NEW


def test_one_exposure_page_changes_status_and_shows_history(
    rssi: TestClient, demo: Database
) -> None:
    exposure = _views(demo)[0]
    page = rssi.get(f"/watch/exposures/{exposure.id}")
    assert exposure.advisory in page.text
    assert exposure.evidence[:30] in page.text.replace("&#39;", "'")
    token = csrf_from(page.text)
    response = rssi.post(
        f"/watch/exposures/{exposure.id}/status",
        data={"csrf_token": token, "status": "false_positive", "reason": "Pas ce produit"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    after = rssi.get(f"/watch/exposures/{exposure.id}").text
    assert "Statut modifié." in after
    assert "Faux positif" in after
    assert "Pas ce produit" in after
    refused = rssi.post(
        f"/watch/exposures/{exposure.id}/status",
        data={"csrf_token": token, "status": "in_remediation"},
    )
    assert refused.status_code == 400
    assert "Refusé" in refused.text


def test_the_advisory_page_shows_the_record_and_its_exposures(
    rssi: TestClient, demo: Database
) -> None:
    certfr = next(v for v in _views(demo) if v.advisory.startswith("CERTFR-"))
    page = rssi.get(f"/watch/advisories/{certfr.advisory}")
    assert page.status_code == 200
    assert "Produits affectés" in page.text
    assert f'href="/watch/exposures/{certfr.id}"' in page.text
    assert rssi.get("/watch/advisories/CVE-1999-0000").status_code == 404


def test_the_asset_page_links_to_its_exposures(rssi: TestClient, demo: Database) -> None:
    exposure = _views(demo)[0]
    asset = rssi.get(f"/inventory/{DEMO}/{exposure.asset_key}").text
    assert f'href="/watch/assets/{DEMO}/{exposure.asset_key}"' in asset
    page = rssi.get(f"/watch/assets/{DEMO}/{exposure.asset_key}")
    assert page.status_code == 200
    assert exposure.id in _ids(page.text)


def test_the_bulletin_is_a_french_page_linking_each_exposure(
    rssi: TestClient, demo: Database
) -> None:
    page = rssi.get(f"/watch/bulletin?establishment={DEMO}&period=daily")
    assert page.status_code == 200
    assert "Bulletin de veille quotidien" in page.text
    assert "Nouvelles expositions" in page.text
    assert set(_ids(page.text)) == {v.id for v in _views(demo)}
    weekly = rssi.get(f"/watch/bulletin?establishment={DEMO}&period=weekly&lang=en")
    assert "Weekly watch bulletin" in weekly.text


def test_reasons_are_shown_in_the_page_language(rssi: TestClient, demo: Database) -> None:
    exposure = next(v for v in _views(demo) if any(r.startswith("CVSS ") for r in v.reasons))
    cvss = next(r for r in exposure.reasons if r.startswith("CVSS "))
    english = rssi.get(f"/watch/exposures/{exposure.id}?lang=en").text
    french = rssi.get(f"/watch/exposures/{exposure.id}?lang=fr").text
    assert f"<li>{cvss}</li>" in english
    assert f"<li>{cvss.replace('.', ',')}</li>" in french
    assert any(p in french for p in ("<li>réseau interne</li>", "<li>exposé à Internet</li>"))


def test_the_advisory_page_says_why_it_is_urgent(rssi: TestClient, demo: Database) -> None:
    kev = next((v for v in _views(demo) if v.kev), None)
    if kev is None:
        pytest.skip("the demo has no KEV exposure")
    page = rssi.get(f"/watch/advisories/{kev.advisory}?lang=fr").text
    assert 'id="advisory-reasons"' in page
    assert "inscrite au catalogue KEV de la CISA" in page
    assert "exposé à Internet" not in page.split('id="advisory-reasons"')[1].split("</ul>")[0]


def test_the_bulletin_page_has_the_chart_with_a_text_alternative(
    rssi: TestClient, demo: Database
) -> None:
    page = rssi.get(f"/watch/bulletin?establishment={DEMO}&lang=fr").text
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page and "<script" not in page
    assert 'aria-describedby="bulletin-chart-summary"' in page
    assert 'id="bulletin-chart-summary">Le ' in page
    assert "Données du graphique" in page and 'id="bulletin-chart-data"' in page
    assert page.count('<tr><th scope="row">') == 30
    english = rssi.get(f"/watch/bulletin?establishment={DEMO}&lang=en").text
    assert "Open exposures by decision (30 days)" in english and "Chart data" in english
