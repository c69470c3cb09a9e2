"""The phishing pages: the queue, one report shown safely, the override (CSRF, audit),
the upload form, and the API, within scope."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient
from web_helpers import PASSWORD, Browser, csrf_from, signed_in

from tocsin import accounts
from tocsin.config import PhishingSettings, Settings
from tocsin.model import Role
from tocsin.phishing.service import record_report
from tocsin.store import audit
from tocsin.store.db import Database


def _phish(subject: str = "Remboursement Ameli", marker: str = "") -> bytes:
    message = EmailMessage()
    message["From"] = '"Assurance Maladie" <remboursement@ameli-secure.info>'
    message["To"] = "infirmiere@ch-a.example"
    message["Subject"] = subject
    message.set_content("Vous avez droit à un remboursement." + marker)
    message.add_alternative(
        '<p>Bonjour <script>alert("x")</script><img src="https://tracker.example/p.gif">'
        '<a href="http://198.51.100.7/ameli">www.ameli.fr</a></p>' + marker,
        subtype="html",
    )
    return bytes(message)


@pytest.fixture
def reports(seeded: Database, settings: Settings) -> dict[str, int]:
    blocking = settings.model_copy(
        update={"phishing": PhishingSettings(block=["ameli-secure.info"])}
    )
    a = record_report(seeded, blocking, "chu-a", _phish(), origin="cli").report.id
    b = record_report(seeded, blocking, "ch-b", _phish("Colis"), origin="cli").report.id
    with seeded.session() as session:
        accounts.create_user(session, "analyst-a", PASSWORD, Role.ANALYST, establishments=["chu-a"])
    return {"a": a, "b": b}


def test_queue_and_report_shown_safely(client: TestClient, reports: dict[str, int]) -> None:
    rssi = signed_in(client, "rssi")
    queue = rssi.get("/phishing/reports?establishment=chu-a&lang=fr").text
    assert ">Hameçonnage<" in queue and "Remboursement Ameli" in queue
    assert f'href="/phishing/reports/{reports["b"]}"' not in queue
    page = rssi.get(f"/phishing/reports/{reports['a']}?lang=en").text
    assert 'id="report-verdict">phishing<' in page and "list.blocked" in page
    message = page.split('id="report-message"', 1)[1]
    assert "<script>" not in message and "tracker.example/p.gif" not in message
    assert 'href="http://198.51.100.7' not in message  # no live link
    assert "<code>http://198.51.100.7/ameli</code>" in message  # listed as text
    assert "198.51.100.7" in page.split('id="report-indicators"', 1)[1]
    assert rssi.get("/phishing/reports?verdict=maybe").status_code == 400


def test_scope_and_roles(client: TestClient, reports: dict[str, int]) -> None:
    analyst = signed_in(client, "analyst-a")
    assert analyst.get(f"/phishing/reports/{reports['a']}").status_code == 200
    assert analyst.get(f"/phishing/reports/{reports['b']}").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").text)})
    viewer = signed_in(client, "viewer-a")
    assert viewer.get("/phishing/reports").status_code == 403


def test_override_is_audited(client: TestClient, reports: dict[str, int], seeded: Database) -> None:
    browser = Browser(client)
    browser.login("analyst-a")
    path = f"/phishing/reports/{reports['a']}"
    forged = client.post(f"{path}/verdict", data={"verdict": "legitimate", "csrf_token": "x"})
    assert forged.status_code == 403
    form = {"verdict": "legitimate", "note": "campagne de test interne"}
    assert browser.post(f"{path}/verdict", form, path).status_code == 303
    page = client.get(f"{path}?lang=en").text
    assert 'id="report-verdict">legitimate<' in page and "campagne de test interne" in page
    with seeded.session() as session:
        entry = audit.recent(session, limit=1)[0]
    assert (entry.actor, entry.action, entry.details["to"]) == (
        "analyst-a", "phishing.report.verdict", "legitimate",
    )  # fmt: skip
    assert browser.post(f"{path}/verdict", {"verdict": "spam"}, path).status_code == 400


def test_upload(client: TestClient, reports: dict[str, int]) -> None:
    browser = Browser(client)
    browser.login("analyst-a")
    token = csrf_from(client.get("/phishing/upload").text)
    files = {"message": ("suspect.eml", _phish("Nouveau", " autre"), "message/rfc822")}
    data = {"csrf_token": token, "establishment": "chu-a"}
    response = client.post("/phishing/upload", data=data, files=files, follow_redirects=False)
    assert response.status_code == 303
    page = client.get(response.headers["location"] + "?lang=en").text
    assert "Nouveau" in page and "analyst-a (upload)" in page
    bad = {"message": ("x.eml", b"   ", "message/rfc822")}
    token = csrf_from(client.get("/phishing/upload").text)
    refused = client.post("/phishing/upload", data={**data, "csrf_token": token}, files=bad)
    assert refused.status_code == 400
    other = {**data, "csrf_token": csrf_from(client.get("/phishing/upload").text)}
    elsewhere = client.post(
        "/phishing/upload", data={**other, "establishment": "ch-b"}, files=files
    )
    assert elsewhere.status_code == 404


def test_api(client: TestClient, reports: dict[str, int], seeded: Database) -> None:
    with seeded.session() as session:
        token = accounts.create_token(session, "analyst-a", "tests")
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "message/rfc822"}
    url = "/api/v1/phishing/reports?establishment=chu-a&reporter=cadre@ch-a.example"
    raw = _phish("Par API", " api")
    created = client.post(url, content=raw, headers=auth)
    assert created.status_code == 201
    body = created.json()
    assert (body["subject"], body["reporter"]) == ("Par API", "cadre@ch-a.example")
    assert client.post(url, content=raw, headers=auth).status_code == 200  # the same bytes
    assert client.post(url, content=b"  ", headers=auth).status_code == 400
    elsewhere = "/api/v1/phishing/reports?establishment=ch-b"
    assert client.post(elsewhere, content=_phish(), headers=auth).status_code == 404
    listed = client.get("/api/v1/phishing/reports?establishment=chu-a", headers=auth).json()
    assert [r["subject"] for r in listed["reports"]][0] == "Par API"
