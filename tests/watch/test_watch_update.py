"""Loading feeds into the store: one transaction per feed, live, from a mirror, from files.

No test reaches the Internet: live fetches and mirrors use a local HTTP server
(fetch_fixtures/local_server.py).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fetch_fixtures.local_server import Answer, FakeClock, LocalServer, local_server
from sqlalchemy import func, select

from tocsin.errors import InputError, SourceUnavailableError, UsageError
from tocsin.store.db import Database
from tocsin.store.tables import AdvisoryRow, EnrichmentRow
from tocsin.store.watch import get_feed_status
from tocsin.watch.feeds import Feed
from tocsin.watch.fetch import FetchClient, RetryPolicy
from tocsin.watch.mirror import mirror
from tocsin.watch.sources.base import Document
from tocsin.watch.update import (
    FeedDocuments,
    feed_from_path,
    live_feeds,
    load_advisories,
    mirror_feeds,
)

NVD_PAGE = Path(__file__).parent / "sources" / "fixtures" / "nvd" / "cves-page.json"
KEV_FIXTURE = "kev/known_exploited_vulnerabilities.json"  # under fetch_fixtures/
DAY0 = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
CVE = "CVE-2024-21762"


def _kev_doc(*cves: str) -> bytes:
    entries = [
        {
            "cveID": cve,
            "vendorProject": "Fortinet",
            "product": "FortiOS",
            "vulnerabilityName": "Fortinet FortiOS vulnerability",
            "dateAdded": "2024-02-09",
            "shortDescription": "Out-of-bounds write.",
            "requiredAction": "Apply updates per vendor instructions.",
            "dueDate": "2024-02-16",
            "knownRansomwareCampaignUse": "Unknown",
            "notes": "",
        }
        for cve in cves
    ]
    return json.dumps(
        {"title": "KEV", "catalogVersion": "1", "count": len(entries), "vulnerabilities": entries}
    ).encode()


def _count(database: Database, table: type) -> int:
    with database.session() as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def test_a_failing_feed_changes_nothing(database: Database) -> None:
    epss = b"cve,epss,percentile\nCVE-2024-21762,0.94,0.999\n"
    feeds = [
        FeedDocuments(
            "kev",
            "kev",
            [Document("kev-1.json", _kev_doc(CVE)), Document("kev-2.json", NVD_PAGE.read_bytes())],
        ),
        FeedDocuments("first-epss", "epss", [Document("epss.csv", epss)]),
    ]
    report = load_advisories(database, feeds, now=DAY0)
    [failed] = report.failed
    assert failed.feed == "kev" and "NVD API 2.0 response" in (failed.error or "")
    assert [(f.feed, f.kind) for f in report.feeds if f.ok] == [("first-epss", "epss")]
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(AdvisoryRow)) == 0
        enrichment = s.get(EnrichmentRow, CVE)
        assert enrichment is not None and enrichment.epss == 0.94 and not enrichment.kev
        kev_state, epss_state = get_feed_status(s, "kev"), get_feed_status(s, "first-epss")
    assert kev_state is not None and kev_state.last_success is None
    assert "NVD API 2.0 response" in (kev_state.last_error or "")
    assert epss_state is not None and epss_state.kind == "epss"
    assert epss_state.last_success == DAY0 and epss_state.counts["enrichments"] == 1


def test_a_feed_cut_midway_changes_nothing(database: Database) -> None:
    def cut() -> Iterator[Document]:
        yield Document("kev-1.json", _kev_doc(CVE, "CVE-2023-27997"))
        raise SourceUnavailableError("connection reset")

    report = load_advisories(database, {"kev": cut()}, now=DAY0)
    assert report.failed[0].error == "connection reset"
    assert _count(database, AdvisoryRow) == _count(database, EnrichmentRow) == 0
    report = load_advisories(database, {"kev": [Document("k.json", _kev_doc(CVE))]}, now=DAY0)
    assert report.ok and report.feeds[0].inserted == 1 and report.feeds[0].enrichments == 1


def test_unknown_kinds_are_refused_before_reading(database: Database) -> None:
    with pytest.raises(UsageError, match="unknown source kind 'kevv'"):
        load_advisories(database, {"kev": [Document("k", _kev_doc(CVE))], "kevv": []})
    assert _count(database, AdvisoryRow) == 0


def test_local_files(database: Database, tmp_path: Path) -> None:
    (tmp_path / "kev.json.gz").write_bytes(gzip.compress(_kev_doc(CVE)))
    report = load_advisories(database, [feed_from_path("kev", tmp_path / "kev.json.gz")])
    assert report.ok and report.feeds[0].documents == 1


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with local_server() as running:
        running.serve("/kev.json", KEV_FIXTURE, etag='"2025.08.25"')
        yield running


@pytest.fixture
def client() -> Iterator[FetchClient]:
    clock = FakeClock()
    with FetchClient(
        trust_env=False,
        timeout=5.0,
        retry=RetryPolicy(attempts=2),
        clock=clock.monotonic,
        sleep=clock.sleep,
        jitter=lambda: 0.5,
    ) as made:
        yield made


def test_live_update_is_conditional(
    database: Database, server: LocalServer, client: FetchClient
) -> None:
    kev = Feed(name="kev", kind="kev", url=server.url("/kev.json"))
    report = load_advisories(database, live_feeds(database, [kev], client, now=DAY0), now=DAY0)
    assert report.ok and (report.feeds[0].documents, report.feeds[0].inserted) == (1, 3)
    with database.session() as s:
        status = get_feed_status(s, "kev")
    assert status is not None and status.state["last_success"] == DAY0.isoformat()
    assert status.state["http"][server.url("/kev.json")]["etag"] == '"2025.08.25"'
    # The next run sends the ETag back and gets 304: nothing to load, state kept.
    later = DAY0 + timedelta(days=1)
    report = load_advisories(database, live_feeds(database, [kev], client, now=later), now=later)
    assert report.ok and report.feeds[0].documents == 0
    assert server.seen[-1].headers["if-none-match"] == '"2025.08.25"'
    with database.session() as s:
        status = get_feed_status(s, "kev")
    assert status is not None and status.state["last_success"] == later.isoformat()
    # The server fails: reported, the data and the saved validators stay as they were.
    server.script("/kev.json", Answer(500, b"down"))
    report = load_advisories(database, live_feeds(database, [kev], client), now=DAY0)
    assert not report.ok and "500" in (report.feeds[0].error or "")
    with database.session() as s:
        after = get_feed_status(s, "kev")
    assert after is not None and after.state == status.state and after.last_error
    assert _count(database, AdvisoryRow) == 3


def test_mirror_for_air_gapped_sites(
    database: Database, server: LocalServer, client: FetchClient, tmp_path: Path
) -> None:
    server.serve("/nvd.json", "nvd/page-0.json")
    feeds = [
        Feed(name="kev", kind="kev", url=server.url("/kev.json")),
        Feed(name="nvd-copy", kind="cve5", url=server.url("/nvd.json")),
    ]
    dest = tmp_path / "mirror"
    assert not mirror(feeds, client, dest).failed
    report = load_advisories(database, mirror_feeds(dest), now=DAY0)
    assert [(f.feed, f.ok) for f in report.feeds] == [("kev", True), ("nvd-copy", False)]
    assert _count(database, AdvisoryRow) == 3  # the feed that cannot be read left nothing
    # A damaged mirror is refused as a whole before anything is loaded.
    kev_file = next((dest / "kev" / "kev").iterdir())
    kev_file.write_bytes(kev_file.read_bytes()[:-4])
    with pytest.raises(InputError, match="000001"):
        load_advisories(database, mirror_feeds(dest), now=DAY0)
