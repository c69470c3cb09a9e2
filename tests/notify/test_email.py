"""Bulletins by email, received by a real SMTP server on loopback.

The server below speaks enough SMTP (EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT) over a real
socket for smtplib; aiosmtpd is not a dependency and Python's smtpd is deprecated. The
bulletin comes from the store: advisories loaded, an establishment matched, the bulletin
collected — on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from pydantic import SecretStr

from tocsin.config import SmtpSettings
from tocsin.errors import UsageError
from tocsin.inventory.normalise import load_aliases
from tocsin.model import Asset, AssetKind, Criticality, Establishment, Exposure
from tocsin.model.advisory import Advisory, AffectedProduct, VersionRange
from tocsin.notify import NotifyError, deliver_bulletin
from tocsin.notify.email import send_bulletin
from tocsin.report import collect_bulletin
from tocsin.store.db import Database
from tocsin.store.inventory import add_establishment, apply_import, get_establishment
from tocsin.store.watch import upsert_advisories
from tocsin.watch.bulletin import Bulletin
from tocsin.watch.service import match_establishment


@dataclass
class Mailbox:
    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    auth: list[str] = field(default_factory=list)
    starttls: bool = False


class _Smtp(socketserver.StreamRequestHandler):
    box: Mailbox

    def _say(self, text: str) -> None:
        self.wfile.write(f"{text}\r\n".encode())

    def handle(self) -> None:
        self._say("220 localhost test ESMTP")
        sender, recipients = "", []
        while line := self.rfile.readline():
            command = line.decode("utf-8", "replace").rstrip("\r\n")
            verb = command[:4].upper()
            if verb == "EHLO":
                extra = ["250-STARTTLS"] if self.box.starttls else []
                for reply in ["250-localhost", *extra, "250-AUTH PLAIN", "250 8BITMIME"]:
                    self._say(reply)
            elif verb == "AUTH":
                self.box.auth.append(base64.b64decode(command.split()[2]).decode())
                self._say("235 ok")
            elif verb == "MAIL":
                sender = command.split(":", 1)[1].split()[0].strip("<>")
                self._say("250 ok")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip().strip("<>"))
                self._say("250 ok")
            elif verb == "DATA":
                self._say("354 go on")
                data = bytearray()
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                self.box.messages.append((sender, recipients, bytes(data)))
                self._say("250 queued")
            elif verb == "QUIT":
                self._say("221 bye")
                return
            else:
                self._say("250 ok" if verb in ("RSET", "NOOP") else "502 not here")


@pytest.fixture
def smtp_server() -> Iterator[tuple[SmtpSettings, Mailbox]]:
    box = Mailbox()
    handler = type("Handler", (_Smtp,), {"box": box})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings = SmtpSettings(
        host="127.0.0.1",
        port=server.server_address[1],
        starttls=False,
        sender="veille@ch-a.example",
    )
    yield settings, box
    server.shutdown()
    server.server_close()


NOW = datetime(2025, 3, 12, 6, 0, tzinfo=UTC)
CVE = "CVE-2024-21762"


@pytest.fixture
def bulletin(database: Database) -> Bulletin:
    """A FortiGate of CH Arles hit by a CVE, matched in the store, as a French bulletin."""
    aliases = load_aliases()
    fortigate = Asset(
        "fw-dmz",
        "Pare-feu DMZ",
        kind=AssetKind.APPLIANCE,
        vendor="Fortinet",
        product="FortiOS",
        version="7.2.5",
        criticality=Criticality.VITAL,
        exposure=Exposure.INTERNET,
    )
    affected = AffectedProduct(
        product="FortiOS",
        vendor="Fortinet",
        ranges=(VersionRange(introduced="7.2.0", fixed="7.2.7"),),
    )
    advisory = Advisory(
        id=CVE,
        source="cve5",
        title="Écriture hors limites dans FortiOS",
        modified=NOW,
        cves=(CVE,),
        affected=(affected,),
    )
    with database.session() as s:
        add_establishment(s, Establishment("ch-a", "CH Arles"))
    with database.session() as s:
        apply_import(s, get_establishment(s, "ch-a").id, "csv", [aliases.normalise(fortigate)])
        upsert_advisories(s, [advisory], NOW)
    match_establishment(database, "ch-a", aliases, now=NOW)
    return collect_bulletin(database, "ch-a", now=NOW + timedelta(hours=1))


def _received(box: Mailbox) -> EmailMessage:
    assert len(box.messages) == 1
    message = message_from_bytes(box.messages[0][2], policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_bulletin_mail_is_received_in_french(
    smtp_server: tuple[SmtpSettings, Mailbox], bulletin: Bulletin
) -> None:
    settings, box = smtp_server
    send_bulletin(settings, bulletin, ["rssi@ch-a.example", "dsi@ch-a.example"])
    sender, recipients, _ = box.messages[0]
    assert (sender, recipients) == (
        "veille@ch-a.example",
        ["rssi@ch-a.example", "dsi@ch-a.example"],
    )
    message = _received(box)
    assert message["Subject"] == (
        "[Tocsin] Bulletin de veille quotidien — CH Arles : 1 nouvelle(s), dont 0 urgente(s)"
    )
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    plain = text.get_content()
    assert plain.startswith("# Bulletin de veille quotidien — CH Arles")
    assert "Écriture hors limites dans FortiOS" in plain
    assert "Mettre à jour vers la version 7.2.7 ou ultérieure" in plain
    page = html.get_content()
    assert "<svg" in page and 'lang="fr"' in page and "fw-dmz" in page
    assert box.auth == []


def test_login_and_starttls_refusal(
    smtp_server: tuple[SmtpSettings, Mailbox], bulletin: Bulletin
) -> None:
    settings, box = smtp_server
    login = settings.model_copy(update={"username": "veille", "password": SecretStr("s3cret")})
    send_bulletin(login, bulletin, ["rssi@ch-a.example"])
    assert box.auth == ["\x00veille\x00s3cret"]
    # STARTTLS asked but not offered: refused before any credential is sent in clear.
    strict = login.model_copy(update={"starttls": True})
    with pytest.raises(NotifyError, match="does not offer STARTTLS"):
        send_bulletin(strict, bulletin, ["rssi@ch-a.example"])
    assert len(box.auth) == 1


def test_failures_are_reported_per_channel(bulletin: Bulletin) -> None:
    with pytest.raises(UsageError, match="no SMTP server"):
        send_bulletin(SmtpSettings(), bulletin, ["rssi@ch-a.example"])
    with pytest.raises(UsageError, match="no recipient"):
        send_bulletin(SmtpSettings(host="127.0.0.1"), bulletin, [])
    closed = SmtpSettings(host="127.0.0.1", port=9, starttls=False)
    done = deliver_bulletin(
        bulletin, closed, recipients=["rssi@ch-a.example"], webhooks=["http://127.0.0.1:9/x"]
    )
    assert [(d.channel, d.error is not None) for d in done] == [("email", True), ("webhook", True)]
    assert "smtp://127.0.0.1:9" in (done[0].error or "")
