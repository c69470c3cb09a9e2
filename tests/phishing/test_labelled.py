"""Analysts' verdicts kept for retraining: exported as labelled messages, read back by the
training script into its training split only."""

from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path

import pytest

from conftest import Cli
from tocsin.config import Settings
from tocsin.model import Establishment, EstablishmentType
from tocsin.phishing.labelled import export_labelled
from tocsin.phishing.service import record_report
from tocsin.phishing.train import EXTRA, is_test, label_of, load_extra
from tocsin.store.db import Database, open_database
from tocsin.store.inventory import add_establishment
from tocsin.store.phishing import overridden_reports, override_verdict


def _mail(subject: str, body: str) -> bytes:
    mail = EmailMessage()
    mail["From"] = "expediteur@exemple.fr"
    mail["To"] = "agent@ch-exemple.fr"
    mail["Subject"] = subject
    mail.set_content(body)
    return bytes(mail)


MAILS = {
    "Votre colis est bloqué": "Réglez 1,99 EUR sous 24 h : http://198.51.100.3/colis",
    "Planning de garde de décembre": "Bonjour, le planning de garde est en pièce jointe.",
    "Mise à jour du logiciel": "Cliquez ici pour mettre à jour : https://maj.example/x",
    "Menu du self": "Lundi : blanquette de veau.",
}


def _reports(database: Database, settings: Settings) -> dict[str, int]:
    with database.session() as session:
        add_establishment(session, Establishment("ch-a", "CH A", EstablishmentType.CH))
    ids = {}
    for subject, body in MAILS.items():
        saved = record_report(database, settings, "ch-a", _mail(subject, body), origin="upload")
        ids[subject] = saved.report.id
    return ids


def test_overridden_reports_are_written_by_the_analysts_verdict(
    database: Database, tmp_path: Path
) -> None:
    ids = _reports(database, Settings(home=tmp_path))
    with database.session() as session:
        override_verdict(session, None, ids["Votre colis est bloqué"], "phishing", "ana")
        override_verdict(session, None, ids["Planning de garde de décembre"], "legitimate", "ana")
        override_verdict(session, None, ids["Mise à jour du logiciel"], "suspicious", "ana")
    with database.session() as session:
        found = list(overridden_reports(session, 1))
        assert [report.subject for report, _ in found] == list(MAILS)[:3]  # not the menu
        counts = export_labelled(((r.verdict, raw) for r, raw in found), tmp_path / "out")
    assert counts == {"phishing": 1, "legitimate": 1, "suspicious": 1}
    (phishing,) = (tmp_path / "out" / "phishing").iterdir()
    (legitimate,) = (tmp_path / "out" / "legitimate").iterdir()
    assert b"colis" in phishing.read_bytes() and b"garde" in legitimate.read_bytes()
    # Exported again: the same files, nothing doubled, nothing half-written left behind.
    with database.session() as session:
        again = ((r.verdict, raw) for r, raw in overridden_reports(session, 1))
        export_labelled(again, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").rglob("*")) == sorted(
        ["phishing", "legitimate", phishing.name, legitimate.name]
    )


def test_the_cli_exports_and_the_training_script_reads_them_as_training_only(
    cli_env: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = open_database(str(cli_env.database_url))
    try:
        ids = _reports(database, Settings(home=tmp_path))
        with database.session() as session:
            override_verdict(session, None, ids["Votre colis est bloqué"], "phishing", "ana")
            override_verdict(session, None, ids["Menu du self"], "legitimate", "ana")
    finally:
        database.dispose()
    out = tmp_path / "labelled"
    capsys.readouterr()
    assert cli_env("phish", "export-labelled", str(out), "-e", "ch-a", "-f", "json") == 0
    counts = {
        row["folder"]: row["messages"] for row in json.loads(capsys.readouterr().out)["folders"]
    }
    assert counts == {"phishing": 1, "legitimate": 1, "suspicious": 0}
    samples, refused = load_extra(out)
    assert refused == 0
    assert sorted((s.corpus, label_of(s)) for s in samples) == [
        ("extra-legitimate", 0),
        ("extra-phishing", 1),
    ]
    # Whatever the seeded split would say of their names, they are never test messages.
    assert not any(s.test for s in samples)
    assert set(EXTRA) == {s.corpus for s in samples}
    assert isinstance(is_test(samples[0].key), bool)


def test_an_unknown_establishment_is_a_clear_error(cli_env: Cli, tmp_path: Path) -> None:
    assert cli_env("phish", "export-labelled", str(tmp_path / "x"), "-e", "nowhere") != 0
    assert not (tmp_path / "x").exists()
