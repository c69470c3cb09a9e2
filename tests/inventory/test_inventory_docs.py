"""The examples of docs/inventory-formats.md import as the text says they do."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from inventory_helpers import parse

from tocsin.inventory.normalise import load_aliases
from tocsin.model import AssetKind, Criticality, Exposure

DOC = Path(__file__).resolve().parents[2] / "docs" / "inventory-formats.md"


def _block(starts_with: str) -> str:
    for match in re.finditer(r"```(\w+)\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S):
        if match.group(2).startswith(starts_with):
            return match.group(2)
    pytest.fail(f"no example starting with {starts_with!r} in {DOC}")


def test_csv_example() -> None:
    assets = {a.id: a for a in parse("csv", _block("id;name;")).assets}
    assert list(assets) == ["fw-dmz-01", "srv-labo", "pompe-perf-12"]
    assert assets["fw-dmz-01"].tags == ("dmz", "vpn")
    assert assets["fw-dmz-01"].exposure is Exposure.INTERNET
    assert assets["srv-labo"].location == "Bâtiment C\nsous-sol"
    assert assets["pompe-perf-12"].kind is AssetKind.MEDICAL_DEVICE


def test_cyclonedx_example() -> None:
    parsed = parse("cyclonedx", _block('{\n  "bomFormat"'), "moniteur.json")
    assert parsed.source == "cyclonedx:Moniteur patient MX550"
    assert [a.kind for a in parsed.assets] == [
        AssetKind.MEDICAL_DEVICE,
        AssetKind.APPLIANCE,
        AssetKind.OS,
        AssetKind.SOFTWARE,
    ]
    assert {(a.criticality, a.exposure, a.function) for a in parsed.assets} == {
        (Criticality.VITAL, Exposure.ISOLATED, "reanimation")
    }


def test_glpi_examples() -> None:
    computers = parse("glpi-computers", _block('"Nom";"Entité";"Statut"')).assets
    assert [(a.id, a.owner) for a in computers] == [
        ("glpi-computer-1042", "mdupont"),
        ("glpi-computer-1107", "DSI - Systèmes, Imagerie"),
    ]
    assert computers[0].tags == ("CH Saint-Exemple", "Poste de travail")
    software = parse("glpi-software", _block('"Nom";"Entité";"Éditeur"')).assets
    assert [a.id for a in software] == [
        "glpi-software-87-115.9.1esr",
        "glpi-software-87-115.10.0esr",
    ]


def test_alias_file_example(tmp_path: Path) -> None:
    text = _block("# /etc/tocsin/aliases.toml")
    tomllib.loads(text)
    path = tmp_path / "aliases.toml"
    path.write_text(text, encoding="utf-8")
    table = load_aliases(path)
    assert table.vendor_key("Fortinet Technologies (Canada) ULC") == "fortinet"
    assert table.vendor_key("Éditeur Santé SAS") == "editeur_sante"
    assert table.product_key("editeur_sante", "DPI Exemple client lourd") == "dpi_exemple"
    assert table.product_key("oracle", "Java 8 Update 401") == "jre"
