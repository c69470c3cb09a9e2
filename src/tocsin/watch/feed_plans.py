"""How each kind of feed is fetched: its *plan*, from the feed to the raw documents.

- ``nvd``: the CVE API paged by ``startIndex`` (2,000 per page); after a first full
  download, only what changed since the last success (``lastModStartDate`` /
  ``lastModEndDate`` in windows of at most 120 days), within NVD's rate limits;
- ``csaf``: provider-metadata.json, then its ROLIE feeds of the wanted TLP labels (or, when
  it lists no ROLIE feed, its directories' ``changes.csv``), then each document changed
  since the last success;
- ``certfr``: the RSS feed, then the JSON of each avis or alerte it lists;
- ``osv`` and ``cve5``: a list of JSON URLs;
- ``kev``, ``epss``, ``rss`` and any kind added later: one file.

Every plan is lazy and all or nothing: :func:`plan` returns a :class:`FeedRun` to iterate;
any failure part-way raises :class:`~tocsin.watch.fetch.FetchError` (a
``SourceUnavailableError``) instead of ending early, and the new :class:`FeedState` is only
available once every document was read. The caller parses each document inside one open
transaction and commits, with ``run.state``, only when the iteration ended normally.
Documents are streamed rather than collected because a first NVD download is gigabytes.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from tocsin.errors import InputError, Location, UsageError
from tocsin.watch.feed_list import Feed, nvd_api_key
from tocsin.watch.fetch import (
    FeedState,
    FetchClient,
    FetchedDocument,
    FetchError,
    FetchResult,
    FetchState,
)
from tocsin.watch.sources.base import ParseReport
from tocsin.watch.sources.certfr import CertfrFeedItem, parse_certfr_feed
from tocsin.watch.sources.csaf_discovery import (
    MAX_FEED_ENTRIES,
    parse_provider_metadata,
    parse_rolie_feed,
)
from tocsin.watch.sources.nvd import page_info

__all__ = [
    "CERTFR_KINDS",
    "OVERLAP",
    "PLANS",
    "FeedRun",
    "Plan",
    "certfr_json_url",
    "nvd_date",
    "nvd_windows",
    "parse_changes_csv",
    "plan",
]

NVD_PAGE_SIZE = 2000
NVD_MAX_WINDOW = timedelta(days=120)
NVD_RATE_WINDOW = 30.0
NVD_REQUESTS_WITHOUT_KEY = 5
NVD_REQUESTS_WITH_KEY = 50
# Changes are re-read from a little before the last success: clocks differ, and a record
# modified while the previous run was reading is not missed. Applying twice is harmless.
OVERLAP = timedelta(hours=1)
CERTFR_KINDS = frozenset({"AVI", "ALE"})


@dataclass
class _Context:
    feed: Feed
    client: FetchClient
    previous: FeedState
    started: datetime
    environ: Mapping[str, str]
    report: ParseReport
    validators: dict[str, FetchState] = field(default_factory=dict)

    @property
    def since(self) -> datetime | None:
        last = self.previous.last_success
        return None if last is None else last - OVERLAP

    def get(
        self,
        url: str,
        *,
        conditional: bool = False,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> FetchResult:
        state = self.previous.http.get(url) if conditional else None
        result = self.client.get(
            url, params=params, headers=headers, state=state, max_bytes=self.feed.max_bytes
        )
        if conditional and (result.state.etag or result.state.last_modified):
            self.validators[url] = result.state
        return result


class FeedRun(Iterator[FetchedDocument]):
    """The documents of one feed, fetched as they are iterated; all or nothing."""

    def __init__(self, context: _Context, documents: Iterator[FetchedDocument]) -> None:
        self._context = context
        self._documents = documents
        self._complete = False

    def __iter__(self) -> FeedRun:
        return self

    def __next__(self) -> FetchedDocument:
        try:
            return next(self._documents)
        except StopIteration:
            self._complete = True
            raise
        except InputError as exc:  # a discovery file (metadata, feed, page) is unreadable
            url = self._context.feed.url or self._context.feed.name
            raise FetchError(url, f"unreadable answer: {exc}") from exc

    @property
    def feed(self) -> Feed:
        return self._context.feed

    @property
    def report(self) -> ParseReport:
        """Entries of discovery files (ROLIE, RSS, changes.csv) that were left out."""
        return self._context.report

    @property
    def complete(self) -> bool:
        return self._complete

    @property
    def state(self) -> FeedState:
        """The state to keep once the documents are applied; only after a complete run."""
        if not self._complete:
            raise UsageError("a feed's new state is known only once all its documents are read")
        return FeedState(self._context.started, dict(self._context.validators))


Plan = Callable[[_Context], Iterator[FetchedDocument]]


def plan(
    feed: Feed,
    client: FetchClient,
    state: FeedState | None = None,
    *,
    now: datetime | None = None,
    environ: Mapping[str, str] | None = None,
) -> FeedRun:
    """The documents of ``feed`` since ``state`` (everything when None), as a lazy run."""
    context = _Context(
        feed=feed,
        client=client,
        previous=state or FeedState(),
        started=now or datetime.now(UTC),
        environ=os.environ if environ is None else environ,
        report=ParseReport(feed.kind),
    )
    return FeedRun(context, PLANS.get(feed.kind, _one_file)(context))


# --- plans -------------------------------------------------------------------------------------


def _conditional(ctx: _Context, url: str) -> Iterator[FetchedDocument]:
    result = ctx.get(url, conditional=True)
    if not result.not_modified:
        yield FetchedDocument(url, result.content, result.state)


def _one_file(ctx: _Context) -> Iterator[FetchedDocument]:
    for url in ctx.feed.all_urls[:1]:
        yield from _conditional(ctx, url)


def _url_list(ctx: _Context) -> Iterator[FetchedDocument]:
    for url in ctx.feed.all_urls:
        yield from _conditional(ctx, url)


def _fetch_all(ctx: _Context, urls: Iterable[str]) -> Iterator[FetchedDocument]:
    for url in urls:
        result = ctx.get(url)
        yield FetchedDocument(url, result.content, result.state)


def nvd_windows(since: datetime | None, until: datetime) -> list[tuple[datetime, datetime] | None]:
    """The ``lastModified`` windows to ask for: None for a full download."""
    if since is None:
        return [None]
    windows: list[tuple[datetime, datetime] | None] = []
    start = since
    while start < until:
        end = min(start + NVD_MAX_WINDOW, until)
        windows.append((start, end))
        start = end
    return windows


def nvd_date(moment: datetime) -> str:
    """A date as NVD wants it: extended ISO 8601 with milliseconds and an offset."""
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}+00:00"


def _nvd(ctx: _Context) -> Iterator[FetchedDocument]:
    url = ctx.feed.url or ""
    key = nvd_api_key(ctx.feed, ctx.environ)
    headers = {"apiKey": key} if key else {}
    requests = NVD_REQUESTS_WITH_KEY if key else NVD_REQUESTS_WITHOUT_KEY
    ctx.client.rate_limit(httpx.URL(url).host, requests, NVD_RATE_WINDOW)
    for window in nvd_windows(ctx.since, ctx.started):
        params: dict[str, str | int] = {"resultsPerPage": NVD_PAGE_SIZE}
        if window is not None:
            params["lastModStartDate"] = nvd_date(window[0])
            params["lastModEndDate"] = nvd_date(window[1])
        yield from _nvd_pages(ctx, url, params, headers)


def _nvd_pages(
    ctx: _Context, url: str, params: dict[str, str | int], headers: dict[str, str]
) -> Iterator[FetchedDocument]:
    start = 0
    while True:
        result = ctx.get(url, params={**params, "startIndex": start}, headers=headers)
        index, count, total = page_info(result.content, result.final_url)
        if index != start:
            raise FetchError(result.final_url, f"page starts at {index}, not {start}")
        yield FetchedDocument(result.final_url, result.content, result.state)
        start = index + count
        if start >= total:
            return
        if count == 0:
            raise FetchError(result.final_url, f"empty page at {index} of {total} results")


def _csaf(ctx: _Context) -> Iterator[FetchedDocument]:
    url = ctx.feed.url or ""
    metadata = parse_provider_metadata(ctx.get(url).content, url)
    wanted = metadata.feed_urls(ctx.feed.tlp)
    if wanted:
        documents = _rolie_documents(ctx, wanted)
    elif not metadata.feeds:
        documents = _directory_documents(ctx, metadata.directories)
    else:
        labels = ", ".join(ctx.feed.tlp)
        ctx.report.skip(Location(url), f"no ROLIE feed with the TLP labels {labels}")
        documents = []
    yield from _fetch_all(ctx, documents)


def _changed(moment: datetime | None, since: datetime | None) -> bool:
    if since is None or moment is None:
        return True
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)) >= since


def _rolie_documents(ctx: _Context, feed_urls: Iterable[str]) -> list[str]:
    urls: list[str] = []
    for feed_url in feed_urls:
        result = ctx.get(feed_url, conditional=True)
        if result.not_modified:
            continue
        for entry in parse_rolie_feed(result.content, feed_url, ctx.report):
            if _changed(entry.updated or entry.published, ctx.since):
                urls.append(entry.url)
    return list(dict.fromkeys(urls))


def _directory_documents(ctx: _Context, directories: Iterable[str]) -> list[str]:
    urls: list[str] = []
    for directory in directories:
        base = directory if directory.endswith("/") else f"{directory}/"
        changes = f"{base}changes.csv"
        result = ctx.get(changes, conditional=True)
        if result.not_modified:
            continue
        for path, moment in parse_changes_csv(result.content, changes, ctx.report):
            target = str(httpx.URL(base).join(path))
            if not target.startswith(base):
                ctx.report.skip(Location(changes, field=path), "path outside the directory")
            elif _changed(moment, ctx.since):
                urls.append(target)
    return list(dict.fromkeys(urls))


def parse_changes_csv(raw: bytes, origin: str, report: ParseReport) -> list[tuple[str, datetime]]:
    """The ``(path, time)`` rows of a CSAF directory's changes.csv (CSAF 2.0 §7.1.16)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError("changes.csv is not UTF-8", Location(origin)) from exc
    rows: list[tuple[str, datetime]] = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if number > MAX_FEED_ENTRIES:
            raise InputError(f"over {MAX_FEED_ENTRIES:,} rows", Location(origin, number))
        if not row:
            continue
        try:
            path, when = row
            moment = datetime.fromisoformat(when.strip())
        except ValueError:
            report.skip(Location(origin, number), "not a path and a time")
            continue
        if not path.endswith(".json") or path.startswith("/") or "://" in path:
            report.skip(Location(origin, number), "not a relative path to a JSON document")
            continue
        rows.append((path, moment))
    return rows


def certfr_json_url(item: CertfrFeedItem, feed_url: str) -> str:
    """Where the JSON of an avis or alerte is.

    CERT-FR serves each item's JSON at its page address followed by ``json/``. The item's
    own link is used when it is on the feed's site (the CERT-FR site, or a local copy of
    it); any other link is not followed, and the canonical address on
    www.cert.ssi.gouv.fr, built from the item's reference, is used instead.
    """
    try:
        link = httpx.URL(item.link)
        feed = httpx.URL(feed_url)
    except httpx.InvalidURL:
        return item.json_url
    same_site = (link.scheme, link.host, link.port) == (feed.scheme, feed.host, feed.port)
    if not same_site or item.reference not in link.path:
        return item.json_url
    page = str(link.copy_with(query=None, fragment=None))
    return f"{page.rstrip('/')}/json/"


def _certfr(ctx: _Context) -> Iterator[FetchedDocument]:
    url = ctx.feed.url or ""
    result = ctx.get(url, conditional=True)
    if result.not_modified:
        return
    targets: list[str] = []
    for item in parse_certfr_feed(result.content, url, ctx.report):
        if item.kind in CERTFR_KINDS:
            targets.append(certfr_json_url(item, result.final_url))
        else:
            ctx.report.skip(Location(url, field=item.reference), "not an avis or an alerte")
    yield from _fetch_all(ctx, dict.fromkeys(targets))


PLANS: dict[str, Plan] = {
    "nvd": _nvd,
    "csaf": _csaf,
    "certfr": _certfr,
    "osv": _url_list,
    "cve5": _url_list,
}
