"""Phishing reports kept in the store: once per message, overridden with audit, listed."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from tocsin.config import PhishingSettings, Settings
from tocsin.errors import NotFoundError, UsageError
from tocsin.model import Establishment, EstablishmentType
from tocsin.phishing.model import Verdict
from tocsin.phishing.service import record_report
from tocsin.store import audit
from tocsin.store.db import Database
from tocsin.store.inventory import add_establishment
from tocsin.store.phishing import (
    get_report,
    list_reports,
    override_verdict,
    raw_message,
    report_counts,
)


def _report(subject: str) -> bytes:
    suspect = EmailMessage()
    suspect["From"] = "Service RH <rh@ch-exemp1e.fr>"
    suspect["Subject"] = subject
    suspect.set_content("Consultez votre fiche de paie : http://198.51.100.20/paie")
    report = EmailMessage()
    report["From"] = "aide-soignant@ch-exemple.fr"
    report["Subject"] = f"TR: {subject}"
    report.set_content("Suspect ?")
    report.add_attachment(suspect)
    return bytes(report)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, phishing=PhishingSettings(block=["ch-exemp1e.fr"]))


@pytest.fixture
def est(database: Database) -> int:
    with database.session() as session:
        return add_establishment(session, Establishment("ch-a", "CH A", EstablishmentType.CH)).id


def test_a_report_is_kept_once_and_overridden(
    database: Database, settings: Settings, est: int
) -> None:
    raw = _report("Fiche de paie")
    first = record_report(database, settings, "ch-a", raw, origin="imap")
    again = record_report(database, settings, "ch-a", raw, origin="upload")
    assert first.created and not again.created and again.report.id == first.report.id
    report = first.report
    assert report.reporter == "aide-soignant@ch-exemple.fr"
    assert report.subject == "Fiche de paie" and report.sender == "rh@ch-exemp1e.fr"
    assert report.verdict is Verdict.PHISHING  # the block list, from the settings
    assert "198.51.100.20" in report.indicators["ips"]
    with database.session() as session:
        assert raw_message(session, est, report.id) == raw
        changed = override_verdict(
            session, est, report.id, "legitimate", "analyst", "vrai message du CHU"
        )
        assert changed.verdict is Verdict.LEGITIMATE
        assert changed.machine_verdict is Verdict.PHISHING
        entry = audit.recent(session, limit=1)[0]
        assert (entry.action, entry.details["to"]) == ("phishing.report.verdict", "legitimate")
        assert report_counts(session, est) == {"legitimate": 1}
        assert list_reports(session, est, Verdict.PHISHING) == []
        with pytest.raises(UsageError):
            override_verdict(session, est, report.id, "maybe", "analyst")
        with pytest.raises(NotFoundError):
            get_report(session, est + 1, report.id)
        undone = override_verdict(session, est, report.id, None, "analyst")
        assert undone.verdict is Verdict.PHISHING and undone.analyst is None
