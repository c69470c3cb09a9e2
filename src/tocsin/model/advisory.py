"""Advisories as the watch engine sees them, whatever feed they came from.

Sources (NVD, CVE JSON 5, CERT-FR, CSAF, OSV…) parse their documents into these types;
the matching engine (``tocsin.watch.match``) compares them with the inventory. Pure data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class VersionScheme(StrEnum):
    """How versions compare: ``generic`` is dotted numbers with letters and builds."""

    GENERIC = "generic"
    SEMVER = "semver"
    DEB = "deb"
    RPM = "rpm"
    MAVEN = "maven"
    PYPI = "pypi"
    NPM = "npm"


@dataclass(frozen=True)
class VersionRange:
    """A set of affected versions.

    Lower bound: ``introduced`` (inclusive unless ``introduced_exclusive``); upper bound:
    ``fixed`` (exclusive) or ``last_affected`` (inclusive). ``exact`` is a single version.
    ``all_versions`` says every version is affected ("toutes versions", "all versions").
    ``text`` keeps the phrase or criterion it was read from, shown as evidence.
    """

    introduced: str | None = None
    introduced_exclusive: bool = False
    fixed: str | None = None
    last_affected: str | None = None
    exact: str | None = None
    all_versions: bool = False
    scheme: VersionScheme = VersionScheme.GENERIC
    text: str | None = None

    @property
    def is_unbounded(self) -> bool:
        return self.all_versions or not (
            self.introduced or self.fixed or self.last_affected or self.exact
        )


@dataclass(frozen=True)
class CpeMatch:
    """One NVD cpeMatch criterion: a CPE 2.3 pattern and optional version bounds."""

    criteria: str
    vulnerable: bool = True
    version_start_including: str | None = None
    version_start_excluding: str | None = None
    version_end_including: str | None = None
    version_end_excluding: str | None = None


@dataclass(frozen=True)
class CpeNode:
    """An AND/OR node of an NVD configuration, possibly negated."""

    operator: str = "OR"
    negate: bool = False
    matches: tuple[CpeMatch, ...] = ()


@dataclass(frozen=True)
class CpeConfiguration:
    """A configuration: its nodes combined with ``operator`` (OR when absent)."""

    nodes: tuple[CpeNode, ...]
    operator: str = "OR"
    negate: bool = False


@dataclass(frozen=True)
class AffectedProduct:
    """A product an advisory says is affected (or, with ``affected=False``, not)."""

    product: str
    vendor: str | None = None
    ranges: tuple[VersionRange, ...] = ()
    purl: str | None = None
    cpes: tuple[str, ...] = ()
    fixed_versions: tuple[str, ...] = ()
    affected: bool = True
    # The raw wording this entry was read from (a CERT-FR line, a CSAF product name).
    text: str | None = None
    # Who stated it when a record has several voices: in CVE JSON 5, "cna" or the ADP's
    # short name ("CISA-ADP", whose CPEs and ranges are inferred by CISA, not the vendor).
    provider: str | None = None


@dataclass(frozen=True)
class Severity:
    """A severity statement: CVSS vector and base score, or a source's own rating."""

    kind: str  # "cvss_v2", "cvss_v3", "cvss_v4", "vendor"
    score: float | None = None
    vector: str | None = None
    label: str | None = None  # critical/high/medium/low or a vendor word


@dataclass(frozen=True)
class Exploitation:
    """Signals that the flaw is exploited or likely to be."""

    kev: bool = False
    kev_date_added: str | None = None
    kev_due_date: str | None = None
    ransomware_use: bool = False
    certfr_alert: bool = False
    epss: float | None = None
    epss_percentile: float | None = None
    ssvc_exploitation: str | None = None  # none / poc / active
    ssvc_automatable: bool | None = None
    ssvc_technical_impact: str | None = None  # partial / total


@dataclass(frozen=True)
class Advisory:
    """One advisory, normalised. ``id`` is the source's own id (CVE-…, CERTFR-…, ICSMA-…)."""

    id: str
    source: str
    title: str = ""
    summary: str = ""
    published: datetime | None = None
    modified: datetime | None = None
    aliases: tuple[str, ...] = ()
    cves: tuple[str, ...] = ()
    affected: tuple[AffectedProduct, ...] = ()
    configurations: tuple[CpeConfiguration, ...] = ()
    severities: tuple[Severity, ...] = ()
    exploitation: Exploitation = field(default_factory=Exploitation)
    references: tuple[str, ...] = ()
    solution: str | None = None
    language: str = "en"
    withdrawn: bool = False
    cwes: tuple[str, ...] = ()  # weakness ids ("CWE-787") from problemTypes/weaknesses
