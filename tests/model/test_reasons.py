"""Reasons of the priority model: stable codes, French and English, read back from English."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from tocsin.model.advisory import Exploitation, Severity
from tocsin.model.inventory import Asset, Criticality, Exposure
from tocsin.model.reasons import (
    Reason,
    ReasonCode,
    parse_reason,
    read_reasons,
    reason_document,
    reason_text,
)
from tocsin.watch.priority import Signals, prioritise

FIREWALL = Asset(
    "fw-1",
    "Pare-feu",
    criticality=Criticality.VITAL,
    exposure=Exposure.INTERNET,
    function="réanimation",
)
KEV_SIGNALS = Signals(
    Exploitation(
        kev=True,
        kev_date_added="2024-02-09",
        ransomware_use=True,
        epss=0.9432,
        epss_percentile=0.995,
    ),
    (Severity("cvss_v3", 9.8, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),),
)


def test_the_model_gives_codes_and_the_same_english_phrases_as_before() -> None:
    priority = prioritise(FIREWALL, KEV_SIGNALS, 0.9)
    assert [r.code for r in priority.reason_codes] == [
        ReasonCode.KEV,
        ReasonCode.RANSOMWARE,
        ReasonCode.EPSS,
        ReasonCode.CVSS,
        ReasonCode.CVSS_AUTOMATABLE,
        ReasonCode.CRITICALITY,
        ReasonCode.EXPOSURE,
    ]
    assert priority.reasons == (
        "listed in CISA KEV since 2024-02-09",
        "used in ransomware campaigns",
        "EPSS 0.94 (top 1%)",
        "CVSS 9.8",
        "network, no privileges, no user interaction (CVSS)",
        "vital for patient safety (réanimation)",
        "internet-exposed",
    )


def test_french_phrases() -> None:
    priority = prioritise(FIREWALL, KEV_SIGNALS, 0.4)
    french = [r.text("fr") for r in priority.reason_codes]
    assert french == [
        "inscrite au catalogue KEV de la CISA depuis le 09/02/2024",
        "utilisée dans des campagnes de rançongiciel",
        "EPSS 0,94 (1 % les plus probables)",
        "CVSS 9,8",
        "par le réseau, sans privilège ni action de l'utilisateur (CVSS)",
        "vitale pour la sécurité des patients (réanimation)",
        "exposé à Internet",
        "correspondance incertaine : confirmer la version avant d'agir",
    ]


def test_documents_carry_code_params_and_text() -> None:
    reason = Reason.of(ReasonCode.EPSS, score=0.94, top=1)
    assert reason_document(reason, "fr") == {
        "code": "epss",
        "params": {"score": 0.94, "top": 1},
        "text": "EPSS 0,94 (1 % les plus probables)",
    }
    assert reason_document("exploited (KEV)", "fr") == {
        "code": None,
        "params": {},
        "text": "exploited (KEV)",
    }


def test_unknown_stored_phrases_are_shown_as_they_are() -> None:
    stored = ("CVSS 7.5", "exploited (KEV)", "internal network")
    assert read_reasons(stored) == (
        Reason.of(ReasonCode.CVSS, score=7.5),
        "exploited (KEV)",
        Reason.of(ReasonCode.EXPOSURE, exposure="internal"),
    )
    assert [reason_text(r, "fr") for r in stored] == [
        "CVSS 7,5",
        "exploited (KEV)",
        "réseau interne",
    ]
    assert parse_reason("listed in CISA KEV since") is None
    assert parse_reason("") is None


_FIXED = [
    ReasonCode.RANSOMWARE,
    ReasonCode.CERTFR_ALERT,
    ReasonCode.SSVC_ACTIVE,
    ReasonCode.SSVC_POC,
    ReasonCode.SSVC_AUTOMATABLE,
    ReasonCode.CVSS_AUTOMATABLE,
    ReasonCode.ACT_NOW_WITHHELD,
    ReasonCode.LOW_CONFIDENCE,
]
_FUNCTION = st.text(min_size=1, max_size=30).filter(lambda t: t.strip() == t)
REASONS = st.one_of(
    st.sampled_from(_FIXED).map(Reason),
    st.dates(date(2000, 1, 1), date(2100, 1, 1)).map(
        lambda d: Reason.of(ReasonCode.KEV, since=d.isoformat())
    ),
    st.just(Reason(ReasonCode.KEV)),
    st.builds(
        lambda score, top: Reason.of(ReasonCode.EPSS, score=round(score, 2), top=top),
        st.floats(0, 1),
        st.none() | st.integers(1, 100),
    ),
    st.decimals(0, 10, places=1).map(lambda v: Reason.of(ReasonCode.CVSS, score=float(v))),
    st.sampled_from(["total", "partial"]).map(
        lambda v: Reason.of(ReasonCode.SSVC_IMPACT, impact=v)
    ),
    st.builds(
        lambda level, function: Reason.of(
            ReasonCode.CRITICALITY, level=level.value, function=function
        ),
        st.sampled_from(list(Criticality)),
        st.none() | _FUNCTION,
    ),
    st.sampled_from(list(Exposure)).map(lambda e: Reason.of(ReasonCode.EXPOSURE, exposure=e.value)),
)


@given(REASONS)
def test_every_english_phrase_reads_back_into_its_reason(reason: Reason) -> None:
    assert parse_reason(reason.text("en")) == reason
    assert reason_text(reason.text("en"), "fr") == reason.text("fr")


@given(st.text(max_size=60))
def test_reading_any_text_never_fails(text: str) -> None:
    parsed = parse_reason(text)
    assert parsed is None or parse_reason(parsed.text("en")) == parsed
    for lang in ("fr", "en"):
        assert isinstance(reason_text(text, lang), str)  # type: ignore[arg-type]
    assert parse_reason("CVSS 07") == Reason.of(ReasonCode.CVSS, score=7.0)


@given(
    st.booleans(),
    st.none() | st.floats(0, 1),
    st.none() | st.floats(0, 1),
    st.none() | st.sampled_from(["active", "poc", "none"]),
    st.none() | st.floats(0, 10),
    st.sampled_from(list(Criticality)),
    st.sampled_from(list(Exposure)),
    st.floats(0, 1),
)
def test_every_reason_of_the_model_reads_back(
    kev: bool,
    epss: float | None,
    percentile: float | None,
    ssvc: str | None,
    cvss: float | None,
    criticality: Criticality,
    exposure: Exposure,
    confidence: float,
) -> None:
    signals = Signals(
        Exploitation(kev=kev, epss=epss, epss_percentile=percentile, ssvc_exploitation=ssvc),
        () if cvss is None else (Severity("cvss_v3", round(cvss, 1), "AV:N/PR:N/UI:N"),),
    )
    asset = Asset("a", "A", criticality=criticality, exposure=exposure, function="urgences")
    priority = prioritise(asset, signals, confidence)
    assert tuple(parse_reason(text) for text in priority.reasons) == priority.reason_codes
