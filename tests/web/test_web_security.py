"""Security of the web shell: headers, cookie flags, CSRF fields, navigation registry."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from web_helpers import Browser, make_settings, signed_in

from tocsin.accounts import Account
from tocsin.errors import UsageError
from tocsin.model import Permission, Role
from tocsin.store.db import Database
from tocsin.web.app import create_app
from tocsin.web.i18n import N_
from tocsin.web.nav import NavItem, core_registry
from tocsin.web.security import cookie_secure, is_loopback


def _session_cookie(response: httpx.Response) -> str:
    cookies = [
        c for c in response.headers.get_list("set-cookie") if c.startswith("tocsin_session=")
    ]
    assert cookies, "no session cookie set"
    return cookies[-1].lower()


def test_security_headers_on_every_kind_of_response(client: TestClient) -> None:
    responses = [
        client.get("/login"),
        client.get("/", follow_redirects=False),
        client.get("/static/tocsin.css"),
        client.get("/no-such-page"),
        client.get("/api/v1/assets"),
        client.get("/api/v1/openapi.json"),
    ]
    for response in responses:
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
    assert responses[0].headers["cache-control"] == "no-store"


def test_session_cookie_flags_on_loopback(browser: Browser) -> None:
    cookie = _session_cookie(browser.login("viewer-a"))
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert "secure" not in cookie.split(";")[-1] and "; secure" not in cookie
    assert "max-age=28800" in cookie


def test_session_cookie_is_secure_off_loopback(tmp_path: Path, seeded: Database) -> None:
    app = create_app(make_settings(tmp_path / "home"), seeded, bind_host="0.0.0.0")  # noqa: S104
    with TestClient(app, base_url="https://tocsin.example") as client:
        cookie = _session_cookie(Browser(client).login("viewer-a"))
        assert "; secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie
        assert client.get("/").status_code == 200


def test_cookie_secure_decision(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    assert not cookie_secure(settings, "127.0.0.1")
    assert not cookie_secure(settings, "::1")
    assert not cookie_secure(settings, "localhost")
    assert cookie_secure(settings, "0.0.0.0")  # noqa: S104
    assert cookie_secure(settings, "tocsin.chu.example")
    assert cookie_secure(make_settings(tmp_path, cookie_secure=True), "127.0.0.1")
    assert not cookie_secure(make_settings(tmp_path, cookie_secure=False), "10.0.0.1")
    assert is_loopback("[::1]") and not is_loopback("192.168.1.10")


class _Forms(HTMLParser):
    """Counts POST forms and the CSRF fields inside them; notes inline scripts and styles."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, object]] = []
        self.inline: list[str] = []
        self._current: dict[str, object] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if "style" in values or any(name.startswith("on") for name in values):
            self.inline.append(f"{tag} {values}")
        if tag in ("script", "style"):
            self.inline.append(tag)
        if tag == "form":
            self._current = {"method": (values.get("method") or "get").lower(), "csrf": False}
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None and values.get("name") == "csrf_token":
            self._current["csrf"] = values.get("type") == "hidden" and bool(values.get("value"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def test_every_post_form_carries_the_csrf_token(client: TestClient) -> None:
    pages = [client.get("/login").text]
    signed_in(client, "admin")
    pages += [client.get(p).text for p in ("/", "/inventory", "/inventory/chu-a/a-001")]
    pages += [client.get(p).text for p in ("/users", "/audit", "/nope")]
    post_forms = 0
    for html in pages:
        parser = _Forms()
        parser.feed(html)
        assert not parser.inline, parser.inline  # the CSP forbids inline scripts and styles
        for form in parser.forms:
            if form["method"] == "post":
                post_forms += 1
                assert form["csrf"], html[:200]
    assert post_forms >= 10


def _account(role: Role) -> Account:
    return Account(1, "x", role, None, True, (), frozenset(), True)


def test_navigation_registry_shows_what_each_role_may_see() -> None:
    registry = core_registry()
    registry.register(
        NavItem("exercise", N_("Exercises"), "/exercise", Permission.AUDIT_READ, order=50)
    )
    admin = [i.key for i in registry.visible_to(_account(Role.ADMIN))]
    assert admin == ["home", "inventory", "exercise", "users", "audit"]
    assert [i.key for i in registry.visible_to(_account(Role.VIEWER))] == ["home", "inventory"]
    assert registry.visible_to(None) == []
    with pytest.raises(UsageError):
        registry.register(NavItem("inventory", "Again", "/again"))


def test_layout_renders_registered_items(tmp_path: Path, seeded: Database) -> None:
    registry = core_registry()
    registry.register(NavItem("watch", "Advisories", "/watch", Permission.INVENTORY_WRITE, 20))
    app = create_app(make_settings(tmp_path / "home"), seeded, nav=registry)
    with TestClient(app) as client:
        assert 'href="/watch"' in signed_in(client, "rssi").get("/").text
        client.cookies.clear()
        assert 'href="/watch"' not in signed_in(client, "viewer-a").get("/").text
