"""How urgent a finding is: an SSVC-style decision, a 0–100 score, and the reasons for both.

The decision follows the shape of CISA's SSVC deployer tree, with the asset's importance for
patient safety as the human impact. Four decision points:

- exploitation: ``active`` (CISA KEV, a CERT-FR alerte, known ransomware use, SSVC
  "active"), ``poc`` (SSVC "poc", or EPSS at or above :attr:`PriorityPolicy.epss_poc`), or
  ``none``;
- exposure of the asset: internet → open, internal → controlled, isolated → small;
- automatable: SSVC "automatable", or a CVSS vector with AV:N, PR:N and UI:N;
- human impact: the asset's criticality (vital → very high, high, medium, low), one level
  lower when the technical impact is only partial (SSVC, or CVSS below 9 without high
  confidentiality, integrity and availability impacts). An unknown impact lowers nothing.

The score adds the same signals with weights (:data:`WEIGHTS`) and scales them by the match
confidence. The reasons are :class:`~tocsin.model.reasons.Reason` values (a stable code and
its parameters), rendered in French or English by :mod:`tocsin.model.reasons`.
docs/priority.md gives the decision table, the reason codes and worked examples. Pure
functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache

from tocsin.model.advisory import Exploitation, Severity
from tocsin.model.finding import Decision
from tocsin.model.inventory import Asset, Criticality, Exposure
from tocsin.model.reasons import Reason, ReasonCode

__all__ = [
    "DEFAULT_POLICY",
    "WEIGHTS",
    "Assessment",
    "ExploitationLevel",
    "HumanImpact",
    "Priority",
    "PriorityPolicy",
    "Signals",
    "assess",
    "decide",
    "prioritise",
]


class ExploitationLevel(IntEnum):
    NONE = 0
    POC = 1
    ACTIVE = 2


class HumanImpact(IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    VERY_HIGH = 4


@dataclass(frozen=True)
class Signals:
    """What is known about an advisory's flaws: exploitation and severity statements."""

    exploitation: Exploitation = Exploitation()
    severities: tuple[Severity, ...] = ()


@dataclass(frozen=True)
class PriorityPolicy:
    """Settings of the priority model; an establishment may choose its own delays."""

    act_now_days: int | None = 2
    out_of_cycle_days: int | None = 7
    scheduled_days: int | None = 30
    track_days: int | None = None
    epss_poc: float = 0.1  # EPSS at or above this counts as a proof of concept
    act_now_min_confidence: float = 0.5  # below: out_of_cycle, check the version first

    def due_days(self, decision: Decision) -> int | None:
        return {
            Decision.ACT_NOW: self.act_now_days,
            Decision.OUT_OF_CYCLE: self.out_of_cycle_days,
            Decision.SCHEDULED: self.scheduled_days,
            Decision.TRACK: self.track_days,
        }[decision]


DEFAULT_POLICY = PriorityPolicy()


@dataclass(frozen=True)
class Priority:
    """A decision, its score and due delay, and the reasons for them, most telling first."""

    decision: Decision
    score: int
    reason_codes: tuple[Reason, ...]
    due_days: int | None

    @property
    def reasons(self) -> tuple[str, ...]:
        """The reasons as English phrases, as findings and exposures keep them."""
        return tuple(reason.text("en") for reason in self.reason_codes)


# Weights of the score's parts (they add up to 1): exploitation, technical impact,
# automatable, criticality, exposure.
WEIGHTS = {"exploitation": 0.35, "impact": 0.25, "automatable": 0.10, "criticality": 0.20}
WEIGHTS["exposure"] = 1.0 - sum(WEIGHTS.values())

_EXPOSURE_VALUE = {Exposure.INTERNET: 1.0, Exposure.INTERNAL: 0.5, Exposure.ISOLATED: 0.1}
_LABEL_VALUE = {"critical": 0.95, "critique": 0.95, "high": 0.8, "important": 0.8}
_LABEL_VALUE |= {"élevé": 0.8, "eleve": 0.8, "medium": 0.5, "moderate": 0.5, "moyen": 0.5}
_LABEL_VALUE |= {"low": 0.2, "faible": 0.2}
_HIGH_IMPACTS = (("C:H", "I:H", "A:H"), ("VC:H", "VI:H", "VA:H"))


# --- reading the signals ----------------------------------------------------------------


def _cvss(signals: Signals) -> Severity | None:
    """The highest CVSS v3/v4 base score, else the highest v2."""
    for kinds in (("cvss_v4", "cvss_v3"), ("cvss_v2",)):
        scored = [s for s in signals.severities if s.kind in kinds and s.score is not None]
        if scored:
            return max(scored, key=lambda s: s.score or 0.0)
    return None


def _exploitation(
    e: Exploitation, policy: PriorityPolicy
) -> tuple[ExploitationLevel, list[Reason]]:
    reasons: list[Reason] = []
    if e.kev:
        reasons.append(Reason.of(ReasonCode.KEV, since=e.kev_date_added or None))
    if e.ransomware_use:
        reasons.append(Reason(ReasonCode.RANSOMWARE))
    if e.certfr_alert:
        reasons.append(Reason(ReasonCode.CERTFR_ALERT))
    if e.ssvc_exploitation == "active" and not reasons:
        reasons.append(Reason(ReasonCode.SSVC_ACTIVE))
    if reasons:
        return ExploitationLevel.ACTIVE, reasons
    level = ExploitationLevel.NONE
    if e.ssvc_exploitation == "poc":
        reasons.append(Reason(ReasonCode.SSVC_POC))
        level = ExploitationLevel.POC
    if e.epss is not None and e.epss >= policy.epss_poc:
        level = ExploitationLevel.POC
    return level, reasons


def _epss_reason(e: Exploitation) -> Reason | None:
    if e.epss is None:
        return None
    top = None
    if e.epss_percentile is not None:
        top = max(1, math.ceil(round((1.0 - e.epss_percentile) * 100, 6)))
    return Reason.of(ReasonCode.EPSS, score=round(e.epss, 2), top=top)


def _exploitation_value(level: ExploitationLevel, e: Exploitation, policy: PriorityPolicy) -> float:
    """1 for active; otherwise SSVC poc (0.6) or EPSS, piecewise linear up to 0.9."""
    if level is ExploitationLevel.ACTIVE:
        return 1.0
    value = 0.6 if e.ssvc_exploitation == "poc" else 0.0
    if e.epss is not None:
        threshold = max(policy.epss_poc, 1e-6)
        if e.epss < threshold:
            scaled = 0.6 * e.epss / threshold
        else:
            scaled = 0.6 + 0.3 * (e.epss - threshold) / max(1.0 - threshold, 1e-6)
        value = max(value, min(0.9, scaled))
    return value


def _impact(signals: Signals) -> tuple[bool | None, float, list[Reason]]:
    """(total technical impact?, value 0–1 for the score, reasons)."""
    ssvc = signals.exploitation.ssvc_technical_impact
    cvss = _cvss(signals)
    reasons: list[Reason] = []
    total: bool | None = None if ssvc is None else ssvc == "total"
    value: float | None = None
    if cvss is not None and cvss.score is not None:
        reasons.append(Reason.of(ReasonCode.CVSS, score=cvss.score))
        value = cvss.score / 10.0
        if total is None:
            vector = cvss.vector or ""
            total = cvss.score >= 9.0 or any(all(m in vector for m in h) for h in _HIGH_IMPACTS)
    if ssvc is not None:
        reasons.append(Reason.of(ReasonCode.SSVC_IMPACT, impact=ssvc))
        value = value if value is not None else (1.0 if total else 0.5)
    if value is None:
        labels = [_LABEL_VALUE.get((s.label or "").lower()) for s in signals.severities]
        known = [v for v in labels if v is not None]
        value = max(known) if known else 0.5
    return total, value, reasons


def _automatable(signals: Signals) -> tuple[bool, Reason | None]:
    ssvc = signals.exploitation.ssvc_automatable
    if ssvc is not None:
        return ssvc, Reason(ReasonCode.SSVC_AUTOMATABLE) if ssvc else None
    cvss = _cvss(signals)
    if cvss is not None and cvss.kind != "cvss_v2" and cvss.vector:
        metrics = set(cvss.vector.split("/"))
        if {"AV:N", "PR:N", "UI:N"} <= metrics:
            return True, Reason(ReasonCode.CVSS_AUTOMATABLE)
    return False, None


def _asset_reasons(asset: Asset) -> tuple[Reason, ...]:
    return _kind_reasons(asset.criticality, asset.exposure, asset.function or None)


@lru_cache(maxsize=1 << 10)
def _kind_reasons(
    criticality: Criticality, exposure: Exposure, function: str | None
) -> tuple[Reason, Reason]:
    """The asset's reasons, the same for every asset of its kind (made once per kind)."""
    return (
        Reason.of(ReasonCode.CRITICALITY, level=criticality.value, function=function),
        Reason.of(ReasonCode.EXPOSURE, exposure=exposure.value),
    )


# --- the decision -------------------------------------------------------------------------


def decide(
    exploitation: ExploitationLevel, exposure: Exposure, automatable: bool, impact: HumanImpact
) -> Decision:
    """The decision table of docs/priority.md."""
    high = impact >= HumanImpact.HIGH
    if exploitation is ExploitationLevel.ACTIVE:
        if impact is HumanImpact.VERY_HIGH or exposure is Exposure.INTERNET:
            return Decision.ACT_NOW
        if exposure is Exposure.INTERNAL and (automatable or high):
            return Decision.ACT_NOW
        return Decision.OUT_OF_CYCLE
    if exploitation is ExploitationLevel.POC:
        if exposure is Exposure.INTERNET and automatable and high:
            return Decision.ACT_NOW
        if exposure is Exposure.INTERNET or (
            exposure is Exposure.INTERNAL and (automatable or high)
        ):
            return Decision.OUT_OF_CYCLE
        return Decision.SCHEDULED
    if exposure is Exposure.INTERNET and automatable and high:
        return Decision.OUT_OF_CYCLE
    if exposure is Exposure.INTERNET or high:
        return Decision.SCHEDULED
    if exposure is Exposure.INTERNAL and (automatable or impact >= HumanImpact.MEDIUM):
        return Decision.SCHEDULED
    return Decision.TRACK


def _human_impact(criticality: Criticality, total: bool | None) -> HumanImpact:
    level = criticality.rank
    if total is False:
        level = max(1, level - 1)
    return HumanImpact(level)


@dataclass(frozen=True, slots=True)
class Assessment:
    """What the priority model reads from an advisory's signals alone, whatever the asset
    (:func:`assess`): findings of many assets share it."""

    level: ExploitationLevel
    reasons: tuple[Reason, ...]  # exploitation, EPSS, impact, automatable, in that order
    total: bool | None  # total technical impact?
    impact: float  # 0-1, for the score
    automatable: bool
    exploitation: float  # 0-1, for the score


def assess(signals: Signals, policy: PriorityPolicy = DEFAULT_POLICY) -> Assessment:
    """The asset-independent part of :func:`prioritise`."""
    level, reasons = _exploitation(signals.exploitation, policy)
    epss = _epss_reason(signals.exploitation)
    if epss is not None:
        reasons.append(epss)
    total, impact_value, impact_reasons = _impact(signals)
    automatable, automatable_reason = _automatable(signals)
    reasons.extend(impact_reasons)
    if automatable_reason:
        reasons.append(automatable_reason)
    value = _exploitation_value(level, signals.exploitation, policy)
    return Assessment(level, tuple(reasons), total, impact_value, automatable, value)


def prioritise(
    asset: Asset,
    signals: Signals,
    confidence: float,
    policy: PriorityPolicy = DEFAULT_POLICY,
    assessed: Assessment | None = None,
) -> Priority:
    """The decision, score and reasons for a finding of ``signals`` on ``asset``;
    ``assessed``: :func:`assess` of the same signals and policy, when known already."""
    if assessed is None:
        assessed = assess(signals, policy)
    reasons = [*assessed.reasons, *_asset_reasons(asset)]
    impact = _human_impact(asset.criticality, assessed.total)
    decision = decide(assessed.level, asset.exposure, assessed.automatable, impact)
    if decision is Decision.ACT_NOW and confidence < policy.act_now_min_confidence:
        decision = Decision.OUT_OF_CYCLE
        reasons.append(Reason(ReasonCode.ACT_NOW_WITHHELD))
    elif confidence < policy.act_now_min_confidence:
        reasons.append(Reason(ReasonCode.LOW_CONFIDENCE))
    parts = {
        "exploitation": assessed.exploitation,
        "impact": assessed.impact,
        "automatable": 1.0 if assessed.automatable else 0.0,
        "criticality": asset.criticality.rank / 4.0,
        "exposure": _EXPOSURE_VALUE[asset.exposure],
    }
    raw = sum(WEIGHTS[name] * value for name, value in parts.items())
    score = round(100 * raw * (0.5 + 0.5 * max(0.0, min(1.0, confidence))))
    return Priority(decision, max(0, min(100, score)), tuple(reasons), policy.due_days(decision))
