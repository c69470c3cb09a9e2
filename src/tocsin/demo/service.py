"""Set up (or refresh) the demo establishment, its inventory and the demo admin account."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.orm import Session

from tocsin import accounts
from tocsin.accounts.service import generate_password
from tocsin.data import data_path
from tocsin.demo.catalogue import DEMO_DIR, INVENTORY_FILE, EstablishmentSpec, load_spec
from tocsin.demo.snapshot import snapshot_feeds
from tocsin.errors import NotFoundError, UsageError
from tocsin.inventory.importers.csv import CsvImporter
from tocsin.inventory.normalise import AliasTable
from tocsin.model import Asset, Establishment, Role
from tocsin.store import audit
from tocsin.store.db import Database
from tocsin.store.exposure_queries import ExposureFilter, count_exposures
from tocsin.store.inventory import (
    AssetFilter,
    ImportDiff,
    add_establishment,
    apply_import,
    count_assets,
    get_establishment,
)
from tocsin.store.tables import AssetRow, EstablishmentRow
from tocsin.watch.service import load_advisories, match_establishment

DEMO_SOURCE = "demo"
ACTOR = "demo"
INVENTORY_ORIGIN = f"tocsin/data/demo/{INVENTORY_FILE}"


@dataclass(frozen=True)
class DemoResult:
    """What ``run_demo`` did. ``password`` is set only when it was (re)generated."""

    establishment_slug: str
    establishment_name: str
    assets: int
    username: str
    password: str | None
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    advisories: int = 0  # advisory records of the bundled snapshot now in the store
    exposures: int = 0  # exposures of the demo establishment after the match


def demo_assets(aliases: AliasTable) -> list[Asset]:
    """The bundled demo inventory, parsed by the CSV importer and normalised."""
    text = data_path(*DEMO_DIR, INVENTORY_FILE).read_text(encoding="utf-8")
    parsed = CsvImporter().parse(text, INVENTORY_ORIGIN)
    return [aliases.normalise(asset) for asset in parsed.assets]


def _ensure_establishment(
    session: Session, spec: EstablishmentSpec, *, reset: bool
) -> EstablishmentRow:
    try:
        row = get_establishment(session, spec.slug)
    except NotFoundError:
        row = add_establishment(
            session, Establishment(spec.slug, spec.name, spec.type, spec.finess, spec.region)
        )
        audit.record(session, ACTOR, "establishment.create", "establishment", spec.slug)
        return row
    if reset:
        row.name, row.type = spec.name, spec.type.value
        row.finess, row.region = spec.finess, spec.region
    return row


def _delete_assets(session: Session, establishment: EstablishmentRow) -> int:
    result = session.execute(delete(AssetRow).where(AssetRow.establishment_id == establishment.id))
    deleted = int(getattr(result, "rowcount", 0) or 0)
    audit.record(
        session,
        ACTOR,
        "demo.reset",
        "establishment",
        establishment.slug,
        establishment_id=establishment.id,
        details={"deleted_assets": deleted},
    )
    return deleted


def _ensure_account(session: Session, username: str, *, reset: bool) -> str | None:
    """Create the demo admin with a new password; on reset, give it a new one."""
    existing = {a.username for a in accounts.list_accounts(session)}
    if username not in existing:
        password = generate_password()
        accounts.create_user(
            session, username, password, Role.ADMIN, all_establishments=True, actor=ACTOR
        )
        return password
    if not reset:
        return None
    password = generate_password()
    accounts.update_user(
        session, username, role=Role.ADMIN, all_establishments=True, active=True, actor=ACTOR
    )
    accounts.set_password(session, username, password, actor=ACTOR)
    return password


def _import(session: Session, establishment: EstablishmentRow, assets: list[Asset]) -> ImportDiff:
    diff = apply_import(session, establishment.id, DEMO_SOURCE, assets, prune=True)
    audit.record(
        session,
        ACTOR,
        "inventory.import",
        "establishment",
        establishment.slug,
        establishment_id=establishment.id,
        details={
            "file": INVENTORY_FILE,
            "format": "csv",
            "source": DEMO_SOURCE,
            "added": len(diff.added),
            "changed": len(diff.changed),
            "removed": len(diff.removed),
        },
    )
    return diff


def _watch(database: Database, slug: str, aliases: AliasTable) -> tuple[int, int]:
    """Load the bundled advisory snapshot and match the demo establishment.

    Returns (advisory records loaded, exposures of the establishment). A snapshot feed that
    fails is an error here: the files ship with Tocsin, so a failure is a bug.
    """
    report = load_advisories(database, snapshot_feeds())
    if not report.ok:
        failures = "; ".join(f"{f.feed}: {f.error}" for f in report.failed)
        raise UsageError(f"the bundled advisory snapshot could not be loaded: {failures}")
    match_establishment(database, slug, aliases)
    with database.session() as session:
        exposures = count_exposures(session, ExposureFilter(establishments=(slug,)))
    return sum(f.inserted + f.updated + f.older + f.unchanged for f in report.feeds), exposures


def run_demo(database: Database, aliases: AliasTable, *, reset: bool = False) -> DemoResult:
    """Create or refresh the demo; then load the advisory snapshot and match it.

    The establishment, inventory and account are written in one transaction. A second run
    re-imports the bundled inventory (nothing added) and leaves the account alone;
    ``reset`` deletes every asset of the demo establishment, imports them afresh and
    gives the demo admin a new password. The snapshot (``tocsin/data/demo/advisories``,
    see :mod:`tocsin.demo.snapshot`) is then loaded and matched, so that the dashboard
    shows the demo's exposures; re-runs refresh the same exposures.
    """
    spec = load_spec()
    assets = demo_assets(aliases)
    with database.session() as session:
        establishment = _ensure_establishment(session, spec.establishment, reset=reset)
        if reset:
            _delete_assets(session, establishment)
        diff = _import(session, establishment, assets)
        password = _ensure_account(session, spec.account.username, reset=reset)
        total = count_assets(session, AssetFilter(establishments=(establishment.slug,)))
        name = establishment.name
    advisories, exposures = _watch(database, spec.establishment.slug, aliases)
    return DemoResult(
        establishment_slug=spec.establishment.slug,
        establishment_name=name,
        assets=total,
        username=spec.account.username,
        password=password,
        added=len(diff.added),
        changed=len(diff.changed),
        removed=len(diff.removed),
        unchanged=diff.unchanged,
        advisories=advisories,
        exposures=exposures,
    )
