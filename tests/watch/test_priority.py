"""The priority model: each branch of the decision table, the score and its reasons."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tocsin.model.advisory import Exploitation, Severity
from tocsin.model.finding import Decision
from tocsin.model.inventory import Asset, Criticality, Exposure
from tocsin.watch.priority import (
    ExploitationLevel,
    HumanImpact,
    PriorityPolicy,
    Signals,
    assess,
    decide,
    prioritise,
)

A, P, N = ExploitationLevel.ACTIVE, ExploitationLevel.POC, ExploitationLevel.NONE
OPEN, CONTROLLED, SMALL = Exposure.INTERNET, Exposure.INTERNAL, Exposure.ISOLATED
VH, H, M, L = HumanImpact.VERY_HIGH, HumanImpact.HIGH, HumanImpact.MEDIUM, HumanImpact.LOW
CRITICAL_NETWORK = Severity("cvss_v3", 9.8, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
LOCAL_PARTIAL = Severity("cvss_v3", 5.5, "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N")


def asset(
    criticality: Criticality = Criticality.MEDIUM,
    exposure: Exposure = Exposure.INTERNAL,
    function: str | None = None,
) -> Asset:
    return Asset("a", "A", criticality=criticality, exposure=exposure, function=function)


@pytest.mark.parametrize(
    ("exploitation", "exposure", "automatable", "impact", "decision"),
    [
        # Exploited: vital or internet-exposed assets are acted on now.
        (A, SMALL, False, VH, Decision.ACT_NOW),
        (A, OPEN, False, L, Decision.ACT_NOW),
        (A, CONTROLLED, True, L, Decision.ACT_NOW),
        (A, CONTROLLED, False, H, Decision.ACT_NOW),
        (A, CONTROLLED, False, M, Decision.OUT_OF_CYCLE),
        (A, SMALL, True, H, Decision.OUT_OF_CYCLE),
        # Proof of concept (or high EPSS).
        (P, OPEN, True, H, Decision.ACT_NOW),
        (P, OPEN, False, L, Decision.OUT_OF_CYCLE),
        (P, CONTROLLED, True, L, Decision.OUT_OF_CYCLE),
        (P, CONTROLLED, False, VH, Decision.OUT_OF_CYCLE),
        (P, CONTROLLED, False, M, Decision.SCHEDULED),
        (P, SMALL, True, VH, Decision.SCHEDULED),
        # No known exploitation.
        (N, OPEN, True, H, Decision.OUT_OF_CYCLE),
        (N, OPEN, False, L, Decision.SCHEDULED),
        (N, SMALL, False, H, Decision.SCHEDULED),
        (N, CONTROLLED, True, L, Decision.SCHEDULED),
        (N, CONTROLLED, False, M, Decision.SCHEDULED),
        (N, CONTROLLED, False, L, Decision.TRACK),
        (N, SMALL, True, M, Decision.TRACK),
    ],
)
def test_decision_table(
    exploitation: ExploitationLevel,
    exposure: Exposure,
    automatable: bool,
    impact: HumanImpact,
    decision: Decision,
) -> None:
    assert decide(exploitation, exposure, automatable, impact) is decision


def test_kev_on_a_vital_asset_is_act_now_with_reasons_and_a_due_date() -> None:
    signals = Signals(
        Exploitation(kev=True, kev_date_added="2024-01-10", ransomware_use=True),
        (CRITICAL_NETWORK,),
    )
    vital = asset(Criticality.VITAL, Exposure.INTERNAL, "réanimation")
    priority = prioritise(vital, signals, 0.95)
    assert priority.decision is Decision.ACT_NOW and priority.due_days == 2
    assert priority.reasons[:2] == (
        "listed in CISA KEV since 2024-01-10",
        "used in ransomware campaigns",
    )
    assert "vital for patient safety (réanimation)" in priority.reasons
    assert "CVSS 9.8" in priority.reasons
    assert "network, no privileges, no user interaction (CVSS)" in priority.reasons
    assert priority.score >= 85


@pytest.mark.parametrize(
    ("exploitation", "reason"),
    [
        (Exploitation(certfr_alert=True), "CERT-FR alerte"),
        (Exploitation(ssvc_exploitation="active"), "actively exploited (SSVC)"),
    ],
)
def test_other_active_exploitation_signals(exploitation: Exploitation, reason: str) -> None:
    priority = prioritise(asset(exposure=Exposure.INTERNET), Signals(exploitation), 0.9)
    assert priority.decision is Decision.ACT_NOW
    assert reason in priority.reasons


def test_high_epss_counts_as_proof_of_concept() -> None:
    signals = Signals(Exploitation(epss=0.94, epss_percentile=0.995))
    priority = prioritise(asset(exposure=Exposure.INTERNET), signals, 0.9)
    assert priority.decision is Decision.OUT_OF_CYCLE
    assert "EPSS 0.94 (top 1%)" in priority.reasons
    low = prioritise(asset(exposure=Exposure.INTERNET), Signals(Exploitation(epss=0.01)), 0.9)
    assert low.decision is Decision.SCHEDULED and "EPSS 0.01" in low.reasons


def test_ssvc_automatable_and_technical_impact() -> None:
    signals = Signals(
        Exploitation(ssvc_exploitation="poc", ssvc_automatable=True, ssvc_technical_impact="total")
    )
    priority = prioritise(asset(Criticality.HIGH, Exposure.INTERNET), signals, 0.9)
    assert priority.decision is Decision.ACT_NOW
    assert {
        "public proof of concept (SSVC)",
        "automatable (SSVC)",
        "total technical impact (SSVC)",
    } <= set(priority.reasons)


def test_partial_technical_impact_lowers_the_human_impact() -> None:
    # A medium-criticality internal asset: medium impact → scheduled; partial → low → track.
    assert prioritise(asset(), Signals(), 0.9).decision is Decision.SCHEDULED
    assert prioritise(asset(), Signals(Exploitation(), (LOCAL_PARTIAL,)), 0.9).decision is (
        Decision.TRACK
    )


def test_isolated_low_criticality_is_tracked_without_due_date() -> None:
    priority = prioritise(asset(Criticality.LOW, Exposure.ISOLATED), Signals(), 0.9)
    assert priority.decision is Decision.TRACK and priority.due_days is None
    assert "isolated network" in priority.reasons and "low criticality" in priority.reasons


def test_uncertain_match_is_not_act_now() -> None:
    signals = Signals(Exploitation(kev=True))
    priority = prioritise(asset(Criticality.VITAL, Exposure.INTERNET), signals, 0.45)
    assert priority.decision is Decision.OUT_OF_CYCLE
    assert "uncertain match: confirm the version before acting" in priority.reasons


def test_score_grows_with_each_signal_and_stays_within_bounds() -> None:
    base = prioritise(asset(), Signals(), 0.9).score
    kev = prioritise(asset(), Signals(Exploitation(kev=True)), 0.9).score
    exposed = prioritise(asset(exposure=Exposure.INTERNET), Signals(), 0.9).score
    vital = prioritise(asset(Criticality.VITAL), Signals(), 0.9).score
    unsure = prioritise(asset(), Signals(), 0.4).score
    assert kev > base and exposed > base and vital > base and unsure < base
    worst = prioritise(
        asset(Criticality.VITAL, Exposure.INTERNET),
        Signals(Exploitation(kev=True, ssvc_automatable=True), (Severity("cvss_v3", 10.0),)),
        1.0,
    )
    least = prioritise(
        asset(Criticality.LOW, Exposure.ISOLATED),
        Signals(Exploitation(), (Severity("cvss_v3", 0.0),)),
        0.0,
    )
    assert worst.score == 100 and 0 <= least.score <= 10


def test_vendor_label_when_no_cvss() -> None:
    critical = prioritise(
        asset(), Signals(Exploitation(), (Severity("vendor", label="Critical"),)), 0.9
    )
    low = prioritise(asset(), Signals(Exploitation(), (Severity("vendor", label="low"),)), 0.9)
    assert critical.score > low.score


def test_policy_sets_the_due_dates() -> None:
    policy = PriorityPolicy(act_now_days=1, scheduled_days=15, track_days=90)
    vital_kev = prioritise(asset(Criticality.VITAL), Signals(Exploitation(kev=True)), 0.9, policy)
    assert vital_kev.due_days == 1
    assert prioritise(asset(), Signals(), 0.9, policy).due_days == 15
    isolated = asset(Criticality.LOW, Exposure.ISOLATED)
    assert prioritise(isolated, Signals(), 0.9, policy).due_days == 90


_EXPLOITATIONS = st.builds(
    Exploitation,
    kev=st.booleans(),
    ransomware_use=st.booleans(),
    certfr_alert=st.booleans(),
    epss=st.one_of(st.none(), st.floats(0, 1)),
    epss_percentile=st.one_of(st.none(), st.floats(0, 1)),
    ssvc_exploitation=st.sampled_from([None, "none", "poc", "active"]),
    ssvc_automatable=st.sampled_from([None, True, False]),
    ssvc_technical_impact=st.sampled_from([None, "partial", "total"]),
)
_SEVERITIES = st.lists(
    st.builds(
        Severity,
        kind=st.sampled_from(["cvss_v2", "cvss_v3", "cvss_v4", "vendor"]),
        score=st.one_of(st.none(), st.floats(0, 10)),
        vector=st.sampled_from([None, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"]),
        label=st.sampled_from([None, "high", "moyen", "critique"]),
    ),
    max_size=3,
).map(tuple)


@settings(max_examples=300, deadline=None)
@given(
    _EXPLOITATIONS,
    _SEVERITIES,
    st.lists(
        st.tuples(st.sampled_from(list(Criticality)), st.sampled_from(list(Exposure))),
        min_size=1,
        max_size=4,
    ),
    st.floats(0, 1),
)
def test_one_assessment_serves_every_asset(
    exploitation: Exploitation,
    severities: tuple[Severity, ...],
    kinds: list[tuple[Criticality, Exposure]],
    confidence: float,
) -> None:
    """The asset-independent part, assessed once for the signals (as the engine does for
    the findings of one advisory), gives the priority computed from scratch."""
    signals = Signals(exploitation, severities)
    policy = PriorityPolicy(epss_poc=0.2)
    assessed = assess(signals, policy)
    for criticality, exposure in kinds:
        target = asset(criticality, exposure)
        alone = prioritise(target, signals, confidence, policy)
        assert prioritise(target, signals, confidence, policy, assessed) == alone
