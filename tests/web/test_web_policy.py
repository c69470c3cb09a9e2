"""The priority policy page of an establishment (web, on SQLite and PostgreSQL).

``admin`` holds ``establishments:admin`` and may change the policy; ``rssi`` (all
establishments) and ``viewer-a`` (``chu-a`` only) may only read it.
"""

from __future__ import annotations

from dataclasses import replace

from fastapi.testclient import TestClient
from web_helpers import PASSWORD, Browser, signed_in

from tocsin import accounts
from tocsin.model import Role
from tocsin.store import audit
from tocsin.store.db import Database
from tocsin.watch.priority import DEFAULT_POLICY, PriorityPolicy
from tocsin.watch.triage import get_policy, set_policy

PAGE = "/watch/policy?establishment=chu-a"
GOOD = {
    "establishment": "chu-a",
    "act_now_days": "1",
    "out_of_cycle_days": "5",
    "scheduled_days": "21",
    "track_days": "",
    "epss_poc": "0.2",
    "act_now_min_confidence": "0.6",
}


def _policy_actions(database: Database) -> list[audit.AuditEntry]:
    with database.session() as session:
        return [e for e in audit.recent(session) if e.action == "watch.policy"]


def test_readers_see_the_policy_and_the_defaults_without_a_form(
    client: TestClient, seeded: Database
) -> None:
    set_policy(seeded, "chu-a", replace(DEFAULT_POLICY, act_now_days=1, track_days=90), "test")
    signed_in(client, "viewer-a")
    page = client.get(PAGE + "&lang=en")
    assert page.status_code == 200
    assert 'href="/watch/policy"' in page.text  # the menu item
    assert "Priority policy · CHU Alpha" in page.text
    assert "1 day" in page.text and "90 days" in page.text and "2 days" in page.text
    assert "no due date" in page.text  # track's default
    assert "0.1" in page.text and "0.5" in page.text
    assert "exposures opened from then on" in page.text
    assert 'id="policy-form"' not in page.text and 'name="act_now_days"' not in page.text
    assert "Only an administrator of establishments may change this policy." in page.text
    french = client.get(PAGE + "&lang=fr").text
    assert "Politique de priorisation" in french and "1 jour" in french and "90 jours" in french
    assert "0,1" in french and "pas d'échéance" in french
    # Without ?establishment, the first one of the user's scope.
    assert "CHU Alpha" in client.get("/watch/policy").text


def test_an_administrator_changes_the_policy_with_an_audit_entry(
    client: TestClient, seeded: Database
) -> None:
    browser = Browser(signed_in(client, "admin"))
    form = client.get(PAGE + "&lang=en").text
    assert 'id="policy-form"' in form and 'name="csrf_token"' in form
    assert 'name="track_days" type="number"' in form and 'value="30"' in form
    saved = browser.post("/watch/policy", GOOD, PAGE)
    assert saved.status_code == 303
    assert saved.headers["location"] == PAGE
    assert get_policy(seeded, "chu-a") == PriorityPolicy(1, 5, 21, None, 0.2, 0.6)
    assert get_policy(seeded, "ch-b") == DEFAULT_POLICY
    shown = client.get(PAGE + "&lang=en").text
    assert "Priority policy saved." in shown and 'value="21"' in shown
    [entry] = _policy_actions(seeded)
    assert (entry.actor, entry.target_id) == ("admin", "chu-a")
    assert entry.details["scheduled_days"] == 21 and entry.details["track_days"] is None
    # The same values again change nothing and write no entry.
    again = browser.post("/watch/policy", GOOD, PAGE)
    assert again.status_code == 303 and len(_policy_actions(seeded)) == 1
    assert "Nothing to save" in client.get(PAGE + "&lang=en").text
    # A comma is a decimal separator; an empty delay is no due date.
    comma = {**GOOD, "epss_poc": "0,05", "act_now_days": ""}
    assert browser.post("/watch/policy", comma, PAGE).status_code == 303
    assert get_policy(seeded, "chu-a") == PriorityPolicy(None, 5, 21, None, 0.05, 0.6)


def test_bad_values_re_show_the_form_with_each_field_named(
    client: TestClient, seeded: Database
) -> None:
    browser = Browser(signed_in(client, "admin"))
    bad = {
        **GOOD,
        "act_now_days": "-1",
        "out_of_cycle_days": "3651",
        "scheduled_days": "two weeks",
        "epss_poc": "1.5",
        "act_now_min_confidence": "nan",
    }
    answer = browser.post("/watch/policy?lang=en", bad, PAGE)
    assert answer.status_code == 400
    text = answer.text
    assert "The policy was not saved." in text
    delays = {"act_now_days": "Act now", "out_of_cycle_days": "Out of cycle"}
    for name, label in {**delays, "scheduled_days": "Scheduled"}.items():
        assert f'<a href="#policy-{name}">{label}</a>: Enter a whole number of days' in text
        assert f'id="policy-{name}-error"' in text
    assert ">EPSS threshold for a proof of concept</a>: Enter a number from 0 to 1." in text
    assert ">Minimum match confidence for act now</a>: Enter a number from 0 to 1." in text
    assert ">Track</a>" not in text  # the empty delay is valid
    assert 'value="two weeks"' in text and 'aria-invalid="true"' in text  # kept as typed
    assert get_policy(seeded, "chu-a") == DEFAULT_POLICY and not _policy_actions(seeded)
    french = browser.post("/watch/policy?lang=fr", {**GOOD, "epss_poc": "x"}, PAGE)
    assert french.status_code == 400 and "Saisissez un nombre de 0 à 1." in french.text


def test_only_establishment_administrators_may_change_it(
    client: TestClient, seeded: Database
) -> None:
    browser = Browser(signed_in(client, "rssi"))
    page = client.get("/watch/policy?establishment=ch-b")
    assert page.status_code == 200 and 'id="policy-form"' not in page.text
    refused = browser.post("/watch/policy", {**GOOD, "establishment": "ch-b"}, PAGE)
    assert refused.status_code == 403
    assert get_policy(seeded, "ch-b") == DEFAULT_POLICY and not _policy_actions(seeded)


def test_other_establishments_are_the_same_404_as_missing_ones(
    client: TestClient, seeded: Database
) -> None:
    signed_in(client, "viewer-a")
    outside = client.get("/watch/policy?establishment=ch-b")
    missing = client.get("/watch/policy?establishment=nowhere")
    assert outside.status_code == missing.status_code == 404
    assert outside.text.replace("ch-b", "nowhere") == missing.text
    assert "CH Bravo" not in client.get("/watch/policy").text  # not even in the chooser
    client.post("/logout", data={"csrf_token": Browser(client).csrf("/")})
    browser = Browser(signed_in(client, "admin"))
    nowhere = browser.post("/watch/policy", {**GOOD, "establishment": "nowhere"}, PAGE)
    assert nowhere.status_code == 404
    assert browser.post("/watch/policy", {**GOOD, "establishment": ""}, PAGE).status_code == 404


def test_a_change_needs_the_csrf_token_and_a_session(client: TestClient, seeded: Database) -> None:
    assert client.get(PAGE, follow_redirects=False).status_code == 303  # to /login
    signed_in(client, "admin")
    forged = client.post("/watch/policy", data=GOOD, follow_redirects=False)
    assert forged.status_code == 403
    wrong = client.post("/watch/policy", data={**GOOD, "csrf_token": "x"}, follow_redirects=False)
    assert wrong.status_code == 403
    assert get_policy(seeded, "chu-a") == DEFAULT_POLICY and not _policy_actions(seeded)


def test_a_user_without_establishments_gets_an_empty_page(
    client: TestClient, seeded: Database
) -> None:
    with seeded.session() as session:
        accounts.create_user(session, "nobody", PASSWORD, Role.VIEWER, establishments=[])
    signed_in(client, "nobody")
    page = client.get("/watch/policy?lang=en")
    assert page.status_code == 200 and "No establishment yet." in page.text
    assert "CHU Alpha" not in page.text and "CH Bravo" not in page.text
