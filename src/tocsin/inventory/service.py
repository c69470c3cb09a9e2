"""Inventory service: read a file, parse it, normalise, and apply it in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from tocsin.errors import InventoryError, Location
from tocsin.inventory.importers import ImportWarning, detect_importer, get_importer
from tocsin.inventory.importers.reading import DecodedText, read_text
from tocsin.inventory.normalise import AliasTable
from tocsin.model import Asset
from tocsin.store import audit
from tocsin.store.db import Database
from tocsin.store.inventory import ImportDiff, apply_import, get_establishment

Progress = Callable[[str, int, int | None], None]
"""Called with (stage, done, total) while an import runs."""


@dataclass
class ImportReport:
    """What an import did (or would do, in a dry run)."""

    file: str
    format: str
    encoding: str
    establishment: str
    source: str
    records: int
    diff: ImportDiff
    warnings: list[ImportWarning] = field(default_factory=list)
    dry_run: bool = False

    def summary(self) -> dict[str, object]:
        return {
            "file": self.file,
            "format": self.format,
            "encoding": self.encoding,
            "establishment": self.establishment,
            "source": self.source,
            "records": self.records,
            "added": len(self.diff.added),
            "changed": len(self.diff.changed),
            "removed": len(self.diff.removed),
            "unchanged": self.diff.unchanged,
            "warnings": [str(w) for w in self.warnings],
            "dry_run": self.dry_run,
        }


def parse_file(
    path: Path,
    *,
    fmt: str | None,
    max_bytes: int,
    encoding: str | None = None,
    progress: Progress | None = None,
) -> tuple[str, DecodedText, list[Asset], str, list[ImportWarning]]:
    decoded = read_text(path, max_bytes, encoding)
    importer = get_importer(fmt) if fmt else detect_importer(decoded.text[:4096], str(path))

    def step(done: int) -> None:
        if progress is not None:
            progress("parse", done, None)

    parsed = importer.parse(decoded.text, str(path), step)
    return importer.name, decoded, parsed.assets, parsed.source, parsed.warnings


def import_file(
    database: Database,
    path: Path,
    establishment: str,
    *,
    aliases: AliasTable,
    fmt: str | None = None,
    source: str | None = None,
    encoding: str | None = None,
    prune: bool = True,
    dry_run: bool = False,
    max_bytes: int,
    actor: str = "cli",
    progress: Progress | None = None,
) -> ImportReport:
    """Import ``path`` into ``establishment``; nothing is written unless all of it is valid."""
    name, decoded, assets, default_source, warnings = parse_file(
        path, fmt=fmt, max_bytes=max_bytes, encoding=encoding, progress=progress
    )
    if not assets and prune:
        raise InventoryError(
            "no asset in the file; refusing to remove every asset of this source "
            "(use --keep-missing to import an empty file)",
            Location(str(path)),
        )
    normalised = [aliases.normalise(a) for a in assets]
    if progress is not None:
        progress("normalise", len(normalised), len(normalised))
    chosen_source = source or default_source
    with database.session() as session:
        est = get_establishment(session, establishment)
        diff = apply_import(session, est.id, chosen_source, normalised, prune=prune)
        if progress is not None:
            progress("store", len(normalised), len(normalised))
        if dry_run:
            session.rollback()
        else:
            audit.record(
                session,
                actor,
                "inventory.import",
                "establishment",
                establishment,
                establishment_id=est.id,
                details={
                    "file": path.name,
                    "format": name,
                    "source": chosen_source,
                    "added": len(diff.added),
                    "changed": len(diff.changed),
                    "removed": len(diff.removed),
                },
            )
    return ImportReport(
        file=str(path),
        format=name,
        encoding=decoded.encoding,
        establishment=establishment,
        source=chosen_source,
        records=len(assets),
        diff=diff,
        warnings=warnings,
        dry_run=dry_run,
    )


def renormalise(assets: Iterator[Asset], aliases: AliasTable) -> Iterator[Asset]:
    for asset in assets:
        yield aliases.normalise(replace(asset, vendor_key=None, product_key=None))
