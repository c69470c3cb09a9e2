"""Products of the inventory named in news items: real-looking items, collisions, properties.

The items are written for these tests in the style of vendor and CERT news; none is copied.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tocsin.inventory.normalise import GENERIC_WORDS, load_aliases
from tocsin.model.advisory import Advisory, Exploitation
from tocsin.model.finding import Decision, Finding, MatchKind
from tocsin.model.inventory import Asset, Criticality, Exposure
from tocsin.watch.mentions import (
    COMMON_WORDS,
    CONFIDENCE,
    MentionIndex,
    news_findings,
    words,
)

ALIASES = load_aliases()
NOW = datetime(2025, 3, 12, 6, 0, tzinfo=UTC)


def _asset(key: str, vendor: str | None, product: str, **kw: object) -> Asset:
    return ALIASES.normalise(Asset(key, f"asset {key}", vendor=vendor, product=product, **kw))  # type: ignore[arg-type]


INVENTORY = [
    _asset(
        "fw-1",
        "Fortinet",
        "FortiGate",
        version="7.2.5",
        criticality=Criticality.VITAL,
        exposure=Exposure.INTERNET,
    ),
    _asset("pacs-1", "Osimis", "Orthanc"),
    _asset("dc-1", "Microsoft", "Windows Server 2019"),
    _asset("mail-1", "Microsoft", "Exchange Server"),
    _asset("pc-1", "Microsoft", "Windows"),
    _asset("vpn-1", "Citrix", "NetScaler Gateway"),
    _asset("gw-1", None, "Gateway"),
    _asset("srv-1", None, "Server"),
]
INDEX = MentionIndex.build(INVENTORY, ALIASES)


def _found(title: str, text: str = "") -> dict[str, str]:
    return {m.asset.id: m.phrase for m in INDEX.find(title, text)}


@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [
        # A family alias: a FortiGate runs FortiOS, and news speak of FortiOS.
        (
            "Critical FortiOS SSL-VPN flaw exploited in the wild",
            "Fortinet urges customers to upgrade FortiOS 7.2 to 7.2.7 (CVE-2024-21762).",
            {"fw-1": "FortiOS"},
        ),
        # French, upper case, accents around.
        (
            "Mise à jour de sécurité pour ORTHANC",
            "Une vulnérabilité a été découverte dans le serveur DICOM Orthanc.",
            {"pacs-1": "ORTHANC"},
        ),
        # Common words alone name nothing…
        ("Windows and doors: a guide to hospital renovation", "", {}),
        ("Key exchange weakness in old TLS servers", "", {}),
        ("New gateway and server vulnerabilities this week", "", {}),
        # … with their vendor near, they do.
        (
            "Microsoft fixes an elevation of privilege in the Windows kernel",
            "",
            {"pc-1": "Windows"},
        ),
        (
            "Patch Tuesday",
            "Microsoft released fixes for Windows Server 2019 and for Exchange Server.",
            {"dc-1": "Windows Server 2019", "mail-1": "Exchange Server"},
        ),
        # Another release of a name found without its own is not this asset.
        ("Microsoft patches Windows Server 2016", "", {}),
        # Whole words only.
        ("Orthancs and FortiOSX are not products", "", {}),
        # Another known vendor right before the name: another vendor's product.
        ("Siemens Orthanc appliance recalled", "", {}),
        ("Citrix NetScaler Gateway zero-day", "", {"vpn-1": "NetScaler Gateway"}),
    ],
)
def test_real_looking_items(title: str, text: str, expected: dict[str, str]) -> None:
    assert _found(title, text) == expected


def test_a_mention_says_where_and_how_sure() -> None:
    [mention] = INDEX.find(
        "Alerte", "Le CERT-FR signale une vulnérabilité critique dans FortiOS, corrigée en 7.2.7."
    )
    assert mention.phrase == "FortiOS" and not mention.vendor_named
    assert mention.confidence == CONFIDENCE["name"]
    assert mention.evidence.startswith('named in the news: "FortiOS" in "')
    assert "vulnérabilité critique dans FortiOS, corrigée" in mention.context
    [named] = INDEX.find("Fortinet FortiOS update")
    assert named.vendor_named and named.confidence == CONFIDENCE["vendor"]


def _item(ident: str, title: str, text: str = "", **kw: object) -> Advisory:
    values: dict[str, object] = {"published": NOW - timedelta(days=1)}
    values.update(kw)
    return Advisory(id=ident, source="rss", title=title, summary=text, **values)  # type: ignore[arg-type]


def test_findings_are_name_only_low_confidence_never_act_now() -> None:
    cve = "CVE-2024-21762"
    item = _item(
        "https://news.example/fortios",
        "FortiOS SSL-VPN exploited",
        f"Attackers exploit {cve} in FortiOS.",
        cves=(cve,),
    )
    kev = {cve: Exploitation(kev=True, kev_date_added="2024-02-09", epss=0.94)}
    [finding] = news_findings(INDEX, [item], enrichments=kev)
    assert (finding.asset, finding.advisory, finding.cves) == ("fw-1", item.id, (cve,))
    assert finding.match is MatchKind.NAME_ONLY and finding.confidence < 0.4
    assert finding.kev and finding.epss == 0.94
    # KEV on a vital internet-facing firewall would be act_now; a news mention is not sure.
    assert finding.decision is Decision.OUT_OF_CYCLE
    assert "uncertain match: confirm the version before acting" in finding.reasons
    assert '"FortiOS"' in finding.evidence and finding.source == "rss"


def test_findings_skip_what_the_engine_found_and_old_news() -> None:
    cve = "CVE-2024-21762"
    item = _item("n1", "FortiOS flaw", cves=(cve,))
    engine = Finding("fw-1", cve, (cve,), MatchKind.CPE, 1.0, "cpe")
    assert news_findings(INDEX, [item], matched=[engine]) == []
    old = _item("n2", "FortiOS flaw", published=NOW - timedelta(days=200))
    assert news_findings(INDEX, [old], since=NOW - timedelta(days=90)) == []
    undated = _item("n3", "FortiOS flaw", published=None)
    assert len(news_findings(INDEX, [undated], since=NOW - timedelta(days=90))) == 1


# -- properties -------------------------------------------------------------------------------
_FILLER = st.lists(
    st.sampled_from(sorted(GENERIC_WORDS | COMMON_WORDS | {"the", "a", "of", "patch", "2025"})),
    max_size=30,
)


@given(_FILLER)
def test_generic_and_common_words_alone_name_nothing(filler: list[str]) -> None:
    text = " ".join(w for w in filler if w not in {"netscaler"})
    assert _found(text) == {}


@given(_FILLER, _FILLER, st.sampled_from(["Orthanc", "ORTHANC", "orthanc", "Orthänc"]))
def test_a_distinctive_name_is_found_among_any_words(
    before: list[str], after: list[str], name: str
) -> None:
    text = " ".join([*before, "about", name + ",", *after])  # no vendor right before
    assert "pacs-1" in _found(text)


@given(st.text(max_size=200))
@settings(max_examples=300)
def test_any_text_is_read_without_error(text: str) -> None:
    for mention in INDEX.find(text, text):
        assert words(mention.phrase)  # the phrase is made of words
        assert mention.phrase.casefold() in f"{text}\n{text}".casefold()


@given(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=5),
    st.booleans(),
)
def test_names_inside_longer_words_are_not_found(extra: str, front: bool) -> None:
    token = extra + "orthanc" if front else "orthanc" + extra
    assert _found(f"news about {token} today") == {}


@given(
    st.text(alphabet=st.characters(codec="latin-1"), max_size=80).filter(
        lambda t: len(t.upper()) == len(t) == len(t.lower())
    )
)
def test_case_does_not_matter(text: str) -> None:
    assert set(_found(text.upper())) == set(_found(text.lower()))


def test_ten_thousand_assets_and_hundreds_of_items_are_fast() -> None:
    assets = [
        _asset(f"a{i}", f"Vendor{i % 700}", f"Product{i % 3000} Suite", version="1.0")
        for i in range(10_000)
    ] + INVENTORY
    started = time.perf_counter()
    index = MentionIndex.build(assets, ALIASES)
    built = time.perf_counter() - started
    body = " ".join(["A long article about hospital security and patches."] * 60)
    items = [
        _item(f"n{i}", f"Vendor{i} fixes Product{i} Suite", f"{body} FortiOS {body}")
        for i in range(300)
    ]
    started = time.perf_counter()
    findings = news_findings(index, items)
    read = time.perf_counter() - started
    assert built < 10 and read < 10, (built, read)
    assert {f.asset for f in findings if f.advisory == "n7"} >= {"a7", "fw-1"}


def test_assets_named_only_by_their_own_name_are_not_looked_for() -> None:
    unnamed = ALIASES.normalise(Asset("fw-9", "Pare-feu DMZ", vendor="Stormshield"))
    index = MentionIndex.build([unnamed], ALIASES)
    assert index.find("Le pare-feu DMZ Stormshield redémarre") == []
