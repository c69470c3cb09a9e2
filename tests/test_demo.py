"""The demo establishment: realistic content, idempotent re-runs, reset; on every backend."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter

import pytest

from tocsin import accounts
from tocsin.data import data_path
from tocsin.demo import DemoResult, run_demo
from tocsin.demo.catalogue import demo_rows, load_spec
from tocsin.demo.generate import demo_csv
from tocsin.demo.snapshot import SNAPSHOT_FILES, snapshot_dir
from tocsin.errors import AuthError
from tocsin.inventory.importers.csv import COLUMNS, CsvImporter
from tocsin.inventory.normalise import AliasTable, load_aliases
from tocsin.model import Asset, AssetKind, Criticality, Establishment, Exposure, Role
from tocsin.model.finding import Decision
from tocsin.model.inventory import CARE_FUNCTIONS
from tocsin.store import audit
from tocsin.store.db import Database
from tocsin.store.exposure_queries import ExposureFilter, iter_exposures
from tocsin.store.inventory import (
    AssetFilter,
    add_establishment,
    apply_import,
    get_asset,
    get_establishment,
    iter_assets,
)
from tocsin.watch.lifecycle import Status

SLUG = "ch-demo"


@pytest.fixture(scope="module")
def aliases() -> AliasTable:
    return load_aliases()


def _assets(database: Database) -> list[Asset]:
    with database.session() as session:
        return [s.asset for s in iter_assets(session, AssetFilter(establishments=(SLUG,)))]


def _luhn_ok(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char) * (2 if position % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


def test_bundled_csv_is_generated_from_the_tables() -> None:
    """Regenerate with: .venv/bin/python -m tocsin.demo.generate"""
    bundled = data_path("demo", "inventory.csv").read_text(encoding="utf-8")
    assert bundled == demo_csv()


def test_every_row_of_the_bundled_csv_is_valid() -> None:
    text = data_path("demo", "inventory.csv").read_text(encoding="utf-8")
    header = next(csv.reader(io.StringIO(text)))
    assert tuple(header) == COLUMNS
    parsed = CsvImporter().parse(text, "inventory.csv")
    assert parsed.warnings == []
    assert len(parsed.assets) == len(demo_rows())
    for asset in parsed.assets:
        assert asset.vendor and asset.product and asset.version, asset.id
        assert asset.function in CARE_FUNCTIONS, asset.id
        assert asset.owner and asset.location, asset.id


def test_demo_creates_a_realistic_hospital(database: Database, aliases: AliasTable) -> None:
    result = run_demo(database, aliases)
    assert isinstance(result, DemoResult)
    assert (result.establishment_slug, result.username) == (SLUG, "demo-admin")
    assert result.establishment_name == "Centre hospitalier de démonstration"
    assert 250 <= result.assets <= 350
    assert result.added == result.assets
    assert result.password is not None and len(result.password) >= 12

    assets = _assets(database)
    assert len(assets) == result.assets
    assert {a.kind for a in assets} == set(AssetKind)
    assert {a.criticality for a in assets} == set(Criticality)
    assert {a.exposure for a in assets} == set(Exposure)
    functions = Counter(a.function for a in assets)
    assert len(functions) >= 8
    assert {"DSI", "Biomédical", "Services techniques"} <= {a.owner for a in assets}
    assert sum(1 for a in assets if a.cpe) >= 100
    assert any(a.purl and a.purl.startswith("pkg:maven/") for a in assets)


def test_demo_content_is_plausible(database: Database, aliases: AliasTable) -> None:
    run_demo(database, aliases)
    assets = _assets(database)
    products = {a.product for a in assets}
    assert {"DxCare", "Vue PACS", "FortiGate", "Exchange Server", "ESXi"} <= products
    vital = {a.product for a in assets if a.criticality is Criticality.VITAL}
    assert {"DxCare", "Evita V500", "Infusomat Space", "IntelliVue MX800"} <= vital
    internet = {a.product for a in assets if a.exposure is Exposure.INTERNET}
    assert {"FortiGate", "Exchange Server", "NetScaler ADC", "Portail Patient"} <= internet
    fortigate = next(a for a in assets if a.product == "FortiGate")
    # Normalised through the alias tables, as any import is.
    assert (fortigate.vendor_key, fortigate.product_key) == ("fortinet", "fortios")
    assert fortigate.cpe is not None and fortigate.cpe.startswith("cpe:2.3:o:fortinet:fortios:")
    with database.session() as session:
        row = get_establishment(session, SLUG)
        assert row.type == "ch"
        assert row.region == "Île-de-France"
        assert row.finess is not None and _luhn_ok(row.finess)


def test_demo_account_is_an_admin_for_every_establishment(
    database: Database, aliases: AliasTable
) -> None:
    result = run_demo(database, aliases)
    assert result.password is not None
    with database.session() as session:
        account = accounts.authenticate(session, result.username, result.password)
        assert account.role is Role.ADMIN
        assert account.all_establishments
        actions = {(e.actor, e.action) for e in audit.recent(session)}
    assert {("demo", "inventory.import"), ("demo", "user.create")} <= actions


def test_second_run_is_idempotent(database: Database, aliases: AliasTable) -> None:
    first = run_demo(database, aliases)
    second = run_demo(database, aliases)
    assert second.password is None
    assert second.assets == first.assets
    assert (second.added, second.changed, second.removed) == (0, 0, 0)
    assert second.unchanged == first.assets
    assert len(_assets(database)) == first.assets
    assert first.password is not None
    with database.session() as session:
        accounts.authenticate(session, "demo-admin", first.password)


def test_reset_recreates_everything(database: Database, aliases: AliasTable) -> None:
    first = run_demo(database, aliases)
    with database.session() as session:
        row = get_establishment(session, SLUG)
        row.name = "Renamed by a user"
        apply_import(session, row.id, "csv", [Asset(id="extra-1", name="Extra")], prune=False)
        stored = get_asset(session, SLUG, "srv-dc-01").asset
    assert len(_assets(database)) == first.assets + 1

    reset = run_demo(database, aliases, reset=True)
    assert reset.assets == first.assets
    assert reset.added == first.assets
    assert reset.establishment_name == load_spec().establishment.name
    assert reset.password is not None and reset.password != first.password
    assert "extra-1" not in {a.id for a in _assets(database)}
    with database.session() as session:
        assert get_asset(session, SLUG, "srv-dc-01").asset == stored
        accounts.authenticate(session, "demo-admin", reset.password)
        with pytest.raises(AuthError):
            accounts.authenticate(session, "demo-admin", first.password or "")


def test_demo_leaves_other_establishments_alone(database: Database, aliases: AliasTable) -> None:
    with database.session() as session:
        other = add_establishment(session, Establishment("ch-other", "CH Other"))
        apply_import(session, other.id, "csv", [Asset(id="srv-dc-01", name="Their DC")])
    run_demo(database, aliases)
    run_demo(database, aliases, reset=True)
    with database.session() as session:
        assert get_asset(session, "ch-other", "srv-dc-01").asset.name == "Their DC"


def test_demo_loads_the_advisory_snapshot_and_opens_exposures(
    database: Database, aliases: AliasTable
) -> None:
    result = run_demo(database, aliases)
    with database.session() as session:
        views = list(iter_exposures(session, ExposureFilter(establishments=(SLUG,))))
    assert result.advisories > 0
    assert result.exposures == len(views) > 0
    decisions = Counter(v.decision for v in views)
    assert decisions[Decision.ACT_NOW] + decisions[Decision.OUT_OF_CYCLE] >= 1
    sources = {v.advisory.split("-")[0] for v in views}
    assert {"CVE", "CERTFR", "ICSMA"} <= sources
    assert all(v.status is Status.NEW for v in views)


def test_second_run_keeps_the_same_exposures(database: Database, aliases: AliasTable) -> None:
    first = run_demo(database, aliases)
    with database.session() as session:
        before = {v.id: v.status for v in iter_exposures(session)}
    second = run_demo(database, aliases)
    with database.session() as session:
        after = {v.id: v.status for v in iter_exposures(session)}
    assert second.exposures == first.exposures
    assert after == before


def test_the_snapshot_is_small_and_documented() -> None:
    folder = snapshot_dir()
    records = 0
    for spec in SNAPSHOT_FILES:
        path = folder / spec.name
        text = path.read_text(encoding="utf-8")
        count = (
            len(json.loads(text)["vulnerabilities"])
            if spec.kind == "kev"
            else len(text.splitlines())
        )
        assert 0 < count <= spec.limit, spec.name
        records += count
    assert records <= 60
    provenance = (folder / "PROVENANCE.md").read_text(encoding="utf-8")
    for spec in SNAPSHOT_FILES:
        assert spec.name in provenance
    assert "Licence Ouverte" in provenance
    assert "CC0" in provenance
