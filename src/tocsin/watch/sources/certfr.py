"""CERT-FR avis and alertes, in the shape of the CERT-FR JSON API (one object per item).

CERT-FR is the French government CERT (ANSSI). An *avis* (CERTFR-2025-AVI-0001, older
CERTA-2013-AVI-153) announces vulnerabilities and their fixes; an *alerte*
(CERTFR-2024-ALE-004) warns of a flaw being exploited, which raises its priority
(``Exploitation.certfr_alert``). Affected systems are French sentences ("FortiOS versions
7.2.x antérieures à 7.2.10", "toutes versions", "sans les derniers correctifs de
sécurité"), read by :func:`tocsin.watch.match.freetext.parse_affected_text`; each entry keeps
its raw line in ``AffectedProduct.text``, and a line that gives no version is kept as a
name-only entry. Old avis have no structured list but an HTML fragment
(``affected_systems_content``), read line by line.

Discovery is the CERT-FR RSS feed (:func:`parse_certfr_feed`): each item links to an avis
or alerte page, whose JSON is at the same address followed by ``json/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from html.parser import HTMLParser
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from tocsin.errors import Location
from tocsin.model.advisory import Advisory, AffectedProduct, Exploitation
from tocsin.watch.match.freetext import ParsedProducts, parse_affected_text
from tocsin.watch.sources.base import ParseReport, Record, register
from tocsin.watch.sources.csaf import load_json
from tocsin.watch.sources.csaf_tree import skip_invalid
from tocsin.watch.sources.rss import read_feed

SITE = "https://www.cert.ssi.gouv.fr"
REFERENCE = re.compile(r"CERT(?:FR|A)-\d{4}-(?P<kind>[A-Z]{2,4})-\d{3,4}")
KIND_PATHS = {"AVI": "avis", "ALE": "alerte", "ACT": "actualite", "CTI": "cti", "IOC": "ioc"}
MAX_AFFECTED_LINES = 5_000
MAX_HTML_CHARS = 2_000_000
_NONE = {"", "n/a", "na", "none"}


# --- boundary models ---------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Vendor(_Model):
    name: StrictStr | None = None


class _ProductRef(_Model):
    name: StrictStr | None = None
    vendor: _Vendor | None = None


class _AffectedSystem(_Model):
    description: StrictStr | None = None
    product: _ProductRef | None = None


class _Cve(_Model):
    name: StrictStr


class _Link(_Model):
    url: StrictStr | None = None


class _Revision(_Model):
    revision_date: datetime
    description: StrictStr | None = None


class _Risk(_Model):
    description: StrictStr | None = None


class _Avis(_Model):
    reference: StrictStr = Field(pattern=rf"^{REFERENCE.pattern}$")
    title: StrictStr | None = None
    summary: StrictStr | None = None
    content: StrictStr | None = None
    affected_systems: list[_AffectedSystem] = []
    affected_systems_content: StrictStr | None = None
    cves: list[_Cve] = []
    links: list[_Link] = []
    vendor_advisories: list[_Link] = []
    revisions: list[_Revision] = []
    risks: list[_Risk] = []


# --- the source --------------------------------------------------------------------------


@register
class CertfrSource:
    """CERT-FR avis and alertes (JSON API shape), one per file or JSON line."""

    name: ClassVar[str] = "certfr"
    description: ClassVar[str] = "CERT-FR avis and alertes (ANSSI), in French"

    def parse(self, raw: bytes, origin: str, report: ParseReport) -> Iterator[Record]:
        loaded = load_json(raw, origin, report)
        if loaded is None:
            return
        data = loaded[0]
        items = enumerate(data) if isinstance(data, list) else [(None, data)]
        for index, item in items:
            prefix = "" if index is None else f"[{index}]"
            advisory = parse_avis(item, origin, report, prefix)
            if advisory is not None:
                report.parsed += 1
                yield advisory


def parse_avis(raw: object, origin: str, report: ParseReport, prefix: str = "") -> Advisory | None:
    """One avis or alerte (a decoded JSON object), or None with the reason in ``report``."""
    try:
        avis = _Avis.model_validate(raw)
    except ValidationError as exc:
        skip_invalid(report, origin, prefix, exc, "invalid CERT-FR item")
        return None
    match = REFERENCE.fullmatch(avis.reference)
    assert match is not None  # the model's pattern
    kind = match["kind"]
    title = " ".join((avis.title or "").split())
    lines, notes = _affected_lines(avis, origin, report, prefix)
    sections = _sections(avis.content or "")
    summary = _summary(avis, sections, notes)
    dates = sorted(_aware(rev.revision_date) for rev in avis.revisions)
    return Advisory(
        id=avis.reference,
        source="certfr",
        title=title,
        summary=summary,
        published=dates[0] if dates else None,
        modified=dates[-1] if dates else None,
        cves=_cves(avis, origin, report, prefix),
        affected=_affected(lines, title),
        references=_references(avis, kind),
        solution=_solution(sections),
        language="fr",
        exploitation=Exploitation(
            certfr_alert=kind == "ALE",
            ssvc_exploitation="active" if says_exploited(summary, avis.content or "") else None,
        ),
    )


# --- affected systems ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    """One affected-systems line, with the vendor and product CERT-FR filed it under."""

    text: str
    vendor: str | None = None
    product: str | None = None


def _affected_lines(
    avis: _Avis, origin: str, report: ParseReport, prefix: str
) -> tuple[list[_Line], list[str]]:
    """The structured list when there is one, else the lines of the HTML fragment."""
    lines: list[_Line] = []
    for system in avis.affected_systems:
        text = " ".join((system.description or "").split())
        product = system.product or _ProductRef()
        vendor = _known((product.vendor or _Vendor()).name)
        if text:
            lines.append(_Line(text, vendor, _known(product.name)))
    notes: list[str] = []
    html = avis.affected_systems_content or ""
    if not lines and html:
        if len(html) > MAX_HTML_CHARS:
            where = Location(origin, field=f"{prefix}affected_systems_content")
            report.skip(where, f"affected systems over {MAX_HTML_CHARS:,} characters: cut")
        items, notes = html_lines(html[:MAX_HTML_CHARS])
        lines = [_Line(text) for text in items]
    if len(lines) > MAX_AFFECTED_LINES:
        where = Location(origin, field=f"{prefix}affected_systems")
        report.skip(where, f"over {MAX_AFFECTED_LINES:,} affected systems: the rest left out")
    return lines[:MAX_AFFECTED_LINES], notes


def _affected(lines: list[_Line], title: str) -> tuple[AffectedProduct, ...]:
    out: dict[AffectedProduct, None] = {}
    fallback = title_product(title)
    for line in lines:
        for entry in _read_line(line.text):
            product = entry.product or line.product or fallback or line.text
            affected = AffectedProduct(
                product=product, vendor=line.vendor, ranges=entry.ranges, text=line.text
            )
            out[affected] = None
    return tuple(out)


@lru_cache(maxsize=1 << 16)
def _read_line(text: str) -> ParsedProducts:
    """Free-text reading of one line; cached, as avis repeat the same lines (Windows, SUSE)."""
    return parse_affected_text(text, "fr")


def _known(value: str | None) -> str | None:
    text = " ".join((value or "").split())
    return None if text.casefold() in _NONE else text


_TITLE_PRODUCT = re.compile(
    r"\bdans\s+(?:les\s+produits\s+|le\s+noyau\s+|les\s+|le\s+|la\s+|l')?(?P<name>.+)$",
    re.IGNORECASE,
)


def title_product(title: str) -> str | None:
    """The product a title names ("Vulnérabilité dans Google Chrome" → "Google Chrome")."""
    match = _TITLE_PRODUCT.search(title)
    if match is None:
        return None
    name = match["name"].strip(" .;:")
    return name or None


_BREAKS = frozenset("li td th tr p br div ul ol table h1 h2 h3 h4 h5 h6 pre".split())


class _HtmlLines(HTMLParser):
    """List items, first table cells and paragraphs of an HTML fragment, as lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[str] = []  # <li> and the first <td> of each row
        self.paragraphs: list[str] = []  # text outside lists and tables, line by line
        self.current: list[str] = []
        self.mode = "para"  # or "item", or "skip" (header and other cells)
        self.cell = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BREAKS:
            self.flush()
        if tag == "tr":
            self.cell = 0
        elif tag == "li":
            self.mode = "item"
        elif tag in ("td", "th"):
            self.mode = "item" if tag == "td" and self.cell == 0 else "skip"
            self.cell += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _BREAKS:
            self.flush()
        if tag in ("li", "td", "th"):
            self.mode = "para"

    def handle_data(self, data: str) -> None:
        self.current.append(data)

    def flush(self) -> None:
        lines = (" ".join(raw.split()) for raw in "".join(self.current).splitlines())
        target = {"item": self.items, "para": self.paragraphs}.get(self.mode)
        if target is not None:
            target.extend(line for line in lines if line)
        self.current = []


def html_lines(html: str) -> tuple[list[str], list[str]]:
    """(affected lines, notes) of an ``affected_systems_content`` fragment.

    With a list or a table, its items are the affected lines and the paragraphs around it
    are notes ("Un correctif est en cours de préparation…"); without one, every line of the
    paragraphs is an affected line.
    """
    parser = _HtmlLines()
    parser.feed(html)
    parser.close()
    parser.flush()
    if parser.items:
        return parser.items, parser.paragraphs
    return parser.paragraphs, []


# --- text sections, CVEs, references -------------------------------------------------------

_SECTION = re.compile(r"^##\s+(?P<title>.+?)\s*$", re.MULTILINE)


def _sections(content: str) -> dict[str, str]:
    """The markdown sections of ``content`` by lower-cased title (first of each title)."""
    out: dict[str, str] = {}
    marks = list(_SECTION.finditer(content))
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(content)
        body = content[mark.end() : end].strip()
        out.setdefault(mark["title"].strip().lower(), body)
    return out


def _summary(avis: _Avis, sections: dict[str, str], notes: list[str]) -> str:
    text = (avis.summary or "").strip() or sections.get("description", "")
    parts = [" ".join(line.split()) for line in text.split("\n\n") if line.strip()]
    risks = [" ".join((r.description or "").split()) for r in avis.risks]
    risks = [r for r in risks if r]
    if risks:
        parts.append("Risques : " + " ; ".join(dict.fromkeys(risks)))
    parts.extend(notes)
    return "\n\n".join(dict.fromkeys(parts))


def _solution(sections: dict[str, str]) -> str | None:
    parts = [
        body
        for title, body in sections.items()
        if title.startswith(("solution", "contournement")) and body
    ]
    text = "\n\n".join(" ".join(p.split()) for part in parts for p in part.split("\n\n"))
    return text or None


_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")


def _cves(avis: _Avis, origin: str, report: ParseReport, prefix: str) -> tuple[str, ...]:
    out: list[str] = []
    for index, cve in enumerate(avis.cves):
        name = cve.name.strip().upper()
        if _CVE.match(name):
            out.append(name)
        else:
            report.skip(Location(origin, field=f"{prefix}cves[{index}].name"), "not a CVE id")
    return tuple(dict.fromkeys(out))


def _references(avis: _Avis, kind: str) -> tuple[str, ...]:
    page = f"{SITE}/{KIND_PATHS.get(kind, 'avis')}/{avis.reference}/"
    urls: Iterable[str | None] = [
        page,
        *(link.url for link in avis.vendor_advisories),
        *(link.url for link in avis.links),
    ]
    clean = (url.strip() for url in urls if url)
    return tuple(dict.fromkeys(url for url in clean if url.startswith(("https://", "http://"))))


_EXPLOITED = re.compile(
    r"(activement\s+exploit|exploitations?\s+actives?|exploitée?s?\s+activement)", re.IGNORECASE
)
_NEGATION = re.compile(r"\b(pas|aucune?|jamais|ni)\b|n'", re.IGNORECASE)


def says_exploited(*texts: str) -> bool:
    """Whether CERT-FR states active exploitation ("activement exploitée", "exploitation
    active"), not in a negative sentence ("n'a pas connaissance d'exploitation active")."""
    for text in texts:
        for match in _EXPLOITED.finditer(text):
            start = max(text.rfind(".", 0, match.start()), text.rfind("\n\n", 0, match.start()))
            if not _NEGATION.search(text[start + 1 : match.start()]):
                return True
    return False


def _aware(moment: datetime) -> datetime:
    """In UTC; CERT-FR dates carry no zone and are taken as UTC."""
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 with an offset: keep it as written
        return moment


# --- discovery: the RSS feed ------------------------------------------------------------------


@dataclass(frozen=True)
class CertfrFeedItem:
    """One item of a CERT-FR RSS feed: which avis or alerte, and where its JSON is."""

    reference: str
    kind: str  # AVI, ALE, ACT, CTI, IOC…
    title: str
    link: str
    json_url: str
    published: datetime | None = None

    @property
    def is_alert(self) -> bool:
        return self.kind == "ALE"


def parse_certfr_feed(raw: bytes, origin: str, report: ParseReport) -> tuple[CertfrFeedItem, ...]:
    """The items of a CERT-FR RSS feed (``/feed/``, ``/avis/feed/``, ``/alerte/feed/``).

    Raises :class:`~tocsin.watch.sources.rss.FeedError` when the feed cannot be read; an
    item without a CERT-FR reference in its link or guid is counted in ``report``.
    """
    out: list[CertfrFeedItem] = []
    for index, item in enumerate(read_feed(raw, origin).items):
        match = REFERENCE.search(item.link or "") or REFERENCE.search(item.guid or "")
        if match is None:
            where = Location(origin, field=f"item[{index}]")
            report.skip(where, "item without a CERT-FR reference")
            continue
        reference, kind = match.group(0), match["kind"]
        page = f"{SITE}/{KIND_PATHS.get(kind, 'avis')}/{reference}/"
        out.append(
            CertfrFeedItem(
                reference=reference,
                kind=kind,
                title=item.title,
                link=item.link or page,
                json_url=f"{page}json/",
                published=item.published,
            )
        )
    return tuple(out)
