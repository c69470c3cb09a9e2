"""The watch service on both databases: feeds in, exposures out, and their lifecycle."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tocsin.errors import NotFoundError, UsageError
from tocsin.inventory.normalise import AliasTable, load_aliases
from tocsin.model import Asset, AssetKind, Criticality, Establishment, Exposure
from tocsin.model.advisory import Advisory, AffectedProduct
from tocsin.model.finding import Decision, MatchKind
from tocsin.store.audit import recent
from tocsin.store.db import Database
from tocsin.store.exposure_queries import ExposureFilter
from tocsin.store.exposures import apply_plan
from tocsin.store.inventory import add_establishment, apply_import, get_establishment
from tocsin.store.tables import ExposureRow, SuppressionRow
from tocsin.store.watch import upsert_advisories
from tocsin.watch.lifecycle import Change, Plan, Status
from tocsin.watch.priority import PriorityPolicy
from tocsin.watch.service import (
    exposure_counts,
    exposure_history,
    get_exposure,
    list_exposures,
    load_advisories,
    match_establishment,
    open_exposure_history,
    run_watch,
)
from tocsin.watch.sources.base import Document
from tocsin.watch.suppress import ProductPattern, Suppression, SuppressionScope
from tocsin.watch.triage import (
    add_suppression,
    expire_risk_acceptances,
    list_suppressions,
    revoke_suppression,
    set_policy,
    transition,
)

FIXTURES = Path(__file__).parent / "sources" / "fixtures"
NVD_PAGE = FIXTURES / "nvd" / "cves-page.json"
DAY0 = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
CVE = "CVE-2024-21762"


ALIASES = load_aliases()


@pytest.fixture
def aliases() -> AliasTable:
    return ALIASES


def _fortigate(key: str, version: str, **kw: object) -> Asset:
    values: dict[str, object] = {
        "name": f"FortiGate {key}",
        "kind": AssetKind.APPLIANCE,
        "vendor": "Fortinet",
        "product": "FortiOS",
        "version": version,
        "criticality": Criticality.VITAL,
        "exposure": Exposure.INTERNET,
        "function": "infrastructure",
    }
    values.update(kw)
    return Asset(key, **values)  # type: ignore[arg-type]


INVENTORY = [
    _fortigate("fw-1", "7.2.5"),
    _fortigate("fw-2", "7.2.5", criticality=Criticality.LOW, exposure=Exposure.INTERNAL),
    Asset("pc-1", "Poste accueil", kind=AssetKind.OS, vendor="Microsoft", product="Windows 11"),
]


def _setup(database: Database, assets: list[Asset] = INVENTORY) -> None:
    with database.session() as s:
        add_establishment(s, Establishment("ch-a", "CH A"))
    _reimport(database, assets)


def _reimport(database: Database, assets: list[Asset]) -> None:
    """As ``tocsin inventory import`` does: normalised names, one transaction."""
    with database.session() as s:
        normalised = [ALIASES.normalise(asset) for asset in assets]
        apply_import(s, get_establishment(s, "ch-a").id, "csv", normalised)


def _cve5_name_only(
    modified: datetime = DAY0, title: str = "FortiOS out-of-bound write"
) -> Advisory:
    """A fresh CVE 5 record: the CNA names the product but no version yet."""
    return Advisory(
        id=CVE,
        source="cve5",
        title=title,
        modified=modified,
        cves=(CVE,),
        affected=(AffectedProduct(product="FortiOS", vendor="Fortinet"),),
    )


def _store(database: Database, *advisories: Advisory) -> None:
    with database.session() as s:
        upsert_advisories(s, list(advisories), DAY0)


def _kev_doc(*cves: str, product: str = "FortiOS") -> bytes:
    entries = [
        {
            "cveID": cve,
            "vendorProject": "Fortinet",
            "product": product,
            "vulnerabilityName": f"Fortinet {product} vulnerability",
            "dateAdded": "2024-02-09",
            "shortDescription": "Out-of-bounds write.",
            "requiredAction": "Apply updates per vendor instructions.",
            "dueDate": "2024-02-16",
            "knownRansomwareCampaignUse": "Unknown",
            "notes": "",
        }
        for cve in cves
    ]
    return json.dumps(
        {"title": "KEV", "catalogVersion": "1", "count": len(entries), "vulnerabilities": entries}
    ).encode()


def _count(database: Database, table: type) -> int:
    with database.session() as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def _only(database: Database) -> ExposureRow:
    with database.session() as s:
        return s.scalars(select(ExposureRow).where(ExposureRow.asset_key == "fw-1")).one()


# --- matching and the lifecycle ------------------------------------------------------------------


def test_match_opens_exposures_with_policy_due_dates(
    database: Database, aliases: AliasTable
) -> None:
    _setup(database)
    set_policy(database, "ch-a", PriorityPolicy(scheduled_days=14, act_now_days=1), "rssi")
    _store(database, _cve5_name_only())
    report = match_establishment(database, "ch-a", aliases, now=DAY0)
    assert (report.assets, report.advisories, report.findings, report.created) == (3, 1, 2, 2)
    [fw1] = list_exposures(database, ExposureFilter(asset="fw-1"))
    assert (fw1.status, fw1.match, fw1.decision) == (
        Status.NEW,
        MatchKind.NAME_ONLY,
        Decision.SCHEDULED,
    )
    assert fw1.due_date == date(2025, 3, 24)  # 14 days: the establishment's own delay
    assert (fw1.asset_name, fw1.criticality, fw1.asset_exposure) == (
        "FortiGate fw-1",
        Criticality.VITAL,
        Exposure.INTERNET,
    )
    assert (fw1.function, fw1.asset_version, fw1.first_seen) == ("infrastructure", "7.2.5", DAY0)
    [event] = exposure_history(database, fw1.id)
    assert (event.from_status, event.to_status, event.actor) == (None, Status.NEW, "system")
    # Running again changes nothing but last_seen.
    again = match_establishment(database, "ch-a", aliases, now=DAY0 + timedelta(days=1))
    assert (again.created, again.refreshed, again.upgraded) == (0, 2, 0)
    fw1_again = get_exposure(database, fw1.id)
    assert fw1_again.updated_at == DAY0 and fw1_again.last_seen == DAY0 + timedelta(days=1)
    with database.session() as s:
        runs = [e for e in recent(s) if e.action == "watch.match"]
    assert len(runs) == 2 and runs[-1].details["created"] == 2


def test_better_data_upgrades_the_same_exposure(database: Database, aliases: AliasTable) -> None:
    _setup(database)
    _store(database, _cve5_name_only())
    match_establishment(database, "ch-a", aliases, now=DAY0)
    before = _only(database)
    # NVD adds its configurations, then KEV lists the CVE.
    load_advisories(database, {"nvd": [Document("nvd.json", NVD_PAGE.read_bytes())]}, now=DAY0)
    load_advisories(database, {"kev": [Document("kev.json", _kev_doc(CVE))]}, now=DAY0)
    later = DAY0 + timedelta(days=3)
    report = match_establishment(database, "ch-a", aliases, now=later)
    assert report.created == 0 and report.upgraded == 2
    after = _only(database)
    assert after.id == before.id and _count(database, ExposureRow) == 2
    assert (before.match_kind, after.match_kind) == ("name-only", "name+version")
    assert after.confidence > before.confidence and after.fixed_version == "7.2.7"
    assert after.kev and after.decision == "act_now"
    assert after.due_date == date(2025, 3, 15)  # more urgent: act_now, 2 days from the re-run
    assert after.first_seen.replace(tzinfo=UTC) == DAY0


def test_fixed_when_the_inventory_moves_past_the_fix(
    database: Database, aliases: AliasTable
) -> None:
    _setup(database)
    load_advisories(database, {"nvd": [Document("nvd.json", NVD_PAGE.read_bytes())]}, now=DAY0)
    match_establishment(database, "ch-a", aliases, now=DAY0)
    exposure = _only(database)
    transition(database, exposure.id, "in_remediation", "biomed", now=DAY0)
    upgraded = [_fortigate("fw-1", "7.2.7"), *INVENTORY[1:]]
    _reimport(database, upgraded)
    later = DAY0 + timedelta(days=2)
    report = match_establishment(database, "ch-a", aliases, now=later)
    assert (report.fixed, report.closed) == (1, 0)
    view = get_exposure(database, exposure.id)
    assert view.status is Status.FIXED and view.resolved_at == later
    assert view.status_reason == "inventory version 7.2.5 → 7.2.7 is not affected"
    events = exposure_history(database, exposure.id)
    assert [(e.to_status, e.actor) for e in events] == [
        (Status.NEW, "system"),
        (Status.IN_REMEDIATION, "biomed"),
        (Status.FIXED, "system"),
    ]
    with database.session() as s:
        audit = [(e.actor, e.details["to"]) for e in recent(s) if e.action == "exposure.status"]
    assert audit == [("system", "fixed"), ("biomed", "in_remediation")]
    # The asset leaves the inventory: its other exposure closes, with the reason.
    _reimport(database, [upgraded[0], upgraded[2]])
    report = match_establishment(database, "ch-a", aliases, now=later)
    assert report.closed == 1
    [gone] = list_exposures(database, ExposureFilter(asset="fw-2"))
    assert (gone.status, gone.status_reason) == (Status.CLOSED, "asset removed from the inventory")
    assert gone.asset_name is None and gone.criticality is None


def test_false_positive_by_asset_survives_a_new_advisory_version(
    database: Database, aliases: AliasTable
) -> None:
    _setup(database)
    _store(database, _cve5_name_only())
    match_establishment(database, "ch-a", aliases, now=DAY0)
    fw1 = _only(database)
    view = transition(
        database, fw1.id, Status.FALSE_POSITIVE, "rssi", "FortiOS image is not used", now=DAY0
    )
    assert view.status is Status.FALSE_POSITIVE and view.resolved_at == DAY0
    [rule] = list_suppressions(database, "ch-a")
    assert (rule.scope, rule.asset_key, rule.advisory_pattern) == ("asset", "fw-1", CVE)
    assert rule.exposure_id == fw1.id and rule.created_by == "rssi"
    # The CNA publishes a new version of the record: still suppressed, never re-opened.
    _store(database, _cve5_name_only(DAY0 + timedelta(days=5), title="updated title"))
    report = match_establishment(database, "ch-a", aliases, now=DAY0 + timedelta(days=5))
    assert (report.suppressed, report.created, report.reopened) == (1, 0, 0)
    assert get_exposure(database, fw1.id).status is Status.FALSE_POSITIVE
    assert _count(database, ExposureRow) == 2
    # Reinstated: the rule is lifted and the exposure follows the runs again.
    transition(database, fw1.id, "acknowledged", "rssi", now=DAY0 + timedelta(days=6))
    assert list_suppressions(database, "ch-a") == []
    match_establishment(database, "ch-a", aliases, now=DAY0 + timedelta(days=6))
    assert get_exposure(database, fw1.id).status is Status.ACKNOWLEDGED


def test_false_positive_by_product_pattern(database: Database, aliases: AliasTable) -> None:
    _setup(database)
    _store(database, _cve5_name_only())
    match_establishment(database, "ch-a", aliases, now=DAY0)
    fw1 = _only(database)
    transition(
        database,
        fw1.id,
        "false_positive",
        "rssi",
        "lab firewalls run a patched build",
        scope=SuppressionScope.PRODUCT,
        advisory_pattern="*",
        now=DAY0,
    )
    [rule] = list_suppressions(database, "ch-a")
    assert rule.product == ProductPattern("fortinet", "fortios")
    # The other FortiOS exposure is covered at once, a new FortiOS asset never opens one.
    statuses = {e.asset_key: e.status for e in list_exposures(database)}
    assert statuses == {"fw-1": Status.FALSE_POSITIVE, "fw-2": Status.FALSE_POSITIVE}
    _reimport(database, [*INVENTORY, _fortigate("fw-3", "7.2.5")])
    _store(database, _cve5_name_only(DAY0 + timedelta(days=1), title="v2"))
    report = match_establishment(database, "ch-a", aliases, now=DAY0 + timedelta(days=1))
    assert (report.suppressed, report.created) == (3, 0)
    # Lifting the rule brings them back at the next run.
    revoke_suppression(database, rule.id or 0, "rssi", now=DAY0 + timedelta(days=2))
    report = match_establishment(database, "ch-a", aliases, now=DAY0 + timedelta(days=2))
    assert (report.reopened, report.created) == (2, 1)
    assert {e.status for e in list_exposures(database)} == {Status.NEW}
    with database.session() as s:
        assert s.scalar(select(SuppressionRow.revoked_by)) == "rssi"


def test_a_suppression_added_directly_applies_at_once(
    database: Database, aliases: AliasTable
) -> None:
    _setup(database)
    _store(database, _cve5_name_only())
    match_establishment(database, "ch-a", aliases, now=DAY0)
    rule = Suppression(
        SuppressionScope.PRODUCT,
        "CVE-2024-*",
        "vendor says not affected",
        product=ProductPattern("forti*", "fortios"),
    )
    stored, changed = add_suppression(database, "ch-a", rule, "rssi", now=DAY0)
    assert changed == 2 and stored.id is not None
    reasons = {e.status_reason for e in list_exposures(database)}
    assert reasons == {stored.describe()}
    with pytest.raises(UsageError, match="hide everything"):
        add_suppression(
            database, "ch-a", replace(rule, advisory_pattern="*", product=ProductPattern()), "x"
        )


def test_risk_acceptance_expires(database: Database, aliases: AliasTable) -> None:
    _setup(database)
    _store(database, _cve5_name_only())
    match_establishment(database, "ch-a", aliases, now=DAY0)
    fw1 = _only(database)
    with pytest.raises(UsageError, match="requires an expiry date"):
        transition(database, fw1.id, "risk_accepted", "rssi", "replacement ordered", now=DAY0)
    until = date(2025, 4, 1)
    view = transition(
        database, fw1.id, "risk_accepted", "rssi", "replacement ordered", until, now=DAY0
    )
    assert view.status_until == datetime(2025, 4, 1, tzinfo=UTC)
    match_establishment(database, "ch-a", aliases, now=datetime(2025, 3, 31, tzinfo=UTC))
    assert get_exposure(database, fw1.id).status is Status.RISK_ACCEPTED
    report = match_establishment(database, "ch-a", aliases, now=datetime(2025, 4, 2, tzinfo=UTC))
    assert report.expired == 1
    expired = get_exposure(database, fw1.id)
    assert expired.status is Status.ACKNOWLEDGED and expired.status_until is None
    assert expired.status_reason == "risk acceptance expired on 2025-04-01"
    # Without a run, the scheduler's sweep does the same.
    fw2 = list_exposures(database, ExposureFilter(asset="fw-2"))[0]
    transition(database, fw2.id, "risk_accepted", "rssi", "isolated", until, now=DAY0)
    assert expire_risk_acceptances(database, now=datetime(2025, 3, 1, tzinfo=UTC)) == 0
    assert expire_risk_acceptances(database, now=datetime(2025, 4, 1, 1, tzinfo=UTC)) == 1
    assert get_exposure(database, fw2.id).status is Status.ACKNOWLEDGED


def test_transitions_are_checked_and_recorded(database: Database, aliases: AliasTable) -> None:
    _setup(database)
    _store(database, _cve5_name_only())
    match_establishment(database, "ch-a", aliases, now=DAY0)
    fw1 = _only(database)
    with pytest.raises(
        UsageError, match=rf"#{fw1.id} \(fw-1 × {CVE}\): cannot go from new to fixed"
    ):
        transition(database, fw1.id, "fixed", "rssi", now=DAY0)
    with pytest.raises(UsageError, match="mitigated requires a reason"):
        transition(database, fw1.id, "mitigated", "rssi", now=DAY0)
    with pytest.raises(UsageError, match="unknown status 'done'"):
        transition(database, fw1.id, "done", "rssi", now=DAY0)
    with pytest.raises(NotFoundError, match="no exposure #9999"):
        transition(database, 9999, "acknowledged", "rssi", now=DAY0)
    transition(database, fw1.id, "acknowledged", "analyst", now=DAY0)
    transition(database, fw1.id, "mitigated", "analyst", "VPN portal disabled", now=DAY0)
    history = exposure_history(database, fw1.id)
    assert [(e.from_status, e.to_status, e.reason) for e in history][1:] == [
        (Status.NEW, Status.ACKNOWLEDGED, None),
        (Status.ACKNOWLEDGED, Status.MITIGATED, "VPN portal disabled"),
    ]
    with database.session() as s:
        entries = [e for e in recent(s) if e.action == "exposure.status"]
    assert [(e.actor, e.target_id, e.details["to"]) for e in entries] == [
        ("analyst", str(fw1.id), "mitigated"),
        ("analyst", str(fw1.id), "acknowledged"),
    ]


# --- queries ------------------------------------------------------------------------------------


def test_filters_counts_and_history(database: Database, aliases: AliasTable) -> None:
    _setup(database)
    load_advisories(
        database,
        {
            "nvd": [Document("nvd.json", NVD_PAGE.read_bytes())],
            "kev": [Document("kev.json", _kev_doc(CVE))],
        },
        now=DAY0,
    )
    _store(database, _cve5_name_only())
    match_establishment(database, "ch-a", aliases, now=DAY0)
    everything = list_exposures(database)
    assert [e.asset_key for e in everything] == ["fw-1", "fw-2"]  # most urgent first
    assert everything[0].decision is Decision.ACT_NOW
    by = list_exposures
    assert [
        e.asset_key for e in by(database, ExposureFilter(criticalities=(Criticality.LOW,)))
    ] == ["fw-2"]
    assert by(database, ExposureFilter(functions=("infrastructure",), kev=True)) == everything
    assert by(database, ExposureFilter(decisions=(Decision.TRACK,))) == []
    assert len(by(database, ExposureFilter(text="fortigate FW-2"))) == 1
    assert len(by(database, ExposureFilter(advisory=CVE.lower(), statuses=(Status.NEW,)))) == 2
    assert by(database, ExposureFilter(establishments=("other",))) == []
    counts = exposure_counts(database)
    assert counts.total == counts.act_now == 2
    # The chart: fw-2 is fixed two days later, fw-1 stays open.
    transition(database, everything[1].id, "in_remediation", "biomed", now=DAY0)
    _reimport(database, [INVENTORY[0], _fortigate("fw-2", "7.2.7"), INVENTORY[2]])
    match_establishment(database, "ch-a", aliases, now=DAY0 + timedelta(days=2))
    days = open_exposure_history(database, "ch-a", 5, today=date(2025, 3, 13))
    assert [(d.day.day, d.total) for d in days] == [(9, 0), (10, 2), (11, 2), (12, 1), (13, 1)]
    with pytest.raises(UsageError):
        open_exposure_history(database, "ch-a", 0)


def test_run_watch_updates_then_matches(database: Database, aliases: AliasTable) -> None:
    _setup(database)
    result = run_watch(database, {"kev": [Document("kev.json", _kev_doc(CVE))]}, aliases, now=DAY0)
    assert result.update.ok
    [run] = result.matches
    assert run.establishment == "ch-a" and run.created == 2
    # Listed in KEV but matched by name only: out of cycle until the version is confirmed.
    assert {(e.decision, e.kev) for e in list_exposures(database)} == {
        (Decision.OUT_OF_CYCLE, True)
    }


def test_a_run_does_not_overwrite_a_change_made_meanwhile(
    database: Database, aliases: AliasTable
) -> None:
    _setup(database)
    _store(database, _cve5_name_only())
    match_establishment(database, "ch-a", aliases, now=DAY0)
    fw1 = _only(database)
    transition(database, fw1.id, "acknowledged", "rssi", now=DAY0)
    stale = Plan((), (Change(fw1.id, Status.NEW, Status.CLOSED, "read before the change"),))
    with database.session() as s:
        assert apply_plan(s, fw1.establishment_id, stale, {}, DAY0) == ()
    assert get_exposure(database, fw1.id).status is Status.ACKNOWLEDGED
    assert len(exposure_history(database, fw1.id)) == 2


def test_an_empty_inventory_closes_everything(database: Database, aliases: AliasTable) -> None:
    _setup(database)
    _store(database, _cve5_name_only())
    match_establishment(database, "ch-a", aliases, now=DAY0)
    _reimport(database, [])
    report = match_establishment(database, "ch-a", aliases, now=DAY0)
    assert (report.advisories, report.findings, report.closed) == (0, 0, 2)
