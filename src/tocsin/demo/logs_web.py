"""Access logs of the demo hospital's patient portal (Apache ``vhost_combined``).

The portal (inventory asset ``portail-patient``) is a small site: a few requests a minute
at night, about 25 at the busiest hours of a weekday, page views of a page and its assets
from a few thousand patients' addresses, the staff behind the hospital's web proxy, a
monitoring probe every minute, a search-engine crawl each night and a few scans of
WordPress paths. :class:`Flood` is the DDoS injected on the last day: a botnet of
``sources`` addresses at ``peak_rate`` requests a minute after a short rise, the server
answering 503 once saturated. Times are written in Paris time, as the server logs them.
Pure: lines in memory, written by :mod:`.logs`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from tocsin.demo.logs_windows import PARIS, hours, poisson

VHOST = "portail-patient"
PUBLIC_URL = "https://portail-patient.chdemo.fr"
STAFF_PROXY = "10.10.5.10"  # proxy-web: staff at the admissions desks
PROBE = ("10.10.4.20", "centreon-plugins/20240611 (check_http)")
CRAWLER = (
    "66.249.66.143",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
)
# Requests per minute at each local hour of a weekday (weekends at 40 %).
PROFILE = (
    3,
    2,
    1.5,
    1.2,
    1.2,
    1.8,
    4,
    10,
    18,
    22,
    24,
    25,
    26,
    25,
    22,
    21,
    19,
    17,
    15,
    14,
    12,
    9,
    6,
    4,
)
PAGES = (
    "/",
    "/connexion",
    "/espace-patient/accueil",
    "/espace-patient/documents",
    "/espace-patient/rendez-vous",
    "/preadmission/etape-1",
    "/preadmission/etape-2",
    "/paiement/facture",
    "/informations/venir-a-l-hopital",
)
ASSETS = (
    ("/static/js/app.8f3c2a1e.js", 48_213),
    ("/static/css/app.41d9b7c0.css", 9_870),
    ("/static/img/logo-ch-demo.svg", 3_412),
    ("/api/v1/session", 412),
    ("/api/v1/rendez-vous?patient=me", 1_904),
    ("/api/v1/documents?page=1", 2_733),
    ("/favicon.ico", 1_150),
)
BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.0 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
)
_ISP_PREFIXES = (2, 37, 78, 80, 82, 83, 86, 88, 90, 92, 109, 176, 185, 212)
# Where the botnet's hijacked routers and cameras are: residential and hosting networks.
_BOT_PREFIXES = (
    5, 14, 27, 31, 36, 39, 41, 42, 46, 49, 58, 59, 61, 77, 79, 81, 84, 85, 89, 91, 93, 94,
    95, 101, 103, 106, 110, 112, 113, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125,
    151, 154, 171, 175, 177, 178, 179, 180, 181, 182, 183, 186, 187, 188, 189, 190, 191, 196,
    197, 200, 201, 210, 211, 213, 217, 218, 219, 220, 221, 222,
)  # fmt: skip
_HITS_PER_VIEW = 4.0


@dataclass(frozen=True)
class Flood:
    """The DDoS of the demo: a botnet's HTTP GET flood on the portal."""

    start: datetime  # UTC, inside a minute
    minutes: float
    peak_rate: float  # requests per minute at full strength
    sources: int
    rise_seconds: float = 45.0

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)


@dataclass(frozen=True)
class Hit:
    """One request, before it is written as a log line."""

    time: datetime
    client: str
    request: str
    status: int
    size: int
    referer: str
    agent: str

    def line(self) -> str:
        local = self.time.astimezone(PARIS)
        stamp = local.strftime("%d/%b/%Y:%H:%M:%S %z")
        return (
            f'{VHOST}:443 {self.client} - - [{stamp}] "{self.request}" {self.status} '
            f'{self.size} "{self.referer}" "{self.agent}"'
        )


def address(rng: random.Random, prefixes: tuple[int, ...] = _ISP_PREFIXES) -> str:
    """A public IPv4 address in one of ``prefixes``' /8 networks."""
    a, b, c, d = rng.choice(prefixes), rng.randrange(256), rng.randrange(256), rng.randrange(1, 255)
    return f"{a}.{b}.{c}.{d}"


def rate(local: datetime, day_factor: float) -> float:
    """Expected requests per minute at a local time (hourly profile, linear in between)."""
    hour = local.hour + local.minute / 60
    low, high = PROFILE[int(hour) % 24], PROFILE[(int(hour) + 1) % 24]
    level = low + (high - low) * (hour - int(hour))
    weekend = 0.4 if local.weekday() >= 5 else 1.0
    return level * weekend * day_factor


def page_view(rng: random.Random, t: datetime, client: str, agent: str) -> list[Hit]:
    """A page and the assets and API calls it loads within a few seconds."""
    page = rng.choice(PAGES)
    referer = f"{PUBLIC_URL}{rng.choice(PAGES)}" if rng.random() < 0.7 else "-"
    hits = [
        Hit(t, client, f"GET {page} HTTP/1.1", 200, rng.randrange(7_000, 16_000), referer, agent)
    ]
    for _ in range(poisson(rng, _HITS_PER_VIEW - 1)):
        path, size = rng.choice(ASSETS)
        cached = path.startswith("/static") and rng.random() < 0.5
        when = t + timedelta(seconds=rng.uniform(0.1, 4))
        hits.append(
            Hit(when, client, f"GET {path} HTTP/1.1", 304 if cached else 200, 0 if cached else size,
                f"{PUBLIC_URL}{page}", agent)
        )  # fmt: skip
    return hits


def normal_traffic(rng: random.Random, start: datetime, end: datetime) -> list[Hit]:
    """Ordinary traffic between ``start`` and ``end`` (UTC, whole hours)."""
    clients = [(address(rng), rng.choice(BROWSERS)) for _ in range(3000)]
    factors: dict[str, float] = {}
    hits: list[Hit] = []
    for hour in hours(start, end):
        local = hour.astimezone(PARIS)
        factor = factors.setdefault(local.date().isoformat(), rng.lognormvariate(0, 0.08))
        for minute in range(60):
            t = hour + timedelta(minutes=minute)
            views = poisson(rng, rate(t.astimezone(PARIS), factor) / _HITS_PER_VIEW)
            for _ in range(views):
                client, agent = rng.choice(clients)
                if 8 <= local.hour < 18 and rng.random() < 0.1:
                    client, agent = STAFF_PROXY, BROWSERS[5]
                hits += page_view(rng, t + timedelta(seconds=rng.uniform(0, 60)), client, agent)
            probe = t + timedelta(seconds=12)
            hits.append(Hit(probe, PROBE[0], "GET /sante HTTP/1.1", 200, 17, "-", PROBE[1]))
        hits += _night_visitors(rng, hour, local)
    return [h for h in hits if start <= h.time < end]


def _night_visitors(rng: random.Random, hour: datetime, local: datetime) -> list[Hit]:
    """The nightly crawl (02:00 local, 15 min) and the odd WordPress scan."""
    hits = []
    if local.hour == 2:
        for n in range(15 * 25):
            t = hour + timedelta(minutes=10, seconds=n * 2.4 + rng.uniform(0, 2))
            page = rng.choice(PAGES[:2] + PAGES[-1:])
            hits.append(Hit(t, CRAWLER[0], f"GET {page} HTTP/1.1", 200, 9_800, "-", CRAWLER[1]))
    if rng.random() < 0.15:
        scanner, t = address(rng, (45, 103, 185, 193)), hour + timedelta(minutes=rng.uniform(0, 59))
        for n, path in enumerate(("/wp-login.php", "/xmlrpc.php", "/.env", "/wp-admin/")):
            when = t + timedelta(seconds=n * 0.7)
            hits.append(Hit(when, scanner, f"GET {path} HTTP/1.1", 404, 196, "-", "Mozilla/5.0"))
    return hits


def flood_traffic(rng: random.Random, flood: Flood) -> list[Hit]:
    """The botnet's requests: cache-busting GETs, answered 503 once the portal saturates."""
    bots = [(address(rng, _BOT_PREFIXES), rng.choice(BROWSERS)) for _ in range(flood.sources)]
    total = flood.minutes * 60
    hits = []
    t = 0.0
    while t < total:
        strength = min(1.0, (t + 1) / flood.rise_seconds, (total - t) / 30)
        t += rng.expovariate(flood.peak_rate / 60 * max(strength, 0.02))
        if t >= total:
            break
        when = flood.start + timedelta(seconds=t)
        client, agent = rng.choice(bots)
        path = rng.choice(("/", "/connexion", "/api/v1/creneaux"))
        query = f"?r={rng.getrandbits(32):08x}"
        saturated = t > 150 and rng.random() < 0.7
        status, size = (503, 299) if saturated else (200, rng.randrange(7_000, 16_000))
        hits.append(Hit(when, client, f"GET {path}{query} HTTP/1.1", status, size, "-", agent))
    return hits
