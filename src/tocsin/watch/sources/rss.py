"""Generic news and alert feeds the user adds: RSS 2.0, Atom 1.0 (and RSS 1.0).

Each item becomes an :class:`~tocsin.model.advisory.Advisory` (source ``rss``): its id is
the item's guid (Atom: id) or else its link (a digest of it when over 128 characters), the
summary is the item's text with HTML
reduced to plain text, and the CVE ids found in the title and text are listed. Items carry
no structured product data: :mod:`tocsin.watch.mentions` looks for the inventory's product
names in the title and the full text kept in ``summary``.

Feeds are hostile input: XML is read with defusedxml (no entity expansion, no external DTD
or entity), the document size and the number of items are bounded, and HTML is only
reduced to text (nothing is fetched: no images, no remote content).
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET  # noqa: S405 - only for types and ParseError
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import ClassVar

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeElementTree

from tocsin.errors import InputError, Location
from tocsin.model.advisory import Advisory
from tocsin.watch.sources.base import ParseReport, Record, register

MAX_FEED_BYTES = 16 * 1024 * 1024
MAX_ITEMS = 10_000
MAX_TEXT_CHARS = 200_000
MAX_ID_CHARS = 128  # advisory ids in the store

ATOM = "{http://www.w3.org/2005/Atom}"
RSS1 = "{http://purl.org/rss/1.0/}"
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
DC = "{http://purl.org/dc/elements/1.1/}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
CVE_IN_TEXT = re.compile(r"\bCVE-\d{4}-\d{4,}\b", re.IGNORECASE)


class FeedError(InputError):
    """A feed that cannot be read at all: not XML, refused XML, or not a feed."""


# --- XML, safely ----------------------------------------------------------------------------


def read_xml(raw: bytes, origin: str) -> ET.Element:
    """Parse XML without entity expansion or external references; FeedError if refused."""
    if len(raw) > MAX_FEED_BYTES:
        raise FeedError(f"feed over {MAX_FEED_BYTES:,} bytes", Location(origin))
    try:
        root: ET.Element = SafeElementTree.fromstring(
            raw, forbid_dtd=False, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException as exc:
        raise FeedError(f"XML refused: {type(exc).__name__}", Location(origin)) from exc
    except ET.ParseError as exc:
        raise FeedError("not well-formed XML", Location(origin)) from exc
    except (ValueError, RecursionError) as exc:
        raise FeedError(f"unreadable XML: {type(exc).__name__}", Location(origin)) from exc
    return root


# --- HTML to text ---------------------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    "p br div li ul ol tr table h1 h2 h3 h4 h5 h6 pre blockquote section article hr".split()
)
_HIDDEN_TAGS = frozenset({"script", "style", "template", "noscript", "iframe", "object"})


class _TextExtractor(HTMLParser):
    """Visible text of an HTML fragment; block elements become line breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_TAGS:
            self.hidden += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Plain text from an HTML fragment: tags dropped, entities decoded, blank lines folded."""
    extractor = _TextExtractor()
    extractor.feed(html[:MAX_TEXT_CHARS])
    extractor.close()
    lines = (" ".join(line.split()) for line in "".join(extractor.parts).splitlines())
    return "\n".join(line for line in lines if line)


# --- feeds and items ------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedItem:
    """One item of a feed, with its HTML already reduced to text."""

    guid: str | None
    link: str | None
    title: str
    text: str
    published: datetime | None = None
    modified: datetime | None = None

    @property
    def id(self) -> str | None:
        return self.guid or self.link


@dataclass(frozen=True)
class Feed:
    title: str
    language: str
    items: tuple[FeedItem, ...]


def read_feed(raw: bytes, origin: str) -> Feed:
    """An RSS 2.0, RSS 1.0 or Atom 1.0 feed; FeedError when it is none of them."""
    root = read_xml(raw, origin)
    reader: Callable[[ET.Element], FeedItem]
    if root.tag == "rss":
        channel = root.find("channel")
        if channel is None:
            raise FeedError("RSS without a channel", Location(origin))
        elements, reader = channel.findall("item"), _rss_item
        title = _text(channel.find("title"))
        lang = _text(channel.find("language")) or _text(channel.find(f"{DC}language"))
    elif root.tag == f"{ATOM}feed":
        elements, reader = root.findall(f"{ATOM}entry"), _atom_entry
        title, lang = _atom_text(root.find(f"{ATOM}title")), root.get(XML_LANG, "")
    elif root.tag == f"{RDF}RDF":
        elements, reader = root.findall(f"{RSS1}item"), _rss1_item
        title = _text(root.find(f"{RSS1}channel/{RSS1}title"))
        lang = _text(root.find(f"{RSS1}channel/{DC}language"))
    else:
        raise FeedError("not an RSS 2.0, RSS 1.0 or Atom 1.0 feed", Location(origin))
    if len(elements) > MAX_ITEMS:
        raise FeedError(f"feed over {MAX_ITEMS:,} items", Location(origin))
    return Feed(title, _language(lang), tuple(reader(element) for element in elements))


def _rss_item(item: ET.Element) -> FeedItem:
    html = _text(item.find(f"{CONTENT}encoded")) or _text(item.find("description"))
    published = _rfc822(_text(item.find("pubDate"))) or _iso(_text(item.find(f"{DC}date")))
    return FeedItem(
        guid=_text(item.find("guid")) or None,
        link=_text(item.find("link")) or None,
        title=html_to_text(_text(item.find("title"))),
        text=html_to_text(html),
        published=published,
    )


def _rss1_item(item: ET.Element) -> FeedItem:
    html = _text(item.find(f"{CONTENT}encoded")) or _text(item.find(f"{RSS1}description"))
    return FeedItem(
        guid=item.get(f"{RDF}about") or None,
        link=_text(item.find(f"{RSS1}link")) or None,
        title=html_to_text(_text(item.find(f"{RSS1}title"))),
        text=html_to_text(html),
        published=_iso(_text(item.find(f"{DC}date"))),
    )


def _atom_entry(entry: ET.Element) -> FeedItem:
    content = entry.find(f"{ATOM}content")
    if content is None or content.get("src"):
        content = entry.find(f"{ATOM}summary")
    published = _iso(_text(entry.find(f"{ATOM}published")))
    updated = _iso(_text(entry.find(f"{ATOM}updated")))
    return FeedItem(
        guid=_text(entry.find(f"{ATOM}id")) or None,
        link=_atom_link(entry),
        title=_atom_text(entry.find(f"{ATOM}title")),
        text=_atom_text(content),
        published=published or updated,
        modified=updated,
    )


def _atom_link(entry: ET.Element) -> str | None:
    for link in entry.findall(f"{ATOM}link"):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return link.get("href", "").strip() or None
    return None


def _atom_text(element: ET.Element | None) -> str:
    """An Atom text construct: plain text, escaped HTML or inline XHTML, as text."""
    if element is None:
        return ""
    kind = element.get("type", "text")
    if kind == "xhtml":
        raw = "".join(element.itertext())
        return "\n".join(" ".join(line.split()) for line in raw.splitlines() if line.strip())
    if kind == "html" or "html" in kind:
        return html_to_text(_text(element))
    return " ".join(_text(element).split())


def _text(element: ET.Element | None) -> str:
    if element is None or element.text is None:
        return ""
    return element.text.strip()[:MAX_TEXT_CHARS]


def _rfc822(value: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return _iso(value)
    return _utc(moment)


def _iso(value: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return _utc(moment)


def _utc(moment: datetime) -> datetime | None:
    """In UTC (a time without a zone is taken as UTC); None if out of range."""
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _language(value: str) -> str:
    primary = value.split("-", 1)[0].split("_", 1)[0].strip().lower()
    return primary if primary.isalpha() and len(primary) <= 8 else "en"


def cves_in(*texts: str) -> tuple[str, ...]:
    """CVE ids mentioned in ``texts``, upper-cased, in order of first mention."""
    found = (m.group(0).upper() for text in texts for m in CVE_IN_TEXT.finditer(text))
    return tuple(dict.fromkeys(found))


# --- the source -----------------------------------------------------------------------------


@register
class RssSource:
    """News and alert feeds (RSS 2.0, Atom 1.0): one advisory per item, CVEs from the text."""

    name: ClassVar[str] = "rss"
    description: ClassVar[str] = "RSS 2.0 and Atom 1.0 news and alert feeds"

    def parse(self, raw: bytes, origin: str, report: ParseReport) -> Iterator[Record]:
        try:
            feed = read_feed(raw, origin)
        except FeedError as exc:
            report.skip(Location(origin), exc.message)
            return
        for index, item in enumerate(feed.items):
            advisory = item_advisory(item, feed.language)
            if advisory is None:
                report.skip(Location(origin, field=f"item[{index}]"), "item without guid or link")
                continue
            report.parsed += 1
            yield advisory


def advisory_id(item_id: str) -> str:
    """The advisory id of an item: its guid or link, or, when that is longer than the store
    keeps (:data:`MAX_ID_CHARS`), ``rss:`` and a digest of it (the link stays a reference)."""
    if len(item_id) <= MAX_ID_CHARS:
        return item_id
    return "rss:" + hashlib.sha256(item_id.encode("utf-8")).hexdigest()[:40]


def item_advisory(item: FeedItem, language: str = "en") -> Advisory | None:
    """A feed item as an Advisory, or None when it has neither guid nor link."""
    if item.id is None:
        return None
    return Advisory(
        id=advisory_id(item.id),
        source="rss",
        title=item.title,
        summary=item.text,
        published=item.published,
        modified=item.modified,
        cves=cves_in(item.title, item.text),
        references=(item.link,) if item.link else (),
        language=language,
    )
