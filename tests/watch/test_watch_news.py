"""News feeds through the watch service, on both databases: an item naming a product of the
inventory becomes a name-only exposure, listed in the bulletin with its link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tocsin.inventory.normalise import load_aliases
from tocsin.model import Asset, AssetKind, Criticality, Establishment, Exposure
from tocsin.model.finding import Decision, MatchKind
from tocsin.report import collect_bulletin
from tocsin.store.db import Database
from tocsin.store.exposure_queries import ExposureFilter
from tocsin.store.inventory import add_establishment, apply_import, get_establishment
from tocsin.watch.bulletin import bulletin_document
from tocsin.watch.service import list_exposures, load_advisories, match_establishment
from tocsin.watch.sources.base import Document

ALIASES = load_aliases()
NOW = datetime(2025, 3, 12, 6, 0, tzinfo=UTC)
NEWS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Veille sant\xc3\xa9</title><language>fr</language>
<item>
 <title>FortiOS : une faille du VPN SSL activement exploit\xc3\xa9e</title>
 <link>https://veille.example.org/2025/03/fortios</link>
 <guid isPermaLink="false">veille-2025-0311</guid>
 <pubDate>Tue, 11 Mar 2025 08:30:00 +0100</pubDate>
 <description>Fortinet publie un correctif pour FortiOS (CVE-2024-21762).
 Mettre \xc3\xa0 jour.</description>
</item>
<item>
 <title>Nouvelles passerelles et serveurs : conseils de configuration</title>
 <link>https://veille.example.org/2025/03/conseils</link>
 <pubDate>Tue, 11 Mar 2025 09:00:00 +0100</pubDate>
 <description>Windows, gateway, server : rien de sp\xc3\xa9cifique.</description>
</item>
</channel></rss>
"""


def _setup(database: Database) -> None:
    assets = [
        Asset(
            "fw-1",
            "Pare-feu DMZ",
            kind=AssetKind.APPLIANCE,
            vendor="Fortinet",
            product="FortiGate",
            version="7.2.5",
            criticality=Criticality.VITAL,
            exposure=Exposure.INTERNET,
        ),
        Asset("gw-1", "Passerelle", product="Gateway"),
    ]
    with database.session() as s:
        add_establishment(s, Establishment("ch-a", "CH A"))
    with database.session() as s:
        normalised = [ALIASES.normalise(a) for a in assets]
        apply_import(s, get_establishment(s, "ch-a").id, "csv", normalised)


def test_a_news_item_naming_a_product_opens_a_name_only_exposure(database: Database) -> None:
    _setup(database)
    load_advisories(database, {"rss": [Document("news.xml", NEWS)]}, now=NOW)
    report = match_establishment(database, "ch-a", ALIASES, now=NOW)
    assert report.created == 1
    [exposure] = list_exposures(database, ExposureFilter(establishments=("ch-a",)))
    assert (exposure.asset_key, exposure.advisory) == ("fw-1", "veille-2025-0311")
    assert exposure.match is MatchKind.NAME_ONLY and exposure.confidence < 0.4
    assert exposure.decision is not Decision.ACT_NOW
    assert '"FortiOS"' in exposure.evidence and exposure.cves == ("CVE-2024-21762",)
    # A second run finds the same mention: the same exposure, nothing new.
    again = match_establishment(database, "ch-a", ALIASES, now=NOW + timedelta(hours=1))
    assert (again.created, again.refreshed) == (0, 1)
    bulletin = collect_bulletin(database, "ch-a", lang="fr", now=NOW + timedelta(hours=2))
    [group] = bulletin_document(bulletin)["new"]
    assert group["links"][:2] == [
        "https://veille.example.org/2025/03/fortios",
        "https://nvd.nist.gov/vuln/detail/CVE-2024-21762",
    ]
    assert "correspondance incertaine (nom seul)" in bulletin.reason_texts(bulletin.new[0])


def test_news_older_than_the_window_closes_its_exposures(database: Database) -> None:
    _setup(database)
    load_advisories(database, {"rss": [Document("news.xml", NEWS)]}, now=NOW)
    match_establishment(database, "ch-a", ALIASES, now=NOW)
    later = match_establishment(database, "ch-a", ALIASES, now=NOW + timedelta(days=120))
    assert later.closed == 1
