"""Format detection: each bundled fixture is recognised by the right importer."""

from __future__ import annotations

import pytest
from inventory_helpers import FIXTURES, read

from tocsin.errors import UsageError
from tocsin.inventory.importers import detect_importer, importers

EXPECTED = {
    "tocsin-ch-exemple.csv": "csv",
    "tocsin-fr-semicolon.csv": "csv",
    "sbom-1.4-srv-dpi.json": "cyclonedx",
    "sbom-1.5-dpi.json": "cyclonedx",
    "sbom-1.6-moniteur.json": "cyclonedx",
    "sbom-invalid-schema.json": "cyclonedx",
    "sbom-malformed.json": "cyclonedx",
    "glpi-ordinateurs-fr.csv": "glpi-computers",
    "glpi-computers-en.csv": "glpi-computers",
    "glpi-logiciels-fr.csv": "glpi-software",
    "glpi-software-en.csv": "glpi-software",
}


def test_every_fixture_is_listed() -> None:
    assert sorted(p.name for p in FIXTURES.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize(("name", "expected"), sorted(EXPECTED.items()))
def test_detects_the_format(name: str, expected: str) -> None:
    assert detect_importer(read(name)[:4096], name).name == expected


def test_bundled_importers_are_registered() -> None:
    assert {"csv", "cyclonedx", "glpi-computers", "glpi-software"} <= set(importers())


@pytest.mark.parametrize(
    "head",
    ["", "bonjour\n", '{"spdxVersion": "SPDX-2.3"}', "nom;version\nFirefox;115\n"],
)
def test_unknown_formats_ask_for_format(head: str) -> None:
    with pytest.raises(UsageError, match="pass --format"):
        detect_importer(head, "mystere.txt")
