"""New high and critical detection alerts, by email (a real SMTP server on loopback) and by
webhook (a real HTTP server on loopback), once each; on SQLite and PostgreSQL."""

from __future__ import annotations

import sys
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from test_email import Mailbox, smtp_server  # noqa: F401 - the fixture
from test_webhook import _Receiver, receiver  # noqa: F401 - the fixture

from tocsin.config import NotifySettings, Settings, SmtpSettings
from tocsin.detect.alerts import notify_new_alerts
from tocsin.model import Asset, Establishment, EstablishmentType
from tocsin.store.alerts import get_alert, save_alerts
from tocsin.store.db import Database
from tocsin.store.inventory import add_establishment, apply_import

sys.path.insert(0, str(Path(__file__).parents[1] / "detect" / "alerts"))
from alert_samples import sigma  # noqa: E402


def _settings(tmp_path: Path, smtp: SmtpSettings, url: str, lang: str) -> Settings:
    notify = NotifySettings(to=["rssi@ch-a.example"], webhooks=[SecretStr(url)], lang=lang)
    return Settings(home=tmp_path, smtp=smtp, notify=notify)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_new_serious_alerts_are_sent_once(
    database: Database,
    tmp_path: Path,
    smtp_server: tuple[SmtpSettings, Mailbox],  # noqa: F811
    receiver: tuple[str, list[dict[str, Any]], type[_Receiver]],  # noqa: F811
    lang: str,
) -> None:
    smtp, box = smtp_server
    url, received, _ = receiver
    with database.session() as session:
        est = add_establishment(session, Establishment("ch-a", "CH Arles", EstablishmentType.CH))
        apply_import(session, est.id, "t", [Asset(id="a-001", name="Serveur de fichiers")])
        alerts = [
            sigma(),
            sigma(rule="r-note", title="Ransom note written", level="critical", minutes=20),
            sigma(rule="r-low", title="Odd but benign", level="low", minutes=5),
        ]
        ids = save_alerts(session, est.id, alerts).new
    settings = _settings(tmp_path, smtp, url, lang)

    deliveries = notify_new_alerts(database, settings, "ch-a", ids)
    assert [(d.channel, d.error) for d in deliveries] == [("email", None), ("webhook", None)]
    assert "/hooks" not in deliveries[1].target  # never the path: it may hold a token
    [(_sender, recipients, raw)] = box.messages
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage) and recipients == ["rssi@ch-a.example"]
    body = message.get_content()
    word = "critique" if lang == "fr" else "critical"
    assert (
        "2" in message["Subject"]
        and "CH Arles" in message["Subject"]
        and word in message["Subject"]
    )
    assert body.index("Ransom note written") < body.index("Shadow copies")  # critical first
    assert "a-001" in body and "T1490" in body and "Odd but benign" not in body
    [got] = received
    document = got["json"]
    assert (document["kind"], document["establishment"]) == ("detect-alerts", "CH Arles")
    assert sorted(a["rule"] for a in document["alerts"]) == ["r-note", "r-vss"]
    assert all("events" not in a for a in document["alerts"])  # personal data stays home

    with database.session() as session:
        assert all(get_alert(session, None, i).notified_at is not None for i in ids[:2])
        assert get_alert(session, None, ids[2]).notified_at is None
    assert notify_new_alerts(database, settings, "ch-a", ids) == []  # already sent
    assert len(box.messages) == 1 and len(received) == 1


def test_a_failing_channel_is_reported_and_the_other_still_sent(
    database: Database,
    tmp_path: Path,
    smtp_server: tuple[SmtpSettings, Mailbox],  # noqa: F811
    receiver: tuple[str, list[dict[str, Any]], type[_Receiver]],  # noqa: F811
) -> None:
    smtp, box = smtp_server
    url, _received, handler = receiver
    handler.status = 500
    with database.session() as session:
        est = add_establishment(session, Establishment("ch-a", "CH Arles", EstablishmentType.CH))
        ids = save_alerts(session, est.id, [sigma(level="critical")]).new
    deliveries = notify_new_alerts(database, _settings(tmp_path, smtp, url, "fr"), "ch-a", ids)
    assert deliveries[0].error is None and len(box.messages) == 1
    assert deliveries[1].error is not None and "HTTP 500" in deliveries[1].error
