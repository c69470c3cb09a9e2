"""Tocsin's own CSV format: columns, delimiters, synonyms, and errors that say where."""

from __future__ import annotations

import pytest
from inventory_helpers import error, fixture, parse, read

from tocsin.model import AssetKind, Criticality, Exposure

HEADER = "id,name,vendor,product,version,kind,criticality,exposure\n"


def test_reads_the_reference_file() -> None:
    path = fixture("tocsin-ch-exemple.csv")
    parsed = parse("csv", read(path.name), str(path))
    assert parsed.source == "csv"
    assert parsed.warnings == []
    by_id = {a.id: a for a in parsed.assets}
    assert list(by_id) == ["fw-dmz-01", "vpn-ssl", "dpi-app01", "pacs-viewer", "pompe-perf-12"]
    firewall = by_id["fw-dmz-01"]
    assert firewall.kind is AssetKind.APPLIANCE
    assert firewall.cpe == "cpe:2.3:o:fortinet:fortios:7.2.8:*:*:*:*:*:*:*"
    assert firewall.criticality is Criticality.VITAL
    assert firewall.exposure is Exposure.INTERNET
    assert firewall.tags == ("dmz", "vpn")
    assert by_id["dpi-app01"].tags == ("dpi", "prod")
    assert by_id["pacs-viewer"].purl == "pkg:generic/example-imaging/pacs-viewer@5.4.1"
    pump = by_id["pompe-perf-12"]
    assert (pump.kind, pump.exposure, pump.function) == (
        AssetKind.MEDICAL_DEVICE,
        Exposure.ISOLATED,
        "reanimation",
    )
    assert pump.location == "Réanimation lit 12"


def test_semicolons_crlf_and_french_values() -> None:
    path = fixture("tocsin-fr-semicolon.csv")
    assets = {a.id: a for a in parse("csv", read(path.name)).assets}
    lab = assets["srv-labo"]
    assert (lab.kind, lab.criticality, lab.exposure) == (
        AssetKind.OS,
        Criticality.HIGH,
        Exposure.INTERNAL,
    )
    assert lab.location == "Bâtiment C\r\nsous-sol"
    assert lab.tags == ("labo", "prod")
    analyser = assets["automate-01"]
    assert (analyser.kind, analyser.criticality, analyser.exposure) == (
        AssetKind.MEDICAL_DEVICE,
        Criticality.VITAL,
        Exposure.ISOLATED,
    )
    router = assets["routeur-site2"]
    assert (router.kind, router.criticality, router.exposure) == (
        AssetKind.APPLIANCE,
        Criticality.MEDIUM,
        Exposure.INTERNET,
    )
    assert router.owner is None and router.tags == ()


def test_tab_separated_with_case_insensitive_header_in_any_order() -> None:
    text = "Name\tID\tCriticality\nServeur PACS\tpacs\tCritique\n"
    (asset,) = parse("csv", text).assets
    assert (asset.id, asset.name, asset.criticality) == ("pacs", "Serveur PACS", Criticality.VITAL)


def test_defaults_and_product_as_name() -> None:
    (asset,) = parse("csv", "id,product\nfx,Firefox ESR\n").assets
    assert asset.name == "Firefox ESR"
    assert (asset.kind, asset.criticality, asset.exposure) == (
        AssetKind.SOFTWARE,
        Criticality.MEDIUM,
        Exposure.INTERNAL,
    )


def test_blank_lines_are_skipped() -> None:
    assets = parse("csv", "id,name\n\na,A\n,\n\nb,B\n").assets
    assert [a.id for a in assets] == ["a", "b"]


def test_line_numbers_count_quoted_multi_line_cells() -> None:
    text = HEADER + 'a,"Serveur\nsur deux\nlignes",,,,,high,internal\nb,B,,,,,urgent,internal\n'
    exc = error("csv", text, "parc.csv")
    assert str(exc).startswith("parc.csv:5:7 [criticality]: unknown value 'urgent'")
    assert "vital, high, medium, low" in str(exc)


def test_unknown_kind_and_exposure_name_line_column_field() -> None:
    exc = error("csv", HEADER + "a,A,,,,robot,,internal\n")
    assert exc.location is not None
    assert (exc.location.line, exc.location.column, exc.location.field) == (2, 6, "kind")
    assert "medical_device" in exc.message
    exc = error("csv", HEADER + "a,A,,,,,,cloud\n")
    assert str(exc).startswith("inventaire.csv:2:8 [exposure]: unknown value 'cloud'")


def test_duplicate_ids_name_both_lines() -> None:
    exc = error("csv", "id,name\nsrv1,A\nsrv2,B\nsrv1,C\n")
    assert "duplicate id 'srv1' (first on line 2)" in exc.message
    assert exc.location is not None and (exc.location.line, exc.location.column) == (4, 1)


def test_header_without_id_or_name() -> None:
    assert "no 'id' column" in error("csv", "name,vendor\nA,B\n").message
    assert "'name' or a 'product'" in error("csv", "id,vendor\na,B\n").message
    assert "empty" in error("csv", "").message


def test_empty_id_or_name_cell() -> None:
    assert "id is empty" in error("csv", "id,name\n,A\n").message
    assert "name and product are both empty" in error("csv", "id,name\na, \n").message


def test_bad_cpe_and_purl_are_located() -> None:
    exc = error("csv", "id,name,cpe\na,A,cpe:/a:microsoft:office:2016\n")
    assert str(exc).startswith("inventaire.csv:2:3 [cpe]: not a CPE 2.3 formatted string")
    exc = error("csv", "id,name,purl\na,A,pkg:nothing\n")
    assert str(exc).startswith("inventaire.csv:2:3 [purl]: not a valid package URL")


def test_purl_is_canonicalised() -> None:
    (asset,) = parse("csv", "id,name,purl\na,A,pkg:PyPI/Django@4.2.1\n").assets
    assert asset.purl == "pkg:pypi/django@4.2.1"


@pytest.mark.parametrize(
    ("column", "limit"), [("id", 255), ("name", 512), ("version", 128), ("tags", 2048)]
)
def test_too_long_fields(column: str, limit: int) -> None:
    row = {"id": "a", "name": "A", "version": "1", "tags": "t"}
    row[column] = "x" * (limit + 1)
    text = "id,name,version,tags\n" + ",".join(row.values()) + "\n"
    exc = error("csv", text)
    assert f"{column} is {limit + 1} characters long, over {limit}" in exc.message
    assert exc.location is not None and exc.location.field == column


def test_cells_beyond_the_header_are_refused() -> None:
    exc = error("csv", "id,name\na,A,surplus\n")
    assert "3 cells but the header has 2 columns" in exc.message
    assert exc.location is not None and (exc.location.line, exc.location.column) == (2, 3)


def test_short_rows_leave_fields_empty() -> None:
    (asset,) = parse("csv", "id,name,vendor,version\na,A\n").assets
    assert asset.vendor is None and asset.version is None


def test_unknown_column_is_a_warning_and_duplicate_column_an_error() -> None:
    parsed = parse("csv", "id,name,commentaire\na,A,à remplacer\n")
    assert [str(w) for w in parsed.warnings] == [
        "inventaire.csv:1:3 [commentaire]: unknown column ignored"
    ]
    assert "appears twice" in error("csv", "id,name,name\na,A,B\n").message


def test_csv_syntax_error_is_located() -> None:
    exc = error("csv", 'id,name\na,"not closed\n')
    assert "CSV syntax error" in exc.message
    assert exc.location is not None and exc.location.line is not None


def test_tags_separators_and_duplicates() -> None:
    (asset,) = parse("csv", 'id,name,tags\na,A,"dmz; vpn|dmz ,prod"\n').assets
    assert asset.tags == ("dmz", "vpn", "prod")


def test_unicode_line_separator_inside_a_cell_is_not_a_line_break() -> None:
    text = "id,name\na,Pompe\u2028B\nb,Scanner\x85IRM\nc,Bad,extra\n"
    exc = error("csv", text)
    assert exc.location is not None and exc.location.line == 4
    (first, second) = parse("csv", "id,name\na,Pompe\u2028B\nb,Scanner\x85IRM\n").assets
    assert (first.name, second.name) == ("Pompe\u2028B", "Scanner\x85IRM")


def test_old_mac_line_endings() -> None:
    assets = parse("csv", "id,name\ra,A\rb,B\r").assets
    assert [a.id for a in assets] == ["a", "b"]


def test_progress_reports_records() -> None:
    from tocsin.inventory.importers import get_importer

    seen: list[int] = []
    text = "id,name\n" + "".join(f"a{i},A\n" for i in range(1200))
    get_importer("csv").parse(text, "x.csv", seen.append)
    assert seen == [500, 1000, 1200]
