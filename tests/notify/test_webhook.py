"""Bulletins by webhook, received by an HTTP server on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tocsin.config import redact_url
from tocsin.model.finding import Decision
from tocsin.notify import NotifyError
from tocsin.notify.webhook import WebhookMode, post_bulletin, webhook_payload
from tocsin.watch.bulletin import Bulletin, Period
from tocsin.watch.lifecycle import DayCount

NOW = datetime(2025, 3, 12, 6, 0, tzinfo=UTC)
BULLETIN = Bulletin(
    establishment="ch-a",
    establishment_name="CH Arles",
    period=Period.WEEKLY,
    lang="fr",
    generated_at=NOW,
    since=NOW,
    new=(),
    overdue=(),
    kev_additions=(),
    counts=dict.fromkeys(Decision, 0) | {Decision.SCHEDULED: 3},
    history=(DayCount(date(2025, 3, 12), scheduled=3),),
)


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict[str, Any]]
    status = 200

    def do_POST(self) -> None:  # noqa: N802 - the http.server interface
        length = int(self.headers["Content-Length"])
        self.received.append(
            {
                "path": self.path,
                "type": self.headers["Content-Type"],
                "agent": self.headers["User-Agent"],
                "secret": self.headers.get("X-Secret"),
                "json": json.loads(self.rfile.read(length)),
            }
        )
        self.send_response(self.status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]], type[_Receiver]]]:
    received: list[dict[str, Any]] = []
    handler = type("Receiver", (_Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/tocsin", received, handler
    server.shutdown()
    server.server_close()


def test_json_payload_is_the_bulletin_document(
    receiver: tuple[str, list[dict[str, Any]], type[_Receiver]],
) -> None:
    url, received, _ = receiver
    assert post_bulletin(url, BULLETIN, headers={"X-Secret": "k"}) == 200
    [got] = received
    assert (got["path"], got["type"], got["secret"]) == ("/hooks/tocsin", "application/json", "k")
    assert got["agent"].startswith("Tocsin/")
    body = got["json"]
    assert (body["format"], body["version"], body["period"]) == ("tocsin-bulletin", 1, "weekly")
    assert body["counts"]["scheduled"] == 3 and body["counts"]["total"] == 3


def test_text_payload_for_teams_and_mattermost(
    receiver: tuple[str, list[dict[str, Any]], type[_Receiver]],
) -> None:
    url, received, _ = receiver
    post_bulletin(url, BULLETIN, WebhookMode.TEXT)
    body = received[0]["json"]
    assert list(body) == ["text"]
    assert body["text"].startswith("# Bulletin de veille hebdomadaire — CH Arles")
    assert "| Planifié | 3 |" in body["text"]
    assert webhook_payload(BULLETIN, "text") == body


def test_refusals_are_notify_errors(
    receiver: tuple[str, list[dict[str, Any]], type[_Receiver]],
) -> None:
    url, _, handler = receiver
    handler.status = 500
    with pytest.raises(NotifyError, match="HTTP 500") as caught:
        post_bulletin(url, BULLETIN)
    assert caught.value.exit_code == 4 and caught.value.target == redact_url(url)
    assert "hooks/tocsin" not in str(caught.value)
    with pytest.raises(NotifyError, match="webhook failed"):
        post_bulletin("http://127.0.0.1:9/nothing", BULLETIN, timeout=2)


def test_teams_gets_an_adaptive_card_and_mattermost_a_named_message() -> None:
    teams = webhook_payload(BULLETIN, WebhookMode.TEAMS)
    assert teams["type"] == "message"
    [attachment] = teams["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    assert card["body"][0]["text"] == BULLETIN.title
    assert "| Planifié | 3 |" in card["body"][1]["text"]
    mattermost = webhook_payload(BULLETIN, "mattermost")
    assert mattermost["username"] == "Tocsin"
    assert mattermost["text"] == webhook_payload(BULLETIN, "text")["text"]


def test_long_messages_are_cut_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    from tocsin.notify import webhook

    monkeypatch.setattr(webhook, "MATTERMOST_MAX_CHARS", 200)
    text = webhook_payload(BULLETIN, "mattermost")["text"]
    assert len(text) <= 200 and text.endswith("la suite dans le tableau de bord)")


def test_deliveries_never_show_the_webhook_path(
    receiver: tuple[str, list[dict[str, Any]], type[_Receiver]],
) -> None:
    from pydantic import SecretStr

    from tocsin.config import SmtpSettings
    from tocsin.notify import deliver_bulletin

    url, received, handler = receiver
    done = deliver_bulletin(BULLETIN, SmtpSettings(), webhooks=[SecretStr(url), url])
    assert [d.target for d in done] == [redact_url(url)] * 2 and len(received) == 2
    handler.status = 403
    [failed] = deliver_bulletin(BULLETIN, SmtpSettings(), webhooks=[url + "?token=s3cr3t"])
    assert failed.error is not None and "s3cr3t" not in failed.error + failed.target
    assert "hooks/tocsin" not in failed.error
