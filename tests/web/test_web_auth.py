"""Signing in and out: argon2 passwords, generic errors, rate limit, CSRF, safe redirects."""

from __future__ import annotations

from fastapi.testclient import TestClient
from web_helpers import MAX_FAILURES, PASSWORD, Browser, csrf_from

from tocsin import accounts
from tocsin.store.db import Database


def test_visitor_is_sent_to_login(client: TestClient) -> None:
    response = client.get("/inventory?criticality=vital", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Finventory%3Fcriticality%3Dvital"
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_login_success_opens_a_session(browser: Browser, client: TestClient) -> None:
    response = browser.login("viewer-a")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "viewer-a" in home.text


def test_login_goes_back_to_the_page_asked(browser: Browser) -> None:
    response = browser.login("viewer-a", next="/inventory?q=philips")
    assert response.headers["location"] == "/inventory?q=philips"


def test_login_never_redirects_off_site(browser: Browser) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = browser.login("viewer-a", next=target)
        assert response.headers["location"] == "/"
        browser.client.cookies.clear()


def test_wrong_password_and_unknown_user_get_the_same_answer(
    browser: Browser, client: TestClient
) -> None:
    wrong = browser.login("viewer-a", "not the password at all")
    unknown = browser.login("nobody", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert "Identifiant ou mot de passe incorrect." in wrong.text
    assert "Identifiant ou mot de passe incorrect." in unknown.text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_login_is_rate_limited_after_repeated_failures(browser: Browser) -> None:
    for _ in range(MAX_FAILURES):
        assert browser.login("viewer-a", "wrong password!!").status_code == 401
    limited = browser.login("viewer-a", PASSWORD)
    assert limited.status_code == 429
    assert "Retry-After" in limited.headers
    assert "Trop d'échecs de connexion" in limited.text
    # Another account is not affected.
    assert browser.login("dpo-a").status_code == 303


def test_login_rotates_the_session(browser: Browser, client: TestClient) -> None:
    before = browser.csrf("/login")
    browser.login("viewer-a")
    after = csrf_from(client.get("/").text)
    assert before != after


def test_login_form_needs_the_csrf_token(client: TestClient) -> None:
    client.get("/login")
    response = client.post(
        "/login", data={"username": "viewer-a", "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 303


def test_logout_needs_the_token_and_ends_the_session(browser: Browser, client: TestClient) -> None:
    browser.login("viewer-a")
    assert client.post("/logout", follow_redirects=False).status_code == 403
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    assert client.get("/").status_code == 200
    response = browser.post("/logout", {}, page="/")
    assert response.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_deactivated_account_loses_its_session(
    browser: Browser, client: TestClient, seeded: Database
) -> None:
    browser.login("viewer-a")
    assert client.get("/").status_code == 200
    with seeded.session() as session:
        accounts.update_user(session, "viewer-a", active=False)
    assert client.get("/", follow_redirects=False).status_code == 303
    assert browser.login("viewer-a").status_code == 401
