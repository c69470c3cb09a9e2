"""CERT-FR source: avis and alertes in the CERT-FR JSON API shape, and the RSS feed.

Real avis are read in place from ../shared/data/watch/certfr (16,538 lines and 40 raw
files); fixtures/certfr/ holds a hand-written alerte and feed following the real shapes.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import shared_data
from tocsin.model.advisory import Advisory, AffectedProduct, VersionRange
from tocsin.watch.sources import certfr
from tocsin.watch.sources.base import ParseReport, get_source, iter_documents
from tocsin.watch.sources.certfr import (
    CertfrFeedItem,
    CertfrSource,
    html_lines,
    parse_certfr_feed,
    says_exploited,
    title_product,
)
from tocsin.watch.sources.rss import FeedError

FIXTURES = Path(__file__).parent / "fixtures" / "certfr"


def parse(raw: bytes, origin: str = "avis.json") -> tuple[list[Advisory], ParseReport]:
    report = ParseReport("certfr")
    records = list(CertfrSource().parse(raw, origin, report))
    assert all(isinstance(r, Advisory) for r in records)
    return [r for r in records if isinstance(r, Advisory)], report


def one(raw: bytes) -> Advisory:
    advisories, report = parse(raw)
    assert report.skipped == []
    assert len(advisories) == 1
    return advisories[0]


def dumps(value: object) -> bytes:
    return json.dumps(value).encode()


# --- all the real avis, parsed once for this module ---------------------------------------


@dataclass
class Run:
    by_id: dict[str, Advisory]
    count: int
    report: ParseReport
    seconds: float


@pytest.fixture(scope="module")
def corpus() -> Run:
    path = shared_data("watch", "certfr", "avis.jsonl.gz")
    report = ParseReport("certfr")
    source = CertfrSource()
    started = time.perf_counter()
    records = [r for d in iter_documents(path) for r in source.parse(d.raw, d.origin, report)]
    seconds = time.perf_counter() - started
    by_id = {r.id: r for r in records if isinstance(r, Advisory)}
    return Run(by_id, len(records), report, seconds)


def range_kind(entry: AffectedProduct) -> str:
    if any(r.all_versions for r in entry.ranges):
        return "all versions"
    return "version range" if entry.ranges else "name only"


def test_all_shared_avis(corpus: Run) -> None:
    assert corpus.count == corpus.report.parsed == 16_538
    assert corpus.report.skipped == []
    assert len(corpus.by_id) == 16_538  # references are unique
    advisories = list(corpus.by_id.values())
    assert all(a.language == "fr" and a.source == "certfr" for a in advisories)
    assert all(a.published is not None and a.references for a in advisories)
    assert not any(a.exploitation.certfr_alert for a in advisories)  # the set holds avis only
    # 62 avis list no affected system at all (40 empty, 22 with an empty "<p></p>")
    assert sum(1 for a in advisories if not a.affected) == 62
    kinds = Counter(range_kind(e) for a in advisories for e in a.affected)
    # Recorded 2026-11 with the free-text reader of that day: 55,760 version ranges,
    # 2,824 all-versions (926 of them "sans les derniers correctifs de sécurité") and
    # 27,017 name-only of 85,601 entries. Name-only lines are mostly editions listed without
    # a version wording ("Windows Server 2012", "SUSE Linux Enterprise Server 15 SP4").
    assert sum(kinds.values()) > 80_000
    assert kinds["version range"] > 0.6 * sum(kinds.values()), kinds
    assert sum(1 for a in advisories if a.exploitation.ssvc_exploitation == "active") >= 120
    assert corpus.seconds < 60


def test_samples_read_as_their_jsonl_lines(corpus: Run) -> None:
    folder = shared_data("watch", "certfr", "samples")
    samples = [one(d.raw) for d in iter_documents(folder)]
    assert len(samples) == 40
    assert [a.id for a in samples] == [f"CERTFR-2025-AVI-{n:04d}" for n in range(1, 41)]
    assert all(corpus.by_id[a.id] == a for a in samples)


def sample(number: int) -> Advisory:
    name = f"CERTFR-2025-AVI-{number:04d}.json"
    return one(shared_data("watch", "certfr", "samples", "2025", name).read_bytes())


def test_real_moxa_avis() -> None:
    advisory = sample(1)
    assert advisory.id == "CERTFR-2025-AVI-0001"
    assert advisory.title == "Multiples vulnérabilités dans les produits Moxa"
    assert advisory.published == advisory.modified == datetime(2025, 1, 3, tzinfo=UTC)
    assert advisory.cves == ("CVE-2024-9138", "CVE-2024-9140")
    assert advisory.references == (
        "https://www.cert.ssi.gouv.fr/avis/CERTFR-2025-AVI-0001/",
        "https://www.moxa.com/en/support/product-support/security-advisory/mpsa-241155-privilege-escalation-and-os-command-injection-vulnerabilities-in-cellular-routers,-secure-routers,-and-netwo",
    )
    assert advisory.solution == (
        "Se référer au bulletin de sécurité de l'éditeur pour l'obtention des correctifs "
        "(cf. section Documentation)."
    )
    assert advisory.summary.endswith(
        "\n\nRisques : Exécution de code arbitraire à distance ; Élévation de privilèges"
    )
    assert advisory.exploitation.certfr_alert is False
    assert [e.text for e in advisory.affected] == [
        "EDR-G9004 Series versions antérieures à 3.14",
        "EDR-G902 Series sversions antérieures à 3.14",  # CERT-FR's typo, kept as written
        "EDR-810 Series versions antérieures à 3.14",
        "OnCell G4302-LTE4 Series sans les derniers correctifs de sécurité",
        "EDR-8010 Series versions antérieures à 3.14",
        "EDR-G9010 Series versions antérieures à 3.14",
        "TN-4900 Series sans les derniers correctifs de sécurité",
        "EDF-G1002-BP versions antérieures à 3.14",
        "EDR-G903 Series versions antérieures à 3.14",
        "NAT-102 Series toutes versions",
    ]
    assert {e.vendor for e in advisory.affected} == {"Moxa"}
    first, oncell, nat = advisory.affected[0], advisory.affected[3], advisory.affected[9]
    assert (first.product, first.ranges) == (
        "EDR-G9004 Series",
        (VersionRange(fixed="3.14", text="versions antérieures à 3.14"),),
    )
    assert oncell.product == "OnCell G4302-LTE4 Series"
    assert oncell.ranges == (
        VersionRange(all_versions=True, text="sans les derniers correctifs de sécurité"),
    )
    assert (nat.product, nat.ranges) == (
        "NAT-102 Series",
        (VersionRange(all_versions=True, text="toutes versions"),),
    )


def test_real_fortinet_avis_revised_and_exploited() -> None:
    advisory = sample(30)
    assert advisory.published == datetime(2025, 1, 14, tzinfo=UTC)
    assert advisory.modified == datetime(2025, 2, 12, tzinfo=UTC)  # "Ajout de … CVE-2025-24472"
    assert "CVE-2025-24472" in advisory.cves and len(advisory.cves) == 3
    assert advisory.exploitation.ssvc_exploitation == "active"  # "est activement exploitée"
    fortios = [e for e in advisory.affected if e.product == "FortiOS"]
    assert fortios == [
        AffectedProduct(
            product="FortiOS",
            vendor="Fortinet",
            ranges=(
                VersionRange(
                    introduced="7.0",
                    last_affected=None,
                    fixed="7.0.17",
                    text="versions 7.0.x antérieures à 7.0.17",
                ),
            ),
            text="FortiOS versions 7.0.x antérieures à 7.0.17",
        )
    ]


def test_real_mozilla_avis_vendor_bulletins() -> None:
    advisory = sample(9)
    assert advisory.references == (
        "https://www.cert.ssi.gouv.fr/avis/CERTFR-2025-AVI-0009/",
        "https://www.mozilla.org/en-US/security/advisories/mfsa2025-01/",
        "https://www.mozilla.org/en-US/security/advisories/mfsa2025-03/",
        "https://www.mozilla.org/en-US/security/advisories/mfsa2025-02/",
    )
    assert advisory.modified == datetime(2025, 1, 15, tzinfo=UTC)
    assert [(e.product, e.ranges[0].fixed) for e in advisory.affected] == [
        ("Firefox ESR", "115.19"),
        ("Thunderbird", "134"),
        ("Firefox ESR", "128.6"),
        ("Thunderbird ESR", "115.19"),
        ("Firefox", "134"),
        ("Thunderbird ESR", "128.6"),
    ]


def test_real_old_avis_with_html_affected_systems(corpus: Run) -> None:
    vmware = corpus.by_id["CERTFR-2022-AVI-287"]
    assert [e.text for e in vmware.affected][:2] == [
        "vCenter Server versions 7.0 antérieures à 7.0 U3d",
        "vCenter Server versions 6.7 antérieures à 6.7 U3p",
    ]
    assert len(vmware.affected) == 6
    # the paragraphs after the list are notes, not products
    assert vmware.summary.endswith(
        "Des preuves de concept sont disponibles sur Internet pour la vulnérabilité "
        "identifiée CVE-2022-22963."
    )
    siemens = corpus.by_id["CERTFR-2022-AVI-124"]  # a table: first cells, no "Lien" cells
    assert siemens.affected[0].text == "Advantage Navigator Energy & Sustainability"
    assert all(e.text != "Lien" for e in siemens.affected)
    apex = corpus.by_id["CERTFR-2022-AVI-288"]  # "exploitation actives" in a note
    assert apex.exploitation.ssvc_exploitation == "active"
    assert apex.affected[0].text == "Apex Central sans le correctif 3 (Build 6016)"


# --- a hand-written alerte ------------------------------------------------------------------


def test_alerte() -> None:
    advisory = one((FIXTURES / "CERTFR-2024-ALE-999.json").read_bytes())
    assert advisory.id == "CERTFR-2024-ALE-999"
    assert advisory.source == "certfr"
    assert advisory.language == "fr"
    assert advisory.title == "[MàJ] Vulnérabilité dans Fortinet FortiOS"
    assert advisory.exploitation.certfr_alert is True
    assert advisory.exploitation.ssvc_exploitation == "active"
    assert advisory.published == datetime(2024, 10, 9, tzinfo=UTC)  # revisions out of order
    assert advisory.modified == datetime(2024, 10, 11, tzinfo=UTC)
    assert advisory.cves == ("CVE-2024-99991", "CVE-2024-99992")
    assert advisory.references == (
        "https://www.cert.ssi.gouv.fr/alerte/CERTFR-2024-ALE-999/",
        "https://www.fortiguard.com/psirt/FG-IR-24-999",
    )
    assert advisory.summary == (
        "Une vulnérabilité a été découverte dans Fortinet FortiOS.\n\n"
        "Fortinet indique que la vulnérabilité CVE-2024-99991 est activement exploitée.\n\n"
        "Risques : Exécution de code arbitraire à distance ; "
        "Contournement de la politique de sécurité"
    )
    assert advisory.solution == (
        "Se référer au bulletin de sécurité de l'éditeur pour l'obtention des correctifs "
        "(cf. section Documentation).\n\n"
        "Désactiver l'interface d'administration sur les interfaces exposées."
    )
    assert advisory.affected == (
        AffectedProduct(
            product="FortiOS",
            vendor="Fortinet",
            ranges=(
                VersionRange(
                    introduced="7.2", fixed="7.2.10", text="versions 7.2.x antérieures à 7.2.10"
                ),
            ),
            text="FortiOS versions 7.2.x antérieures à 7.2.10",
        ),
        AffectedProduct(
            product="FortiOS",
            vendor="Fortinet",
            ranges=(
                VersionRange(
                    introduced="7.4", fixed="7.4.5", text="versions 7.4.x antérieures à 7.4.5"
                ),
            ),
            text="FortiOS versions 7.4.x antérieures à 7.4.5",
        ),
        AffectedProduct(
            product="FortiProxy",
            vendor="Fortinet",
            ranges=(VersionRange(all_versions=True, text="toutes versions"),),
            text="FortiProxy toutes versions",
        ),
        AffectedProduct(  # no product in the line: the one CERT-FR filed it under
            product="FortiManager Cloud",
            vendor="Fortinet",
            ranges=(VersionRange(fixed="2.0.1", text="Versions antérieures à 2.0.1"),),
            text="Versions antérieures à 2.0.1",
        ),
    )


def test_bad_items_are_skipped_with_where_and_why() -> None:
    for raw, field, reason in (
        (b'{"reference": "CVE-2024-1"}', "reference", "invalid CERT-FR item: String should"),
        (b'{"title": "x"}', "reference", "invalid CERT-FR item: Field required"),
        (b'{"reference": "CERTFR-2024-AVI-0001", "revisions": [{}]}', "revisions[0]", ""),
        (b'{"reference": "CERTFR-2024-AVI-0001", "cves": "CVE-1"}', "cves", ""),
        (b"[1]", "[0]", "invalid CERT-FR item"),
    ):
        advisories, report = parse(raw)
        assert advisories == []
        [skip] = report.skipped
        assert skip.location.field is not None and skip.location.field.startswith(field)
        assert skip.reason.startswith(reason)
    advisories, report = parse(b'{"reference": "CERTFR-2024-AVI-0001", "cves": [{"name": "x"}]}')
    assert len(advisories) == 1 and advisories[0].cves == ()
    assert [(s.location.field, s.reason) for s in report.skipped] == [
        ("cves[0].name", "not a CVE id")
    ]


def test_affected_lines_are_bounded_and_the_cut_is_counted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(certfr, "MAX_AFFECTED_LINES", 2)
    advisories, report = parse((FIXTURES / "CERTFR-2024-ALE-999.json").read_bytes())
    assert len(advisories[0].affected) == 2
    assert [(s.location.field, s.reason) for s in report.skipped] == [
        ("affected_systems", "over 2 affected systems: the rest left out")
    ]


def test_a_json_array_of_items() -> None:
    item = json.loads((FIXTURES / "CERTFR-2024-ALE-999.json").read_bytes())
    advisories, report = parse(dumps([item, {"reference": "nope"}, item]))
    assert [a.id for a in advisories] == ["CERTFR-2024-ALE-999"] * 2
    assert [s.location.field for s in report.skipped] == ["[1].reference"]


# --- pieces ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Fortinet indique que la vulnérabilité CVE-2024-1 est activement exploitée.", True),
        ("Google a connaissance d'une exploitation active de la vulnérabilité.", True),
        ("L'éditeur indique avoir observé des exploitation actives.", True),
        ("Le CERT-FR n'a pas connaissance d'exploitation active.", False),
        ("Aucune exploitation active n'est connue.", False),
        ("Des preuves de concept sont disponibles.", False),
        ("Pas d'exploitation active. Mais X est activement exploitée.", True),
    ],
)
def test_says_exploited(text: str, expected: bool) -> None:
    assert says_exploited(text) is expected


def test_html_lines() -> None:
    assert html_lines("<P>Sun Java System 6.x.</P>") == (["Sun Java System 6.x."], [])
    assert html_lines("<p>A 1.0<br>B 2.0</p>") == (["A 1.0", "B 2.0"], [])
    assert html_lines("<ul><li>A &amp; B 1.x</li><li><tt>C</tt> 2</li></ul><p>Note.</p>") == (
        ["A & B 1.x", "C 2"],
        ["Note."],
    )
    table = (
        "<table><tr><th>Système</th><th>Lien</th></tr><tr><td>X 1</td><td>Lien</td></tr></table>"
    )
    assert html_lines(table) == (["X 1"], [])


@pytest.mark.parametrize(
    ("title", "product"),
    [
        ("Vulnérabilité dans Google Chrome", "Google Chrome"),
        ("Multiples vulnérabilités dans les produits Moxa", "Moxa"),
        ("Multiples vulnérabilités dans le noyau Linux de SUSE", "Linux de SUSE"),
        ("Bulletin d'actualité", None),
    ],
)
def test_title_product(title: str, product: str | None) -> None:
    assert title_product(title) == product


def test_line_without_product_falls_back_to_the_title() -> None:
    item = {
        "reference": "CERTA-2012-AVI-170",
        "title": "Vulnérabilité dans Google Chrome",
        "affected_systems": [],
        "affected_systems_content": "<P>Versions antérieures à la mise à jour 17.0.963.83.</P>",
        "revisions": [{"revision_date": "2012-03-22T00:00:00.000000"}],
    }
    [entry] = one(dumps(item)).affected
    assert entry.text == "Versions antérieures à la mise à jour 17.0.963.83."
    assert entry.product  # never empty: a product name the matcher can compare


# --- discovery: the RSS feed ------------------------------------------------------------------


def test_certfr_feed_items() -> None:
    report = ParseReport("certfr")
    items = parse_certfr_feed((FIXTURES / "feed.xml").read_bytes(), "feed.xml", report)
    site = "https://www.cert.ssi.gouv.fr"
    assert items == (
        CertfrFeedItem(
            reference="CERTFR-2025-AVI-0001",
            kind="AVI",
            title="Multiples vulnérabilités dans les produits Moxa (03 janvier 2025)",
            link=f"{site}/avis/CERTFR-2025-AVI-0001/",
            json_url=f"{site}/avis/CERTFR-2025-AVI-0001/json/",
            published=datetime(2025, 1, 3, tzinfo=UTC),
        ),
        CertfrFeedItem(
            reference="CERTFR-2024-ALE-999",
            kind="ALE",
            title="[MàJ] Vulnérabilité dans Fortinet FortiOS (09 octobre 2024)",
            link=f"{site}/alerte/CERTFR-2024-ALE-999/",
            json_url=f"{site}/alerte/CERTFR-2024-ALE-999/json/",
            published=datetime(2024, 10, 11, tzinfo=UTC),
        ),
        CertfrFeedItem(
            reference="CERTFR-2025-ACT-001",
            kind="ACT",
            title="Bulletin d'actualité CERTFR-2025-ACT-001 (06 janvier 2025)",
            link=f"{site}/actualite/CERTFR-2025-ACT-001/",
            json_url=f"{site}/actualite/CERTFR-2025-ACT-001/json/",
            published=datetime(2025, 1, 6, tzinfo=UTC),
        ),
        CertfrFeedItem(
            reference="CERTFR-2025-AVI-0009",
            kind="AVI",
            title="Vulnérabilité dans Mozilla Firefox",
            link=f"{site}/avis/CERTFR-2025-AVI-0009/",
            json_url=f"{site}/avis/CERTFR-2025-AVI-0009/json/",
            published=datetime(2025, 1, 8, tzinfo=UTC),
        ),
    )
    assert [i.is_alert for i in items] == [False, True, False, False]
    assert [(s.location.field, s.reason) for s in report.skipped] == [
        ("item[4]", "item without a CERT-FR reference")
    ]


def test_certfr_feed_refuses_bombs() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b"<rss><channel><item><title>&b;</title></item></channel></rss>"
    )
    with pytest.raises(FeedError, match="XML refused"):
        parse_certfr_feed(bomb, "feed.xml", ParseReport("certfr"))


# --- fuzzing and round trip -------------------------------------------------------------------

json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
)
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=25,
)
lines = st.sampled_from(
    [
        "FortiOS versions 7.2.x antérieures à 7.2.10",
        "toutes versions",
        "<p>X</p>",
        "Windows 10 pour systèmes 32 bits",
        "",
    ]
) | st.text(max_size=40)
avis_shaped = st.fixed_dictionaries(
    {"reference": st.sampled_from(["CERTFR-2025-AVI-0001", "CERTA-2005-ALE-001"]) | json_leaf},
    optional={
        "title": st.text(max_size=30) | json_leaf,
        "summary": st.text(max_size=60) | json_leaf,
        "content": st.text(max_size=60).map(lambda t: f"## Solution\n\n{t}") | json_leaf,
        "affected_systems": st.lists(
            st.fixed_dictionaries(
                {"description": lines | json_leaf},
                optional={"product": json_value},
            ),
            max_size=4,
        )
        | json_leaf,
        "affected_systems_content": lines.map(lambda t: f"<ul><li>{t}</li></ul>") | json_leaf,
        "cves": st.lists(st.fixed_dictionaries({"name": st.text(max_size=15)}), max_size=3),
        "revisions": st.lists(
            st.fixed_dictionaries(
                {
                    "revision_date": st.sampled_from(
                        ["2025-01-03T00:00:00.000000", "0001-01-01T00:00:00+01:00"]
                    )
                    | json_leaf
                }
            ),
            max_size=3,
        ),
        "links": json_value,
        "vendor_advisories": json_value,
        "risks": json_value,
    },
)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def only_records_or_skips(raw: bytes) -> None:
    report = ParseReport("certfr")
    records = list(CertfrSource().parse(raw, "fuzz", report))
    assert all(isinstance(r, Advisory) for r in records)
    assert report.parsed == len(records)


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_bytes(raw: bytes) -> None:
    only_records_or_skips(raw)


@FUZZ
@given(json_value)
def test_fuzz_json(value: object) -> None:
    only_records_or_skips(dumps(value))


@FUZZ
@given(avis_shaped)
def test_fuzz_avis_shaped(item: dict[str, Any]) -> None:
    only_records_or_skips(dumps(item))


@FUZZ
@given(st.binary(max_size=300) | st.text(max_size=200).map(str.encode))
def test_fuzz_feed(raw: bytes) -> None:
    report = ParseReport("certfr")
    try:
        items = parse_certfr_feed(raw, "fuzz", report)
    except FeedError:
        return
    assert all(isinstance(i, CertfrFeedItem) for i in items)


# Names shaped like products ("Fortigate"), never a word of the version grammar.
GRAMMAR_WORDS = {"versions", "version", "toutes", "pour", "sans", "avant", "les", "des", "all"}
words = st.from_regex(r"[A-Z][a-z]{2,9}", fullmatch=True).filter(
    lambda w: w.lower() not in GRAMMAR_WORDS
)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2000, 2030),
    st.integers(1, 9999),
    st.booleans(),
    words,
    st.lists(st.integers(1, 99_999), max_size=4, unique=True),
    st.lists(st.dates(min_value=datetime(2000, 1, 1).date()), min_size=1, max_size=3),
    st.lists(st.tuples(words, words), max_size=3),
)
def test_round_trip(
    year: int,
    number: int,
    alert: bool,
    title: str,
    cve_numbers: list[int],
    dates: list[Any],
    systems: list[tuple[str, str]],
) -> None:
    kind = "ALE" if alert else "AVI"
    reference = f"CERTFR-{year}-{kind}-{number:04d}"
    cves = [f"CVE-{year}-{n:05d}" for n in cve_numbers]
    item = {
        "reference": reference,
        "title": title,
        "summary": "Résumé.",
        "content": "## Solutions\n\nMettre à jour.",
        "cves": [{"name": c, "url": None} for c in cves],
        "revisions": [{"revision_date": f"{d.isoformat()}T00:00:00.000000"} for d in dates],
        "affected_systems": [
            {
                "description": f"{product} versions antérieures à 2.{i}",
                "product": {"name": product, "vendor": {"name": vendor}},
            }
            for i, (vendor, product) in enumerate(systems)
        ],
    }
    advisory = one(dumps(item))
    assert advisory.id == reference
    assert advisory.title == title
    assert advisory.cves == tuple(cves)
    assert advisory.exploitation.certfr_alert is alert
    assert advisory.published == datetime.combine(min(dates), datetime.min.time(), UTC)
    assert advisory.modified == datetime.combine(max(dates), datetime.min.time(), UTC)
    assert advisory.solution == "Mettre à jour."
    path = "alerte" if alert else "avis"
    assert advisory.references == (f"https://www.cert.ssi.gouv.fr/{path}/{reference}/",)
    expected = {
        (vendor, f"{product} versions antérieures à 2.{i}", f"2.{i}")
        for i, (vendor, product) in enumerate(systems)
    }
    got = {(e.vendor, e.text, e.ranges[0].fixed if e.ranges else None) for e in advisory.affected}
    assert got == expected


def test_registered_under_its_name() -> None:
    source = get_source("certfr")
    assert isinstance(source, CertfrSource)
    assert source.description
