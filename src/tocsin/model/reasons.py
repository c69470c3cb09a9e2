"""The reasons behind a priority, as stable codes with parameters, in French or English.

The priority model (:mod:`tocsin.watch.priority`) explains each decision with
:class:`Reason` values: a :class:`ReasonCode` (``kev``, ``epss``, ``criticality``…) and its
parameters (the KEV date, the EPSS score, the care function…). They are rendered here in
the reader's language (:func:`reason_text`), for the bulletins, the Atom feed and the
dashboard.

Findings and stored exposures keep the English phrase of each reason (``reasons``, a list
of strings since the first version of the JSON shapes). Every English phrase reads back
into its reason (:func:`parse_reason`), so a stored exposure, old or new, is shown in
French too without a migration; a phrase that is no reason of this model (written by an
older or newer Tocsin) is shown as it is. docs/priority.md lists the codes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache
from typing import Literal

__all__ = [
    "Lang",
    "Reason",
    "ReasonCode",
    "ReasonParam",
    "parse_reason",
    "read_reasons",
    "reason_document",
    "reason_text",
]

Lang = Literal["fr", "en"]
ReasonParam = str | float | int


class ReasonCode(StrEnum):
    """What a reason says, in stable words for machines (docs/priority.md)."""

    KEV = "kev"  # listed in CISA KEV (since: the date added)
    RANSOMWARE = "ransomware"  # known ransomware use (KEV)
    CERTFR_ALERT = "certfr_alert"  # a CERT-FR alerte covers it
    SSVC_ACTIVE = "ssvc_active"  # SSVC exploitation "active"
    SSVC_POC = "ssvc_poc"  # SSVC exploitation "poc"
    EPSS = "epss"  # score (2 decimals), top (percent, when the percentile is known)
    CVSS = "cvss"  # score: the highest CVSS base score
    SSVC_IMPACT = "ssvc_impact"  # impact: SSVC technical impact (total, partial)
    SSVC_AUTOMATABLE = "ssvc_automatable"  # SSVC automatable "yes"
    CVSS_AUTOMATABLE = "cvss_automatable"  # AV:N/PR:N/UI:N
    CRITICALITY = "criticality"  # level (vital…low), function (the care function, if any)
    EXPOSURE = "exposure"  # exposure: internet, internal, isolated
    ACT_NOW_WITHHELD = "act_now_withheld"  # act_now lowered: the match is uncertain
    LOW_CONFIDENCE = "low_confidence"  # a name-only match


@dataclass(frozen=True)
class Reason:
    """One reason: a code and its parameters (sorted by name, so that equal reasons are
    equal values)."""

    code: ReasonCode
    params: tuple[tuple[str, ReasonParam], ...] = ()

    @classmethod
    def of(cls, code: ReasonCode, **params: ReasonParam | None) -> Reason:
        """A reason; parameters given as None are left out."""
        kept = tuple(sorted((k, v) for k, v in params.items() if v is not None))
        return cls(code, kept)

    def param(self, name: str) -> ReasonParam | None:
        return dict(self.params).get(name)

    def text(self, lang: Lang = "en") -> str:
        return _text(self, lang)

    def document(self, lang: Lang = "en") -> dict[str, object]:
        return {"code": self.code.value, "params": dict(self.params), "text": self.text(lang)}


# -- rendering ---------------------------------------------------------------------------------
def _number(value: ReasonParam | None, lang: Lang, spec: str) -> str:
    text = format(float(value or 0), spec)
    return text.replace(".", ",") if lang == "fr" else text


def _kev(r: Reason, lang: Lang) -> str:
    since = r.param("since")
    if lang == "en":
        return "listed in CISA KEV" + (f" since {since}" if since else "")
    if not since:
        return "inscrite au catalogue KEV de la CISA"
    try:
        shown = date.fromisoformat(str(since)).strftime("%d/%m/%Y")
    except ValueError:
        shown = str(since)
    return f"inscrite au catalogue KEV de la CISA depuis le {shown}"


def _epss(r: Reason, lang: Lang) -> str:
    text = f"EPSS {_number(r.param('score'), lang, '.2f')}"
    top = r.param("top")
    if top is None:
        return text
    return text + (f" ({top} % les plus probables)" if lang == "fr" else f" (top {top}%)")


def _ssvc_impact(r: Reason, lang: Lang) -> str:
    impact = str(r.param("impact") or "")
    if lang == "en":
        return f"{impact} technical impact (SSVC)"
    french = {"total": "total", "partial": "partiel"}.get(impact, impact)
    return f"impact technique {french} (SSVC)"


_CRITICALITY = {
    "vital": ("vital for patient safety", "vitale pour la sécurité des patients"),
    "high": ("high criticality for care", "criticité haute pour les soins"),
    "medium": ("medium criticality", "criticité moyenne"),
    "low": ("low criticality", "criticité basse"),
}
_EXPOSURE = {
    "internet": ("internet-exposed", "exposé à Internet"),
    "internal": ("internal network", "réseau interne"),
    "isolated": ("isolated network", "réseau isolé"),
}


def _criticality(r: Reason, lang: Lang) -> str:
    level = str(r.param("level") or "")
    pair = _CRITICALITY.get(level, (f"{level} criticality", f"criticité {level}"))
    function = r.param("function")
    text = pair[0 if lang == "en" else 1]
    return f"{text} ({function})" if function else text


def _exposure(r: Reason, lang: Lang) -> str:
    where = str(r.param("exposure") or "")
    pair = _EXPOSURE.get(where, (where, where))
    return pair[0 if lang == "en" else 1]


def _fixed(en: str, fr: str) -> Callable[[Reason, Lang], str]:
    return lambda _r, lang: en if lang == "en" else fr


@lru_cache(maxsize=1 << 12)
def _text(reason: Reason, lang: Lang) -> str:
    """A reason written out, once per reason and language: the findings of one advisory
    repeat the same few reasons by the thousand."""
    return _RENDER[reason.code](reason, lang)


_RENDER: Mapping[ReasonCode, Callable[[Reason, Lang], str]] = {
    ReasonCode.KEV: _kev,
    ReasonCode.RANSOMWARE: _fixed(
        "used in ransomware campaigns", "utilisée dans des campagnes de rançongiciel"
    ),
    ReasonCode.CERTFR_ALERT: _fixed("CERT-FR alerte", "alerte du CERT-FR"),
    ReasonCode.SSVC_ACTIVE: _fixed("actively exploited (SSVC)", "exploitée activement (SSVC)"),
    ReasonCode.SSVC_POC: _fixed(
        "public proof of concept (SSVC)", "preuve de concept publique (SSVC)"
    ),
    ReasonCode.EPSS: _epss,
    ReasonCode.CVSS: lambda r, lang: f"CVSS {_number(r.param('score'), lang, 'g')}",
    ReasonCode.SSVC_IMPACT: _ssvc_impact,
    ReasonCode.SSVC_AUTOMATABLE: _fixed("automatable (SSVC)", "automatisable (SSVC)"),
    ReasonCode.CVSS_AUTOMATABLE: _fixed(
        "network, no privileges, no user interaction (CVSS)",
        "par le réseau, sans privilège ni action de l'utilisateur (CVSS)",
    ),
    ReasonCode.CRITICALITY: _criticality,
    ReasonCode.EXPOSURE: _exposure,
    ReasonCode.ACT_NOW_WITHHELD: _fixed(
        "uncertain match: confirm the version before acting",
        "correspondance incertaine : confirmer la version avant d'agir",
    ),
    ReasonCode.LOW_CONFIDENCE: _fixed(
        "uncertain match (name only)", "correspondance incertaine (nom seul)"
    ),
}


# -- reading the English phrases back ----------------------------------------------------------
_FIXED_PHRASES = {
    _RENDER[code](Reason(code), "en"): code
    for code in (
        ReasonCode.RANSOMWARE,
        ReasonCode.CERTFR_ALERT,
        ReasonCode.SSVC_ACTIVE,
        ReasonCode.SSVC_POC,
        ReasonCode.SSVC_AUTOMATABLE,
        ReasonCode.CVSS_AUTOMATABLE,
        ReasonCode.ACT_NOW_WITHHELD,
        ReasonCode.LOW_CONFIDENCE,
    )
}
_KEV = re.compile(r"listed in CISA KEV(?: since (\S+))?")
_EPSS = re.compile(r"EPSS (\d+\.\d\d)(?: \(top (\d+)%\))?")
_CVSS = re.compile(r"CVSS (\d+(?:\.\d+)?)")
_SSVC_IMPACT = re.compile(r"(\w+) technical impact \(SSVC\)")
_CRITICALITY_TEXT = re.compile(
    "(" + "|".join(re.escape(en) for en, _fr in _CRITICALITY.values()) + r")(?: \((.+)\))?",
    re.DOTALL,
)
_LEVELS = {en: level for level, (en, _fr) in _CRITICALITY.items()}
_EXPOSURES = {en: where for where, (en, _fr) in _EXPOSURE.items()}


def parse_reason(text: str) -> Reason | None:
    """The reason an English phrase of the priority model says, or None for any other
    text. ``parse_reason(reason.text("en")) == reason`` for every reason the model gives."""
    if text in _FIXED_PHRASES:
        return Reason(_FIXED_PHRASES[text])
    if text in _EXPOSURES:
        return Reason.of(ReasonCode.EXPOSURE, exposure=_EXPOSURES[text])
    if found := _KEV.fullmatch(text):
        return Reason.of(ReasonCode.KEV, since=found.group(1))
    if found := _EPSS.fullmatch(text):
        top = None if found.group(2) is None else int(found.group(2))
        return Reason.of(ReasonCode.EPSS, score=float(found.group(1)), top=top)
    if found := _CVSS.fullmatch(text):
        return Reason.of(ReasonCode.CVSS, score=float(found.group(1)))
    if found := _SSVC_IMPACT.fullmatch(text):
        return Reason.of(ReasonCode.SSVC_IMPACT, impact=found.group(1))
    if found := _CRITICALITY_TEXT.fullmatch(text):
        level = _LEVELS[found.group(1)]
        return Reason.of(ReasonCode.CRITICALITY, level=level, function=found.group(2))
    return None


def read_reasons(texts: Iterable[str]) -> tuple[Reason | str, ...]:
    """Stored phrases as reasons; a phrase that is no reason of the model stays text."""
    return tuple(parse_reason(text) or text for text in texts)


def reason_text(reason: Reason | str, lang: Lang = "en") -> str:
    """A reason in ``lang``; a phrase the model does not know, as it is."""
    if isinstance(reason, str):
        parsed = parse_reason(reason)
        return reason if parsed is None else parsed.text(lang)
    return reason.text(lang)


def reason_document(reason: Reason | str, lang: Lang = "en") -> dict[str, object]:
    """``{"code", "params", "text"}`` (docs/bulletins.md); code null for a phrase the model
    does not know, kept as the text."""
    parsed = parse_reason(reason) if isinstance(reason, str) else reason
    if parsed is None:
        return {"code": None, "params": {}, "text": reason}
    return parsed.document(lang)
