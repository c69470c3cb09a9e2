"""Detection alerts in the store: grouped, linked to assets, updated not duplicated, triaged."""

from __future__ import annotations

from dataclasses import replace

import pytest
from alert_samples import T0, sigma

from tocsin.errors import NotFoundError, UsageError
from tocsin.model import Asset, Establishment, EstablishmentType
from tocsin.model.alerts import AlertStatus
from tocsin.store import audit
from tocsin.store.alerts import (
    AlertFilter,
    alert_counts,
    count_alerts,
    get_alert,
    host_key,
    list_alerts,
    save_alerts,
    set_status,
)
from tocsin.store.db import Database
from tocsin.store.inventory import add_establishment, apply_import


@pytest.fixture
def est(database: Database) -> int:
    with database.session() as session:
        row = add_establishment(session, Establishment("chu-a", "CHU A", EstablishmentType.CHU))
        apply_import(session, row.id, "t", [Asset(id="a-001", name="File server")])
        other = add_establishment(session, Establishment("ch-b", "CH B", EstablishmentType.CH))
        apply_import(session, other.id, "t", [Asset(id="a-001", name="Other")])
        return row.id


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("SRV-FILE-01.chu.local", "srv-file-01"),
        ("CHU\\PC-12$", "pc-12"),
        ("10.0.0.12", "10.0.0.12"),
        ("2001:db8::1", "2001:db8::1"),
        ("  ", None),
        (None, None),
    ],
)
def test_host_keys(host: str | None, key: str | None) -> None:
    assert host_key(host) == key


def test_saving_twice_keeps_one_alert_and_links_the_asset(database: Database, est: int) -> None:
    with database.session() as session:
        first = save_alerts(session, est, [sigma()])
    assert len(first.new) == 1 and first.linked == 1
    with database.session() as session:
        again = save_alerts(session, est, [sigma()])
        assert (again.new, again.updated, again.unchanged) == ([], [], 1)
        stored = list_alerts(session, est)
    assert len(stored) == 1
    alert = stored[0]
    assert alert.asset_key == "a-001" and alert.asset_name == "File server"
    assert alert.status is AlertStatus.NEW
    assert alert.alert.events[0].fields["CommandLine"].startswith("vssadmin")
    assert alert.alert.first == T0


def test_a_grown_alert_is_updated_and_keeps_its_status(database: Database, est: int) -> None:
    with database.session() as session:
        (alert_id,) = save_alerts(session, est, [sigma()]).new
        set_status(session, est, alert_id, "acknowledged", "alice", "looking")
    grown = sigma(count=5)
    with database.session() as session:
        report = save_alerts(session, est, [grown])
        assert report.updated == [alert_id]
        stored = get_alert(session, est, alert_id)
    assert stored.alert.count == 5 and stored.alert.last == grown.last
    assert stored.status is AlertStatus.ACKNOWLEDGED and stored.note == "looking"


def test_other_windows_hosts_and_rules_are_other_alerts(database: Database, est: int) -> None:
    alerts = [
        sigma(),
        sigma(minutes=90),  # next hour's window
        sigma(host="pc-9"),
        sigma(rule="r-bcd", title="Recovery disabled with bcdedit", level="critical"),
        replace(sigma(), host="a-001.CHU-A.local"),  # the first host in other letter case
    ]
    with database.session() as session:
        report = save_alerts(session, est, alerts)
    # host case is folded into the group key: the last one is the first one again
    assert len(report.new) == 4 and report.unchanged == 1
    with database.session() as session:
        assert count_alerts(session, est) == 4
        assert count_alerts(session, est, AlertFilter(min_level="critical")) == 1
        assert count_alerts(session, est, AlertFilter(host="A-001")) == 3
        assert count_alerts(session, est, AlertFilter(text="BCDEDIT")) == 1
        assert alert_counts(session, est) == {"high": 3, "critical": 1}


def test_status_changes_are_audited_and_checked(database: Database, est: int) -> None:
    with database.session() as session:
        (alert_id,) = save_alerts(session, est, [sigma()]).new
    with database.session() as session:
        set_status(session, est, alert_id, AlertStatus.FALSE_POSITIVE, "bob", "admin backup job")
    with database.session() as session:
        entry = audit.recent(session, limit=1)[0]
        assert (entry.actor, entry.action, entry.target_id) == (
            "bob",
            "detect.alert.status",
            str(alert_id),
        )
        assert entry.details["to"] == "false_positive"
        assert count_alerts(session, est, AlertFilter(statuses=["new", "acknowledged"])) == 0
        with pytest.raises(UsageError):
            set_status(session, est, alert_id, "solved", "bob")
        with pytest.raises(NotFoundError):
            get_alert(session, est + 1, alert_id)  # another establishment's view


def test_unknown_filters_are_usage_errors(database: Database, est: int) -> None:
    with database.session() as session, pytest.raises(UsageError):
        list_alerts(session, est, AlertFilter(min_level="severe"))


def test_numbered_machines_link_to_their_fleet_when_not_listed_alone(
    database: Database, est: int
) -> None:
    with database.session() as session:
        apply_import(
            session, est, "fleet", [Asset(id="pc-urg", name="PC urgences (x12)"),
                                    Asset(id="pc-urg-03", name="PC urgences 3")],
        )  # fmt: skip
        save_alerts(session, est, [sigma(host="PC-URG-07.chu.local"), sigma(host="pc-urg-03"),
                                   sigma(host="10.0.0.12"), sigma(host="a-001-2")])  # fmt: skip
        linked = {a.alert.host: a.asset_key for a in list_alerts(session, est)}
    assert linked == {
        "PC-URG-07.chu.local": "pc-urg",  # the fleet
        "pc-urg-03": "pc-urg-03",  # listed on its own: itself
        "10.0.0.12": None,
        "a-001-2": "a-001",
    }
