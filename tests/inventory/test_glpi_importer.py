"""GLPI CSV exports (Parc > Ordinateurs, Parc > Logiciels), French and English."""

from __future__ import annotations

import pytest
from inventory_helpers import error, parse, read

from tocsin.inventory.importers.glpi import os_vendor, values
from tocsin.model import AssetKind

COMPUTERS_FR = '"Nom";"Système d\'exploitation - Nom";"Système d\'exploitation - Version";"ID";\n'
SOFTWARE_FR = '"Nom";"Éditeur";"Versions - Nom";"Nombre d\'installations";"ID";\n'


def test_french_computers_export_from_glpi_10() -> None:
    parsed = parse("glpi-computers", read("glpi-ordinateurs-fr.csv"), "ordinateurs.csv")
    assert parsed.source == "glpi-computers"
    by_id = {a.id: a for a in parsed.assets}
    assert list(by_id) == [
        "glpi-computer-1042",
        "glpi-computer-1107",
        "glpi-computer-1120",
        "glpi-computer-1133",
        "glpi-computer-1150",
    ]
    urgences = by_id["glpi-computer-1042"]
    assert urgences.kind is AssetKind.OS
    assert (urgences.name, urgences.vendor, urgences.product, urgences.version) == (
        "URG-PC-012",
        "Microsoft",
        "Microsoft Windows 10 Entreprise",
        "22H2",
    )
    assert urgences.location == "Bâtiment A > Urgences > Accueil"
    assert urgences.owner == "mdupont"
    assert urgences.tags == ("CH Saint-Exemple", "Poste de travail")
    pacs = by_id["glpi-computer-1107"]
    assert pacs.owner == "DSI - Systèmes, Imagerie"  # no user: the groups, all of them
    assert by_id["glpi-computer-1120"].vendor == "Red Hat"
    assert by_id["glpi-computer-1133"].vendor == "Canonical"
    assert by_id["glpi-computer-1133"].tags == ("EHPAD Les Tilleuls", "Portable")
    assert parsed.warnings == []


def test_english_computers_export_from_glpi_11() -> None:
    parsed = parse("glpi-computers", read("glpi-computers-en.csv"))
    by_name = {a.name: a for a in parsed.assets}
    assert by_name["ADM-PC-101"].id == "glpi-computer-2001"
    assert by_name["SRV-ESX-01"].vendor == "VMware"
    assert by_name["SRV-ESX-01"].owner == "IT, Infrastructure"
    assert by_name["SRV-WEB-01"].vendor == "Debian"
    assert by_name["SRV-WEB-01"].version == "12.5"


def test_french_software_export_one_asset_per_version() -> None:
    parsed = parse("glpi-software", read("glpi-logiciels-fr.csv"), "logiciels.csv")
    assert parsed.source == "glpi-software"
    by_id = {a.id: a for a in parsed.assets}
    assert "glpi-software-87-115.9.1esr" in by_id
    assert "glpi-software-87-115.10.0esr" in by_id
    assert {"glpi-software-140-8.6.2", "glpi-software-140-8.6.4"} <= set(by_id)  # $#$
    reader = by_id["glpi-software-91-23.008.20470"]
    assert (reader.kind, reader.vendor, reader.product, reader.version) == (
        AssetKind.SOFTWARE,
        "Adobe Systems Incorporated",
        "Adobe Acrobat Reader DC",
        "23.008.20470",
    )
    assert reader.tags == ("GHT Exemple",)
    assert not any("Silverlight" in a.name for a in parsed.assets)
    assert [str(w) for w in parsed.warnings] == [
        "logiciels.csv:7:5 [Nombre d'installations]: installed nowhere; skipped"
    ]


def test_english_software_export_with_multi_line_cells() -> None:
    parsed = parse("glpi-software", read("glpi-software-en.csv"))
    assert [a.id for a in parsed.assets] == [
        "glpi-software-12-122.0.6261.129",
        "glpi-software-12-123.0.6312.59",
        "glpi-software-15-3.0.20",
        "glpi-software-21-16.0.17328.20162",
    ]
    assert parsed.assets[0].vendor == "Google LLC"


def test_errors_after_a_multi_line_cell_have_the_right_line() -> None:
    text = SOFTWARE_FR + '"Firefox";"Mozilla";"115.9.1esr\n115.10.0esr";"3";"1";\n'
    text += '"' + "x" * 600 + '";"Mozilla";"1";"1";"2";\n'
    exc = error("glpi-software", text, "logiciels.csv")
    assert str(exc).startswith("logiciels.csv:4:1 [Nom]: name is 600 characters long")


def test_title_row_above_the_header_is_skipped() -> None:
    text = '"Ordinateurs - CH Saint-Exemple"\n' + COMPUTERS_FR
    text += '"URG-PC-001";"Microsoft Windows 11 Professionnel";"23H2";"7";\n'
    (asset,) = parse("glpi-computers", text).assets
    assert (asset.id, asset.version) == ("glpi-computer-7", "23H2")


def test_missing_columns_list_what_was_found_and_expected() -> None:
    exc = error("glpi-computers", '"Nom";"Statut";"Lieu";\n"PC1";"En service";"Urgences";\n')
    assert 'missing column(s) "Système d\'exploitation - Nom" / "Operating system - Name"' in (
        exc.message
    )
    assert 'found "Nom", "Statut", "Lieu"' in exc.message
    exc = error("glpi-software", '"Name";"Publisher"\n"Firefox";"Mozilla"\n')
    assert '"Versions - Nom" / "Versions - Name"' in exc.message


def test_without_id_column_ids_come_from_serial_or_name() -> None:
    text = '"Nom";"Numéro de série";"Système d\'exploitation - Nom"\n'
    text += '"PC-1";"SN 123/A";"Windows 10"\n"PC-2";"";"Ubuntu"\n'
    assets = parse("glpi-computers", text).assets
    assert [a.id for a in assets] == ["glpi-computer-sn-sn_123_a", "glpi-computer-pc-2"]
    software = '"Nom";"Éditeur";"Versions - Nom"\n"7-Zip";"Igor Pavlov";"23.01<br>24.07"\n'
    assert [a.id for a in parse("glpi-software", software).assets] == [
        "glpi-software-igor_pavlov-7-zip-23.01",
        "glpi-software-igor_pavlov-7-zip-24.07",
    ]


def test_duplicate_ids_name_the_first_line() -> None:
    text = COMPUTERS_FR + '"PC-1";"Windows 10";"22H2";"5";\n"PC-2";"Windows 10";"22H2";"5";\n'
    exc = error("glpi-computers", text)
    assert "duplicate id 'glpi-computer-5' (first on line 2)" in exc.message
    text = '"Nom";"Système d\'exploitation - Nom"\n"PC-1";"Windows"\n"pc-1";"Windows"\n'
    assert "add the ID column" in error("glpi-computers", text).message


def test_comma_separator_entities_and_html_escapes() -> None:
    text = '"Name","Operating system - Name","Entity"\n'
    text += '"PC-1","Microsoft Windows 10 Pro","Root &gt; CH A, site B"\n'
    (asset,) = parse("glpi-computers", text).assets
    assert asset.tags == ("CH A site B",)


def test_cells_beyond_the_header_are_refused_unless_empty() -> None:
    text = COMPUTERS_FR + '"PC-1";"Windows 10";"22H2";"5";;\n'
    assert len(parse("glpi-computers", text).assets) == 1
    exc = error("glpi-computers", COMPUTERS_FR + '"PC-1";"Windows 10";"22H2";"5";"";"x"\n')
    assert exc.location is not None and (exc.location.line, exc.location.column) == (2, 6)


def test_unused_columns_are_warnings_and_unknown_os_has_no_vendor() -> None:
    text = '"Nom";"Composants - Processeur";"Système d\'exploitation - Nom"\n'
    text += '"PC-1";"Intel Core i5";"Haiku R1"\n'
    parsed = parse("glpi-computers", text, "o.csv")
    assert parsed.assets[0].vendor is None
    assert [str(w) for w in parsed.warnings] == [
        "o.csv:1:2 [Composants - Processeur]: column not used"
    ]


@pytest.mark.parametrize(
    ("os_name", "vendor"),
    [
        ("Microsoft Windows Server 2022 Datacenter", "Microsoft"),
        ("Ubuntu 22.04.4 LTS", "Canonical"),
        ("Red Hat Enterprise Linux Server", "Red Hat"),
        ("Debian GNU/Linux 12 (bookworm)", "Debian"),
        ("CentOS Linux", "CentOS"),
        ("SUSE Linux Enterprise Server 15", "SUSE"),
        ("macOS Sonoma", "Apple"),
        ("Haiku", None),
        (None, None),
    ],
)
def test_os_vendor(os_name: str | None, vendor: str | None) -> None:
    assert os_vendor(os_name) == vendor


def test_multi_valued_cells() -> None:
    assert values("a<br>b<BR/>c$#$d$$$$e\nf\r\ng") == ["a", "b", "c", "d", "e", "f", "g"]
    assert values(" a <br> a ") == ["a"]
    assert values("") == [] and values(None) == []
