"""CVE JSON 5 records (cvelistV5, CVE Services, CISA vulnrichment): one record a document.

A record gives one :class:`Advisory` (id = the CVE id, ``withdrawn`` when REJECTED) built
from the CNA container and every ADP container: affected products of each container are kept
side by side with their ``provider`` ("cna", or the ADP's short name such as "CISA-ADP");
CVSS metrics, CWE ids and references are merged without repeats; CISA's SSVC decision
points and KEV mention ("other" metrics) become :class:`Exploitation` fields.

Affected versions follow the CVE JSON 5 schema (the version rules, and the two readings that
go beyond its loop, are in :mod:`tocsin.watch.sources.cve5_versions`):

- ``version`` with ``lessThan`` (exclusive) or ``lessThanOrEqual`` (inclusive) is a range
  starting at ``version``; a start of "0", "*", "-", "n/a" or "unspecified" means from the
  beginning. An upper bound "*" (or "latest") means no bound; "5.10.*" means up to the end
  of the 5.10 series, with either operator (the schema's "arbitrarily large" tail). An upper
  bound that is not a version ("publication", a URL, "upgrade to the latest version") is
  kept as written: no installed version can be compared with it, so the range cannot decide
  and the product is matched by name only; a leading "<" or "<=" in a bound is read as that
  operator.
- ``changes``: the range is cut at each ``at`` (sorted), each part with its own status.
- ``version`` alone: "*" or "all versions" is every version; "n/a", "unspecified", "-",
  "0", "various" say nothing about versions (the product is matched by name only); a phrase
  ("< 8.0.0", ">= 8.0.0, < 8.3.3") is read into ranges; else one version. A range from X to
  before X holds no version: the CNAs that write it (Chrome, HackerOne) mean "before X", and
  it is read so.
- ``status: unaffected`` entries go to a second :class:`AffectedProduct` with
  ``affected=False`` for the same product: a version inside one of its ranges is not
  affected, even when an affected range or ``defaultStatus: affected`` covers it (the
  Linux kernel CNA writes "affected by default, except these fixed series"). The start of
  each unaffected range and the exclusive end of each affected range are
  ``fixed_versions``; a lone unaffected version is not (vendors list unaffected branches).
- ``defaultStatus: affected`` adds the versions below the lowest stated upper bound of the
  product's affected ranges (its entries in the same container taken together), or every
  version when no range has one; a product whose entries state only unaffected (or git, or
  unknown) versions gets no affected entry.
- ``versionType`` gives the scheme (semver, maven, pypi/python, npm, rpm, deb; otherwise
  generic, or the package collection's when absent). When the declared scheme cannot read
  every bound of a range (Juniper's "semver" Junos ``22.4R3-S3``, Checkmk's ``2.1.0p41``)
  and generic can, the range is generic: its bounds are then ordered alike. Git commit
  ranges cannot be compared with installed versions: each is a counted skip, as is each
  ``status: unknown`` entry.
- An ``affected`` entry naming no product ("n/a", "-", empty) carries nothing to match and
  is left out (the MITRE legacy records write vendor "n/a", product "n/a", version "n/a").
- When an entry has both ``cpes`` and ``versions``, the versions govern: Microsoft writes
  the fixed build in its CPEs ("windows_server_2019:10.0.17763.6293") next to "lessThan
  10.0.17763.6293" (the matcher reads the CPEs as names, see docs/matching.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated, ClassVar, Literal

from pydantic import Field, TypeAdapter, ValidationError

from tocsin.model.advisory import (
    Advisory,
    AffectedProduct,
    Exploitation,
    Severity,
    VersionRange,
    VersionScheme,
)
from tocsin.watch.sources.base import ParseReport, Record, register
from tocsin.watch.sources.cve5_versions import (
    COMMIT_RANGE,
    UNKNOWN_STATUS,
    Statement,
    Status,
    VersionEntry,
    default_range,
    is_version,
    read_version,
)

# The boundary helpers that the JSON sources share live with the NVD source.
from tocsin.watch.sources.nvd import (
    CvssModel,
    FeedModel,
    Lenient,
    Reference,
    Text,
    UtcDatetime,
    Where,
    cvss_severity,
    unique,
    validate_document,
)
from tocsin.watch.sources.osv import purl_for

_Version = VersionEntry


class _Affected(FeedModel):
    vendor: str | None = None
    product: str | None = None
    versions: tuple[Lenient[_Version], ...] = ()
    defaultStatus: Status | None = None
    cpes: tuple[str, ...] = ()
    packageName: str | None = None
    collectionURL: str | None = None


class _Other(FeedModel):
    type: str
    content: object = None


class _Metric(FeedModel):
    cvssV4_0: CvssModel | None = None
    cvssV3_1: CvssModel | None = None
    cvssV3_0: CvssModel | None = None
    cvssV2_0: CvssModel | None = None
    other: _Other | None = None


class _Problem(FeedModel):
    cweId: str | None = None
    description: str | None = None


class _ProblemType(FeedModel):
    descriptions: tuple[Lenient[_Problem], ...] = ()


class _Provider(FeedModel):
    shortName: str | None = None


class _Container(FeedModel):
    title: str | None = None
    providerMetadata: _Provider = _Provider()
    descriptions: tuple[Lenient[Text], ...] = ()
    affected: tuple[Lenient[_Affected], ...] = ()
    metrics: tuple[Lenient[_Metric], ...] = ()
    references: tuple[Lenient[Reference], ...] = ()
    problemTypes: tuple[Lenient[_ProblemType], ...] = ()
    solutions: tuple[Lenient[Text], ...] = ()
    rejectedReasons: tuple[Lenient[Text], ...] = ()


class _Containers(FeedModel):
    cna: _Container
    adp: tuple[Lenient[_Container], ...] = ()


class _Metadata(FeedModel):
    cveId: Annotated[str, Field(pattern=r"^CVE-\d{4}-\d{4,19}$")]
    state: Literal["PUBLISHED", "REJECTED"]
    datePublished: Lenient[UtcDatetime] | None = None
    dateUpdated: Lenient[UtcDatetime] | None = None


class _Record(FeedModel):
    cveMetadata: _Metadata
    containers: _Containers


class _SsvcContent(FeedModel):
    options: list[dict[str, str]]


class _KevContent(FeedModel):
    dateAdded: str


class _Rating(FeedModel):
    """A vendor's own severity word ("Red Hat severity rating", "Textual description…")."""

    value: str | None = None
    text: str | None = None
    other: str | None = None


_RECORD = TypeAdapter(_Record)
_SSVC = TypeAdapter(_SsvcContent)
_KEV = TypeAdapter(_KevContent)
_RATING = TypeAdapter(_Rating)

_METRIC_KINDS = (
    ("cvssV4_0", "cvss_v4"),
    ("cvssV3_1", "cvss_v3"),
    ("cvssV3_0", "cvss_v3"),
    ("cvssV2_0", "cvss_v2"),
)
_V = VersionScheme
# (part of collectionURL, purl type, purl namespace, version scheme)
_COLLECTIONS: tuple[tuple[str, str, str | None, VersionScheme], ...] = (
    ("maven.apache.org", "maven", None, _V.MAVEN),
    ("pypi.", "pypi", None, _V.PYPI),  # pypi.org, pypi.python.org
    ("npmjs.", "npm", None, _V.NPM),
    ("pkg.go.dev", "golang", None, _V.GENERIC),
    ("packagist.org", "composer", None, _V.GENERIC),
    ("crates.io", "cargo", None, _V.SEMVER),
    ("rubygems.org", "gem", None, _V.GENERIC),
    ("nuget.org", "nuget", None, _V.GENERIC),
    ("packages.debian.org", "deb", "debian", _V.DEB),
    ("access.redhat.com/downloads/content/package-browser", "rpm", "redhat", _V.RPM),
    ("packages.fedoraproject.org", "rpm", "fedora", _V.RPM),
)
_NO_NAME = frozenset({"", "n/a", "-", "unspecified", "unknown", "none"})
_CWE = re.compile(r"CWE-\d+")
_SSVC_VALUES = {
    "exploitation": frozenset({"none", "poc", "active"}),
    "automatable": frozenset({"yes", "no"}),
    "technical impact": frozenset({"partial", "total"}),
}
__all__ = ["COMMIT_RANGE", "UNKNOWN_STATUS", "Cve5Source"]


@register
class Cve5Source:
    name: ClassVar[str] = "cve5"
    description: ClassVar[str] = "CVE JSON 5 records, with CISA ADP CPEs, ranges and SSVC"

    def parse(self, raw: bytes, origin: str, report: ParseReport) -> Iterator[Record]:
        record = validate_document(_RECORD, raw, origin, report, self.name)
        if record is None:
            return
        advisory = _advisory(record, Where(report, origin))
        report.parsed += 1
        yield advisory


@dataclass
class _Voices:
    """What the containers of one record say, merged (the CNA first, then each ADP)."""

    affected: list[AffectedProduct] = field(default_factory=list)
    severities: list[Severity] = field(default_factory=list)
    others: list[tuple[Where, _Other]] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    cwes: list[str] = field(default_factory=list)

    def hear(self, container: _Container, provider: str, where: Where, rejected: bool) -> None:
        if not rejected:
            entries = where.indexed("affected", container.affected, _Affected, "affected entry")
            said = [
                (e, _statement(e, where.at(f"affected[{i}]")))
                for i, e in entries
                if (e.product or "").strip().lower() not in _NO_NAME
            ]
            # defaultStatus stops at the fixes stated for the product in this container, in
            # any of its entries (CISA's ADP writes one entry per branch).
            groups: dict[tuple[str, str], list[Statement]] = {}
            for entry, statement in said:
                groups.setdefault(_product_key(entry), []).append(statement)
            for entry, statement in said:
                default = None
                if entry.defaultStatus == "affected":
                    default = default_range(groups[_product_key(entry)])
                self.affected.extend(_products(entry, statement, default, provider))
        for index, metric in where.indexed("metrics", container.metrics, _Metric, "metric"):
            self.severities.extend(_severities(metric))
            if metric.other is not None:
                self.others.append((where.at(f"metrics[{index}]").at("other"), metric.other))
        refs = where.valid("references", container.references, Reference, "reference")
        self.references.extend(ref.url for ref in refs)
        self.cwes.extend(_cwes(container, where))


def _advisory(record: _Record, where: Where) -> Advisory:
    meta, cna = record.cveMetadata, record.containers.cna
    rejected = meta.state == "REJECTED"
    voices = _Voices()
    at_cna = where.at("containers").at("cna")
    voices.hear(cna, "cna", at_cna, rejected)
    adps = where.indexed("containers.adp", record.containers.adp, _Container, "ADP container")
    for index, adp in adps:
        provider = adp.providerMetadata.shortName or adp.title or "adp"
        voices.hear(adp, provider, where.at(f"containers.adp[{index}]"), rejected)
    if rejected:
        summary, language = _text(at_cna, "rejectedReasons", cna.rejectedReasons)
    else:
        summary, language = _text(at_cna, "descriptions", cna.descriptions)
    solution, _ = _text(at_cna, "solutions", cna.solutions)
    at_meta = where.at("cveMetadata")
    return Advisory(
        id=meta.cveId,
        source="cve5",
        title=(cna.title or "").strip(),
        summary=summary,
        published=at_meta.time("datePublished", meta.datePublished),
        modified=at_meta.time("dateUpdated", meta.dateUpdated),
        cves=(meta.cveId,),
        affected=tuple(voices.affected),
        severities=unique(voices.severities),
        exploitation=_exploitation(voices.others),
        references=unique(voices.references),
        solution=solution or None,
        language=language,
        withdrawn=rejected,
        cwes=unique(voices.cwes),
    )


def _text(where: Where, field_name: str, items: tuple[object, ...]) -> tuple[str, str]:
    """The English text if any, else French, else the first; and its language."""
    best: tuple[int, str, str] | None = None
    for text in where.valid(field_name, items, Text, field_name.rstrip("s")):
        lang = text.lang.strip().lower()
        base = {"eng": "en", "fre": "fr", "fra": "fr"}.get(lang, lang.split("-")[0])
        rank = {"en": 0, "fr": 1}.get(base, 2)
        if best is None or rank < best[0]:
            best = (rank, text.value.strip(), base or "en")
    return (best[1], best[2]) if best else ("", "en")


def _severities(metric: _Metric) -> Iterator[Severity]:
    for field_name, kind in _METRIC_KINDS:
        cvss: CvssModel | None = getattr(metric, field_name)
        if cvss is not None:
            yield cvss_severity(kind, cvss)
    if metric.other is not None and metric.other.type.strip().lower() not in ("ssvc", "kev"):
        try:  # a vendor's own word: "Red Hat severity rating", "Textual description…"
            rating = _RATING.validate_python(metric.other.content)
        except ValidationError:
            return
        word = (rating.value or rating.text or rating.other or "").strip()
        if word:
            yield Severity("vendor", label=word.lower())


def _exploitation(others: list[tuple[Where, _Other]]) -> Exploitation:
    """SSVC decision points and the KEV mention from CISA's "other" metrics."""
    points: dict[str, str] = {}
    kev_date: str | None = None
    for where, other in others:
        kind = other.type.strip().lower()
        try:
            if kind == "ssvc":
                options = _SSVC.validate_python(other.content).options
                for option in options:
                    for key, value in option.items():
                        _ssvc_point(points, key, value, where)
            elif kind == "kev":
                kev_date = kev_date or _KEV.validate_python(other.content).dateAdded
        except ValidationError as exc:
            where.skip(f"{kind} metric skipped: {exc.errors()[0]['msg']}", "content")
    automatable = points.get("automatable")
    return Exploitation(
        kev=kev_date is not None,
        kev_date_added=kev_date,
        ssvc_exploitation=points.get("exploitation"),
        ssvc_automatable=None if automatable is None else automatable == "yes",
        ssvc_technical_impact=points.get("technical impact"),
    )


def _ssvc_point(points: dict[str, str], key: str, value: str, where: Where) -> None:
    point, value = key.strip().lower(), value.strip().lower()
    if point in _SSVC_VALUES and value not in _SSVC_VALUES[point]:
        where.skip(f"SSVC {point} skipped: value not understood", "content.options")
    else:
        points.setdefault(point, value)


def _cwes(container: _Container, where: Where) -> Iterator[str]:
    problems = where.indexed("problemTypes", container.problemTypes, _ProblemType, "problem type")
    for index, problem in problems:
        at = where.at(f"problemTypes[{index}]")
        for item in at.valid("descriptions", problem.descriptions, _Problem, "problem type"):
            found = _CWE.match((item.cweId or item.description or "").strip())
            if found:
                yield found[0]


# --- affected products and their versions ---------------------------------------------------


def _product_key(entry: _Affected) -> tuple[str, str]:
    return ((entry.vendor or "").strip().casefold(), (entry.product or "").strip().casefold())


def _statement(entry: _Affected, where: Where) -> Statement:
    """What the version entries of one ``affected`` entry say."""
    _, scheme = _package(entry)
    unreadable = any(not isinstance(v, _Version) for v in entry.versions)
    said = Statement(scheme, said=unreadable)  # an unreadable entry said something
    for index, version in where.indexed("versions", entry.versions, _Version, "version entry"):
        at = where.at(f"versions[{index}]")
        read_version(version, said, at.skip)
    said.settle()
    return said


def _products(
    entry: _Affected, said: Statement, default: VersionRange | None, provider: str
) -> list[AffectedProduct]:
    product = (entry.product or "").strip()
    if product.lower() in _NO_NAME:
        return []
    vendor = (entry.vendor or "").strip()
    purl, _ = _package(entry)
    affected = [*said.affected, default] if default is not None else said.affected
    vendor_name = None if vendor.lower() in _NO_NAME else vendor
    cpes = unique(cpe.strip() for cpe in entry.cpes if cpe.strip())
    found: list[AffectedProduct] = []
    if affected or said.vague or not (said.said or entry.defaultStatus == "unaffected"):
        fixed = unique(v for v in said.fixed if is_version(v) and "*" not in v)
        ranges = unique(affected)
        found.append(
            AffectedProduct(product, vendor_name, ranges, purl, cpes, fixed, True, None, provider)
        )
    if said.unaffected:
        ranges = unique(said.unaffected)
        found.append(
            AffectedProduct(product, vendor_name, ranges, purl, cpes, (), False, None, provider)
        )
    return found


def _package(entry: _Affected) -> tuple[str | None, VersionScheme]:
    """The purl of ``packageName`` in ``collectionURL`` when known, and its scheme."""
    collection = (entry.collectionURL or "").lower()
    name = (entry.packageName or "").strip()
    for needle, kind, namespace, scheme in _COLLECTIONS:
        if needle in collection:
            return (purl_for(kind, namespace, name) if name else None), scheme
    return None, _V.GENERIC
