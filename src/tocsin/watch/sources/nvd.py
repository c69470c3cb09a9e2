"""NVD API 2.0 CVE responses: CVEs with their CPE configurations.

One document is one page of ``/rest/json/cves/2.0`` (``{"vulnerabilities": [...],
"resultsPerPage", "startIndex", "totalResults", "format": "NVD_CVE", "version": "2.0"}``).
Each ``vulnerabilities[i].cve`` becomes an :class:`Advisory` with its configurations kept
whole (AND/OR nodes, negate, vulnerable vs platform entries, version bounds), CVSS metrics
(primary and secondary), CWE ids, references and the CISA KEV columns NVD copies
(``cisaExploitAdd``, ``cisaActionDue``; ``cisaRequiredAction`` as the solution).
``vulnStatus: Rejected`` gives ``withdrawn=True``.

A page must say ``"format": "NVD_CVE"`` (the API always does): it is what tells a page
from a KEV catalogue, which also has a ``vulnerabilities`` list.

Partial failure: a vulnerability that cannot be read is skipped alone; so is a configuration
with any unreadable part (dropping one entry of an AND node would widen it and match too
much). A page that is not JSON (a truncated download) is one skip with its line and column.
A document of another feed (KEV, CVE 5, OSV, CSAF) raises :class:`InputError`.

This module also holds the boundary helpers the other JSON sources share (``Lenient`` items,
JSON error locations, UTC timestamps, telling feed documents apart, CVSS objects).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeAlias, TypeVar, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    TypeAdapter,
    ValidationError,
)

from tocsin.errors import InputError, Location
from tocsin.model.advisory import (
    Advisory,
    CpeConfiguration,
    CpeMatch,
    CpeNode,
    Exploitation,
    Severity,
)
from tocsin.watch.sources.base import ParseReport, Record, register

# --- reading JSON feed documents (shared by the JSON sources of this package) -------------

T = TypeVar("T")


class FeedModel(BaseModel):
    """Base of boundary models: unknown fields are ignored, known ones are checked."""

    model_config = ConfigDict(extra="ignore", frozen=True)


if TYPE_CHECKING:
    # An item that fails validation stays as its raw JSON value, to be skipped alone.
    Lenient: TypeAlias = T | object
else:

    class Lenient:
        """``Lenient[Model]``: a list item kept raw when it is not a valid ``Model``.

        A left-to-right union with ``Any`` keeps validation in pydantic-core (no Python call
        per item); :meth:`Where.valid` explains the raw items when it counts them as skips.
        """

        def __class_getitem__(cls, item: object) -> object:
            return Annotated[Union[item, Any], Field(union_mode="left_to_right")]  # noqa: UP007


def json_path(loc: Iterable[int | str]) -> str:
    """``("a", 0, "b")`` → ``"a[0].b"``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@cache
def _adapter(model: Any) -> TypeAdapter[Any]:
    return TypeAdapter(model)


def explain(model: Any, value: object) -> tuple[str, str]:
    """Why ``value`` is not a valid ``model``: the JSON path inside it and the message."""
    try:
        _adapter(model).validate_python(value)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        # "Input should be a valid dictionary or instance of _Entry": no class names
        return json_path(first["loc"]), str(first["msg"]).split(" or instance of ")[0]
    return "", "unreadable"


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Feeds write UTC with or without an offset ("2024-02-09T09:15:08.870" in NVD).
UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]
Score = Annotated[float, Field(ge=0, le=10, allow_inf_nan=False)]


class Where:
    """Where in a document a parser is: skips made through it carry the full JSON path."""

    __slots__ = ("field", "origin", "parent", "report")

    def __init__(
        self, report: ParseReport, origin: str, field: str = "", parent: Where | None = None
    ) -> None:
        self.report, self.origin, self.field, self.parent = report, origin, field, parent

    def at(self, field: str) -> Where:
        return Where(self.report, self.origin, field, self)

    @property
    def path(self) -> str:
        parent = self.parent.path if self.parent is not None else ""
        if not parent or not self.field or self.field.startswith("["):
            return f"{parent}{self.field}"
        return f"{parent}.{self.field}"

    def skip(self, reason: str, field: str = "") -> None:
        where = self.at(field) if field else self
        self.report.skip(Location(self.origin, field=where.path or None), reason)

    def valid(self, field: str, items: Iterable[object], model: type[T], what: str) -> Iterator[T]:
        """The valid items of a lenient list; the others are counted as skips."""
        for _, item in self.indexed(field, items, model, what):
            yield item

    def indexed(
        self, field: str, items: Iterable[object], model: type[T], what: str
    ) -> Iterator[tuple[int, T]]:
        """Like :meth:`valid`, with each item's index in the list."""
        for index, item in enumerate(items):
            if isinstance(item, model):
                yield index, item
            else:
                self.unread(f"{field}[{index}]", model, item, what)

    def unread(self, field: str, model: Any, value: object, what: str) -> None:
        inner, message = explain(model, value)
        where = self.at(field).at(inner) if inner else self.at(field)
        where.skip(f"{what} skipped: {message}")

    def time(self, field: str, value: object) -> datetime | None:
        """A lenient timestamp: None when absent; a counted skip when unreadable."""
        if value is None or isinstance(value, datetime):
            return value
        self.unread(field, UtcDatetime, value, "timestamp")
        return None


_POSITION = re.compile(r"\s*at line (\d+) column (\d+)$")
_BOM = b"\xef\xbb\xbf"


def validate_document(
    adapter: TypeAdapter[T], raw: bytes, origin: str, report: ParseReport, kind: str
) -> T | None:
    """The document validated, or None after one skip (not JSON: with line and column).

    A JSON document of another known feed raises :class:`InputError`, since the user gave
    the wrong kind of file; ``kind`` is the source's own name (a key of ``KIND_LABELS``).
    """
    try:
        return adapter.validate_json(raw.removeprefix(_BOM))
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
    if first["type"] == "json_invalid":
        message = str(first["msg"]).removeprefix("Invalid JSON: ")
        found = _POSITION.search(message)
        line, column = (int(found[1]), int(found[2])) if found else (None, None)
        report.skip(Location(origin, line, column), f"not JSON: {_POSITION.sub('', message)}")
        return None
    other = document_kind(raw)
    what = KIND_LABELS[kind]
    if other is not None and other != kind:
        raise InputError(f"this is {KIND_LABELS[other]}, not {what}", Location(origin))
    where = Location(origin, field=json_path(first["loc"]) or None)
    report.skip(where, f"not {what}: {first['msg']}")
    return None


KIND_LABELS = {
    "cve5": "a CVE JSON 5 record",
    "nvd": "an NVD API 2.0 response",
    "kev": "the CISA KEV catalogue",
    "osv": "an OSV advisory",
    "csaf": "a CSAF document",
}


class _Shape(BaseModel):
    """The top-level keys that tell feed documents apart."""

    dataType: object = None
    cveMetadata: object = None
    format: object = None
    resultsPerPage: object = None
    vulnerabilities: object = None
    catalogVersion: object = None
    schema_version: object = None
    id: object = None
    modified: object = None
    document: object = None


_SHAPES: TypeAdapter[_Shape | list[_Shape]] = TypeAdapter(_Shape | list[_Shape])


def document_kind(raw: bytes) -> str | None:
    """Which feed a JSON document comes from (a key of ``KIND_LABELS``), or None."""
    try:
        shape = _SHAPES.validate_json(raw.removeprefix(_BOM))
    except ValidationError:
        return None
    if isinstance(shape, list):
        shape = shape[0] if shape else _Shape()
    if shape.dataType == "CVE_RECORD" or isinstance(shape.cveMetadata, dict):
        return "cve5"
    if shape.format == "NVD_CVE" or (
        isinstance(shape.vulnerabilities, list) and shape.resultsPerPage is not None
    ):
        return "nvd"
    if shape.catalogVersion is not None:
        return "kev"
    if isinstance(shape.document, dict) and "csaf_version" in shape.document:
        return "csaf"
    if shape.schema_version is not None or (isinstance(shape.id, str) and shape.modified):
        return "osv"
    return None


class CvssModel(FeedModel):
    """A CVSS object as CVE 5 and NVD write it (``cvssData`` in NVD)."""

    vectorString: str
    baseScore: Score | None = None
    baseSeverity: str | None = None


def cvss_severity(kind: str, cvss: CvssModel, label: str | None = None) -> Severity:
    """``kind`` is ``cvss_v2``, ``cvss_v3`` or ``cvss_v4``; the label is lower-cased."""
    word = cvss.baseSeverity or label
    return Severity(kind, cvss.baseScore, cvss.vectorString, word.lower() if word else None)


def unique(items: Iterable[T]) -> tuple[T, ...]:
    """Items in first-seen order without repeats."""
    return tuple(dict.fromkeys(items))


# --- the NVD API 2.0 response ---------------------------------------------------------------


class Text(FeedModel):
    """A ``{"lang", "value"}`` pair, as both NVD and CVE 5 write descriptions."""

    lang: str
    value: str


class _CvssMetric(FeedModel):
    cvssData: CvssModel
    baseSeverity: str | None = None  # CVSS v2 keeps it here, outside cvssData


class _Metrics(FeedModel):
    cvssMetricV40: tuple[Lenient[_CvssMetric], ...] = ()
    cvssMetricV31: tuple[Lenient[_CvssMetric], ...] = ()
    cvssMetricV30: tuple[Lenient[_CvssMetric], ...] = ()
    cvssMetricV2: tuple[Lenient[_CvssMetric], ...] = ()


class _Weakness(FeedModel):
    description: tuple[Lenient[Text], ...] = ()


class _CpeMatch(FeedModel):
    vulnerable: StrictBool
    criteria: Annotated[str, Field(pattern=r"^cpe:2\.3:[aho*\-]:")]
    versionStartIncluding: str | None = None
    versionStartExcluding: str | None = None
    versionEndIncluding: str | None = None
    versionEndExcluding: str | None = None


class _Node(FeedModel):
    operator: Literal["AND", "OR"]
    negate: StrictBool = False
    cpeMatch: tuple[_CpeMatch, ...]


class _Configuration(FeedModel):
    nodes: Annotated[tuple[_Node, ...], Field(min_length=1)]
    operator: Literal["AND", "OR"] | None = None
    negate: StrictBool = False


class Reference(FeedModel):
    url: str


class _Cve(FeedModel):
    id: Annotated[str, Field(pattern=r"^CVE-\d{4}-\d{4,}$")]
    published: Lenient[UtcDatetime] | None = None
    lastModified: Lenient[UtcDatetime] | None = None
    vulnStatus: str | None = None
    descriptions: tuple[Lenient[Text], ...] = ()
    metrics: _Metrics = _Metrics()
    weaknesses: tuple[Lenient[_Weakness], ...] = ()
    configurations: tuple[Lenient[_Configuration], ...] = ()
    references: tuple[Lenient[Reference], ...] = ()
    cisaExploitAdd: str | None = None
    cisaActionDue: str | None = None
    cisaRequiredAction: str | None = None
    cisaVulnerabilityName: str | None = None


class _Vulnerability(FeedModel):
    cve: _Cve


class _Page(FeedModel):
    format: Literal["NVD_CVE"]  # tells a page from a KEV catalogue, which also has these
    vulnerabilities: tuple[Lenient[_Vulnerability], ...]


class _PageInfo(FeedModel):
    startIndex: Annotated[int, Field(ge=0)]
    resultsPerPage: Annotated[int, Field(ge=0)]
    totalResults: Annotated[int, Field(ge=0)]


_PAGE = TypeAdapter(_Page)
_PAGE_INFO = TypeAdapter(_PageInfo)

_METRIC_KINDS = (
    ("cvssMetricV40", "cvss_v4"),
    ("cvssMetricV31", "cvss_v3"),
    ("cvssMetricV30", "cvss_v3"),
    ("cvssMetricV2", "cvss_v2"),
)


def page_info(raw: bytes, origin: str | None = None) -> tuple[int, int, int]:
    """``(startIndex, resultsPerPage, totalResults)`` of a page, for the incremental fetch.

    Raises :class:`InputError` when ``raw`` is not a page (a truncated body included).
    """
    try:
        info = _PAGE_INFO.validate_json(raw.removeprefix(_BOM))
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = Location(origin, field=json_path(first["loc"]) or None)
        raise InputError(f"not an NVD API 2.0 page: {first['msg']}", where) from None
    return info.startIndex, info.resultsPerPage, info.totalResults


@register
class NvdSource:
    name: ClassVar[str] = "nvd"
    description: ClassVar[str] = "NVD API 2.0 CVEs with CPE configurations"

    def parse(self, raw: bytes, origin: str, report: ParseReport) -> Iterator[Record]:
        page = validate_document(_PAGE, raw, origin, report, self.name)
        if page is None:
            return
        where = Where(report, origin)
        for index, item in where.indexed(
            "vulnerabilities", page.vulnerabilities, _Vulnerability, "vulnerability"
        ):
            advisory = _advisory(item.cve, where.at(f"vulnerabilities[{index}]").at("cve"))
            report.parsed += 1
            yield advisory


def _advisory(cve: _Cve, where: Where) -> Advisory:
    references = where.valid("references", cve.references, Reference, "reference")
    configurations = where.valid(
        "configurations", cve.configurations, _Configuration, "configuration"
    )
    return Advisory(
        id=cve.id,
        source="nvd",
        title=cve.cisaVulnerabilityName or "",
        summary=_english(where.valid("descriptions", cve.descriptions, Text, "description")),
        published=where.time("published", cve.published),
        modified=where.time("lastModified", cve.lastModified),
        cves=(cve.id,),
        configurations=tuple(_configuration(config) for config in configurations),
        severities=_severities(cve.metrics, where.at("metrics")),
        exploitation=Exploitation(
            kev=cve.cisaExploitAdd is not None,
            kev_date_added=cve.cisaExploitAdd,
            kev_due_date=cve.cisaActionDue,
        ),
        references=unique(reference.url for reference in references),
        solution=(cve.cisaRequiredAction or "").strip() or None,
        withdrawn=(cve.vulnStatus or "").strip().lower() == "rejected",
        cwes=_cwes(cve.weaknesses, where),
    )


def _english(descriptions: Iterable[Text]) -> str:
    texts = {d.lang.strip().lower(): d.value for d in descriptions}
    return texts.get("en") or texts.get("en-us") or next(iter(texts.values()), "")


def _configuration(config: _Configuration) -> CpeConfiguration:
    nodes = tuple(
        CpeNode(
            operator=node.operator,
            negate=node.negate,
            matches=tuple(
                CpeMatch(
                    criteria=m.criteria,
                    vulnerable=m.vulnerable,
                    version_start_including=m.versionStartIncluding,
                    version_start_excluding=m.versionStartExcluding,
                    version_end_including=m.versionEndIncluding,
                    version_end_excluding=m.versionEndExcluding,
                )
                for m in node.cpeMatch
            ),
        )
        for node in config.nodes
    )
    return CpeConfiguration(nodes=nodes, operator=config.operator or "OR", negate=config.negate)


def _severities(metrics: _Metrics, where: Where) -> tuple[Severity, ...]:
    found: list[Severity] = []
    for field, kind in _METRIC_KINDS:
        items: tuple[object, ...] = getattr(metrics, field)
        for metric in where.valid(field, items, _CvssMetric, "CVSS metric"):
            found.append(cvss_severity(kind, metric.cvssData, metric.baseSeverity))
    return unique(found)


def _cwes(weaknesses: tuple[object, ...], where: Where) -> tuple[str, ...]:
    cwes: list[str] = []
    for index, weakness in where.indexed("weaknesses", weaknesses, _Weakness, "weakness"):
        field = f"weaknesses[{index}].description"
        for text in where.valid(field, weakness.description, Text, "weakness"):
            if text.value.startswith("CWE-"):  # not "NVD-CWE-Other", "NVD-CWE-noinfo"
                cwes.append(text.value)
    return unique(cwes)
