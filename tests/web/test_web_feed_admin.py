"""Administrators of accounts see and revoke every user's feed addresses (SQLite, PostgreSQL).

``admin`` holds ``users:admin``; ``rssi`` and ``viewer-a`` only manage their own addresses.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from web_helpers import Browser, signed_in

from tocsin.store import audit
from tocsin.store.db import Database
from tocsin.store.feed_tokens import FeedToken, create_feed_token, list_feed_tokens

TOKENS = "/watch/feed-tokens"


def _make(database: Database, username: str, where: str, label: str) -> tuple[FeedToken, str]:
    with database.session() as session:
        return create_feed_token(session, username, where, label, actor=username)


def _active(database: Database, username: str) -> list[FeedToken]:
    with database.session() as session:
        return list_feed_tokens(session, username=username)


def test_an_administrator_sees_and_revokes_another_users_token(
    client: TestClient, seeded: Database
) -> None:
    theirs, clear = _make(seeded, "viewer-a", "chu-a", "Thunderbird de Marie")
    _make(seeded, "admin", "ch-b", "mine")
    browser = Browser(signed_in(client, "admin"))
    page = client.get(TOKENS + "?lang=en").text
    assert 'id="feed-tokens-others"' in page and "Feed addresses of other users" in page
    others = page.split('id="feed-tokens-others"', 1)[1]
    assert "viewer-a" in others and "Thunderbird de Marie" in others and "mine" not in others
    assert f'action="/watch/feed-tokens/{theirs.id}/revoke"' in others
    assert clear not in page
    assert "Adresses de flux des autres utilisateurs" in client.get(TOKENS + "?lang=fr").text
    assert client.get(f"/watch/chu-a/feed.atom?token={clear}").status_code == 200
    done = browser.post(f"{TOKENS}/{theirs.id}/revoke", {}, TOKENS)
    assert done.status_code == 303 and done.headers["location"] == TOKENS
    after = client.get(TOKENS + "?lang=en").text
    assert "Feed address revoked." in after and "No other user has a feed address." in after
    assert _active(seeded, "viewer-a") == []
    assert client.get(f"/watch/chu-a/feed.atom?token={clear}").status_code == 401
    with seeded.session() as session:
        [entry] = [e for e in audit.recent(session) if e.action == "feed_token.revoke"]
    assert (entry.actor, entry.target_id) == ("admin", str(theirs.id))
    assert entry.details == {"user": "viewer-a", "label": "Thunderbird de Marie"}
    assert browser.post(f"{TOKENS}/999999/revoke", {}, TOKENS).status_code == 404


def test_other_users_only_manage_their_own_tokens(client: TestClient, seeded: Database) -> None:
    theirs, _clear = _make(seeded, "viewer-a", "chu-a", "viewer's")
    mine, _ = _make(seeded, "rssi", "chu-a", "rssi's")
    browser = Browser(signed_in(client, "rssi"))
    page = client.get(TOKENS + "?lang=en").text
    assert 'id="feed-tokens-others"' not in page and "viewer's" not in page
    refused = browser.post(f"{TOKENS}/{theirs.id}/revoke", {}, TOKENS)
    assert refused.status_code == 404
    assert [t.id for t in _active(seeded, "viewer-a")] == [theirs.id]
    assert browser.post(f"{TOKENS}/{mine.id}/revoke", {}, TOKENS).status_code == 303
    assert _active(seeded, "rssi") == []


def test_revoking_needs_the_csrf_token(client: TestClient, seeded: Database) -> None:
    theirs, _clear = _make(seeded, "viewer-a", "chu-a", "viewer's")
    signed_in(client, "admin")
    forged = client.post(f"{TOKENS}/{theirs.id}/revoke", data={}, follow_redirects=False)
    assert forged.status_code == 403
    assert [t.id for t in _active(seeded, "viewer-a")] == [theirs.id]
