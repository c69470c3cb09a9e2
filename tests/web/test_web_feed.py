"""The authenticated Atom feed and personal feed tokens (web, on SQLite and PostgreSQL).

The demo hospital (``ch-demo``) gives the feed its entries; ``viewer-a`` only sees
``chu-a``; ``demo-reader`` is a viewer limited to ``ch-demo``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from defusedxml import ElementTree as ET
from fastapi.testclient import TestClient
from web_helpers import PASSWORD, Browser, make_settings, signed_in

from tocsin import accounts
from tocsin.cli.serve import RedactFeedTokens
from tocsin.config import ScheduleSettings
from tocsin.demo import run_demo
from tocsin.inventory.normalise import load_aliases
from tocsin.model import Role
from tocsin.store import audit
from tocsin.store.db import Database
from tocsin.store.feed_tokens import create_feed_token, list_feed_tokens
from tocsin.watch.atom import ATOM_NS
from tocsin.watch.cycle import CycleReport
from tocsin.watch.runs import run_recorded
from tocsin.watch.scheduler import WatchScheduler
from tocsin.watch.service import UpdateReport
from tocsin.web.app import create_app

DEMO = "ch-demo"
BASE = "https://tocsin.example"
A = f"{{{ATOM_NS}}}"
_SHOWN_URL = re.compile(r"https://tocsin\.example/watch/ch-demo/feed\.atom\?token=(tcf_[\w-]+)")


@pytest.fixture
def demo(seeded: Database) -> Database:
    run_demo(seeded, load_aliases())
    with seeded.session() as session:
        accounts.create_user(session, "demo-reader", PASSWORD, Role.VIEWER, establishments=[DEMO])
    return seeded


@pytest.fixture
def client(demo: Database, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(make_settings(tmp_path / "home", base_url=BASE), demo)
    with TestClient(app) as test_client:
        yield test_client


def _token(database: Database, username: str = "demo-reader", where: str = DEMO) -> str:
    with database.session() as session:
        return create_feed_token(session, username, where, "test", actor="test")[1]


def _check_feed(body: bytes) -> list[object]:
    root = ET.fromstring(body)
    assert root.tag == f"{A}feed"
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{A}link")}
    assert links["self"] == f"{BASE}/watch/{DEMO}/feed.atom"
    assert root.findtext(f"{A}id") and root.findtext(f"{A}updated")
    entries = root.findall(f"{A}entry")
    assert entries, "the demo bulletin has new exposures"
    for entry in entries:
        assert (entry.findtext(f"{A}id") or "").startswith(f"tag:tocsin,2025:{DEMO}/")
        assert entry.findtext(f"{A}title") and entry.findtext(f"{A}summary")
        alternate = [e for e in entry.findall(f"{A}link") if e.get("rel") == "alternate"]
        assert alternate[0].get("href", "").startswith(f"{BASE}/watch/exposures/")
    return list(entries)


def test_a_feed_token_opens_the_feed_by_query_or_header(client: TestClient, demo: Database) -> None:
    token = _token(demo)
    answer = client.get(f"/watch/{DEMO}/feed.atom", params={"token": token})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert "no-store" in answer.headers["cache-control"]
    entries = _check_feed(answer.content)
    header = client.get(f"/watch/{DEMO}/feed.atom", headers={"Authorization": f"Bearer {token}"})
    assert header.status_code == 200 and len(_check_feed(header.content)) == len(entries)
    weekly = client.get(f"/watch/{DEMO}/feed.atom?period=weekly&lang=en&token={token}")
    assert (
        weekly.status_code == 200
        and ET.fromstring(weekly.content).get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    )
    assert client.get(f"/watch/{DEMO}/feed.atom?period=monthly&token={token}").status_code == 400
    with demo.session() as session:
        [listed] = list_feed_tokens(session, username="demo-reader")
    assert listed.last_used_at is not None


def test_refusals_do_not_tell_which_establishments_exist(
    client: TestClient, demo: Database
) -> None:
    token = _token(demo)
    for path in (f"/watch/{DEMO}/feed.atom", "/watch/chu-a/feed.atom", "/watch/nowhere/feed.atom"):
        bare = client.get(path)
        assert bare.status_code == 401 and bare.headers["www-authenticate"].startswith("Bearer")
        assert client.get(path, params={"token": "tcf_wrong"}).status_code == 401
    assert client.get("/watch/chu-a/feed.atom", params={"token": token}).status_code == 401
    assert client.get("/watch/nowhere/feed.atom", params={"token": token}).status_code == 401
    signed_in(client, "viewer-a")
    outside = client.get(f"/watch/{DEMO}/feed.atom")
    missing = client.get("/watch/nowhere/feed.atom")
    assert outside.status_code == missing.status_code == 404
    assert client.get("/watch/chu-a/feed.atom").status_code == 200  # the session suffices


def test_the_owner_losing_access_silences_the_token(client: TestClient, demo: Database) -> None:
    token = _token(demo)
    url = f"/watch/{DEMO}/feed.atom?token={token}"
    assert client.get(url).status_code == 200
    with demo.session() as session:
        accounts.update_user(session, "demo-reader", establishments=["chu-a"], actor="test")
    assert client.get(url).status_code == 401
    with demo.session() as session:
        accounts.update_user(session, "demo-reader", establishments=[DEMO], actor="test")
    assert client.get(url).status_code == 200
    with demo.session() as session:
        accounts.update_user(session, "demo-reader", active=False, actor="test")
    assert client.get(url).status_code == 401


def test_create_show_once_and_revoke_from_the_dashboard(client: TestClient, demo: Database) -> None:
    browser = Browser(signed_in(client, "demo-reader"))
    bulletin = client.get(f"/watch/bulletin?establishment={DEMO}&lang=en")
    assert 'id="bulletin-feed"' in bulletin.text and "Create a feed address" in bulletin.text
    made = browser.post(
        "/watch/feed-tokens",
        {"establishment": DEMO, "label": "Thunderbird"},
        f"/watch/bulletin?establishment={DEMO}",
    )
    assert made.status_code == 200
    token = _SHOWN_URL.search(made.text)
    assert token, "the subscription address is shown"
    listing = client.get("/watch/feed-tokens?lang=en")
    assert "Thunderbird" in listing.text and token.group(1) not in listing.text
    assert client.get(f"/watch/{DEMO}/feed.atom?token={token.group(1)}").status_code == 200
    refused = browser.post(
        "/watch/feed-tokens", {"establishment": "ch-b", "label": "x"}, "/watch/feed-tokens"
    )
    assert refused.status_code == 404
    with demo.session() as session:
        [mine] = list_feed_tokens(session, username="demo-reader")
        other = create_feed_token(session, "rssi", DEMO, "rssi's", actor="rssi")[0]
    not_mine = browser.post(f"/watch/feed-tokens/{other.id}/revoke", {}, "/watch/feed-tokens")
    assert not_mine.status_code == 404
    done = browser.post(f"/watch/feed-tokens/{mine.id}/revoke", {}, "/watch/feed-tokens")
    assert done.status_code == 303
    assert client.get(f"/watch/{DEMO}/feed.atom?token={token.group(1)}").status_code == 401
    no_csrf = client.post(f"/watch/feed-tokens/{other.id}/revoke", data={})
    assert no_csrf.status_code == 403
    with demo.session() as session:
        actions = [e.action for e in audit.recent(session)]
    assert "feed_token.create" in actions and "feed_token.revoke" in actions


def test_the_last_run_is_shown_to_watch_readers(client: TestClient, demo: Database) -> None:
    signed_in(client, "demo-reader")
    assert "No watch run yet." in client.get("/watch/exposures?lang=en").text
    report = CycleReport(False, UpdateReport(()), (), ())
    assert run_recorded(demo, lambda: report, trigger="cli") is not None
    page = client.get("/watch/exposures?lang=en").text
    assert 'id="watch-run-status"' in page and "completed" in page
    assert "0 new exposures in your establishments." in page
    assert "Dernier cycle de veille" in client.get("/?lang=fr").text


def test_the_scheduler_follows_the_app_lifespan(demo: Database, tmp_path: Path) -> None:
    calls: list[datetime] = []
    schedule = ScheduleSettings.model_validate(
        {"enabled": True, "daily_at": "06:30", "timezone": "UTC"}
    )
    clock = datetime(2025, 9, 1, 6, 31, tzinfo=UTC)

    def runner(slot: datetime, periods: object) -> None:
        calls.append(slot)

    scheduler = WatchScheduler(schedule, runner, clock=lambda: clock, poll_seconds=3600)
    app = create_app(make_settings(tmp_path / "home"), demo, scheduler=scheduler)
    with TestClient(app):
        assert scheduler.running
    assert not scheduler.running and calls == [datetime(2025, 9, 1, 6, 30, tzinfo=UTC)]


def test_feed_tokens_stay_out_of_the_access_log() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/watch/x/feed.atom?period=daily&token=tcf_secret", "1.1", 200),
        None,
    )  # fmt: skip
    assert RedactFeedTokens().filter(record)
    assert "tcf_secret" not in record.getMessage() and "token=[redacted]" in record.getMessage()
