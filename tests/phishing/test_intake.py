"""The report mailbox against a real Dovecot on loopback and a real SMTP server on loopback.

Reports are delivered with IMAP APPEND; ``poll_mailbox`` keeps them (SQLite, and PostgreSQL
when configured), files them in the processed folder and answers the reporters. Needs
``/usr/sbin/dovecot`` (``apt-get install dovecot-imapd``): skipped without it, unless
``TOCSIN_REQUIRE_DOVECOT=1`` (CI).
"""

from __future__ import annotations

import imaplib
import json
import re
import sys
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).parents[1] / "notify"))
from dovecot_support import Dovecot, dovecot_server  # noqa: E402
from test_email import Mailbox, smtp_server  # noqa: E402, F401 - the fixture

from tocsin.config import PhishingMailboxSettings, PhishingSettings, Settings, SmtpSettings
from tocsin.model import Establishment, EstablishmentType
from tocsin.phishing.intake import ImapSession, MailboxError, imap_utf7, poll_mailbox
from tocsin.phishing.model import Verdict
from tocsin.phishing.reply import defang, reply_refusal
from tocsin.store.db import Database, open_database
from tocsin.store.inventory import add_establishment
from tocsin.store.phishing import list_reports

SLUG = "ch-exemple"
PROCESSED = "Tocsin/Traités"
LIMIT = 64 * 1024


def _ameli_report(reporter: str = "Marie Durand <m.durand@ch-exemple.fr>") -> bytes:
    """A nurse forwards, as an attachment, a fake Assurance Maladie refund."""
    suspect = EmailMessage()
    suspect["From"] = "Assurance Maladie <remboursement@ameli-remboursement-sante.com>"
    suspect["Reply-To"] = "service-client@secure-mail-verif.top"
    suspect["To"] = "m.durand@ch-exemple.fr"
    suspect["Subject"] = "Votre remboursement de 178,40 € est en attente"
    suspect.set_content(
        "Cher assuré, un remboursement de 178,40 € est en attente. Votre compte sera suspendu "
        "sous 24 heures si vous ne confirmez pas vos coordonnées bancaires : "
        "http://198.51.100.23/ameli/connexion.php"
    )
    suspect.add_alternative(
        "<p>Cher assuré, un remboursement de 178,40 € est en attente.</p>"
        "<p>Votre compte sera suspendu sous 24 heures.</p>"
        '<a href="http://198.51.100.23/ameli/connexion.php">https://www.ameli.fr/assure</a>',
        subtype="html",
    )
    report = EmailMessage()
    report["From"] = reporter
    report["To"] = "signalement@ch-exemple.fr"
    report["Subject"] = "TR: Votre remboursement de 178,40 € est en attente"
    report["Message-ID"] = "<report-1@ch-exemple.fr>"
    report.set_content("Bonjour, ce message me paraît bizarre. Marie")
    report.add_attachment(suspect)
    return bytes(report)


def _plain_report() -> bytes:
    """A doctor asks about an internal email, forwarding nothing."""
    report = EmailMessage()
    report["From"] = "Dr Paul Martin <p.martin@ch-exemple.fr>"
    report["To"] = "signalement@ch-exemple.fr"
    report["Subject"] = "Réunion de service jeudi"
    report["Message-ID"] = "<report-2@ch-exemple.fr>"
    report.set_content("Bonjour, la réunion de service est déplacée à jeudi 14 h, salle B.")
    return bytes(report)


def _big_report() -> bytes:
    report = EmailMessage()
    report["From"] = "Luc Petit <l.petit@ch-exemple.fr>"
    report["To"] = "signalement@ch-exemple.fr"
    report["Subject"] = "TR: facture scannée"
    report.set_content("Voir la pièce jointe.")
    report.add_attachment(b"\x89PNG" + bytes(3 * LIMIT), "image", "png", filename="scan.png")
    return bytes(report)


def _looping_report() -> bytes:
    """A report whose From is the mailbox itself (an auto-forward gone wrong)."""
    return _ameli_report("Signalement <signalement@ch-exemple.fr>").replace(
        b"report-1@", b"report-3@"
    )


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    with dovecot_server() as server:
        yield server


def _settings(tmp_path: Path, server: Dovecot, smtp: SmtpSettings, **mailbox: object) -> Settings:
    values: dict[str, object] = {
        "host": server.host,
        "port": server.port,
        "security": "none",
        "username": server.user,
        "password": SecretStr(server.password),
        "establishment": SLUG,
        "max_message_bytes": LIMIT,
        "reply_from": "securite@ch-exemple.fr",
    }
    box = PhishingMailboxSettings.model_validate(values | mailbox)
    phishing = PhishingSettings(own_domains=["ch-exemple.fr"], mailbox=box)
    return Settings(home=tmp_path, language="fr", smtp=smtp, phishing=phishing)


@pytest.fixture
def est(database: Database) -> None:
    with database.session() as session:
        add_establishment(session, Establishment(SLUG, "CH Exemple", EstablishmentType.CH))


def _deliver(server: Dovecot, *messages: bytes) -> None:
    imap = server.connect()
    for raw in messages:
        kind, _ = imap.append("INBOX", None, None, raw)
        assert kind == "OK"
    imap.logout()


def _folder(server: Dovecot, name: str) -> list[tuple[bytes, bytes]]:
    """(flags, message) of each message in ``name``."""
    imap = server.connect()
    kind, _ = imap.select('"' + imap_utf7(name.replace("/", ".")) + '"', readonly=True)
    assert kind == "OK", name
    _, data = imap.fetch("1:*", "(FLAGS BODY.PEEK[])") if _count(imap) else ("OK", [])
    imap.logout()
    found = []
    for item in data:
        if isinstance(item, tuple):
            flags = re.search(rb"FLAGS \(([^)]*)\)", item[0])
            found.append((flags.group(1) if flags else b"", item[1]))
    return found


def _count(imap: imaplib.IMAP4) -> int:
    _, data = imap.search(None, "ALL")
    return len(data[0].split())


def test_reports_are_kept_filed_and_answered_in_french(
    database: Database,
    est: None,
    tmp_path: Path,
    dovecot: Dovecot,
    smtp_server: tuple[SmtpSettings, Mailbox],  # noqa: F811
) -> None:
    smtp, outbox = smtp_server
    settings = _settings(tmp_path, dovecot, smtp)
    ameli = _ameli_report()
    _deliver(dovecot, ameli, _plain_report(), _big_report(), ameli, _looping_report())

    started = time.perf_counter()
    result = poll_mailbox(database, settings)
    assert time.perf_counter() - started < 30

    assert (result.fetched, result.kept, result.duplicates, result.replied) == (4, 3, 1, 2)
    assert result.errors == []
    assert len(result.skipped) == 1 and "over max_message_bytes" in result.skipped[0]
    assert len(result.unanswered) == 1 and "no mail loop" in result.unanswered[0]

    with database.session() as session:
        reports = {r.reporter: r for r in list_reports(session, _est_id(database))}
    assert set(reports) == {
        "m.durand@ch-exemple.fr",
        "p.martin@ch-exemple.fr",
        "signalement@ch-exemple.fr",
    }
    nurse = reports["m.durand@ch-exemple.fr"]
    assert nurse.verdict is Verdict.PHISHING and nurse.origin == "imap"
    assert nurse.sender == "remboursement@ameli-remboursement-sante.com"
    assert nurse.replied_at is not None
    assert reports["p.martin@ch-exemple.fr"].verdict is Verdict.LEGITIMATE
    assert reports["signalement@ch-exemple.fr"].replied_at is None

    # Filed: only the oversized report stays in the inbox, flagged; the rest were moved.
    inbox = _folder(dovecot, "INBOX")
    assert len(inbox) == 1 and b"\\Flagged" in inbox[0][0] and b"scan.png" in inbox[0][1]
    assert len(_folder(dovecot, PROCESSED)) == 4

    # Answered: the reporters only, in French, threaded, marked automatic.
    assert [recipients for _, recipients, _ in outbox.messages] == [
        ["m.durand@ch-exemple.fr"],
        ["p.martin@ch-exemple.fr"],
    ]
    first = message_from_bytes(outbox.messages[0][2], policy=policy.default)
    assert first["From"] == "securite@ch-exemple.fr"
    assert first["Auto-Submitted"] == "auto-replied"
    assert first["In-Reply-To"] == "<report-1@ch-exemple.fr>"
    assert "<report-1@ch-exemple.fr>" in first["References"]
    assert first["Subject"] == "Votre signalement : hameçonnage"
    body = first.get_body().get_content()  # type: ignore[union-attr]
    assert "C'est un hameçonnage" in body and "Score : 100/100" in body
    assert "imp.lookalike-sender" in body and "ameli-remboursement-sante[.]com" in body
    assert "Ne cliquez sur aucun lien" in body and "changez votre mot de passe" in body
    assert "appelez le support" in body
    assert "http://198" not in body and "ameli-remboursement-sante.com" not in body
    second = message_from_bytes(outbox.messages[1][2], policy=policy.default)
    assert "semble légitime" in second.get_body().get_content()  # type: ignore[union-attr]

    # A second run finds nothing new: no report, no answer, no warning.
    again = poll_mailbox(database, settings)
    assert again.to_dict() == {
        "version": 1,
        "fetched": 0,
        "kept": 0,
        "duplicates": 0,
        "replied": 0,
        "skipped": [],
        "errors": [],
        "unanswered": [],
        "notes_dropped": 0,
    }
    assert len(outbox.messages) == 2


def _est_id(database: Database) -> int:
    from tocsin.store.inventory import get_establishment

    with database.session() as session:
        return get_establishment(session, SLUG).id


def test_without_move_reports_are_copied_and_marked_seen(
    database: Database,
    est: None,
    tmp_path: Path,
    dovecot: Dovecot,
    smtp_server: tuple[SmtpSettings, Mailbox],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    smtp, outbox = smtp_server
    settings = _settings(tmp_path, dovecot, smtp, processed_folder="Traités", reply=False)
    opened = ImapSession.open

    def without_move(self: ImapSession) -> None:
        opened(self)
        self.capabilities = self.capabilities - {"MOVE"}

    monkeypatch.setattr(ImapSession, "open", without_move)
    _deliver(dovecot, _ameli_report())
    result = poll_mailbox(database, settings)
    assert (result.kept, result.replied, result.errors) == (1, 0, [])
    inbox = _folder(dovecot, "INBOX")
    assert len(inbox) == 1 and b"\\Seen" in inbox[0][0]
    assert len(_folder(dovecot, "Traités")) == 1
    assert poll_mailbox(database, settings).fetched == 0
    assert outbox.messages == []


def test_unreachable_or_refused_server_names_the_server_never_the_password(
    database: Database, est: None, tmp_path: Path, dovecot: Dovecot
) -> None:
    smtp = SmtpSettings()
    wrong = _settings(tmp_path, dovecot, smtp, password=SecretStr("pas-le-bon-secret"))
    with pytest.raises(MailboxError) as refused:
        poll_mailbox(database, wrong)
    assert f"imap://127.0.0.1:{dovecot.port}" in str(refused.value)
    assert "pas-le-bon-secret" not in str(refused.value)
    assert refused.value.exit_code == 4

    closed = _settings(tmp_path, dovecot, smtp, port=1)
    with pytest.raises(MailboxError, match="imap://127.0.0.1:1"):
        poll_mailbox(database, closed)


def test_plain_text_imap_is_refused_off_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        PhishingMailboxSettings(host="imap.ch-exemple.fr", security="none")
    assert PhishingMailboxSettings(host="::1", security="none").port == 993


def test_fetch_command_prints_the_summary(
    database_url: str,
    tmp_path: Path,
    dovecot: Dovecot,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tocsin.cli.main import main

    database = open_database(database_url)
    with database.session() as session:
        add_establishment(session, Establishment(SLUG, "CH Exemple", EstablishmentType.CH))
    database.dispose()
    env = {
        "HOME": str(tmp_path / "home"),
        "DATABASE_URL": database_url,
        "PHISHING__MAILBOX__HOST": dovecot.host,
        "PHISHING__MAILBOX__PORT": str(dovecot.port),
        "PHISHING__MAILBOX__SECURITY": "none",
        "PHISHING__MAILBOX__USERNAME": dovecot.user,
        "PHISHING__MAILBOX__PASSWORD": dovecot.password,
        "PHISHING__MAILBOX__ESTABLISHMENT": SLUG,
        "PHISHING__MAILBOX__REPLY": "false",
    }
    for name, value in env.items():
        monkeypatch.setenv(f"TOCSIN_{name}", value)
    monkeypatch.delenv("TOCSIN_CONFIG", raising=False)
    _deliver(dovecot, _ameli_report())
    assert main(["phish", "fetch", "--once", "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["fetched"], summary["kept"], summary["replied"]) == (1, 1, 0)


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({"From": "signalement@ch-exemple.fr"}, "no mail loop"),
        ({"From": "a@ch-exemple.fr", "Auto-Submitted": "auto-replied"}, "automatic"),
        ({"From": "x@ameli-remboursement-sante.com"}, "block list"),
        ({"From": "someone@elsewhere.example"}, "own domains"),
        ({"From": "suspect@ch-exemple.fr"}, "suspect's sender"),
        ({"Subject": "no sender"}, "no sender"),
        ({"From": "a.b@ch-exemple.fr"}, None),
    ],
)
def test_who_is_never_answered(headers: dict[str, str], why: str | None) -> None:
    report = EmailMessage()
    for name, value in headers.items():
        report[name] = value
    refusal = reply_refusal(
        report,
        suspect_sender="suspect@ch-exemple.fr",
        forwarded=True,
        own_addresses={"signalement@ch-exemple.fr"},
        block=["ameli-remboursement-sante.com"],
        own_domains=["ch-exemple.fr"],
    )
    assert (refusal is None) if why is None else (why in (refusal or ""))


def test_links_in_answers_are_defanged() -> None:
    assert defang("go to https://evil.example/x") == "go to hxxps://evil[.]example/x"
    assert defang("198.51.100.23") == "198[.]51[.]100[.]23"
    assert imap_utf7("Tocsin/Traités") == "Tocsin/Trait&AOk-s"
    assert imap_utf7("R&D") == "R&-D"
