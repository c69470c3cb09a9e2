"""The detection pages: alerts with filters, one alert with its events, a host's timeline,
status changes (CSRF-checked, audited) and the CSV / JSON lines export, within scope."""

from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from web_helpers import PASSWORD, Browser, signed_in

from tocsin import accounts
from tocsin.model import Role
from tocsin.store import audit
from tocsin.store.alerts import save_alerts
from tocsin.store.db import Database
from tocsin.store.inventory import get_establishment

sys.path.insert(0, str(Path(__file__).parents[1] / "detect" / "alerts"))
from alert_samples import sigma  # noqa: E402

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def alerts(seeded: Database) -> dict[str, int]:
    """chu-a: three alerts on a-001 (one critical, with a hostile field), one on pc-9;
    ch-b: one alert. The ids by name."""
    hostile = replace(
        sigma(rule="r-note", title="Ransom note written", level="critical", minutes=20),
        events=(
            replace(sigma().events[0], fields={"TargetFilename": "<script>alert(1)</script>"}),
        ),
    )
    with seeded.session() as session:
        a = get_establishment(session, "chu-a").id
        b = get_establishment(session, "ch-b").id
        ids_a = save_alerts(
            session, a, [sigma(), hostile, sigma(rule="r-low", level="low", minutes=5),
                         sigma(host="pc-9", minutes=40)],
        ).new  # fmt: skip
        ids_b = save_alerts(session, b, [sigma(host="b-secret")]).new
        accounts.create_user(session, "analyst-a", PASSWORD, Role.ANALYST, establishments=["chu-a"])
    return {"vss": ids_a[0], "note": ids_a[1], "low": ids_a[2], "pc9": ids_a[3], "b": ids_b[0]}


@pytest.fixture
def rssi(client: TestClient, alerts: dict[str, int]) -> TestClient:
    return signed_in(client, "rssi")


def test_the_list_filters_and_counts(rssi: TestClient, alerts: dict[str, int]) -> None:
    page = rssi.get("/detect/alerts?establishment=chu-a&lang=en").text
    assert ">Detection<" in page and "4 alerts" in page
    assert f'href="/detect/alerts/{alerts["b"]}"' not in page
    high = rssi.get("/detect/alerts?establishment=chu-a&level=high&lang=en").text
    assert "3 alerts" in high and f'/detect/alerts/{alerts["low"]}"' not in high
    host = rssi.get("/detect/alerts?establishment=chu-a&host=pc-9&lang=en").text
    assert "1 alert" in host and f'/detect/alerts/{alerts["pc9"]}"' in host
    french = rssi.get("/detect/alerts?establishment=chu-a&lang=fr").text
    assert ">Détection<" in french and "critique" in french
    assert rssi.get("/detect/alerts?level=severe").status_code == 400


def test_one_alert_shows_its_events_escaped_and_its_asset(
    rssi: TestClient, alerts: dict[str, int]
) -> None:
    page = rssi.get(f"/detect/alerts/{alerts['note']}?lang=en").text
    assert "Ransom note written" in page and "T1490" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert 'href="/inventory/chu-a/a-001"' in page
    assert 'href="/detect/hosts/chu-a/A-001.chu-a.local"' in page


def test_scope_hides_other_establishments(client: TestClient, alerts: dict[str, int]) -> None:
    analyst = signed_in(client, "analyst-a")
    assert analyst.get(f"/detect/alerts/{alerts['vss']}").status_code == 200
    assert analyst.get(f"/detect/alerts/{alerts['b']}").status_code == 404
    assert analyst.get("/detect/alerts?establishment=ch-b").status_code == 404
    assert analyst.get("/detect/hosts/ch-b/b-secret").status_code == 404


def test_the_overview_counts_open_alerts(rssi: TestClient, alerts: dict[str, int]) -> None:
    page = rssi.get("/?lang=en").text
    card = page.split('href="/detect/alerts?establishment=chu-a"', 1)[1].split("</p>", 1)[0]
    assert "1 critical" in card and "2 high" in card  # the low one is not shown
    assert 'href="/detect/alerts?establishment=ch-b"' in page


def test_viewers_do_not_see_detection(client: TestClient, alerts: dict[str, int]) -> None:
    viewer = signed_in(client, "viewer-a")
    home = viewer.get("/").text
    assert 'href="/detect/alerts"' not in home and "/detect/alerts?" not in home
    assert viewer.get("/detect/alerts").status_code == 403


def test_status_change_is_audited_and_csrf_checked(
    client: TestClient, alerts: dict[str, int], seeded: Database
) -> None:
    browser = Browser(client)
    browser.login("analyst-a")
    path = f"/detect/alerts/{alerts['vss']}"
    forged = client.post(f"{path}/status", data={"status": "closed", "csrf_token": "x"})
    assert forged.status_code == 403
    form = {"status": "false_positive", "note": "weekly backup job"}
    response = browser.post(f"{path}/status", form, path)
    assert response.status_code == 303
    page = client.get(f"{path}?lang=en").text
    assert "false positive" in page and "weekly backup job" in page
    with seeded.session() as session:
        entry = audit.recent(session, limit=1)[0]
    assert (entry.actor, entry.action, entry.details["to"]) == (
        "analyst-a", "detect.alert.status", "false_positive",
    )  # fmt: skip
    # closed alerts leave the default (open) list
    assert f'href="{path}"' not in client.get("/detect/alerts?establishment=chu-a").text
    assert browser.post(f"{path}/status", {"status": "solved"}, path).status_code == 400


def test_host_timeline_is_a_chart_and_a_table(rssi: TestClient, alerts: dict[str, int]) -> None:
    page = rssi.get("/detect/hosts/chu-a/a-001?lang=en").text
    assert "<svg" in page and 'class="chart timeline"' in page
    assert page.count('class="mark level-') == 3
    table = page.split('id="host-timeline"', 1)[1]
    assert table.index("Shadow copies") < table.index("Ransom note written")  # time order
    assert "pc-9" not in table


def test_export_csv_and_jsonl(rssi: TestClient, alerts: dict[str, int]) -> None:
    response = rssi.get("/detect/alerts/export?establishment=chu-a&format=csv&status=all")
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 4 and {r["asset"] for r in rows} == {"a-001", ""}
    assert rows[0]["first"] <= rows[-1]["first"]
    lines = rssi.get("/detect/alerts/export?establishment=chu-a&format=jsonl&level=critical").text
    documents = [json.loads(line) for line in lines.splitlines()]
    assert [d["rule"] for d in documents] == ["r-note"]
    assert documents[0]["events"][0]["fields"]["TargetFilename"].startswith("<script>")
    assert rssi.get("/detect/alerts/export?format=xml").status_code == 400


def test_the_api_lists_alerts_within_scope(
    client: TestClient, alerts: dict[str, int], seeded: Database
) -> None:
    with seeded.session() as session:
        analyst = accounts.create_token(session, "analyst-a", "tests")
        viewer = accounts.create_token(session, "viewer-a", "tests")
    auth = {"Authorization": f"Bearer {analyst}"}
    body = client.get("/api/v1/alerts?establishment=chu-a&level=high", headers=auth).json()
    assert body["total"] == 3 and {a["level"] for a in body["alerts"]} == {"high", "critical"}
    assert body["alerts"][0]["events"][0]["file"] == "/logs/sysmon.jsonl"
    paged = client.get("/api/v1/alerts?establishment=chu-a&limit=1&offset=1", headers=auth).json()
    assert paged["total"] == 4 and len(paged["alerts"]) == 1
    assert client.get("/api/v1/alerts?establishment=ch-b", headers=auth).status_code == 404
    assert client.get("/api/v1/alerts?establishment=chu-a&level=x", headers=auth).status_code == 422
    denied = {"Authorization": f"Bearer {viewer}"}
    assert client.get("/api/v1/alerts?establishment=chu-a", headers=denied).status_code == 403
