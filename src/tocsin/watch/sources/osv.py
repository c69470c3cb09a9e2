"""OSV advisories (osv.dev, GitHub Security Advisories, PyPA, Go, RustSec, distributions).

A document is one OSV JSON object, or a JSON list of them (as ``/v1/query`` answers
hold). Each gives one :class:`Advisory`: id and aliases (the CVE ids among the aliases and
``upstream`` are its ``cves``), ``summary`` as title and ``details`` as summary, dates,
``withdrawn``, references, severities (CVSS vectors as written, the GitHub
``database_specific.severity`` word as a vendor rating) and CWE ids.

Each ``affected[]`` package becomes an :class:`AffectedProduct` named after the package,
with its purl (given, or built from the ecosystem and name). Ranges follow the OSV
evaluation rules: the events of a range, in the order written, pair each ``introduced``
with the next ``fixed`` (exclusive) or ``last_affected`` (inclusive); ``introduced: "0"``
is from the beginning; an open range is capped by ``limit``. The scheme comes from the
range type (SEMVER; npm's own for npm) or the ecosystem (PyPI, npm, Maven, Debian/Ubuntu →
deb, Red Hat, AlmaLinux, Rocky Linux, SUSE → rpm, crates.io → semver; others generic). GIT
ranges hold commits, which cannot be compared with installed versions: each is a counted
skip, and the explicit ``versions`` list (release tags) is used instead when no other range
is left.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, ClassVar, Literal

from packageurl import PackageURL
from pydantic import Field, TypeAdapter

from tocsin.model.advisory import Advisory, AffectedProduct, Severity, VersionRange, VersionScheme
from tocsin.watch.sources.base import ParseReport, Record, register
from tocsin.watch.sources.nvd import (
    FeedModel,
    Lenient,
    Reference,
    UtcDatetime,
    Where,
    unique,
    validate_document,
)

GIT_RANGE = "GIT range skipped: commits cannot be compared with installed versions"
_CVE = re.compile(r"^CVE-\d{4}-\d{4,19}$")
_CWE = re.compile(r"^CWE-\d+$")
_V = VersionScheme
# ecosystem (before any ":release" suffix) → (version scheme, purl type, purl namespace)
_ECOSYSTEMS: dict[str, tuple[VersionScheme, str | None, str | None]] = {
    "pypi": (_V.PYPI, "pypi", None),
    "npm": (_V.NPM, "npm", None),
    "maven": (_V.MAVEN, "maven", None),
    "debian": (_V.DEB, "deb", "debian"),
    "ubuntu": (_V.DEB, "deb", "ubuntu"),
    "red hat": (_V.RPM, "rpm", "redhat"),
    "almalinux": (_V.RPM, "rpm", "almalinux"),
    "rocky linux": (_V.RPM, "rpm", "rocky-linux"),
    "suse": (_V.RPM, "rpm", "suse"),
    "opensuse": (_V.RPM, "rpm", "opensuse"),
    "crates.io": (_V.SEMVER, "cargo", None),
    "go": (_V.GENERIC, "golang", None),
    "rubygems": (_V.GENERIC, "gem", None),
    "nuget": (_V.GENERIC, "nuget", None),
    "packagist": (_V.GENERIC, "composer", None),
    "hex": (_V.GENERIC, "hex", None),
    "pub": (_V.GENERIC, "pub", None),
}
_SEVERITY_KINDS = {"CVSS_V2": "cvss_v2", "CVSS_V3": "cvss_v3", "CVSS_V4": "cvss_v4"}


class _Event(FeedModel):
    introduced: str | None = None
    fixed: str | None = None
    last_affected: str | None = None
    limit: str | None = None


class _Range(FeedModel):
    type: Literal["SEMVER", "ECOSYSTEM", "GIT"]
    events: Annotated[tuple[_Event, ...], Field(min_length=1)]


class _Package(FeedModel):
    ecosystem: str
    name: Annotated[str, Field(min_length=1)]
    purl: str | None = None


class _Severity(FeedModel):
    type: str
    score: str


class _Affected(FeedModel):
    package: _Package | None = None
    ranges: tuple[Lenient[_Range], ...] = ()
    versions: tuple[str, ...] = ()
    severity: tuple[Lenient[_Severity], ...] = ()


class _DatabaseSpecific(FeedModel):
    severity: str | None = None
    cwe_ids: tuple[str, ...] = ()


class _Vulnerability(FeedModel):
    id: Annotated[str, Field(min_length=1)]
    modified: Lenient[UtcDatetime]
    published: Lenient[UtcDatetime] | None = None
    withdrawn: Lenient[UtcDatetime] | None = None
    aliases: tuple[str, ...] = ()
    upstream: tuple[str, ...] = ()
    summary: str = ""
    details: str = ""
    severity: tuple[Lenient[_Severity], ...] = ()
    affected: tuple[Lenient[_Affected], ...] = ()
    references: tuple[Lenient[Reference], ...] = ()
    database_specific: Lenient[_DatabaseSpecific] | None = None


_ONE = TypeAdapter(_Vulnerability)
_MANY = TypeAdapter(tuple[Lenient[_Vulnerability], ...])


@register
class OsvSource:
    name: ClassVar[str] = "osv"
    description: ClassVar[str] = "OSV advisories (GitHub, PyPA, Go, RustSec, distributions)"

    def parse(self, raw: bytes, origin: str, report: ParseReport) -> Iterator[Record]:
        where = Where(report, origin)
        if raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"[":
            many = validate_document(_MANY, raw, origin, report, self.name)
            for index, item in where.indexed("", many or (), _Vulnerability, "advisory"):
                report.parsed += 1
                yield _advisory(item, where.at(f"[{index}]"))
            return
        one = validate_document(_ONE, raw, origin, report, self.name)
        if one is not None:
            report.parsed += 1
            yield _advisory(one, where)


def _advisory(vuln: _Vulnerability, where: Where) -> Advisory:
    ids = (vuln.id.strip(), *(alias.strip() for alias in vuln.aliases))
    cves = unique(i for i in (*ids, *(u.strip() for u in vuln.upstream)) if _CVE.match(i))
    extra = vuln.database_specific
    if extra is not None and not isinstance(extra, _DatabaseSpecific):
        where.unread("database_specific", _DatabaseSpecific, extra, "database_specific")
        extra = None
    severities = list(_severities(vuln.severity, where.at("severity")))
    if extra is not None and extra.severity:
        severities.append(Severity("vendor", label=extra.severity.strip().lower()))
    affected: list[AffectedProduct] = []
    for index, entry in where.indexed("affected", vuln.affected, _Affected, "affected entry"):
        at = where.at(f"affected[{index}]")
        severities.extend(_severities(entry.severity, at.at("severity")))
        product = _product(entry, at)
        if product is not None:
            affected.append(product)
    references = where.valid("references", vuln.references, Reference, "reference")
    return Advisory(
        id=ids[0],
        source="osv",
        title=vuln.summary.strip(),
        summary=vuln.details.strip() or vuln.summary.strip(),
        published=where.time("published", vuln.published),
        modified=where.time("modified", vuln.modified),
        aliases=unique(alias for alias in ids[1:] if alias and alias != ids[0]),
        cves=cves,
        affected=tuple(affected),
        severities=unique(severities),
        references=unique(reference.url for reference in references),
        withdrawn=vuln.withdrawn is not None,
        cwes=unique(c.strip() for c in (extra.cwe_ids if extra else ()) if _CWE.match(c.strip())),
    )


def _severities(items: tuple[object, ...], where: Where) -> Iterator[Severity]:
    for severity in where.valid("", items, _Severity, "severity"):
        kind = _SEVERITY_KINDS.get(severity.type.strip().upper())
        if kind is not None:
            yield Severity(kind, vector=severity.score.strip())
        elif severity.score.strip():  # "Ubuntu": a word such as "medium"
            yield Severity("vendor", label=severity.score.strip().lower())


def _product(entry: _Affected, where: Where) -> AffectedProduct | None:
    ranges: list[VersionRange] = []
    fixed: list[str] = []
    commits = False
    scheme, purl_type, namespace = _ecosystem(entry.package)
    for index, rng in where.indexed("ranges", entry.ranges, _Range, "range"):
        if rng.type == "GIT":
            where.skip(GIT_RANGE, f"ranges[{index}]")
            commits = True
            continue
        semver = rng.type == "SEMVER" and scheme not in (_V.NPM, _V.SEMVER)
        kind = _V.SEMVER if semver else scheme  # npm keeps its own flavour of semver
        ranges.extend(_pairs(rng.events, kind))
        fixed.extend(event.fixed.strip() for event in rng.events if event.fixed)
    package = entry.package
    if package is None:
        if not commits:  # a GIT-only entry was counted above
            where.skip("affected entry skipped: no package named", "package")
        return None
    if not ranges:  # no comparable range: the explicit list of affected versions
        listed = (v.strip() for v in entry.versions if v.strip())
        ranges = [VersionRange(exact=v, scheme=scheme, text=f"version {v}") for v in listed]
    purl = package.purl.strip() if package.purl else None
    if purl is None and purl_type is not None:
        purl = purl_for(purl_type, namespace, package.name.strip())
    return AffectedProduct(
        product=package.name.strip(),
        ranges=unique(ranges),
        purl=purl,
        fixed_versions=unique(fixed),
        text=f"{package.ecosystem}: {package.name}",
    )


def _ecosystem(package: _Package | None) -> tuple[VersionScheme, str | None, str | None]:
    if package is None:
        return _V.GENERIC, None, None
    base = package.ecosystem.split(":", 1)[0].strip().lower()
    return _ECOSYSTEMS.get(base, (_V.GENERIC, None, None))


def _pairs(events: tuple[_Event, ...], scheme: VersionScheme) -> Iterator[VersionRange]:
    """Ranges from events in the order written: each introduced up to the next end."""
    start: str | None = None
    is_open = False
    limit = next((e.limit.strip() for e in events if e.limit), None)
    for event in events:
        if event.introduced is not None:
            if is_open:  # two starts in a row: the first range runs up to the limit
                yield _range(start, limit, None, scheme)
            start, is_open = event.introduced.strip(), True
        elif event.fixed is not None or event.last_affected is not None:
            fixed = event.fixed.strip() if event.fixed is not None else None
            last = event.last_affected.strip() if event.last_affected is not None else None
            yield _range(start, fixed, last, scheme)
            start, is_open = None, False
    if is_open:
        yield _range(start, limit, None, scheme)


def _range(start: str | None, fixed: str | None, last: str | None, scheme: _V) -> VersionRange:
    introduced = None if start in (None, "", "0") else start
    text = ", ".join(
        part
        for part in (
            f"introduced {start}" if start is not None else "",
            f"fixed {fixed}" if fixed else "",
            f"last_affected {last}" if last else "",
        )
        if part
    )
    every = introduced is None and not fixed and not last
    return VersionRange(
        introduced=introduced,
        fixed=fixed or None,
        last_affected=last or None,
        all_versions=every,
        scheme=scheme,
        text=text or "all versions",
    )


def purl_for(kind: str, namespace: str | None, name: str) -> str | None:
    """A package URL from a purl type and a package name as feeds write it (None if odd)."""
    if kind == "maven":
        if ":" not in name:
            return None
        namespace, name = name.split(":", 1)
    elif kind in ("npm", "golang", "composer") and "/" in name:
        namespace, name = name.rsplit("/", 1)
    elif kind == "pypi":
        name = re.sub(r"[-_.]+", "-", name).lower()
    try:
        return str(PackageURL(type=kind, namespace=namespace, name=name).to_string())
    except ValueError:
        return None
