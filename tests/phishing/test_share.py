"""Indicators shared as a STIX 2.1 bundle (validated by the stix2 library) and a MISP event."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
import stix2

from conftest import Cli  # noqa: I001 - the tests' own conftest
from tocsin.phishing.analyze import analyze_bytes
from tocsin.phishing.context import Context
from tocsin.phishing.model import Source
from tocsin.phishing.share import misp_event, patterns, stix_bundle

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def _phish() -> bytes:
    message = EmailMessage()
    message["From"] = '"Assurance Maladie" <remboursement@ameli-secure.info>'
    message["Reply-To"] = "o'brien@evil.example"
    message["To"] = "infirmiere@ch-exemple.fr"
    message["Subject"] = "Remboursement en attente"
    message["X-Originating-IP"] = "[185.220.101.4]"
    message.set_content("Confirmez vos coordonnées : http://198.51.100.7/ameli/login?id=1'x")
    message.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf",
                           filename="releve.pdf")  # fmt: skip
    return bytes(message)


@pytest.fixture
def blocked() -> Context:
    return Context(block=frozenset({"ameli-secure.info"}))


def test_stix_bundle_is_valid_stix_21(blocked: Context) -> None:
    analysis = analyze_bytes(_phish(), Source("r.eml"), blocked)
    assert analysis.verdict.value == "phishing"
    bundle = stix_bundle([analysis], "CH Exemple", now=NOW)
    parsed = stix2.parse(json.dumps(bundle), allow_custom=False)
    kinds = [o.type for o in parsed.objects]
    assert kinds[0] == "identity" and kinds[-1] == "report"
    found = {o.pattern for o in parsed.objects if o.type == "indicator"}
    assert "[ipv4-addr:value = '198.51.100.7']" in found
    assert "[ipv4-addr:value = '185.220.101.4']" in found
    assert "[email-addr:value = 'o\\'brien@evil.example']" in found  # quote escaped
    assert any(p.startswith("[file:hashes.'SHA-256' = ") for p in found)
    assert "[url:value = 'http://198.51.100.7/ameli/login?id=1']" in found  # ' ends a URL
    again = stix_bundle([analysis], "CH Exemple", now=NOW)
    ids = {o["id"] for o in bundle["objects"] if o["type"] == "indicator"}
    assert ids == {o["id"] for o in again["objects"] if o["type"] == "indicator"}  # stable


def test_misp_event(blocked: Context) -> None:
    analysis = analyze_bytes(_phish(), Source("r.eml"), blocked)
    event = misp_event([analysis, analysis], "CH Exemple", tlp="green", now=NOW)["Event"]
    values = {(a["type"], a["value"]) for a in event["Attribute"]}
    assert ("email-src", "remboursement@ameli-secure.info") in values
    assert ("ip-dst", "198.51.100.7") in values and ("domain", "ameli-secure.info") in values
    assert ("email-subject", "Remboursement en attente") in values
    assert len(event["Attribute"]) == len(values)  # the same message twice: no duplicates
    assert {"name": "tlp:green"} in event["Tag"] and event["date"] == "2026-11-29"
    assert len(patterns(analysis)) == sum(a["to_ids"] for a in event["Attribute"])


def test_analyze_command_writes_both(
    cli_env: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mail = tmp_path / "phish.eml"
    mail.write_bytes(_phish())
    stix_out, misp_out = tmp_path / "b.json", tmp_path / "e.json"
    args = ["phish", "analyze", str(mail), "-f", "jsonl", "--stix", str(stix_out)]
    assert cli_env(*args, "--misp", str(misp_out), "--tlp", "amber") == 0
    [document] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert document["source"] == {"file": str(mail), "index": None}
    assert set(document["indicators"]) == {"urls", "domains", "ips", "hashes", "senders"}
    # no block list here, so the message may well be judged legitimate by the checks of
    # the day: the files are written either way, with the non-legitimate messages only
    assert json.loads(stix_out.read_text())["type"] == "bundle"
    assert "Event" in json.loads(misp_out.read_text())
    assert cli_env("phish", "analyze", str(mail), "--tlp", "purple") == 2
