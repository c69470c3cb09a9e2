"""The lifecycle rules and suppressions, without a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from tocsin.errors import UsageError
from tocsin.model.finding import Decision, Finding, MatchKind
from tocsin.model.inventory import Asset
from tocsin.watch.lifecycle import (
    OPEN_STATUSES,
    RESOLVED_STATUSES,
    SYSTEM_TRANSITIONS,
    USER_TRANSITIONS,
    Change,
    ExposureState,
    RunInputs,
    Status,
    Timeline,
    check_system_transition,
    check_transition,
    due_date,
    open_history,
    plan_run,
    refreshed_due_date,
)
from tocsin.watch.priority import DEFAULT_POLICY, PriorityPolicy
from tocsin.watch.suppress import (
    ProductPattern,
    Suppression,
    SuppressionScope,
    glob_matches,
    split_findings,
    validate,
)

NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
LATER = NOW + timedelta(days=30)

# --- transitions --------------------------------------------------------------------------------

ALLOWED = {
    "new": {"acknowledged", "in_remediation", "mitigated", "risk_accepted", "false_positive"},
    "acknowledged": {"in_remediation", "mitigated", "risk_accepted", "false_positive"},
    "in_remediation": {"acknowledged", "mitigated", "risk_accepted", "false_positive"},
    "mitigated": {"acknowledged", "in_remediation", "risk_accepted", "false_positive"},
    "risk_accepted": {
        "acknowledged",
        "in_remediation",
        "mitigated",
        "risk_accepted",
        "false_positive",
    },
    "false_positive": {"acknowledged"},
    "fixed": set(),
    "closed": set(),
}


def _fields(target: Status) -> dict[str, object]:
    """The least a person must give to move to ``target``."""
    reason = "vendor workaround applied" if target is not Status.ACKNOWLEDGED else None
    until = LATER if target is Status.RISK_ACCEPTED else None
    return {"reason": reason, "until": until}


def test_the_table_is_the_documented_one() -> None:
    assert {k.value: {s.value for s in v} for k, v in USER_TRANSITIONS.items()} == ALLOWED


@pytest.mark.parametrize(
    ("current", "target"),
    [(Status(c), Status(t)) for c, targets in ALLOWED.items() for t in sorted(targets)],
)
def test_every_allowed_transition_passes(current: Status, target: Status) -> None:
    check_transition("#1", current, target, now=NOW, **_fields(target))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("current", "target"),
    [(c, t) for c in Status for t in Status if t.value not in ALLOWED[c.value]],
)
def test_every_other_transition_is_refused(current: Status, target: Status) -> None:
    with pytest.raises(UsageError) as caught:
        check_transition(
            "#7 (fw-1 × CVE-2024-21762)",
            current,
            target,
            now=NOW,
            **_fields(target),  # type: ignore[arg-type]
        )
    message = str(caught.value)
    assert "#7 (fw-1 × CVE-2024-21762)" in message
    assert f"from {current.value} to {target.value}" in message


@pytest.mark.parametrize(
    ("target", "reason", "until", "why"),
    [
        (Status.MITIGATED, None, None, "mitigated requires a reason"),
        (Status.MITIGATED, "  ", None, "mitigated requires a reason"),
        (Status.FALSE_POSITIVE, None, None, "false_positive requires a reason"),
        (Status.RISK_ACCEPTED, None, LATER, "risk_accepted requires a reason"),
        (Status.RISK_ACCEPTED, "legacy device", None, "requires an expiry date"),
        (Status.RISK_ACCEPTED, "legacy device", NOW, "must be in the future"),
        (Status.ACKNOWLEDGED, None, LATER, "an expiry applies to risk_accepted"),
    ],
)
def test_required_fields(target: Status, reason: str | None, until: datetime, why: str) -> None:
    with pytest.raises(UsageError, match=why):
        check_transition("#1", Status.NEW, target, reason=reason, until=until, now=NOW)


def test_system_transitions() -> None:
    for status in Status:
        if status in RESOLVED_STATUSES:
            assert SYSTEM_TRANSITIONS[status] == {Status.NEW}
        else:
            assert {Status.FIXED, Status.CLOSED, Status.FALSE_POSITIVE} <= SYSTEM_TRANSITIONS[
                status
            ]
    check_system_transition("#1", Status.RISK_ACCEPTED, Status.ACKNOWLEDGED)
    with pytest.raises(UsageError, match="from new to acknowledged"):
        check_system_transition("#1", Status.NEW, Status.ACKNOWLEDGED)
    with pytest.raises(UsageError, match="from fixed to closed"):
        check_system_transition("#1", Status.FIXED, Status.CLOSED)


# --- due dates ---------------------------------------------------------------------------------


def test_due_dates_from_the_policy() -> None:
    days = {d: due_date(d, DEFAULT_POLICY, TODAY) for d in Decision}
    assert days == {
        Decision.ACT_NOW: date(2025, 3, 12),
        Decision.OUT_OF_CYCLE: date(2025, 3, 17),
        Decision.SCHEDULED: date(2025, 4, 9),
        Decision.TRACK: None,
    }
    mine = PriorityPolicy(act_now_days=1, track_days=90)
    assert due_date(Decision.ACT_NOW, mine, TODAY) == date(2025, 3, 11)
    assert due_date(Decision.TRACK, mine, TODAY) == date(2025, 6, 8)


def test_due_date_moves_only_earlier_when_more_urgent() -> None:
    old = date(2025, 4, 1)
    refreshed = refreshed_due_date
    assert refreshed(Decision.SCHEDULED, Decision.ACT_NOW, old, DEFAULT_POLICY, TODAY) == date(
        2025, 3, 12
    )
    assert refreshed(Decision.ACT_NOW, Decision.SCHEDULED, old, DEFAULT_POLICY, TODAY) == old
    assert refreshed(Decision.SCHEDULED, Decision.SCHEDULED, old, DEFAULT_POLICY, TODAY) == old
    # More urgent, but the old due date is already earlier: it stays.
    soon = date(2025, 3, 11)
    assert refreshed(Decision.SCHEDULED, Decision.OUT_OF_CYCLE, soon, DEFAULT_POLICY, TODAY) == soon
    assert refreshed(Decision.TRACK, Decision.SCHEDULED, None, DEFAULT_POLICY, TODAY) == date(
        2025, 4, 9
    )


# --- a match run ------------------------------------------------------------------------------


def _finding(asset: str = "fw-1", advisory: str = "CVE-2024-21762", **kw: object) -> Finding:
    values: dict[str, object] = {
        "cves": (advisory,),
        "match": MatchKind.CPE,
        "confidence": 1.0,
        "evidence": "cpe:2.3:o:fortinet:fortios [< 7.2.7]",
        "fixed": "7.2.7",
        "decision": Decision.ACT_NOW,
        "score": 90,
    }
    values.update(kw)
    return Finding(asset, advisory, **values)  # type: ignore[arg-type]


def _state(status: Status = Status.NEW, **kw: object) -> ExposureState:
    values: dict[str, object] = {
        "id": 1,
        "asset_key": "fw-1",
        "advisory": "CVE-2024-21762",
        "status": status,
        "decision": Decision.SCHEDULED,
        "match": MatchKind.NAME_ONLY,
        "due_date": date(2025, 4, 1),
        "asset_version": "7.2.5",
    }
    values.update(kw)
    return ExposureState(**values)  # type: ignore[arg-type]


def _inputs(
    versions: dict[str, str | None] | None = None, withdrawn: frozenset[str] = frozenset()
) -> RunInputs:
    return RunInputs(
        {"fw-1": "7.2.5"} if versions is None else versions, withdrawn, DEFAULT_POLICY, NOW
    )


def test_new_findings_open_exposures() -> None:
    plan = plan_run([], [_finding(), _finding("pc-1", decision=Decision.TRACK)], [], _inputs())
    assert plan.created == 2 and plan.changes == ()
    first, second = plan.upserts
    assert (first.due_date, first.asset_version) == (date(2025, 3, 12), "7.2.5")
    assert second.due_date is None and second.asset_version is None


def test_better_evidence_updates_the_same_exposure() -> None:
    plan = plan_run([_state()], [_finding()], [], _inputs())
    [upsert] = plan.upserts
    assert upsert.exposure_id == 1 and upsert.upgraded and plan.created == 0
    assert upsert.due_date == date(2025, 3, 12)  # scheduled → act_now: due sooner
    # The same finding twice in one run still makes one exposure.
    plan = plan_run([], [_finding(), _finding(score=10)], [], _inputs())
    assert plan.created == 1 and plan.upserts[0].finding.score == 90


@pytest.mark.parametrize(
    ("versions", "withdrawn", "status", "reason"),
    [
        ({"fw-1": "7.2.7"}, frozenset(), Status.FIXED, "inventory version 7.2.5 → 7.2.7"),
        ({}, frozenset(), Status.CLOSED, "asset removed from the inventory"),
        ({"fw-1": "7.2.5"}, frozenset({"CVE-2024-21762"}), Status.CLOSED, "advisory withdrawn"),
        ({"fw-1": "7.2.5"}, frozenset(), Status.CLOSED, "advisory no longer matches"),
    ],
)
def test_disappeared_findings(
    versions: dict[str, str | None], withdrawn: frozenset[str], status: Status, reason: str
) -> None:
    plan = plan_run([_state(Status.IN_REMEDIATION)], [], [], _inputs(versions, withdrawn))
    [change] = plan.changes
    assert (change.from_status, change.to_status) == (Status.IN_REMEDIATION, status)
    assert reason in change.reason


def test_version_learnt_is_not_a_fix() -> None:
    plan = plan_run([_state(asset_version=None)], [], [], _inputs({"fw-1": "7.4.1"}))
    assert plan.changes[0].to_status is Status.CLOSED
    assert "version 7.4.1 now known" in plan.changes[0].reason


def test_resolved_exposures_stay_resolved_unless_seen_again() -> None:
    states = [_state(s, id=i, asset_key=f"a{i}") for i, s in enumerate(RESOLVED_STATUSES)]
    assert plan_run(states, [], [], _inputs()).changes == ()
    fixed = _state(Status.FIXED, asset_version="7.2.7")
    plan = plan_run([fixed], [_finding()], [], _inputs())
    assert plan.changes == (Change(1, Status.FIXED, Status.NEW, plan.changes[0].reason),)
    assert plan.changes[0].reason.startswith("seen again")
    assert plan.upserts[0].due_date == date(2025, 3, 12)  # a fresh due date


def test_suppressed_findings_turn_exposures_into_false_positives() -> None:
    plan = plan_run([_state(Status.ACKNOWLEDGED)], [], [(_finding(), "rule #3")], _inputs())
    assert plan.changes == (Change(1, Status.ACKNOWLEDGED, Status.FALSE_POSITIVE, "rule #3"),)
    assert plan.upserts == ()
    # Never re-opened, and no exposure created for a suppressed finding.
    assert (
        plan_run([_state(Status.FALSE_POSITIVE)], [], [(_finding(), "r")], _inputs()).changes == ()
    )
    assert plan_run([], [], [(_finding(), "r")], _inputs()).upserts == ()


def test_risk_acceptance_expires() -> None:
    accepted = _state(Status.RISK_ACCEPTED, status_until=NOW - timedelta(hours=1))
    plan = plan_run([accepted], [_finding()], [], _inputs())
    [change] = plan.changes
    assert change.to_status is Status.ACKNOWLEDGED
    assert change.reason == "risk acceptance expired on 2025-03-10"
    current = replace(accepted, status_until=NOW + timedelta(days=1))
    assert plan_run([current], [_finding()], [], _inputs()).changes == ()


# --- the chart --------------------------------------------------------------------------------


def _at(day: int, hour: int = 12) -> datetime:
    return datetime(2025, 3, day, hour, tzinfo=UTC)


def test_open_history_counts_open_exposures_per_day() -> None:
    timelines = [
        Timeline(Decision.ACT_NOW, ((_at(2), Status.NEW), (_at(4), Status.FIXED))),
        Timeline(
            Decision.SCHEDULED,
            (
                (_at(1), Status.NEW),
                (_at(2), Status.ACKNOWLEDGED),
                (_at(3), Status.RISK_ACCEPTED),
                (_at(5), Status.ACKNOWLEDGED),
            ),
        ),
        Timeline(Decision.ACT_NOW, ((_at(3, 8), Status.NEW), (_at(3, 9), Status.FALSE_POSITIVE))),
        Timeline(Decision.TRACK, ((datetime(2025, 1, 1, tzinfo=UTC), Status.NEW),)),
    ]
    days = open_history(timelines, date(2025, 3, 1), date(2025, 3, 6))
    assert [(d.day.day, d.act_now, d.scheduled, d.track) for d in days] == [
        (1, 0, 1, 1),
        (2, 1, 1, 1),
        (3, 1, 0, 1),
        (4, 0, 0, 1),
        (5, 0, 1, 1),
        (6, 0, 1, 1),
    ]
    assert days[1].total == 3 and days[1].by_decision(Decision.ACT_NOW) == 1
    assert OPEN_STATUSES == {Status.NEW, Status.ACKNOWLEDGED, Status.IN_REMEDIATION}
    assert open_history(timelines, date(2025, 3, 6), date(2025, 3, 1)) == ()


# --- suppressions -------------------------------------------------------------------------------


def test_globs() -> None:
    assert glob_matches("*", None) and glob_matches("forti*", "FortiOS")
    assert glob_matches("CVE-2024-*", "cve-2024-21762")
    assert not glob_matches("forti*", "xfortios") and not glob_matches("forti*", None)
    assert glob_matches("a.b", "a.b") and not glob_matches("a.b", "axb")


FORTIOS = Asset("fw-1", "FortiGate", vendor_key="fortinet", product_key="fortios")
FORTIMAIL = Asset("mail-1", "FortiMail", vendor_key="fortinet", product_key="fortimail")


def test_rules_cover_by_asset_product_and_advisory() -> None:
    by_asset = Suppression(SuppressionScope.ASSET, "CVE-2024-21762", "not exposed", "fw-1")
    assert by_asset.covers("CVE-2024-21762", (), "fw-1", FORTIOS)
    assert not by_asset.covers("CVE-2024-21762", (), "fw-2", FORTIOS)
    # A CVE pattern covers the bulletins that list the CVE.
    assert by_asset.covers("CERTFR-2024-AVI-0001", ("CVE-2024-21762",), "fw-1", FORTIOS)
    assert not by_asset.covers("CVE-2024-23113", (), "fw-1", FORTIOS)
    by_product = Suppression(
        SuppressionScope.PRODUCT, "*", "lab devices", product=ProductPattern("fortinet", "forti*")
    )
    assert by_product.covers("CVE-1", (), "fw-1", FORTIOS)
    assert by_product.covers("CVE-1", (), "mail-1", FORTIMAIL)
    assert not by_product.covers("CVE-1", (), "x", Asset("x", "X", product_key="fortios"))
    assert not by_product.covers("CVE-1", (), "gone", None)
    assert (
        "rule #4 (product fortinet/forti*, *): lab devices" in replace(by_product, id=4).describe()
    )


def test_rules_are_validated() -> None:
    with pytest.raises(UsageError, match="needs a reason"):
        validate(Suppression(SuppressionScope.ASSET, "CVE-1", " ", "fw-1"))
    with pytest.raises(UsageError, match="needs the asset's key"):
        validate(Suppression(SuppressionScope.ASSET, "CVE-1", "why"))
    with pytest.raises(UsageError, match="needs vendor and product patterns"):
        validate(Suppression(SuppressionScope.PRODUCT, "CVE-1", "why"))
    with pytest.raises(UsageError, match="would hide everything"):
        validate(Suppression(SuppressionScope.PRODUCT, "*", "why", product=ProductPattern()))
    with pytest.raises(UsageError, match="invalid advisory pattern"):
        validate(Suppression(SuppressionScope.ASSET, "CVE 1; drop", "why", "fw-1"))
    validate(Suppression(SuppressionScope.PRODUCT, "CVE-1", "why", product=ProductPattern()))


def test_split_findings_uses_live_rules_only() -> None:
    rule = Suppression(SuppressionScope.ASSET, "*", "decommissioned soon", "fw-1")
    expired = replace(rule, asset_key="mail-1", expires_at=NOW)
    revoked = replace(rule, asset_key="pc-1", revoked_at=NOW - timedelta(days=1))
    findings = [_finding("fw-1"), _finding("mail-1"), _finding("pc-1")]
    assets = {"fw-1": FORTIOS, "mail-1": FORTIMAIL}
    kept, covered = split_findings(findings, assets, [rule, expired, revoked], NOW)
    assert [f.asset for f in kept] == ["mail-1", "pc-1"]
    assert [(f.asset, r) for f, r in covered] == [("fw-1", rule)]
