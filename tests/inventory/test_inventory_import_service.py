"""import_file end to end on SQLite and PostgreSQL: diffs, idempotence, nothing half-written."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from inventory_helpers import fixture

from tocsin.errors import InventoryError
from tocsin.inventory.normalise import AliasTable, load_aliases
from tocsin.inventory.service import ImportReport, import_file
from tocsin.model import Establishment
from tocsin.store.db import Database
from tocsin.store.inventory import StoredAsset, add_establishment, iter_assets

SLUG = "ch-saint-exemple"
LIMIT = 50_000_000


@pytest.fixture
def aliases() -> AliasTable:
    return load_aliases()


@pytest.fixture
def db(database: Database) -> Database:
    with database.session() as session:
        add_establishment(session, Establishment(SLUG, "CH Saint-Exemple"))
    return database


def _import(
    db: Database,
    path: Path,
    aliases: AliasTable,
    *,
    fmt: str | None = None,
    source: str | None = None,
    prune: bool = True,
    dry_run: bool = False,
) -> ImportReport:
    return import_file(
        db,
        path,
        SLUG,
        aliases=aliases,
        fmt=fmt,
        source=source,
        prune=prune,
        dry_run=dry_run,
        max_bytes=LIMIT,
    )


def _stored(db: Database) -> dict[str, StoredAsset]:
    with db.session() as session:
        return {s.asset.id: s for s in iter_assets(session)}


def _snapshot(db: Database) -> list[tuple[object, ...]]:
    return [(k, s.source, s.asset.comparable()) for k, s in sorted(_stored(db).items())]


def test_import_then_reimport_is_idempotent(db: Database, aliases: AliasTable) -> None:
    first = _import(db, fixture("tocsin-ch-exemple.csv"), aliases)
    assert (first.format, first.encoding, first.source, first.records) == ("csv", "utf-8", "csv", 5)
    assert len(first.diff.added) == 5
    stored = _stored(db)
    assert stored["fw-dmz-01"].asset.vendor_key == "fortinet"
    assert stored["fw-dmz-01"].asset.product_key == "fortios"
    again = _import(db, fixture("tocsin-ch-exemple.csv"), aliases)
    assert (again.diff.added, again.diff.changed, again.diff.removed) == ([], [], [])
    assert again.diff.unchanged == 5


def test_added_changed_removed_are_reported(
    db: Database, aliases: AliasTable, tmp_path: Path
) -> None:
    path = tmp_path / "parc.csv"
    path.write_text("id,name,version\na,A,1\nb,B,1\nc,C,1\n", encoding="utf-8")
    _import(db, path, aliases)
    path.write_text("id,name,version\na,A,1\nb,B,2\nd,D,1\n", encoding="utf-8")
    report = _import(db, path, aliases)
    assert (report.diff.added, report.diff.changed, report.diff.removed) == (["d"], ["b"], ["c"])
    assert report.diff.unchanged == 1
    assert report.summary()["removed"] == 1
    assert sorted(_stored(db)) == ["a", "b", "d"]


def test_a_bad_row_at_line_9000_changes_nothing(
    db: Database, aliases: AliasTable, tmp_path: Path
) -> None:
    _import(db, fixture("tocsin-ch-exemple.csv"), aliases)
    before = _snapshot(db)
    rows = [f"srv-{i},Serveur {i},medium" for i in range(2, 9000)]
    rows.append("srv-9000,Serveur 9000,apocalyptique")
    path = tmp_path / "gros.csv"
    path.write_text("id,name,criticality\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(InventoryError) as caught:
        _import(db, path, aliases, source="csv")
    assert str(caught.value).startswith(f"{path}:9000:3 [criticality]: unknown value")
    assert _snapshot(db) == before


def test_dry_run_writes_nothing(db: Database, aliases: AliasTable) -> None:
    report = _import(db, fixture("glpi-ordinateurs-fr.csv"), aliases, dry_run=True)
    assert report.dry_run and len(report.diff.added) == 5
    assert _stored(db) == {}


def test_pruning_is_per_source_and_keep_missing(
    db: Database, aliases: AliasTable, tmp_path: Path
) -> None:
    _import(db, fixture("glpi-ordinateurs-fr.csv"), aliases)
    _import(db, fixture("glpi-logiciels-fr.csv"), aliases)
    sources = {s.source for s in _stored(db).values()}
    assert sources == {"glpi-computers", "glpi-software"}
    fewer = tmp_path / "ordinateurs.csv"
    lines = fixture("glpi-ordinateurs-fr.csv").read_bytes().splitlines(keepends=True)
    fewer.write_bytes(b"".join(lines[:3]))
    kept = _import(db, fewer, aliases, fmt="glpi-computers", prune=False)
    assert kept.diff.removed == []
    pruned = _import(db, fewer, aliases, fmt="glpi-computers")
    assert sorted(pruned.diff.removed) == [
        "glpi-computer-1120",
        "glpi-computer-1133",
        "glpi-computer-1150",
    ]
    remaining = _stored(db).values()
    assert sum(s.source == "glpi-software" for s in remaining) == 8


def test_cyclonedx_import_uses_the_subject_as_source(db: Database, aliases: AliasTable) -> None:
    report = _import(db, fixture("sbom-1.6-moniteur.json"), aliases)
    assert (report.format, report.source, report.records) == (
        "cyclonedx",
        "cyclonedx:Moniteur patient MX550",
        5,
    )
    again = _import(db, fixture("sbom-1.6-moniteur.json"), aliases)
    assert again.diff.unchanged == 5 and again.diff.added == []


def test_empty_file_is_refused_unless_keep_missing(
    db: Database, aliases: AliasTable, tmp_path: Path
) -> None:
    path = tmp_path / "vide.csv"
    path.write_text("id,name\n", encoding="utf-8")
    with pytest.raises(InventoryError, match="--keep-missing"):
        _import(db, path, aliases)
    assert _import(db, path, aliases, prune=False).records == 0


def test_size_limit_refuses_before_reading(
    db: Database, aliases: AliasTable, tmp_path: Path
) -> None:
    path = tmp_path / "enorme.csv"
    shutil.copyfile(fixture("tocsin-ch-exemple.csv"), path)
    os.truncate(path, 1024**3)
    start = time.monotonic()
    with pytest.raises(InventoryError) as caught:
        import_file(db, path, SLUG, aliases=aliases, max_bytes=200 * 1024 * 1024)
    assert time.monotonic() - start < 1.0
    assert str(caught.value).startswith(str(path))
    assert "over the limit of 209,715,200" in str(caught.value)
    assert _stored(db) == {}
