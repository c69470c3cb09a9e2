"""CVE JSON 5 records (cvelistV5, CVE Services, CISA vulnrichment): one record a document.

A record gives one :class:`Advisory` (id = the CVE id, ``withdrawn`` when REJECTED) built
from the CNA container and every ADP container: affected products of each container are kept
side by side with their ``provider`` ("cna", or the ADP's short name such as "CISA-ADP");
CVSS metrics, CWE ids and references are merged without repeats; CISA's SSVC decision
points and KEV mention ("other" metrics) become :class:`Exploitation` fields.

Affected versions follow the CVE JSON 5 schema:

- ``version`` with ``lessThan`` (exclusive) or ``lessThanOrEqual`` (inclusive) is a range
  starting at ``version``; a start of "0", "*", "-", "n/a" or "unspecified" means from the
  beginning. An upper bound "*" means no bound; "5.10.*" means up to the end of the 5.10
  series, with either operator (the schema's "arbitrarily large" tail). An upper bound that
  is not a version ("publication", "latest", a URL) leaves the range open above, its wording
  kept in ``text``; a leading "<" or "<=" in a bound is read as that operator.
- ``changes``: from each ``at`` to the end of the range, the new status. Read this way the
  order of ``changes`` does not matter (the schema does not promise one) and the result is
  exact whenever every change goes the same way, as in nearly all real records.
- ``version`` alone: "*" or "all versions" is every version; "n/a", "unspecified", "-",
  "0", "various" say nothing about versions (the product is matched by name only); else one
  version. A range from X to before X holds no version: the CNAs that write it (Chrome,
  HackerOne) mean "before X", and it is read so.
- ``status: unaffected`` entries go to a second :class:`AffectedProduct` with
  ``affected=False`` for the same product: a version inside one of its ranges is not
  affected, even when an affected range or ``defaultStatus: affected`` covers it (the
  Linux kernel CNA writes "affected by default, except these fixed series"). The start of
  each unaffected range and the exclusive end of each affected range are
  ``fixed_versions``; a lone unaffected version is not (vendors list unaffected branches).
- ``defaultStatus: affected`` adds an all-versions range to the affected product; a product
  whose entries state only unaffected (or git, or unknown) versions gets no affected entry.
- ``versionType`` gives the scheme (semver, maven, pypi/python, npm, rpm, deb; otherwise
  generic, or the package collection's when absent). Git commit ranges cannot be compared
  with installed versions: each is a counted skip, as is each ``status: unknown`` entry.
- An ``affected`` entry naming no product ("n/a", "-", empty) carries nothing to match and
  is left out (the MITRE legacy records write vendor "n/a", product "n/a", version "n/a").
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

Status = Literal["affected", "unaffected", "unknown"]


class _Change(FeedModel):
    at: str
    status: Status


class _Version(FeedModel):
    version: str
    status: Status
    versionType: str | None = None
    lessThan: str | None = None
    lessThanOrEqual: str | None = None
    changes: tuple[_Change, ...] = ()


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
_SCHEMES = {s.value: s for s in _V} | {"python": _V.PYPI, "debian": _V.DEB, "custom": _V.GENERIC}
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
_EVERY = frozenset({"*", "all", "all versions", "any"})
_SILENT = frozenset({"", "n/a", "-", "0", "unspecified", "unknown", "various", "none"})
_OPEN_START = _SILENT | _EVERY
# A commit id: 10 to 40 hex digits with at least two letters ("1da177e4c3f4"), so that
# firmware builds such as "b20210419" stay versions.
_COMMIT = re.compile(r"^(?=(?:[0-9]*[a-f]){2})(?=[0-9a-f]*[0-9])[0-9a-f]{10,40}$")
_CWE = re.compile(r"CWE-\d+")
_SSVC_VALUES = {
    "exploitation": frozenset({"none", "poc", "active"}),
    "automatable": frozenset({"yes", "no"}),
    "technical impact": frozenset({"partial", "total"}),
}
COMMIT_RANGE = "git commit range skipped: commits cannot be compared with installed versions"
UNKNOWN_STATUS = "version entry skipped: status unknown"


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
            for index, entry in entries:
                self.affected.extend(_products(entry, provider, where.at(f"affected[{index}]")))
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


@dataclass
class _Statement:
    """What the version entries of one ``affected`` entry say, sorted by status."""

    scheme: VersionScheme
    said: bool  # some entry said something about versions
    vague: bool = False  # some entry said "affected" without a usable version
    affected: list[VersionRange] = field(default_factory=list)
    unaffected: list[VersionRange] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)

    def add(self, status: Status, rng: VersionRange) -> None:
        self.said = True
        if status == "affected":
            self.affected.append(rng)
        elif status == "unaffected":
            self.unaffected.append(rng)


def _products(entry: _Affected, provider: str, where: Where) -> list[AffectedProduct]:
    product = (entry.product or "").strip()
    if product.lower() in _NO_NAME:
        return []
    vendor = (entry.vendor or "").strip()
    purl, scheme = _package(entry)
    unreadable = any(not isinstance(v, _Version) for v in entry.versions)
    said = _Statement(scheme, said=unreadable)  # an unreadable entry said something
    for index, version in where.indexed("versions", entry.versions, _Version, "version entry"):
        _read(version, said, where.at(f"versions[{index}]"))
    if entry.defaultStatus == "affected":
        said.affected.append(VersionRange(all_versions=True, text="defaultStatus: affected"))
    vendor_name = None if vendor.lower() in _NO_NAME else vendor
    cpes = unique(cpe.strip() for cpe in entry.cpes if cpe.strip())
    found: list[AffectedProduct] = []
    if said.affected or said.vague or not (said.said or entry.defaultStatus == "unaffected"):
        fixed = unique(v for v in said.fixed if _is_version(v) and "*" not in v)
        ranges = unique(said.affected)
        found.append(
            AffectedProduct(product, vendor_name, ranges, purl, cpes, fixed, True, None, provider)
        )
    if said.unaffected:
        ranges = unique(said.unaffected)
        found.append(
            AffectedProduct(product, vendor_name, ranges, purl, cpes, (), False, None, provider)
        )
    return found


def _read(entry: _Version, said: _Statement, where: Where) -> None:
    """Add one version entry's ranges (see the module docstring for the rules)."""
    version = entry.version.strip()
    upper = entry.lessThan if entry.lessThan is not None else entry.lessThanOrEqual
    kind = (entry.versionType or "").strip().lower()
    if entry.status == "unknown":
        said.said = True
        where.skip(UNKNOWN_STATUS)
        return
    if kind == "git" or _COMMIT.match(version) or _COMMIT.match((upper or "").strip()):
        said.said = True
        where.skip(COMMIT_RANGE)
        return
    scheme = _SCHEMES.get(kind, _V.GENERIC) if kind else said.scheme
    text = f"{entry.status}: version {version}"
    if upper is None:
        if version.lower() in _EVERY:
            said.add(entry.status, VersionRange(all_versions=True, scheme=scheme, text=text))
        elif version.lower() not in _SILENT:
            said.add(entry.status, VersionRange(exact=version, scheme=scheme, text=text))
        else:
            said.vague = said.vague or entry.status == "affected"
        return
    bound = "lessThan" if entry.lessThan is not None else "lessThanOrEqual"
    text = f"{text}, {bound} {upper.strip()}"
    start = None if version.lower() in _OPEN_START else version
    inclusive = bound == "lessThanOrEqual"
    if not _segment(said, entry.status, start, upper, inclusive, (scheme, text)):
        # "73.0.3683.75 less than 73.0.3683.75" holds no version: Chrome and HackerOne
        # write it for "before 73.0.3683.75", as their descriptions say.
        _segment(said, entry.status, None, upper, inclusive, (scheme, text))
    for change in entry.changes:  # from ``at`` to the end of the range, the new status
        if change.status != entry.status:
            _segment(said, change.status, change.at.strip(), upper, inclusive, (scheme, text))


def _segment(
    said: _Statement,
    status: Status,
    start: str | None,
    upper: str,
    inclusive: bool,
    how: tuple[VersionScheme, str],
) -> bool:
    """One part of a range: ``start`` (inclusive, None from the beginning) to ``upper``.

    False when the part holds no version (``start`` is its exclusive end).
    """
    end = upper.strip()
    if end.startswith("<="):
        inclusive, end = True, end[2:].strip()
    elif end.startswith("<"):
        inclusive, end = False, end[1:].strip()
    every = end == "*" and start is None
    end = end if end != "*" and _is_version(end) else ""
    inclusive = inclusive or end.endswith("*")  # "< 1.*" is the whole 1.x series
    if end and end == start and not inclusive:
        return False
    fixed, last = (None, end or None) if inclusive else (end or None, None)
    said.add(status, VersionRange(start, False, fixed, last, None, every, *how))
    if status == "unaffected" and start is not None:
        said.fixed.append(start)
    elif status == "affected" and end and not inclusive:
        said.fixed.append(end)
    return True


def _is_version(text: str) -> bool:
    """A bound that can be compared: has a digit, is not a URL or a placeholder."""
    return (
        any(c.isdigit() for c in text)
        and "://" not in text
        and len(text) <= 128
        and text.lower() not in _SILENT
    )


def _package(entry: _Affected) -> tuple[str | None, VersionScheme]:
    """The purl of ``packageName`` in ``collectionURL`` when known, and its scheme."""
    collection = (entry.collectionURL or "").lower()
    name = (entry.packageName or "").strip()
    for needle, kind, namespace, scheme in _COLLECTIONS:
        if needle in collection:
            return (purl_for(kind, namespace, name) if name else None), scheme
    return None, _V.GENERIC
