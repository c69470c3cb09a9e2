"""Account administration from the dashboard, audited with the administrator as actor."""

from __future__ import annotations

from fastapi.testclient import TestClient
from web_helpers import Browser, signed_in

from tocsin import accounts
from tocsin.model import Role
from tocsin.store import audit
from tocsin.store.db import Database

NEW: dict[str, str | list[str]] = {
    "username": "nurse-it",
    "role": "analyst",
    "establishments": ["chu-a"],
    "password": "a long enough password",
}


def _account(database: Database, username: str) -> accounts.Account:
    with database.session() as session:
        return next(a for a in accounts.list_accounts(session) if a.username == username)


def test_admin_lists_accounts(client: TestClient) -> None:
    html = signed_in(client, "admin").get("/users").text
    for username in ("admin", "viewer-a", "dpo-a", "rssi"):
        assert f"<strong>{username}</strong>" in html
    assert "Nouveau compte" in html


def test_admin_creates_an_account_and_it_is_audited(
    client: TestClient, browser: Browser, seeded: Database
) -> None:
    browser.login("admin")
    response = browser.post("/users", NEW, page="/users")
    assert response.status_code == 303
    assert "Compte créé." in client.get("/users").text
    created = _account(seeded, "nurse-it")
    assert created.role is Role.ANALYST and created.establishments == ("chu-a",)
    with seeded.session() as session:
        entry = audit.recent(session, limit=1)[0]
    assert (entry.actor, entry.action, entry.target_id) == ("admin", "user.create", "nurse-it")
    assert entry.details["establishments"] == ["chu-a"]
    client.cookies.clear()
    assert Browser(client).login("nurse-it", "a long enough password").status_code == 303


def test_account_creation_errors_are_explained(client: TestClient, browser: Browser) -> None:
    browser.login("admin")
    short = browser.post("/users", {**NEW, "password": "short"}, page="/users")
    assert short.status_code == 400
    assert "Le mot de passe doit compter au moins 12 caractères." in short.text
    taken = browser.post("/users", {**NEW, "username": "viewer-a"}, page="/users")
    assert taken.status_code == 400 and "Cet identifiant est déjà utilisé." in taken.text
    unknown = browser.post("/users", {**NEW, "establishments": ["nowhere"]}, page="/users")
    assert unknown.status_code == 400 and "Établissement inconnu." in unknown.text
    bad_role = browser.post("/users", {**NEW, "role": "god"}, page="/users")
    assert bad_role.status_code == 400 and "Choisissez un rôle." in bad_role.text


def test_admin_changes_role_scope_and_status(browser: Browser, seeded: Database) -> None:
    browser.login("admin")
    form: dict[str, object] = {"role": "analyst", "establishments": ["chu-a", "ch-b"]}
    form["active"] = "1"
    assert browser.post("/users/viewer-a", form, page="/users").status_code == 303
    changed = _account(seeded, "viewer-a")
    assert changed.role is Role.ANALYST
    assert changed.establishments == ("ch-b", "chu-a")
    with seeded.session() as session:
        entry = audit.recent(session, limit=1)[0]
    assert (entry.actor, entry.action, entry.target_id) == ("admin", "user.update", "viewer-a")
    assert entry.details["role"] == ["viewer", "analyst"]
    del form["active"]
    assert browser.post("/users/viewer-a", form, page="/users").status_code == 303
    with seeded.session() as session:
        entry = audit.recent(session, limit=1)[0]
    assert entry.details == {"active": False}
    assert Browser(browser.client).login("viewer-a").status_code == 401


def test_admin_cannot_lock_themselves_out(browser: Browser, seeded: Database) -> None:
    browser.login("admin")
    response = browser.post("/users/admin", {"role": "viewer", "active": "1"}, page="/users")
    assert response.status_code == 400
    assert "Vous ne pouvez pas rétrograder ni désactiver votre propre compte." in response.text
    assert _account(seeded, "admin").role is Role.ADMIN


def test_changing_an_unknown_account_is_a_404(browser: Browser) -> None:
    browser.login("admin")
    response = browser.post("/users/ghost", {"role": "viewer", "active": "1"}, page="/users")
    assert response.status_code == 404


def test_only_admins_manage_accounts(browser: Browser, seeded: Database) -> None:
    browser.login("rssi")
    assert browser.client.get("/users").status_code == 403
    token_page = "/"
    assert browser.post("/users", NEW, page=token_page).status_code == 403
    form = {"role": "admin", "active": "1"}
    assert browser.post("/users/rssi", form, page=token_page).status_code == 403
    assert _account(seeded, "rssi").role is Role.RSSI


def test_user_changes_need_the_csrf_token(browser: Browser, seeded: Database) -> None:
    browser.login("admin")
    response = browser.client.post("/users", data=NEW, follow_redirects=False)
    assert response.status_code == 403
    assert "Le formulaire a expiré" in response.text
    with seeded.session() as session:
        assert "nurse-it" not in {a.username for a in accounts.list_accounts(session)}
