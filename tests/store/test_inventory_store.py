"""Asset persistence: upsert by id, diff, pruning, filters, scope, streaming."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tocsin.errors import NotFoundError, UsageError
from tocsin.model import Asset, AssetKind, Criticality, Establishment, Exposure
from tocsin.store.db import Database
from tocsin.store.inventory import (
    AssetFilter,
    Scope,
    add_establishment,
    apply_import,
    asset_counts,
    count_assets,
    get_asset,
    iter_assets,
)


def _assets(n: int) -> list[Asset]:
    return [
        Asset(
            id=f"a{i}",
            name=f"Asset {i}",
            kind=AssetKind.MEDICAL_DEVICE if i % 2 else AssetKind.SOFTWARE,
            vendor="Fortinet",
            product="FortiGate",
            version=f"7.2.{i}",
            criticality=Criticality.VITAL if i % 3 == 0 else Criticality.LOW,
            exposure=Exposure.INTERNET if i == 0 else Exposure.INTERNAL,
            tags=("dmz", "vpn") if i % 2 else ("bloc",),
        )
        for i in range(n)
    ]


def test_upsert_diff_and_prune(database: Database) -> None:
    with database.session() as s:
        est = add_establishment(s, Establishment("ch-a", "CH A"))
        diff = apply_import(s, est.id, "csv", _assets(5))
    assert sorted(diff.added) == ["a0", "a1", "a2", "a3", "a4"]
    changed = _assets(4)
    changed[1] = replace(changed[1], version="7.4.0")
    with database.session() as s:
        diff = apply_import(s, est.id, "csv", changed)
    assert diff.added == []
    assert diff.changed == ["a1"]
    assert diff.removed == ["a4"]
    assert diff.unchanged == 3
    with database.session() as s:
        again = apply_import(s, est.id, "csv", changed)
        assert (again.added, again.changed, again.removed, again.unchanged) == ([], [], [], 4)
        assert get_asset(s, "ch-a", "a1").asset.version == "7.4.0"
        with pytest.raises(NotFoundError):
            get_asset(s, "ch-a", "a4")


def test_other_sources_are_not_pruned(database: Database) -> None:
    with database.session() as s:
        est = add_establishment(s, Establishment("ch-a", "CH A"))
        apply_import(s, est.id, "csv", _assets(3))
        apply_import(s, est.id, "glpi", [Asset(id="pc-1", name="PC 1", kind=AssetKind.OS)])
        diff = apply_import(s, est.id, "csv", _assets(2))
        assert diff.removed == ["a2"]
        assert count_assets(s) == 3


def test_failed_transaction_leaves_nothing(database: Database) -> None:
    with database.session() as s:
        est = add_establishment(s, Establishment("ch-a", "CH A"))
    with pytest.raises(RuntimeError), database.session() as s:
        apply_import(s, est.id, "csv", _assets(10))
        raise RuntimeError("boom")
    with database.session() as s:
        assert count_assets(s) == 0


def test_filters_scope_and_counts(database: Database) -> None:
    with database.session() as s:
        a = add_establishment(s, Establishment("ch-a", "CH A"))
        b = add_establishment(s, Establishment("ch-b", "CH B"))
        apply_import(s, a.id, "csv", _assets(6))
        apply_import(s, b.id, "csv", _assets(2))
    with database.session() as s:
        assert count_assets(s) == 8
        assert count_assets(s, AssetFilter(establishments=("ch-b",))) == 2
        assert count_assets(s, AssetFilter(kinds=(AssetKind.MEDICAL_DEVICE,))) == 4
        assert count_assets(s, AssetFilter(criticalities=(Criticality.VITAL,))) == 3
        assert count_assets(s, AssetFilter(exposures=(Exposure.INTERNET,))) == 2
        assert count_assets(s, AssetFilter(tag="vpn")) == 4
        assert count_assets(s, AssetFilter(tag="vp")) == 0
        assert count_assets(s, AssetFilter(search="7.2.5")) == 1
        assert count_assets(s, AssetFilter(search="FORTIgate")) == 8
        assert count_assets(s, AssetFilter(search="100%")) == 0
        assert count_assets(s, scope=Scope(frozenset({b.id}))) == 2
        assert [x.establishment for x in iter_assets(s, scope=Scope(frozenset({b.id})))] == [
            "ch-b",
            "ch-b",
        ]
        counts = asset_counts(s)
        assert counts[a.id]["total"] == 6
        assert counts[a.id]["vital"] == 2
        keys = [x.asset.id for x in iter_assets(s, AssetFilter(establishments=("ch-a",)), batch=2)]
        assert keys == sorted(keys) and len(keys) == 6


def test_duplicate_establishment_refused(database: Database) -> None:
    with database.session() as s:
        add_establishment(s, Establishment("ch-a", "CH A"))
    with pytest.raises(UsageError), database.session() as s:
        add_establishment(s, Establishment("ch-a", "Another"))
