"""Generic RSS/Atom source: items as advisories, HTML reduced to text, hostile XML refused."""

from __future__ import annotations

import socket
import time
import xml.etree.ElementTree as ET  # noqa: S405 - writes test feeds only
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tocsin.model.advisory import Advisory
from tocsin.watch.sources import rss
from tocsin.watch.sources.base import ParseReport, get_source
from tocsin.watch.sources.rss import FeedItem, RssSource, cves_in, html_to_text, item_advisory

FIXTURES = Path(__file__).parent / "fixtures" / "rss"


def parse(raw: bytes, origin: str = "feed.xml") -> tuple[list[Advisory], ParseReport]:
    report = ParseReport("rss")
    records = list(RssSource().parse(raw, origin, report))
    assert all(isinstance(r, Advisory) for r in records)
    return [r for r in records if isinstance(r, Advisory)], report


def fixture(name: str) -> tuple[list[Advisory], ParseReport]:
    return parse((FIXTURES / name).read_bytes(), name)


def test_rss2_items() -> None:
    advisories, report = fixture("rss2.xml")
    assert [(s.location.field, s.reason) for s in report.skipped] == [
        ("item[2]", "item without guid or link")
    ]
    assert report.parsed == 3
    first, second, third = advisories
    assert first == Advisory(
        id="veille-2024-0042",
        source="rss",
        title="Faille critique dans Orthanc (CVE-2023-7238)",
        summary=(
            "Le visualiseur Osimis WebViewer d'Orthanc est vulnérable : CVE-2023-7238.\n"
            "Mettre à jour vers 24.1.2\nVoir aussi cve-2024-0001"
        ),  # content:encoded wins over description; script, style and image are gone
        published=datetime(2024, 1, 23, 7, 30, tzinfo=UTC),
        cves=("CVE-2023-7238", "CVE-2024-0001"),
        references=("https://veille.example.org/2024/01/orthanc",),
        language="fr",
    )
    assert second.id == "https://veille.example.org/2024/01/sans-guid"  # no guid: the link
    assert second.summary == "HTML échappé & entités"
    assert second.published is None  # "not a date"
    assert (third.id, third.title, third.references) == (
        "urn:uuid:3f1c6d1e-7a1b-4f7e-9d63-1f2a3b4c5d6e",
        "",
        (),
    )
    assert third.published == datetime(2024, 2, 1, 12, tzinfo=UTC)  # dc:date


def test_atom_entries() -> None:
    advisories, report = fixture("atom.xml")
    assert report.skipped == []
    assert advisories == [
        Advisory(
            id="tag:news.example.com,2024:entry-1",
            source="rss",
            title="Infusion pump Alaris flaw",
            summary=(
                "BD Alaris PC Unit versions before 12.1.3 are affected by CVE-2024-12345.\n"
                "Apply the vendor patch."
            ),
            published=datetime(2024, 5, 30, 7, tzinfo=UTC),
            modified=datetime(2024, 5, 31, 7, tzinfo=UTC),
            cves=("CVE-2024-12345",),
            references=("https://news.example.com/2024/alaris",),
            language="en",
        ),
        Advisory(  # remote content is not fetched: the summary is used instead
            id="tag:news.example.com,2024:entry-2",
            source="rss",
            title="Remote content only",
            summary="See the article.",
            published=datetime(2024, 6, 1, 10, tzinfo=UTC),
            modified=datetime(2024, 6, 1, 10, tzinfo=UTC),
            references=("https://news.example.com/2024/remote",),
            language="en",
        ),
    ]


def test_rss1_items() -> None:
    [advisory], report = fixture("rss1.rdf")
    assert report.skipped == []
    assert advisory.id == "https://jvn.example.jp/vu/JVNVU12345678/"
    assert advisory.cves == ("CVE-2024-11111", "CVE-2024-22222")
    assert advisory.published == datetime(2024, 4, 2, 1, tzinfo=UTC)
    assert advisory.language == "ja"


# --- hostile XML ---------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the parser tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("billion-laughs.xml", "XML refused: EntitiesForbidden"),
        ("external-entity.xml", "XML refused: EntitiesForbidden"),
        # the DTD is never fetched, so the entity it would define is undefined
        ("external-dtd.xml", "not well-formed XML"),
    ],
)
def test_xml_bombs_are_refused_without_expansion(name: str, reason: str) -> None:
    started = time.perf_counter()
    advisories, report = fixture(name)
    assert time.perf_counter() - started < 1
    assert advisories == []
    assert report.reasons() == {reason: 1}


def test_quadratic_blowup_entity_is_refused() -> None:
    big = "x" * 100_000
    raw = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "{big}">]>'
        f"<rss><channel><item><title>{'&a;' * 1000}</title></item></channel></rss>"
    ).encode()
    advisories, report = parse(raw)
    assert advisories == [] and report.reasons() == {"XML refused: EntitiesForbidden": 1}


def test_size_and_item_count_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = (FIXTURES / "rss2.xml").read_bytes()
    monkeypatch.setattr(rss, "MAX_FEED_BYTES", len(raw) - 1)
    assert parse(raw)[1].reasons() == {f"feed over {len(raw) - 1:,} bytes": 1}
    monkeypatch.setattr(rss, "MAX_FEED_BYTES", 1 << 20)
    monkeypatch.setattr(rss, "MAX_ITEMS", 3)
    assert parse(raw)[1].reasons() == {"feed over 3 items": 1}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "not well-formed XML"),
        (b"\xff\xfe<", "not well-formed XML"),
        (b"<html><body>hello</body></html>", "not an RSS 2.0, RSS 1.0 or Atom 1.0 feed"),
        (b'<rss version="2.0"/>', "RSS without a channel"),
    ],
)
def test_what_is_not_a_feed(raw: bytes, reason: str) -> None:
    advisories, report = parse(raw)
    assert advisories == [] and report.reasons() == {reason: 1}


# --- HTML to text and CVEs ------------------------------------------------------------------


def test_html_to_text() -> None:
    html = (
        "<h1>Titre</h1><p>Un <b>gras</b>&nbsp;et&#160;un &eacute;&amp;</p>"
        "<script>document.write('<p>injected</p>')</script>"
        '<img src="https://tracker.example/p.gif" onerror="x()">'
        "<ul><li>un</li><li>deux</li></ul><iframe src='https://x'><p>cadre</p></iframe>"
    )
    assert html_to_text(html) == "Titre\nUn gras et un é&\nun\ndeux"
    assert html_to_text("a < b and 1<2") == "a < b and 1<2"  # not tags: kept
    assert html_to_text("") == ""


def test_cves_in_text() -> None:
    assert cves_in("CVE-2024-1234, cve-2024-123456 and CVE-2024-1234", "CVE-99-1") == (
        "CVE-2024-1234",
        "CVE-2024-123456",
    )


# --- fuzzing and round trip -----------------------------------------------------------------

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

tags = st.sampled_from(
    ["rss", "channel", "item", "title", "link", "guid", "description", "pubDate", "entry", "x"]
)


def xml_tree(depth: int = 3) -> st.SearchStrategy[ET.Element]:
    def build(tag: str, text: str, children: list[ET.Element]) -> ET.Element:
        element = ET.Element(tag)
        element.text = text
        element.extend(children)
        return element

    leaf = st.builds(build, tags, st.text(max_size=30), st.just([]))
    return st.recursive(
        leaf,
        lambda inner: st.builds(build, tags, st.text(max_size=10), st.lists(inner, max_size=4)),
    )


@FUZZ
@given(st.binary(max_size=400))
def test_fuzz_bytes(raw: bytes) -> None:
    advisories, report = parse(raw)
    assert report.parsed == len(advisories)


@FUZZ
@given(xml_tree(), st.sampled_from(["", 'xmlns="http://www.w3.org/2005/Atom"']))
def test_fuzz_feed_shaped_xml(root: ET.Element, namespace: str) -> None:
    raw = ET.tostring(root, encoding="utf-8")
    if namespace:
        raw = raw.replace(f"<{root.tag}".encode(), f"<{root.tag} {namespace}".encode(), 1)
    advisories, report = parse(raw)
    assert report.parsed == len(advisories)
    assert all(a.id for a in advisories)


# Text without markup characters (titles may carry HTML, which is reduced to text) and
# without "CVE" (so the ids found are exactly the ones written).
safe_text = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="<&"),
    min_size=1,
    max_size=40,
).filter(lambda t: t.strip() != "" and "cve" not in t.casefold())
moments = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))


def one_line(text: str) -> str:
    return " ".join(text.split())


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(safe_text, safe_text, moments, st.lists(st.integers(1000, 99_999), max_size=3)),
        min_size=1,
        max_size=5,
    )
)
def test_round_trip_rss(items: list[tuple[str, str, datetime, list[int]]]) -> None:
    root = ET.Element("rss", version="2.0")
    channel = ET.SubElement(root, "channel")
    ET.SubElement(channel, "title").text = "Round trip"
    expected = []
    for index, (title, body, moment, numbers) in enumerate(items):
        cves = tuple(dict.fromkeys(f"CVE-2024-{n}" for n in numbers))
        text = f"{body} {' '.join(cves)}".strip()
        item = ET.SubElement(channel, "item")
        ET.SubElement(item, "title").text = title
        ET.SubElement(item, "link").text = f"https://news.example/{index}"
        ET.SubElement(item, "description").text = f"<p>{text}</p>"
        ET.SubElement(item, "pubDate").text = format_datetime(moment)
        expected.append((f"https://news.example/{index}", one_line(title), moment, cves))
    advisories, report = parse(ET.tostring(root, encoding="utf-8"))
    assert report.skipped == []
    assert [(a.id, a.title, a.published, a.cves) for a in advisories] == expected


@settings(max_examples=40, deadline=None)
@given(safe_text, safe_text, moments, st.integers(0, 24 * 60))
def test_round_trip_atom(title: str, body: str, moment: datetime, offset: int) -> None:
    atom = "http://www.w3.org/2005/Atom"
    feed = ET.Element(f"{{{atom}}}feed")
    entry = ET.SubElement(feed, f"{{{atom}}}entry")
    ET.SubElement(entry, f"{{{atom}}}id").text = "urn:x:1"
    ET.SubElement(entry, f"{{{atom}}}title").text = title
    ET.SubElement(entry, f"{{{atom}}}summary").text = body
    zone = moment.astimezone(timezone(timedelta(minutes=offset - 12 * 60)))
    ET.SubElement(entry, f"{{{atom}}}updated").text = zone.isoformat()
    [advisory], report = parse(ET.tostring(feed, encoding="utf-8"))
    assert (advisory.id, advisory.title, advisory.summary) == (
        "urn:x:1",
        one_line(title),
        one_line(body),
    )
    assert advisory.published == advisory.modified == moment


def test_registered_under_its_name() -> None:
    source = get_source("rss")
    assert isinstance(source, RssSource)
    assert source.description


def test_long_item_ids_fit_the_store() -> None:
    link = "https://news.example/" + "a" * 200
    advisory = item_advisory(FeedItem(guid=None, link=link, title="t", text=""))
    assert advisory is not None and advisory.id.startswith("rss:") and len(advisory.id) <= 128
    assert advisory.references == (link,)
    again = item_advisory(FeedItem(guid=None, link=link, title="other", text=""))
    assert again is not None and again.id == advisory.id  # stable
    short = item_advisory(FeedItem(guid="veille-1", link=link, title="t", text=""))
    assert short is not None and short.id == "veille-1"
