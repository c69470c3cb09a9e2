"""HTTP for feeds: timeouts, retries, conditional requests, size and rate limits.

:class:`FetchClient` is the only place Tocsin talks HTTP to a feed. It is deliberately
small and synchronous (one feed is fetched page after page; the rate limits of the
servers, not the client, set the pace):

- timeouts on connect/read/write, and a total time per response;
- retries with exponential backoff and jitter on connection errors, timeouts, 429 and 5xx,
  honouring ``Retry-After`` (seconds or an HTTP date) up to a ceiling;
- conditional requests from a :class:`FetchState` (``If-None-Match`` /
  ``If-Modified-Since``); a 304 answer is a result with no content, not an error;
- a size limit checked on ``Content-Length`` before reading and again while streaming, on
  the decoded bytes (httpx undoes gzip), so that neither a huge body nor a compression bomb
  is ever held in memory;
- redirects followed by hand: at most ``max_redirects``, only to ``http``/``https``, never
  from ``https`` down to ``http``; caller headers (an API key) are only sent to the origin
  first asked;
- a per-host :class:`RateLimiter` (NVD: 5 requests per rolling 30 s without an API key,
  50 with one).

Every failure is a :class:`FetchError` (a :class:`~tocsin.errors.SourceUnavailableError`)
carrying the URL and the reason. The clock, the sleep and the jitter are injectable so that
tests never wait.
"""

from __future__ import annotations

import random
import ssl
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType

import httpx
from pydantic import BaseModel, ValidationError

from tocsin import __version__
from tocsin.errors import InputError, Location, SourceUnavailableError
from tocsin.watch.sources.base import MAX_DOCUMENT_BYTES, Document

USER_AGENT = f"Tocsin/{__version__}"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ALLOWED_SCHEMES = frozenset({"http", "https"})

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class FetchError(SourceUnavailableError):
    """A feed could not be fetched: which URL, and why (status, timeout, too large…)."""

    def __init__(self, url: str, reason: str, status: int | None = None) -> None:
        super().__init__(reason, Location(url))
        self.url = url
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class FetchState:
    """The validators of a previous answer, for a conditional request."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.etag:
            out["If-None-Match"] = self.etag
        if self.last_modified:
            out["If-Modified-Since"] = self.last_modified
        return out


@dataclass(frozen=True)
class FetchResult:
    """One answer: its body (empty when not modified) and its validators."""

    url: str
    final_url: str
    status: int
    content: bytes
    state: FetchState

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True)
class FeedState:
    """What the service keeps between runs of one feed (JSON with :meth:`to_json`)."""

    last_success: datetime | None = None  # when the last complete run started, in UTC
    http: Mapping[str, FetchState] = field(default_factory=dict)  # validators per URL

    def to_json(self) -> dict[str, object]:
        return {
            "last_success": self.last_success.isoformat() if self.last_success else None,
            "http": {
                url: {"etag": state.etag, "last_modified": state.last_modified}
                for url, state in self.http.items()
            },
        }

    @classmethod
    def from_json(cls, data: object) -> FeedState:
        try:
            model = _StateModel.model_validate(data)
        except ValidationError as exc:
            raise InputError(f"invalid feed state: {exc.errors()[0]['msg']}") from exc
        last = model.last_success
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        http = {url: FetchState(v.etag, v.last_modified) for url, v in model.http.items()}
        return cls(last, http)


class _Validators(BaseModel):
    etag: str | None = None
    last_modified: str | None = None


class _StateModel(BaseModel):
    last_success: datetime | None = None
    http: dict[str, _Validators] = {}


@dataclass(frozen=True)
class FetchedDocument:
    """One raw document of a feed, for the source registered under the feed's kind."""

    url: str
    raw: bytes
    state: FetchState = FetchState()

    def document(self) -> Document:
        return Document(self.url, self.raw)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a request that failed in a passing way."""

    attempts: int = 4
    base_delay: float = 2.0
    max_delay: float = 120.0
    max_retry_after: float = 900.0

    def backoff(self, attempt: int, jitter: float) -> float:
        """Delay before retry ``attempt`` (0-based): exponential, "equal jitter".

        Half of the exponential step is kept, the other half is scaled by ``jitter`` in
        [0, 1), so clients that failed together do not retry together.
        """
        step = min(self.max_delay, self.base_delay * 2.0**attempt)
        return step / 2 + step / 2 * jitter


class RateLimiter:
    """At most ``requests`` requests in any rolling window of ``window`` seconds.

    NVD states its limits as a rolling window. A token bucket of the same size and rate
    would let a burst of 5 through and then refill, which allows 9 requests inside one
    30 s window and gets the client blocked; keeping the times of the last requests is
    just as small and exact.
    """

    def __init__(
        self, requests: int, window: float, clock: Clock = time.monotonic, sleep: Sleep = time.sleep
    ) -> None:
        if requests < 1 or window <= 0:
            raise ValueError("a rate limit needs at least one request in a positive window")
        self.requests = requests
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()

    def acquire(self) -> float:
        """Wait until one more request is allowed; returns the seconds waited."""
        now = self._clock()
        self._forget(now)
        waited = 0.0
        if len(self._sent) >= self.requests:
            ready = self._sent[0] + self.window
            waited = ready - now
            self._sleep(waited)
            now = max(self._clock(), ready)
            self._forget(now)
        self._sent.append(now)
        return waited

    def _forget(self, now: float) -> None:
        while self._sent and now - self._sent[0] >= self.window:
            self._sent.popleft()


class _Retry(Exception):
    """A passing failure: worth another attempt."""

    def __init__(self, reason: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


class FetchClient:
    """An HTTP client for feeds; see the module docstring for what it guarantees."""

    def __init__(
        self,
        *,
        timeout: float = 30.0,
        total_timeout: float = 900.0,
        max_bytes: int = MAX_DOCUMENT_BYTES,
        retry: RetryPolicy | None = None,
        max_redirects: int = 5,
        user_agent: str = USER_AGENT,
        verify: ssl.SSLContext | bool = True,
        trust_env: bool = True,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.max_bytes = max_bytes
        self.retry = retry or RetryPolicy()
        self.max_redirects = max_redirects
        self.total_timeout = total_timeout
        self._clock = clock
        self._sleep = sleep
        self._jitter = jitter
        self._limiters: dict[str, RateLimiter] = {}
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            headers={"User-Agent": user_agent},
            verify=verify,
            trust_env=trust_env,
        )

    def __enter__(self) -> FetchClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def rate_limit(self, host: str, requests: int, window: float) -> RateLimiter:
        """Limit requests to ``host``; a limiter with the same numbers is kept as it is,
        so that its memory of recent requests carries over from one feed to the next."""
        key = host.lower()
        current = self._limiters.get(key)
        if current is None or (current.requests, current.window) != (requests, window):
            current = RateLimiter(requests, window, self._clock, self._sleep)
            self._limiters[key] = current
        return current

    def limiter(self, host: str) -> RateLimiter | None:
        return self._limiters.get(host.lower())

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        state: FetchState | None = None,
        max_bytes: int | None = None,
    ) -> FetchResult:
        """GET ``url``, retrying passing failures; FetchError when it cannot be had."""
        target = _checked_url(url, params)
        limit = max_bytes or self.max_bytes
        last = _Retry("no attempt made")
        for attempt in range(self.retry.attempts):
            try:
                return self._follow(target, dict(headers or {}), state, limit)
            except _Retry as failure:
                last = failure
            except httpx.TimeoutException:
                last = _Retry("timed out")
            except httpx.TransportError as exc:
                if isinstance(exc, httpx.UnsupportedProtocol):
                    raise FetchError(str(target), f"unsupported protocol: {exc}") from exc
                last = _Retry(f"connection failed ({type(exc).__name__}: {exc})")
            except httpx.HTTPError as exc:
                raise FetchError(str(target), f"{type(exc).__name__}: {exc}") from exc
            if attempt + 1 < self.retry.attempts:
                self._sleep(self._delay(str(target), attempt, last))
        raise FetchError(
            str(target), f"{last.reason} after {self.retry.attempts} attempts", last.status
        )

    def _delay(self, url: str, attempt: int, failure: _Retry) -> float:
        if failure.retry_after is None:
            return self.retry.backoff(attempt, self._jitter())
        if failure.retry_after > self.retry.max_retry_after:
            reason = f"{failure.reason}; the server asks to wait {failure.retry_after:.0f} s"
            raise FetchError(url, reason, failure.status)
        return failure.retry_after

    def _follow(
        self, url: httpx.URL, headers: dict[str, str], state: FetchState | None, limit: int
    ) -> FetchResult:
        current = url
        for _ in range(self.max_redirects + 1):
            sent = dict(headers) if _origin(current) == _origin(url) else {}
            if state is not None:
                sent.update(state.headers())
            limiter = self.limiter(current.host)
            if limiter is not None:
                limiter.acquire()
            with self._http.stream("GET", current, headers=sent) as response:
                following = _redirect(str(url), current, response)
                if following is None:
                    return self._finish(str(url), current, response, state, limit)
            current = following
        raise FetchError(str(url), f"more than {self.max_redirects} redirects")

    def _finish(
        self,
        url: str,
        current: httpx.URL,
        response: httpx.Response,
        state: FetchState | None,
        limit: int,
    ) -> FetchResult:
        status = response.status_code
        if status == 304 and state is not None:
            return FetchResult(url, str(current), status, b"", state)
        if status == 429 or status >= 500:
            raise _Retry(f"HTTP {status}", status, _retry_after(response))
        if not 200 <= status < 300:
            raise FetchError(url, f"HTTP {status}", status)
        content = self._read(url, response, limit)
        validators = FetchState(response.headers.get("etag"), response.headers.get("last-modified"))
        return FetchResult(url, str(current), status, content, validators)

    def _read(self, url: str, response: httpx.Response, limit: int) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            size = int(declared)
            raise FetchError(url, f"response of {size:,} bytes over the limit of {limit:,} bytes")
        deadline = self._clock() + self.total_timeout
        chunks: list[bytes] = []
        total = 0
        for chunk in response.iter_bytes():
            total += len(chunk)
            if total > limit:
                raise FetchError(url, f"response over the limit of {limit:,} bytes")
            if self._clock() > deadline:
                raise FetchError(url, f"download took longer than {self.total_timeout:.0f} s")
            chunks.append(chunk)
        return b"".join(chunks)


def _checked_url(url: str, params: Mapping[str, str | int] | None) -> httpx.URL:
    try:
        target = httpx.URL(url, params=dict(params) if params else None)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise FetchError(url, f"not a valid URL: {exc}") from exc
    if target.scheme not in ALLOWED_SCHEMES or not target.host:
        raise FetchError(url, "only http and https URLs are fetched")
    return target


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host.lower(), url.port


def _redirect(asked: str, current: httpx.URL, response: httpx.Response) -> httpx.URL | None:
    """Where a redirect leads, or None when ``response`` is not one; FetchError if refused."""
    location = response.headers.get("location")
    if response.status_code not in REDIRECT_STATUSES or not location:
        return None
    try:
        target = current.join(location)
    except httpx.InvalidURL as exc:
        raise FetchError(asked, f"redirect to an invalid URL: {exc}") from exc
    if target.scheme not in ALLOWED_SCHEMES:
        raise FetchError(asked, f"redirect to a {target.scheme or 'relative'}: URL refused")
    if current.scheme == "https" and target.scheme == "http":
        raise FetchError(asked, "redirect from https to plain http refused")
    return target


def _retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (a number or an HTTP date), or None."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
