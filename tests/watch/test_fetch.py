"""The fetch path against a real HTTP(S) server on 127.0.0.1 serving recorded files.

No test reaches the Internet. Clocks and sleeps are fakes (fetch_fixtures/local_server.py):
a retry or a rate limit records the delay it would have waited instead of waiting.
"""

from __future__ import annotations

import gzip
import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fetch_fixtures.local_server import (
    Answer,
    FakeClock,
    LocalServer,
    Seen,
    Tls,
    local_server,
    make_tls,
)

from tocsin import __version__
from tocsin.errors import ConfigError, SourceUnavailableError, UsageError
from tocsin.model.advisory import Advisory
from tocsin.watch.feeds import (
    OVERLAP,
    Feed,
    certfr_json_url,
    load_feeds,
    nvd_api_key,
    nvd_date,
    nvd_windows,
    plan,
)
from tocsin.watch.fetch import (
    FeedState,
    FetchClient,
    FetchedDocument,
    FetchError,
    FetchState,
    RateLimiter,
    RetryPolicy,
)
from tocsin.watch.sources import ParseReport, get_source, sources
from tocsin.watch.sources.certfr import CertfrFeedItem

KEV = "kev/known_exploited_vulnerabilities.json"
EPSS = "epss/epss_scores-2025-08-25.csv"
NVD_PATH = "/rest/json/cves/2.0"
CSAF = "/.well-known/csaf"
T0 = datetime(2025, 8, 25, 6, 0, tzinfo=UTC)


def make_client(clock: FakeClock, tls: Tls | None = None, **options: Any) -> FetchClient:
    options.setdefault("timeout", 5.0)
    return FetchClient(
        trust_env=False,
        clock=clock.monotonic,
        sleep=clock.sleep,
        jitter=lambda: 0.5,
        verify=tls.client if tls is not None else True,
        **options,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with local_server() as running:
        yield running


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    made = make_tls(tmp_path_factory.mktemp("tls"))
    if made is None:
        pytest.skip("the openssl command is needed for a local HTTPS server")
    return made


@pytest.fixture
def tls_server(tls: Tls) -> Iterator[LocalServer]:
    with local_server(tls.server) as running:
        yield running


@pytest.fixture
def client(clock: FakeClock) -> Iterator[FetchClient]:
    with make_client(clock) as made:
        yield made


def parse(kind: str, documents: list[FetchedDocument]) -> tuple[list[Any], ParseReport]:
    report = ParseReport(kind)
    source = get_source(kind)
    return [r for d in documents for r in source.parse(d.raw, d.url, report)], report


# --- conditional requests -----------------------------------------------------------------------


def test_etag_then_304_not_modified(server: LocalServer, client: FetchClient) -> None:
    server.serve("/kev.json", KEV, etag='"2025.08.25"')
    first = client.get(server.url("/kev.json"))
    assert first.status == 200
    assert first.content == server.fixture(KEV)
    assert first.state == FetchState(etag='"2025.08.25"')

    second = client.get(server.url("/kev.json"), state=first.state)
    assert second.not_modified
    assert second.content == b""
    assert second.state == first.state
    assert server.seen[-1].headers["if-none-match"] == '"2025.08.25"'


def test_last_modified_then_304(server: LocalServer, client: FetchClient) -> None:
    stamp = "Mon, 25 Aug 2025 17:04:19 GMT"
    server.serve("/kev.json", KEV, last_modified=stamp)
    first = client.get(server.url("/kev.json"))
    assert first.state == FetchState(last_modified=stamp)
    second = client.get(server.url("/kev.json"), state=first.state)
    assert second.not_modified
    assert server.seen[-1].headers["if-modified-since"] == stamp
    assert "if-none-match" not in server.seen[-1].headers


def test_user_agent_and_compression_are_announced(server: LocalServer, client: FetchClient) -> None:
    server.script("/x", Answer(200, b"ok"))
    client.get(server.url("/x"))
    assert server.seen[0].headers["user-agent"] == f"Tocsin/{__version__}"
    assert "gzip" in server.seen[0].headers["accept-encoding"]


# --- retries, Retry-After, timeouts ------------------------------------------------------------


def test_retries_after_503_then_succeeds(
    server: LocalServer, client: FetchClient, clock: FakeClock
) -> None:
    server.script("/x", Answer(503), Answer(503), Answer(200, b"ok"))
    assert client.get(server.url("/x")).content == b"ok"
    assert len(server.seen) == 3
    # exponential steps of 2 s and 4 s, half kept and half scaled by the jitter (0.5 here)
    assert clock.sleeps == [1.5, 3.0]


def test_retry_after_in_seconds_is_honoured(
    server: LocalServer, client: FetchClient, clock: FakeClock
) -> None:
    server.script("/x", Answer(429, headers={"Retry-After": "7"}), Answer(200, b"ok"))
    assert client.get(server.url("/x")).content == b"ok"
    assert clock.sleeps == [7.0]


def test_retry_after_as_a_date_is_honoured(
    server: LocalServer, client: FetchClient, clock: FakeClock
) -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    server.script("/x", Answer(503, headers={"Retry-After": later}), Answer(200, b"ok"))
    assert client.get(server.url("/x")).content == b"ok"
    assert len(clock.sleeps) == 1
    assert 50 <= clock.sleeps[0] <= 60


def test_retry_after_beyond_the_ceiling_fails_at_once(
    server: LocalServer, client: FetchClient, clock: FakeClock
) -> None:
    server.script("/x", Answer(503, headers={"Retry-After": "86400"}))
    with pytest.raises(FetchError, match="asks to wait 86400 s"):
        client.get(server.url("/x"))
    assert clock.sleeps == []
    assert len(server.seen) == 1


def test_gives_up_after_the_last_attempt(
    server: LocalServer, client: FetchClient, clock: FakeClock
) -> None:
    server.script("/x", Answer(500))
    with pytest.raises(SourceUnavailableError) as raised:
        client.get(server.url("/x"))
    error = raised.value
    assert isinstance(error, FetchError)
    assert error.status == 500
    assert error.url == server.url("/x")
    assert str(error) == f"{server.url('/x')}: HTTP 500 after 4 attempts"
    assert error.exit_code == 4
    assert clock.sleeps == [1.5, 3.0, 6.0]


def test_client_errors_are_not_retried(server: LocalServer, client: FetchClient) -> None:
    with pytest.raises(FetchError, match="HTTP 404") as raised:
        client.get(server.url("/missing"))
    assert raised.value.status == 404
    assert len(server.seen) == 1


def test_timeout_is_an_unavailable_source(server: LocalServer, clock: FakeClock) -> None:
    server.script("/slow", Answer(200, b"late", delay=1.0))
    with make_client(clock, timeout=0.2, retry=RetryPolicy(attempts=2)) as client:
        with pytest.raises(SourceUnavailableError, match="timed out after 2 attempts"):
            client.get(server.url("/slow"))
    assert clock.sleeps == [1.5]


def test_connection_refused_is_retried_then_reported(clock: FakeClock) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with make_client(clock, retry=RetryPolicy(attempts=2)) as client:
        with pytest.raises(FetchError, match="connection failed"):
            client.get(f"http://127.0.0.1:{port}/x")
    assert len(clock.sleeps) == 1


def test_backoff_is_exponential_capped_and_jittered() -> None:
    policy = RetryPolicy(base_delay=2.0, max_delay=10.0)
    assert policy.backoff(0, 0.0) == 1.0
    assert 1.0 <= policy.backoff(0, 0.99) < 2.0
    assert policy.backoff(1, 0.0) == 2.0
    assert policy.backoff(6, 0.0) == 5.0  # capped at max_delay, half of it kept


# --- size limits and compression ---------------------------------------------------------------


def test_declared_body_over_the_limit_is_refused(server: LocalServer, clock: FakeClock) -> None:
    server.script("/big", Answer(200, b"x" * 5000))
    with make_client(clock, max_bytes=1000) as client:
        with pytest.raises(FetchError, match="5,000 bytes over the limit of 1,000 bytes"):
            client.get(server.url("/big"))


def test_streamed_body_over_the_limit_is_refused(server: LocalServer, clock: FakeClock) -> None:
    server.script("/big", Answer(200, b"x" * 300_000, content_length=False))
    with make_client(clock, max_bytes=1000) as client:
        with pytest.raises(FetchError, match="response over the limit of 1,000 bytes"):
            client.get(server.url("/big"))


def test_gzip_encoding_is_decoded(server: LocalServer, client: FetchClient) -> None:
    body = server.fixture(EPSS)
    server.script("/scores.csv", Answer(200, gzip.compress(body), {"Content-Encoding": "gzip"}))
    assert client.get(server.url("/scores.csv")).content == body


def test_compression_bomb_is_refused_on_decoded_size(server: LocalServer, clock: FakeClock) -> None:
    bomb = gzip.compress(b"\0" * 20_000_000)
    assert len(bomb) < 100_000
    server.script("/bomb", Answer(200, bomb, {"Content-Encoding": "gzip"}))
    with make_client(clock, max_bytes=1_000_000) as client:
        with pytest.raises(FetchError, match="over the limit of 1,000,000 bytes"):
            client.get(server.url("/bomb"))


# --- redirects and schemes -------------------------------------------------------------------


def test_redirect_is_followed(server: LocalServer, client: FetchClient) -> None:
    server.script("/old", Answer(302, headers={"Location": "/new"}))
    server.script("/new", Answer(200, b"moved"))
    result = client.get(server.url("/old"))
    assert result.content == b"moved"
    assert result.url == server.url("/old")
    assert result.final_url == server.url("/new")


def test_api_key_is_not_sent_to_another_origin(server: LocalServer, client: FetchClient) -> None:
    port = urlsplit(server.base).port
    server.script("/old", Answer(302, headers={"Location": f"http://localhost:{port}/new"}))
    server.script("/new", Answer(200, b"moved"))
    assert client.get(server.url("/old"), headers={"apiKey": "secret"}).content == b"moved"
    assert server.seen[0].headers["apikey"] == "secret"
    assert "apikey" not in server.seen[1].headers


def test_redirect_to_a_file_url_is_refused(server: LocalServer, client: FetchClient) -> None:
    server.script("/x", Answer(302, headers={"Location": "file:///etc/passwd"}))
    with pytest.raises(FetchError, match="redirect to a file: URL refused"):
        client.get(server.url("/x"))


def test_redirects_are_capped(server: LocalServer, clock: FakeClock) -> None:
    server.script("/loop", Answer(302, headers={"Location": "/loop"}))
    with make_client(clock, max_redirects=3) as client:
        with pytest.raises(FetchError, match="more than 3 redirects"):
            client.get(server.url("/loop"))
    assert len(server.seen) == 4


def test_https_answers_with_the_local_certificate(
    tls_server: LocalServer, tls: Tls, clock: FakeClock
) -> None:
    tls_server.script("/x", Answer(200, b"secure"))
    with make_client(clock, tls) as client:
        assert client.get(tls_server.url("/x")).content == b"secure"


def test_https_to_http_redirect_is_refused(
    tls_server: LocalServer, tls: Tls, clock: FakeClock
) -> None:
    tls_server.script("/x", Answer(302, headers={"Location": "http://127.0.0.1:9/x"}))
    with make_client(clock, tls) as client:
        with pytest.raises(FetchError, match="https to plain http refused"):
            client.get(tls_server.url("/x"))


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x", "gopher://x/"])
def test_only_http_and_https_are_fetched(client: FetchClient, url: str) -> None:
    with pytest.raises(FetchError, match="only http and https"):
        client.get(url)


# --- rate limits ------------------------------------------------------------------------------


def test_rate_limiter_keeps_a_rolling_window(clock: FakeClock) -> None:
    limiter = RateLimiter(5, 30.0, clock.monotonic, clock.sleep)
    assert [limiter.acquire() for _ in range(5)] == [0.0] * 5  # a burst of five is allowed
    clock.now += 10
    assert limiter.acquire() == 20.0  # the sixth waits for the first to leave the window
    times: list[float] = []
    for step in range(40):
        clock.now += step % 7  # requests at irregular intervals
        limiter.acquire()
        times.append(clock.now)
    # never more than five requests in any 30 s (a token bucket refilling 5 per 30 s
    # would let up to nine through in some windows)
    assert all(later - first >= 30.0 for first, later in zip(times, times[5:], strict=False))


# --- NVD ---------------------------------------------------------------------------------------


def serve_nvd(server: LocalServer, fail_at: int | None = None) -> None:
    def answer(seen: Seen) -> Answer:
        start = int(seen.query.get("startIndex", "0"))
        if start == fail_at:
            return Answer(500)
        return Answer(200, server.fixture(f"nvd/page-{start}.json"))

    server.route(NVD_PATH, answer)


def test_nvd_pages_through_everything_then_asks_for_changes(
    server: LocalServer, clock: FakeClock
) -> None:
    serve_nvd(server)
    feed = Feed(name="nvd", kind="nvd", url=server.url(NVD_PATH))
    with make_client(clock) as client:
        run = plan(feed, client, None, now=T0, environ={})
        documents = list(run)
        assert [seen.query["startIndex"] for seen in server.seen] == ["0", "3", "6"]
        assert {seen.query["resultsPerPage"] for seen in server.seen} == {"2000"}
        assert not any("lastModStartDate" in seen.query for seen in server.seen)
        assert not any("apikey" in seen.headers for seen in server.seen)
        advisories, report = parse("nvd", documents)
        assert len(advisories) == 7 and not report.skipped
        assert run.state.last_success == T0
        assert clock.sleeps == []

        later = plan(feed, client, run.state, now=T0 + timedelta(days=1), environ={})
        assert len(list(later)) == 3
    changes = server.seen[3:]
    assert {seen.query["lastModStartDate"] for seen in changes} == {nvd_date(T0 - OVERLAP)}
    assert {seen.query["lastModEndDate"] for seen in changes} == {"2025-08-26T06:00:00.000+00:00"}
    # six requests without a key: the sixth waits for the first to leave the 30 s window
    assert clock.sleeps == [30.0]


def test_nvd_api_key_is_sent_and_raises_the_rate_limit(
    server: LocalServer, clock: FakeClock
) -> None:
    serve_nvd(server)
    feed = Feed(name="nvd", kind="nvd", url=server.url(NVD_PATH))
    environ = {"TOCSIN_NVD_API_KEY": "key-123"}
    with make_client(clock) as client:
        state = plan(feed, client, None, now=T0, environ=environ)
        list(state)
        list(plan(feed, client, state.state, now=T0 + timedelta(hours=2), environ=environ))
        limiter = client.limiter("127.0.0.1")
        assert limiter is not None and limiter.requests == 50
    assert {seen.headers["apikey"] for seen in server.seen} == {"key-123"}
    assert clock.sleeps == []


def test_nvd_api_key_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "nvd-key"
    secret.write_text("key-from-file\n", encoding="utf-8")
    feed = Feed(name="nvd", kind="nvd", url="https://nvd.example/")
    assert nvd_api_key(feed, {"TOCSIN_NVD_API_KEY_FILE": str(secret)}) == "key-from-file"
    assert nvd_api_key(feed, {}) is None


def test_nvd_windows_are_at_most_120_days() -> None:
    windows = nvd_windows(T0 - timedelta(days=200), T0)
    assert windows[0] == (T0 - timedelta(days=200), T0 - timedelta(days=80))
    assert windows[1] == (T0 - timedelta(days=80), T0)
    assert nvd_windows(None, T0) == [None]
    assert nvd_date(datetime(2025, 1, 2, 3, 4, 5, 678_900, tzinfo=UTC)) == (
        "2025-01-02T03:04:05.678+00:00"
    )


def test_nvd_failure_mid_way_raises_and_leaves_no_state(
    server: LocalServer, clock: FakeClock
) -> None:
    serve_nvd(server, fail_at=3)
    feed = Feed(name="nvd", kind="nvd", url=server.url(NVD_PATH))
    with make_client(clock, retry=RetryPolicy(attempts=2)) as client:
        run = plan(feed, client, None, now=T0, environ={})
        assert "startIndex=0" in next(run).url
        with pytest.raises(SourceUnavailableError, match="HTTP 500 after 2 attempts"):
            next(run)
    assert not run.complete
    with pytest.raises(UsageError):
        run.state  # noqa: B018 - the property is what is tested


def test_nvd_truncated_page_is_an_unavailable_source(
    server: LocalServer, client: FetchClient
) -> None:
    server.route(NVD_PATH, lambda _: Answer(200, server.fixture("nvd/page-0.json")[:700]))
    feed = Feed(name="nvd", kind="nvd", url=server.url(NVD_PATH))
    with pytest.raises(SourceUnavailableError, match="not an NVD API 2.0 page"):
        list(plan(feed, client, environ={}))


# --- one-file feeds -----------------------------------------------------------------------------


def test_kev_is_fetched_again_only_when_it_changed(
    server: LocalServer, client: FetchClient
) -> None:
    server.serve("/kev.json", KEV, etag='"2025.08.25"')
    feed = Feed(name="kev", kind="kev", url=server.url("/kev.json"))
    run = plan(feed, client)
    documents = list(run)
    assert len(documents) == 1
    records, _ = parse("kev", documents)
    assert len(records) == 6  # an enrichment and an advisory for each of the three entries
    assert run.state.http[feed.url or ""].etag == '"2025.08.25"'

    again = plan(feed, client, run.state)
    assert list(again) == []
    assert again.state.http == run.state.http


def test_epss_follows_the_redirect_to_the_dated_file(
    server: LocalServer, client: FetchClient
) -> None:
    scores = gzip.compress(server.fixture(EPSS))
    server.script("/current.csv.gz", Answer(302, headers={"Location": "/2025-08-25.csv.gz"}))
    server.script("/2025-08-25.csv.gz", Answer(200, scores, {"Content-Type": "application/gzip"}))
    feed = Feed(name="epss", kind="epss", url=server.url("/current.csv.gz"))
    documents = list(plan(feed, client))
    assert [d.raw for d in documents] == [scores]
    records, report = parse("epss", documents)
    assert len(records) == 320 and not report.skipped


def test_osv_fetches_each_listed_document(server: LocalServer, client: FetchClient) -> None:
    server.serve("/v1/vulns/EXM-1", KEV, etag='"a"')
    server.serve("/v1/vulns/EXM-2", KEV, etag='"b"')
    feed = Feed(
        name="osv", kind="osv", urls=(server.url("/v1/vulns/EXM-1"), server.url("/v1/vulns/EXM-2"))
    )
    run = plan(feed, client)
    assert [d.url for d in run] == list(feed.urls)
    assert list(plan(feed, client, run.state)) == []
    assert [seen.headers.get("if-none-match") for seen in server.seen[2:]] == ['"a"', '"b"']


# --- CSAF ----------------------------------------------------------------------------------------


def serve_csaf(server: LocalServer, metadata: str = "csaf/provider-metadata.json") -> None:
    server.serve(f"{CSAF}/provider-metadata.json", metadata)
    server.serve(f"{CSAF}/feed-tlp-white.json", "csaf/feed-tlp-white.json", etag='"feed-1"')
    server.serve(f"{CSAF}/white/changes.csv", "csaf/white/changes.csv", content_type="text/csv")
    for number in (1, 2, 3):
        name = f"white/2024/exm-2024-00{number}.json"
        server.serve(f"{CSAF}/{name}", f"csaf/{name}")


def csaf_feed(server: LocalServer) -> Feed:
    return Feed(name="csaf-example", kind="csaf", url=server.url(f"{CSAF}/provider-metadata.json"))


def test_csaf_provider_metadata_then_rolie_then_documents(
    tls_server: LocalServer, tls: Tls, clock: FakeClock
) -> None:
    serve_csaf(tls_server)
    feed = Feed(
        name="csaf-example", kind="csaf", url=tls_server.url(f"{CSAF}/provider-metadata.json")
    )
    with make_client(clock, tls) as client:
        run = plan(feed, client, now=T0)
        documents = list(run)
        expected = [tls_server.url(f"{CSAF}/white/2024/exm-2024-00{n}.json") for n in (1, 2, 3)]
        assert [d.url for d in documents] == expected
        assert not any(seen.path.endswith("feed-tlp-green.json") for seen in tls_server.seen)
        advisories, report = parse("csaf", documents)
        assert [a.id for a in advisories if isinstance(a, Advisory)] == [
            "EXM-2024-001",
            "EXM-2024-002",
            "EXM-2024-003",
        ]
        assert run.report.reasons() == {"entry without an https document URL": 1}

        # later, only what the feed says was updated since the last success is fetched
        since = FeedState(last_success=datetime(2024, 6, 1, tzinfo=UTC))
        assert [d.url for d in plan(feed, client, since)] == expected[2:]


def test_csaf_directory_distribution_reads_changes_csv(
    tls_server: LocalServer, tls: Tls, clock: FakeClock
) -> None:
    serve_csaf(tls_server, metadata="csaf/provider-metadata-directory.json")
    feed = Feed(
        name="csaf-example", kind="csaf", url=tls_server.url(f"{CSAF}/provider-metadata.json")
    )
    state = FeedState(last_success=datetime(2024, 4, 1, tzinfo=UTC))
    with make_client(clock, tls) as client:
        run = plan(feed, client, state)
        urls = [d.url for d in run]
    assert urls == [tls_server.url(f"{CSAF}/white/2024/exm-2024-00{n}.json") for n in (3, 2)]
    assert run.report.reasons() == {"path outside the directory": 1, "not a path and a time": 1}


def test_csaf_unreadable_metadata_is_an_unavailable_source(
    tls_server: LocalServer, tls: Tls, clock: FakeClock
) -> None:
    tls_server.script(f"{CSAF}/provider-metadata.json", Answer(200, b"{not json"))
    feed = Feed(
        name="csaf-example", kind="csaf", url=tls_server.url(f"{CSAF}/provider-metadata.json")
    )
    with make_client(clock, tls) as client:
        with pytest.raises(SourceUnavailableError, match="not JSON"):
            list(plan(feed, client))


# --- CERT-FR -------------------------------------------------------------------------------------


def serve_certfr(server: LocalServer) -> None:
    server.serve("/feed/", "certfr/feed.xml", etag='"rss-1"', content_type="application/rss+xml")
    server.serve("/avis/CERTFR-2025-AVI-0009/json/", "certfr/avis/CERTFR-2025-AVI-0009.json")
    server.serve("/alerte/CERTFR-2024-ALE-999/json/", "certfr/alerte/CERTFR-2024-ALE-999.json")


def test_certfr_rss_then_the_json_of_each_item(server: LocalServer, client: FetchClient) -> None:
    serve_certfr(server)
    feed = Feed(name="certfr", kind="certfr", url=server.url("/feed/"))
    run = plan(feed, client)
    documents = list(run)
    assert [d.url for d in documents] == [
        server.url("/avis/CERTFR-2025-AVI-0009/json/"),
        server.url("/alerte/CERTFR-2024-ALE-999/json/"),
    ]
    advisories, report = parse("certfr", documents)
    assert [a.id for a in advisories] == ["CERTFR-2025-AVI-0009", "CERTFR-2024-ALE-999"]
    assert run.report.reasons() == {
        "not an avis or an alerte": 1,
        "item without a CERT-FR reference": 1,
    }
    assert list(plan(feed, client, run.state)) == []  # the RSS answers 304


def test_certfr_links_to_another_site_are_not_followed() -> None:
    item = CertfrFeedItem(
        reference="CERTFR-2025-AVI-0009",
        kind="AVI",
        title="t",
        link="https://evil.example/avis/CERTFR-2025-AVI-0009/",
        json_url="https://www.cert.ssi.gouv.fr/avis/CERTFR-2025-AVI-0009/json/",
    )
    feed = "https://www.cert.ssi.gouv.fr/avis/feed/"
    assert certfr_json_url(item, feed) == item.json_url
    on_site = CertfrFeedItem(
        **{**item.__dict__, "link": "https://www.cert.ssi.gouv.fr/avis/CERTFR-2025-AVI-0009"}
    )
    assert certfr_json_url(on_site, feed) == item.json_url


# --- the feed list -------------------------------------------------------------------------------

PACKAGE_REGISTRIES = (
    "pypi.org",
    "pythonhosted.org",
    "npmjs.org",
    "npmjs.com",
    "rubygems.org",
    "crates.io",
    "proxy.golang.org",
    "maven.org",
    "nuget.org",
    "packagist.org",
)


def test_bundled_feeds() -> None:
    feeds = {feed.name: feed for feed in load_feeds(enabled_only=False)}
    assert {
        "nvd",
        "kev",
        "epss",
        "csaf-cisa",
        "csaf-siemens",
        "certfr-avis",
        "certfr-alertes",
    } <= set(feeds)
    assert "osv" in feeds and not feeds["osv"].enabled
    known = sources()
    for feed in feeds.values():
        assert feed.kind in known
        for url in feed.all_urls:
            host = urlsplit(url).hostname or ""
            assert url.startswith("https://"), url
            assert not any(host == r or host.endswith(f".{r}") for r in PACKAGE_REGISTRIES)
    assert "osv" not in {feed.name for feed in load_feeds()}


def test_user_feeds_replace_and_add(tmp_path: Path) -> None:
    (tmp_path / "providers.toml").write_text(
        '[[provider]]\nname = "acme"\ntitle = "ACME PSIRT"\n'
        'metadata_url = "https://psirt.acme.example/.well-known/csaf/provider-metadata.json"\n',
        encoding="utf-8",
    )
    user = tmp_path / "feeds.toml"
    user.write_text(
        '[[feed]]\nname = "kev"\nkind = "kev"\nurl = "https://mirror.example/kev.json"\n'
        "enabled = false\n\n"
        '[[feed]]\nname = "news"\nkind = "rss"\nurl = "http://intranet.example/feed.xml"\n\n'
        '[[feed]]\nname = "vendors"\nkind = "csaf"\nproviders = "providers.toml"\n'
        'tlp = ["clear", "white", "green"]\n',
        encoding="utf-8",
    )
    feeds = {feed.name: feed for feed in load_feeds(user)}
    assert "kev" not in feeds
    assert feeds["news"].url == "http://intranet.example/feed.xml"
    assert feeds["vendors-acme"].tlp == ("CLEAR", "WHITE", "GREEN")
    assert "nvd" in feeds


HTTPS_B = 'url = "https://a.example/b"'


@pytest.mark.parametrize(
    ("entry", "message", "field"),
    [
        (f'kind = "kev"\n{HTTPS_B}\ncolour = "red"', "Extra inputs", "feed[0].colour"),
        (f'kind = "nope"\n{HTTPS_B}', "unknown source kind 'nope'", "feed[0].kind"),
        ('kind = "kev"\nurl = "file:///etc/passwd"', "should match pattern", "feed[0].url"),
        ('kind = "kev"', "url is required", "feed[0]"),
        ('kind = "csaf"\nurl = "http://a.example/provider-metadata.json"', "https", "feed[0]"),
        (f'kind = "kev"\n{HTTPS_B}\ntlp = ["WHITE"]', "only for csaf", "feed[0]"),
        (f'kind = "kev"\n{HTTPS_B}\nenabled = "yes"', "boolean", "feed[0].enabled"),
    ],
)
def test_invalid_feed_entries_are_refused(
    tmp_path: Path, entry: str, message: str, field: str
) -> None:
    user = tmp_path / "feeds.toml"
    user.write_text(f'[[feed]]\nname = "x"\n{entry}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as raised:
        load_feeds(user)
    assert raised.value.location is not None
    assert raised.value.location.file == str(user)
    assert raised.value.location.field == field


def test_a_name_listed_twice_is_refused(tmp_path: Path) -> None:
    user = tmp_path / "feeds.toml"
    entry = '[[feed]]\nname = "x"\nkind = "kev"\nurl = "https://a.example/b"\n'
    user.write_text(entry + entry, encoding="utf-8")
    with pytest.raises(ConfigError, match="listed twice"):
        load_feeds(user)


def test_feed_state_round_trips_through_json() -> None:
    state = FeedState(T0, {"https://a.example/kev.json": FetchState('"e1"', "Mon, 25 Aug 2025")})
    assert FeedState.from_json(json.loads(json.dumps(state.to_json()))) == state
    assert FeedState.from_json({}) == FeedState()
