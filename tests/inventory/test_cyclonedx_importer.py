"""CycloneDX 1.4–1.6 JSON SBOMs: mapping, tocsin: properties, refusals located by JSON path."""

from __future__ import annotations

import json
from typing import Any

import pytest
from inventory_helpers import error, fixture, parse, read

from tocsin.inventory.importers import cyclonedx
from tocsin.model import AssetKind, Criticality, Exposure


def _bom(components: list[dict[str, Any]], version: str = "1.5", **extra: Any) -> str:
    doc = {"bomFormat": "CycloneDX", "specVersion": version, "version": 1, **extra}
    doc["components"] = components
    return json.dumps(doc, ensure_ascii=False, indent=1)


def _lib(name: str, **fields: Any) -> dict[str, Any]:
    return {"type": "library", "name": name, **fields}


def _nested(depth: int) -> list[dict[str, Any]]:
    component = _lib("feuille", version="1")
    for level in range(depth - 1):
        component = _lib(f"niveau-{level}", version="1", components=[component])
    return [component]


def test_cyclonedx_1_4_operating_system_and_packages() -> None:
    name = "sbom-1.4-srv-dpi.json"
    parsed = parse("cyclonedx", read(name), str(fixture(name)))
    assert parsed.source == "cyclonedx:srv-dpi-app01"
    ubuntu, openssl, nginx = parsed.assets
    assert (ubuntu.id, ubuntu.kind, ubuntu.vendor) == (
        "os:ubuntu@22.04",
        AssetKind.OS,
        "Canonical Ltd",
    )
    assert ubuntu.cpe == "cpe:2.3:o:canonical:ubuntu_linux:22.04:*:*:*:lts:*:*:*"
    assert openssl.vendor == "Ubuntu Developers"  # publisher
    assert openssl.purl is not None and openssl.purl.startswith("pkg:deb/ubuntu/openssl@")
    assert nginx.id == nginx.purl  # no bom-ref: the purl is the id
    assert (nginx.criticality, nginx.exposure) == (Criticality.HIGH, Exposure.INTERNET)
    assert parsed.warnings == []


def test_cyclonedx_1_5_nested_components_inherit_tocsin_properties() -> None:
    parsed = parse("cyclonedx", read("sbom-1.5-dpi.json"), "sbom-1.5-dpi.json")
    assert parsed.source == "cyclonedx:DPI Exemple"
    by_id = {a.id: a for a in parsed.assets}
    assert list(by_id) == [
        "dpi-exemple-serveur",
        "pkg:maven/org.springframework/spring-core@5.3.31",
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1",
        "pkg:maven/org.apache.logging.log4j/log4j-api@2.17.1",
        "Éditeur Santé/dpi-exemple-reporting@1.8.0",
    ]
    server = by_id["dpi-exemple-serveur"]
    assert server.vendor == "Éditeur Santé SAS"
    assert (server.criticality, server.function, server.owner, server.location) == (
        Criticality.VITAL,
        "dpi",
        "DSI - Applications",
        "Salle serveurs A",
    )
    assert server.tags == ("dpi", "prod", "java")
    log4j_api = by_id["pkg:maven/org.apache.logging.log4j/log4j-api@2.17.1"]
    assert log4j_api.criticality is Criticality.VITAL  # inherited through two levels
    assert log4j_api.vendor is None  # a purl's group is a namespace, not a vendor
    reporting = by_id["Éditeur Santé/dpi-exemple-reporting@1.8.0"]
    assert reporting.vendor == "Éditeur Santé"  # group as vendor when there is no purl
    assert reporting.criticality is Criticality.MEDIUM
    assert [str(w) for w in parsed.warnings] == [
        "sbom-1.5-dpi.json [components[2]]: data component not imported",
        "sbom-1.5-dpi.json [services]: 1 services not imported (only components are assets)",
    ]


def test_cyclonedx_1_6_medical_device_subject_opt_in() -> None:
    parsed = parse("cyclonedx", read("sbom-1.6-moniteur.json"), "moniteur.json")
    assert parsed.source == "cyclonedx:Moniteur patient MX550"
    by_id = {a.id: a for a in parsed.assets}
    monitor = by_id["moniteur-mx550"]
    assert (monitor.kind, monitor.criticality, monitor.exposure, monitor.function) == (
        AssetKind.MEDICAL_DEVICE,
        Criticality.VITAL,
        Exposure.ISOLATED,
        "reanimation",
    )
    assert monitor.vendor == "Exemple Medical Systems"  # 1.6 manufacturer
    assert by_id["mx550-firmware"].kind is AssetKind.APPLIANCE  # kind is not inherited
    assert by_id["mx550-os"].vendor == "Wind River"
    assert by_id["mx550-wifi"].kind is AssetKind.MEDICAL_DEVICE
    assert {a.criticality for a in parsed.assets} == {Criticality.VITAL}


def test_subject_is_not_an_asset_by_default() -> None:
    subject = {"type": "application", "name": "Serveur GAM", "version": "3"}
    parsed = parse("cyclonedx", _bom([_lib("zlib")], metadata={"component": subject}), "gam.json")
    assert [a.id for a in parsed.assets] == ["zlib"]
    assert parsed.source == "cyclonedx:Serveur GAM"
    assert parse("cyclonedx", _bom([_lib("zlib")]), "/tmp/sbom-gam.json").source == (
        "cyclonedx:sbom-gam"
    )


def test_id_falls_back_to_group_name_version() -> None:
    parsed = parse("cyclonedx", _bom([_lib("zlib", group="madler", version="1.3.1"), _lib("x")]))
    assert [a.id for a in parsed.assets] == ["madler/zlib@1.3.1", "x"]


def test_schema_error_names_the_json_path() -> None:
    exc = error("cyclonedx", read("sbom-invalid-schema.json"), "sbom.json")
    assert str(exc).startswith("sbom.json [components[1].type]: not a valid CycloneDX 1.5")
    assert "'librairie' is not one of" in exc.message


def test_malformed_json_gives_line_and_column() -> None:
    exc = error("cyclonedx", read("sbom-malformed.json"), "sbom.json")
    assert str(exc).startswith("sbom.json:5:40: invalid JSON")


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        ("[1, 2]", "$", "top level is not a JSON object"),
        ('{"spdxVersion": "SPDX-2.3"}', "bomFormat", "not a CycloneDX document"),
        ('{"bomFormat": "CycloneDX", "specVersion": "1.3"}', "specVersion", "'1.3' is not"),
        ('{"bomFormat": "CycloneDX", "specVersion": "1.7"}', "specVersion", "1.4, 1.5, 1.6"),
        ('{"bomFormat": "CycloneDX"}', "specVersion", "missing or not a string"),
        ('{"bomFormat": "CycloneDX", "specVersion": 1.5}', "specVersion", "not supported"),
    ],
)
def test_refuses_other_documents_and_versions(text: str, field: str, message: str) -> None:
    exc = error("cyclonedx", text)
    assert exc.location is not None and exc.location.field == field
    assert message in exc.message


def test_values_are_validated_with_their_json_path() -> None:
    tree = [_lib("app", components=[_lib("a"), _lib("b", purl="pkg:nothing")])]
    exc = error("cyclonedx", _bom(tree), "sbom.json")
    assert str(exc).startswith("sbom.json [components[0].components[1].purl]: not a valid package")
    bad = [_lib("a", properties=[{"name": "tocsin:criticality", "value": "énorme"}])]
    exc = error("cyclonedx", _bom(bad), "sbom.json")
    assert str(exc).startswith("sbom.json [components[0].properties[0].value]: unknown value")
    exc = error("cyclonedx", _bom([_lib("a", cpe="cpe:/a:x:y")]), "sbom.json")
    assert exc.location is not None and exc.location.field == "components[0].cpe"
    exc = error("cyclonedx", _bom([_lib("a", **{"bom-ref": "r" * 300})]), "sbom.json")
    assert exc.location is not None and exc.location.field == "components[0].bom-ref"


def test_nesting_depth_is_bounded() -> None:
    assert len(parse("cyclonedx", _bom(_nested(32))).assets) == 32
    exc = error("cyclonedx", _bom(_nested(33)))
    assert "nested more than 32 levels" in exc.message
    assert exc.location is not None
    assert exc.location.field == "components[0]" + ".components[0]" * 32


def test_deep_json_is_refused_without_recursion_error() -> None:
    for depth in (200, 100_000):
        exc = error(
            "cyclonedx", '{"bomFormat": "CycloneDX", "x": ' + "[" * depth + "]" * depth + "}"
        )
        assert "nested" in exc.message or "invalid JSON" in exc.message


def test_component_count_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cyclonedx, "MAX_COMPONENTS", 3)
    assert len(parse("cyclonedx", _bom([_lib(f"c{i}") for i in range(3)])).assets) == 3
    exc = error("cyclonedx", _bom([_lib(f"c{i}") for i in range(4)]))
    assert "more than 3 components" in exc.message


def test_duplicates_same_or_conflicting() -> None:
    twins = [_lib("zlib", version="1"), _lib("zlib", version="1", description="copie")]
    same = parse("cyclonedx", _bom(twins))
    assert len(same.assets) == 1
    assert "same as components[0]; skipped" in str(same.warnings[0])
    refs = [_lib("a", **{"bom-ref": "r1"}), _lib("b", **{"bom-ref": "r1"})]
    exc = error("cyclonedx", _bom(refs))
    assert "duplicate id 'r1' (first at components[0])" in exc.message
    assert exc.location is not None and exc.location.field == "components[1]"


def test_unknown_tocsin_property_is_a_warning() -> None:
    props = [{"name": "tocsin:critcality", "value": "vital"}, {"name": "vendor:x", "value": "1"}]
    parsed = parse("cyclonedx", _bom([_lib("a", properties=props)]), "s.json")
    assert [str(w) for w in parsed.warnings] == [
        "s.json [components[0].properties[0].name]: unknown property 'tocsin:critcality' ignored"
    ]


@pytest.mark.parametrize("version", ["1.4", "1.5", "1.6"])
def test_every_supported_version(version: str) -> None:
    (asset,) = parse("cyclonedx", _bom([_lib("zlib", version="1.3.1")], version)).assets
    assert asset.version == "1.3.1"


def test_byte_order_mark_and_huge_numbers() -> None:
    assert parse("cyclonedx", "\ufeff" + _bom([_lib("zlib")])).assets
    exc = error("cyclonedx", '{"bomFormat": "CycloneDX", "n": ' + "9" * 5000 + "}")
    assert "invalid JSON" in exc.message


def test_json_path() -> None:
    assert cyclonedx.json_path(["components", 3, "components", 0, "purl"]) == (
        "components[3].components[0].purl"
    )
    assert cyclonedx.json_path([]) == "$"


def test_identical_components_are_a_schema_error_found_in_linear_time() -> None:
    components = [_lib(f"lib{i}", version="1") for i in range(3000)] + [_lib("lib7", version="1")]
    exc = error("cyclonedx", _bom(components), "sbom.json")
    assert str(exc) == (
        "sbom.json [components[3000]]: not a valid CycloneDX 1.5 document: "
        "same as item 7; items must be unique"
    )
    # jsonschema's own uniqueItems compares every pair: 100,000 components would take hours.
    validator = cyclonedx._schema_validator("1.5")
    assert validator.VALIDATORS["uniqueItems"] is cyclonedx._unique_items
