"""CSAF 2.0 advisories: CISA (IT, ICS and the ICS medical advisories), Siemens ProductCERT and
any trusted provider the user adds.

One :class:`~tocsin.model.advisory.Advisory` per CSAF document: its id is
``document.tracking.id`` (ICSMA-24-023-01, SSA-123456…), its CVEs those of the
vulnerabilities, and ``affected`` holds one entry per product id a vulnerability lists as
known or first/last affected (and, with ``affected=False``, the products listed only as
known not affected). The product tree is read by :mod:`tocsin.watch.sources.csaf_tree`.
Fixed versions come from products listed as ``fixed``/``first_fixed`` that name a version,
attached to the affected products of the same name or of the same ``vendor_fix``.

Providers are data (``tocsin/data/csaf_providers.toml``); finding their documents
(provider-metadata.json, ROLIE feeds) is in :mod:`tocsin.watch.sources.csaf_discovery`.
A ROLIE feed handed to this parser is skipped as such, with that reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from tocsin.errors import Location
from tocsin.model.advisory import Advisory, AffectedProduct, Exploitation, Severity
from tocsin.watch.sources.base import ParseReport, Record, register
from tocsin.watch.sources.csaf_tree import (
    ProductTree,
    TreeLimitError,
    read_product_tree,
    skip_invalid,
)

MAX_VULNERABILITIES = 10_000
MAX_FIXED_VERSIONS = 32  # distinct fixed versions kept per affected product
CVE_ID = re.compile(r"CVE-\d{4}-\d{4,}")


# --- boundary models ---------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Note(_Model):
    category: StrictStr = ""
    text: StrictStr = ""
    title: StrictStr = ""


class _Reference(_Model):
    url: StrictStr
    category: StrictStr = "external"


class _Tracking(_Model):
    id: StrictStr = Field(max_length=1000, pattern=r"^\S(.*\S)?$")  # the schema's pattern
    initial_release_date: datetime | None = None
    current_release_date: datetime | None = None
    aliases: list[StrictStr] = []


class _AggregateSeverity(_Model):
    text: StrictStr = ""


class _Document(_Model):
    category: StrictStr
    csaf_version: StrictStr
    title: StrictStr = ""
    lang: StrictStr | None = None
    tracking: _Tracking
    notes: list[_Note] = []
    references: list[_Reference] = []
    aggregate_severity: _AggregateSeverity | None = None


class _ProductStatus(_Model):
    known_affected: list[StrictStr] = []
    first_affected: list[StrictStr] = []
    last_affected: list[StrictStr] = []
    fixed: list[StrictStr] = []
    first_fixed: list[StrictStr] = []
    known_not_affected: list[StrictStr] = []
    under_investigation: list[StrictStr] = []
    recommended: list[StrictStr] = []


class _Remediation(_Model):
    category: StrictStr
    details: StrictStr = ""
    product_ids: list[StrictStr] = []
    url: StrictStr | None = None


class _Cvss(_Model):
    baseScore: float | None = None  # noqa: N815 - the CVSS JSON name
    vectorString: StrictStr | None = None  # noqa: N815
    baseSeverity: StrictStr | None = None  # noqa: N815


class _Score(_Model):
    cvss_v2: _Cvss | None = None
    cvss_v3: _Cvss | None = None
    cvss_v4: _Cvss | None = None


class _Threat(_Model):
    category: StrictStr = ""
    details: StrictStr = ""


class _Id(_Model):
    system_name: StrictStr = ""
    text: StrictStr


class _Cwe(_Model):
    id: StrictStr = Field(pattern=r"^CWE-[1-9]\d{0,5}$")


class _Vulnerability(_Model):
    cve: StrictStr | None = Field(default=None, pattern=r"^CVE-\d{4}-\d{4,}$")
    cwe: _Cwe | None = None
    ids: list[_Id] = []
    title: StrictStr = ""
    notes: list[_Note] = []
    product_status: _ProductStatus = _ProductStatus()
    remediations: list[_Remediation] = []
    scores: list[_Score] = []
    threats: list[_Threat] = []
    references: list[_Reference] = []


# --- the source --------------------------------------------------------------------------


@register
class CsafSource:
    """CSAF 2.0 documents, one per file or JSON line."""

    name: ClassVar[str] = "csaf"
    description: ClassVar[str] = (
        "CSAF 2.0 advisories (CISA incl. ICS medical, Siemens ProductCERT, trusted providers)"
    )

    def parse(self, raw: bytes, origin: str, report: ParseReport) -> Iterator[Record]:
        advisory = parse_csaf(raw, origin, report)
        if advisory is not None:
            report.parsed += 1
            yield advisory


def load_json(raw: bytes, origin: str, report: ParseReport) -> tuple[object] | None:
    """``(value,)`` of the JSON in ``raw``, or None with the reason counted."""
    try:
        data: object = json.loads(raw)
    except RecursionError:
        report.skip(Location(origin), "JSON nested too deeply")
    except (UnicodeDecodeError, ValueError) as exc:
        report.skip(Location(origin), f"not JSON: {type(exc).__name__}")
    else:
        return (data,)
    return None


def parse_csaf(raw: bytes, origin: str, report: ParseReport) -> Advisory | None:
    """One CSAF document as an Advisory, or None with the reason in ``report``."""
    loaded = load_json(raw, origin, report)
    if loaded is None:
        return None
    data = loaded[0]
    if not isinstance(data, dict) or "document" not in data:
        is_feed = isinstance(data, dict) and "feed" in data
        reason = "a ROLIE feed, not a CSAF document" if is_feed else "not a CSAF document"
        report.skip(Location(origin), reason)
        return None
    try:
        document = _Document.model_validate(data["document"])
    except ValidationError as exc:
        skip_invalid(report, origin, "document", exc, "invalid CSAF document")
        return None
    if not document.csaf_version.startswith("2."):
        report.skip(Location(origin, field="document.csaf_version"), "unsupported CSAF version")
        return None
    try:
        tree = read_product_tree(data.get("product_tree"), origin, report)
    except TreeLimitError as exc:
        report.skip(Location(origin, field=exc.path), exc.reason)
        return None
    vulnerabilities = _vulnerabilities(data.get("vulnerabilities"), origin, report)
    if vulnerabilities is None:
        return None
    return _advisory(document, tree, vulnerabilities, origin, report)


def _vulnerabilities(
    raw: object, origin: str, report: ParseReport
) -> list[tuple[int, _Vulnerability]] | None:
    if raw is None:
        return []
    if not isinstance(raw, list):
        report.skip(Location(origin, field="vulnerabilities"), "vulnerabilities is not a list")
        return None
    if len(raw) > MAX_VULNERABILITIES:
        reason = f"over {MAX_VULNERABILITIES:,} vulnerabilities"
        report.skip(Location(origin, field="vulnerabilities"), reason)
        return None
    out: list[tuple[int, _Vulnerability]] = []
    for index, item in enumerate(raw):
        try:
            out.append((index, _Vulnerability.model_validate(item)))
        except ValidationError as exc:
            skip_invalid(report, origin, f"vulnerabilities[{index}]", exc, "vulnerability left out")
    return out


def _advisory(
    document: _Document,
    tree: ProductTree,
    vulnerabilities: list[tuple[int, _Vulnerability]],
    origin: str,
    report: ParseReport,
) -> Advisory:
    vulns = [vuln for _, vuln in vulnerabilities]
    tracking = document.tracking
    cves = _unique(vuln.cve for vuln in vulns if vuln.cve)
    aliases = _unique(
        [*tracking.aliases, *(i.text for vuln in vulns for i in vuln.ids)],
        exclude={tracking.id, *cves},
    )
    return Advisory(
        id=tracking.id,
        source="csaf",
        title=" ".join(document.title.split()),
        summary=_summary(document, vulns),
        published=_aware(tracking.initial_release_date),
        modified=_aware(tracking.current_release_date),
        aliases=aliases,
        cves=cves,
        affected=_affected(tree, vulnerabilities, origin, report),
        severities=_severities(document, vulns),
        exploitation=_exploitation(vulns),
        references=_references(document, vulns),
        solution=_solution(vulns),
        language=_language(document.lang),
        withdrawn=document.category == "csaf_withdrawn",
        cwes=_unique(vuln.cwe.id for vuln in vulns if vuln.cwe),
    )


# --- affected products and fixed versions ------------------------------------------------

_AFFECTED = ("known_affected", "first_affected", "last_affected")
_FIXED = ("fixed", "first_fixed")


@dataclass
class _Status:
    """Product ids by what the vulnerabilities say of them, in document order."""

    affected: dict[str, None]
    not_affected: dict[str, None]
    fixed: dict[str, None]


def _statuses(
    tree: ProductTree,
    vulnerabilities: list[tuple[int, _Vulnerability]],
    origin: str,
    report: ParseReport,
) -> _Status:
    status = _Status({}, {}, {})
    groups = (
        (_AFFECTED, status.affected),
        (_FIXED, status.fixed),
        (("known_not_affected",), status.not_affected),
    )
    for index, vuln in vulnerabilities:
        for keys, target in groups:
            for key in keys:
                for n, pid in enumerate(getattr(vuln.product_status, key)):
                    if pid in tree:
                        target[pid] = None
                    else:
                        path = f"vulnerabilities[{index}].product_status.{key}[{n}]"
                        report.skip(Location(origin, field=path), "unknown product id")
    return status


def _affected(
    tree: ProductTree,
    vulnerabilities: list[tuple[int, _Vulnerability]],
    origin: str,
    report: ParseReport,
) -> tuple[AffectedProduct, ...]:
    status = _statuses(tree, vulnerabilities, origin, report)
    fixes = _fixed_versions(tree, status, [vuln for _, vuln in vulnerabilities])
    out: dict[AffectedProduct, None] = {}
    for pid in status.affected:
        product = tree.products[pid]
        out[product.affected(True, tuple(fixes.get(pid, ())))] = None
    for pid in status.not_affected:
        if pid not in status.affected:
            out[tree.products[pid].affected(False)] = None
    return tuple(out)


def _fixed_versions(
    tree: ProductTree, status: _Status, vulns: list[_Vulnerability]
) -> dict[str, list[str]]:
    """Affected product id → versions that fix it.

    A fixed product that names one version fixes the affected products of the same
    vendor and product name, and those listed with it in one ``vendor_fix``. At most
    :data:`MAX_FIXED_VERSIONS` are kept per product, so a hostile document cannot make
    this quadratic.
    """
    by_name: dict[tuple[str | None, str], dict[str, None]] = {}
    for pid in status.fixed:
        fixed = tree.products[pid]
        if fixed.version:
            key = (fixed.vendor, fixed.product.casefold())
            by_name.setdefault(key, {})[fixed.version] = None
    out: dict[str, dict[str, None]] = {}
    for pid in status.affected:
        product = tree.products[pid]
        versions = by_name.get((product.vendor, product.product.casefold()), {})
        out[pid] = dict.fromkeys(list(versions)[:MAX_FIXED_VERSIONS])
    for vuln in vulns:
        for rem in vuln.remediations:
            if rem.category != "vendor_fix":
                continue
            found = (tree.products[p].version for p in rem.product_ids if p in status.fixed)
            fixes = list(dict.fromkeys(v for v in found if v))[:MAX_FIXED_VERSIONS]
            for pid in rem.product_ids if fixes else ():
                if pid in out and len(out[pid]) < MAX_FIXED_VERSIONS:
                    out[pid].update(dict.fromkeys(fixes))
    return {pid: list(versions) for pid, versions in out.items() if versions}


# --- text, scores, references ------------------------------------------------------------


def _summary(document: _Document, vulns: list[_Vulnerability]) -> str:
    """The document's summary notes; failing those, the vulnerabilities' own summaries."""
    kinds = ("summary", "description")
    parts = [n.text.strip() for n in document.notes if n.category in kinds and n.text.strip()]
    if not parts:
        for vuln in vulns:
            texts = [n.text.strip() for n in vuln.notes if n.category in kinds]
            text = next((t for t in texts if t), vuln.title.strip())
            if text:
                parts.append(f"{vuln.cve}: {text}" if vuln.cve else text)
    return "\n\n".join(_unique(parts))


_REMEDIATION_ORDER = ("vendor_fix", "workaround", "mitigation", "no_fix_planned", "none_available")


def _solution(vulns: list[_Vulnerability]) -> str | None:
    rems = [rem for vuln in vulns for rem in vuln.remediations]
    texts = [
        rem.details.strip()
        for category in _REMEDIATION_ORDER
        for rem in rems
        if rem.category == category and rem.details.strip()
    ]
    return "\n".join(_unique(texts)) or None


def _severities(document: _Document, vulns: list[_Vulnerability]) -> tuple[Severity, ...]:
    out: dict[Severity, None] = {}
    for vuln in vulns:
        for score in vuln.scores:
            for kind, cvss in (
                ("cvss_v4", score.cvss_v4),
                ("cvss_v3", score.cvss_v3),
                ("cvss_v2", score.cvss_v2),
            ):
                if cvss is not None and (cvss.vectorString or cvss.baseScore is not None):
                    label = cvss.baseSeverity.lower() if cvss.baseSeverity else None
                    out[Severity(kind, cvss.baseScore, cvss.vectorString, label)] = None
    if document.aggregate_severity and document.aggregate_severity.text.strip():
        out[Severity("vendor", label=document.aggregate_severity.text.strip())] = None
    return tuple(out)


_ACTIVE = re.compile(r"\b(actively|active|in the wild|exploited)\b", re.IGNORECASE)
_NEGATED = re.compile(r"\b(no|not|none)\b", re.IGNORECASE)
_POC = re.compile(r"\b(proof[- ]of[- ]concept|poc|exploit code|publicly available)\b", re.I)


def _exploitation(vulns: list[_Vulnerability]) -> Exploitation:
    """``exploit_status`` threats: active exploitation or a proof of concept, when stated."""
    level: str | None = None
    for vuln in vulns:
        for threat in vuln.threats:
            if threat.category != "exploit_status" or _NEGATED.search(threat.details):
                continue
            if _ACTIVE.search(threat.details):
                level = "active"
            elif _POC.search(threat.details) and level is None:
                level = "poc"
    return Exploitation(ssvc_exploitation=level)


def _references(document: _Document, vulns: list[_Vulnerability]) -> tuple[str, ...]:
    urls = [ref.url for ref in document.references if ref.category == "self"]
    urls += [ref.url for ref in document.references if ref.category != "self"]
    for vuln in vulns:
        urls += [rem.url for rem in vuln.remediations if rem.url]
        urls += [ref.url for ref in vuln.references]
    return _unique(url.strip() for url in urls if url.strip())


def _language(lang: str | None) -> str:
    primary = (lang or "").split("-", 1)[0].strip().lower()
    return primary if primary.isalpha() and len(primary) <= 8 else "en"


def _aware(moment: datetime | None) -> datetime | None:
    """In UTC; a date without a zone is taken as UTC."""
    if moment is None:
        return None
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 with an offset: keep it as written
        return moment


def _unique(items: Iterable[str], exclude: set[str] | None = None) -> tuple[str, ...]:
    seen = exclude or set()
    return tuple(item for item in dict.fromkeys(items) if item and item not in seen)
