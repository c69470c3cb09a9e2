"""Links: what a message's URLs say about where they lead, without ever fetching them.

Lists of hosts are data (``tocsin/data/phishing/links.toml``). Each code fires at most once
per message; its detail names the first links (up to three) and how many others.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, ConfigDict, ValidationError

from tocsin.data import data_path
from tocsin.errors import ConfigError, Location
from tocsin.phishing import links as extraction
from tocsin.phishing.checks import CHECKS
from tocsin.phishing.checks.domains import is_ip, split, under, unicode_host
from tocsin.phishing.checks.impersonation import Brand, bundled_brands
from tocsin.phishing.context import Context
from tocsin.phishing.message import ParsedMessage
from tocsin.phishing.model import Reason

Link = extraction.Link

POINTS = {
    "links.brand-mismatch": 40,
    "links.text-mismatch": 15,
    "links.ip-host": 25,
    "links.punycode": 15,
    "links.userinfo": 30,
    "links.data-uri": 30,
    "links.script-uri": 10,
    "links.form-outside": 10,
    "links.password-form": 35,
    "links.form-service": 20,
    "links.free-hosting": 15,
    "links.shortener": 5,
    "links.redirector": 5,
    "links.port": 10,
    "links.deep-subdomain": 5,
}
"""Points per reason code of this family."""

DEEP_SUBDOMAIN = 4  # labels before the registrable domain from which a host is "deep"
_WEB_PORTS = {80, 443, 8080, 8443}
_SCRIPT_SCHEMES = ("javascript", "vbscript")


@dataclass(frozen=True)
class Redirector:
    host: str
    path: str


@dataclass(frozen=True)
class LinkLists:
    shorteners: frozenset[str]
    redirectors: tuple[Redirector, ...]
    redirect_params: frozenset[str]
    free_hosting: frozenset[str]
    form_services: tuple[str, ...]  # "host" or "host/path prefix"
    redirector_hosts: frozenset[str] = frozenset()
    form_hosts: frozenset[str] = frozenset()


class _RedirectorEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    host: str
    path: str


class _LinksFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    shorteners: list[str]
    redirectors: list[_RedirectorEntry]
    redirect_params: list[str]
    free_hosting: list[str]
    form_services: list[str]


def parse_link_lists(text: str, origin: str = "links.toml") -> LinkLists:
    """The lists of a ``links.toml`` text; :class:`ConfigError` with the place if invalid."""
    try:
        parsed = _LinksFile.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", Location(origin)) from exc
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        field = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"invalid list: {first['msg']}", Location(origin, field=field)) from exc
    redirectors = tuple(Redirector(r.host.lower(), r.path) for r in parsed.redirectors)
    forms = tuple(s.lower() for s in parsed.form_services)
    return LinkLists(
        shorteners=frozenset(h.lower() for h in parsed.shorteners),
        redirectors=redirectors,
        redirect_params=frozenset(p.lower() for p in parsed.redirect_params),
        free_hosting=frozenset(h.lower() for h in parsed.free_hosting),
        form_services=forms,
        redirector_hosts=frozenset(r.host for r in redirectors),
        form_hosts=frozenset(entry.partition("/")[0] for entry in forms),
    )


@cache
def bundled_lists() -> LinkLists:
    """The lists shipped with Tocsin."""
    return parse_link_lists(data_path("phishing", "links.toml").read_text("utf-8"))


@dataclass(frozen=True)
class _Url:
    """The parts of a link the signs read (all empty when the URL does not parse)."""

    link: Link
    scheme: str
    netloc: str
    host: str
    port: int | None
    path: str
    query: str

    @classmethod
    def of(cls, link: Link) -> _Url:
        url = link.url.strip()
        scheme = url.partition(":")[0].lower()
        if scheme in _SCRIPT_SCHEMES or scheme == "data":
            return cls(link, scheme, "", "", None, "", "")
        candidate = url if "://" in url[:12] else "http://" + url
        try:
            parts = urlsplit(candidate)
            port = parts.port
        except ValueError:
            return cls(link, "", "", link.host, None, "", "")
        return cls(
            link,
            parts.scheme.lower(),
            parts.netloc,
            link.host,
            port,
            parts.path,
            parts.query,
        )


def _shown_host(shown: str) -> str:
    """The host a link's text shows, when the text is a URL or a bare domain."""
    text = shown.strip().strip("<>[]()\"'").lower()
    if not text or " " in text or "." not in text or "@" in text:
        return ""
    host = extraction.host_of(text)
    domain = split(host)
    return host if domain.suffix and domain.label and not is_ip(host) else ""


def _text_mismatch(url: _Url) -> str | None:
    if url.link.origin != "html" or not url.host:
        return None
    shown = _shown_host(url.link.shown)
    if not shown or split(shown).registrable == split(url.host).registrable:
        return None
    return f"text shows {shown}, link goes to {url.host}"


def _brand_mismatch(url: _Url, brands: tuple[Brand, ...], context: Context) -> str | None:
    if url.link.origin != "html" or not url.host:
        return None
    shown = _shown_host(url.link.shown)
    if not shown or split(shown).registrable == split(url.host).registrable:
        return None
    if under(shown, context.own_domains) and not under(url.host, context.own_domains):
        return f"text shows the establishment's {shown}, link goes to {url.host}"
    for brand in brands:
        if under(shown, brand.domains) and not under(url.host, brand.domains):
            return f"text shows {brand.name}'s {shown}, link goes to {url.host}"
    return None


def _redirect(url: _Url, lists: LinkLists) -> str | None:
    if not url.query or not url.host:
        return None
    try:
        params = parse_qsl(url.query, keep_blank_values=False)
    except ValueError:
        return None
    base = under(url.host, lists.redirector_hosts)
    known = base is not None and any(
        r.host == base and url.path.startswith(r.path) for r in lists.redirectors
    )
    for name, value in params[:50]:
        target = value.strip().lower()
        if not target.startswith(("http://", "https://", "www.")):
            continue
        if not known and name.lower() not in lists.redirect_params:
            continue
        to = extraction.host_of(target)
        if to and split(to).registrable != split(url.host).registrable:
            return f"{url.host} sends on to {to}"
    return None


def _form_service(url: _Url, lists: LinkLists) -> str | None:
    base = under(url.host, lists.form_hosts)
    if base is None:
        return None
    where = f"{base}{url.path}".lower()
    for entry in lists.form_services:
        host, _, path = entry.partition("/")
        if host == base and (not path or where.startswith(entry)):
            return f"{url.host} (form service)"
    return None


def _simple_signs(url: _Url, lists: LinkLists) -> Iterator[tuple[str, str]]:
    """(code, evidence) of the signs one URL shows on its own."""
    host, scheme = url.host, url.scheme
    if scheme == "data":
        yield "links.data-uri", url.link.url[:60]
    elif scheme in _SCRIPT_SCHEMES:
        yield "links.script-uri", url.link.url[:60]
    if not host:
        return
    if is_ip(host):
        yield "links.ip-host", host
    if "xn--" in host:
        yield "links.punycode", f"{host} ({unicode_host(host)})"
    if "@" in url.netloc:
        yield "links.userinfo", f"{url.netloc[:80]} (the host is {host})"
    if url.port is not None and url.port not in _WEB_PORTS:
        yield "links.port", f"{host}:{url.port}"
    if under(host, lists.shorteners):
        yield "links.shortener", host
    if under(host, lists.free_hosting) or under(f"{host}{url.path}", lists.free_hosting):
        yield "links.free-hosting", host
    domain = split(host)
    if domain.subdomain.count(".") + 1 >= DEEP_SUBDOMAIN and domain.subdomain:
        yield "links.deep-subdomain", host


_FORM = re.compile(r"<form\b([^>]{0,2000})>", re.IGNORECASE)
_ATTR = re.compile(r"""([a-z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
_PASSWORD = re.compile(r"""<input\b[^>]{0,500}\btype\s*=\s*["']?password""", re.IGNORECASE)
MAX_FORMS = 20


def _forms(html: str, context: Context, home: str) -> Iterator[tuple[str, str]]:
    """(code, evidence) for the message's own forms: one that posts its fields to a host
    outside the establishment and the sender's domain (``home``), and a password field (a
    search box sends with GET and asks for no password, so neither fires on it)."""
    for match in list(_FORM.finditer(html))[:MAX_FORMS]:
        attrs = {
            m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or ""
            for m in _ATTR.finditer(match.group(1))
        }
        if attrs.get("method", "get").strip().lower() != "post":
            continue
        action = attrs.get("action", "").strip()
        host = extraction.host_of(action) if "://" in action[:12] else ""
        if host and split(host).registrable != home and not under(host, context.own_domains):
            yield "links.form-outside", f"a form in the message posts to {host}"
    if _PASSWORD.search(html):
        yield "links.password-form", "the message itself has a password field"


class LinksCheck:
    name = "links"

    def __init__(self, lists: LinkLists | None = None, brands: tuple[Brand, ...] | None = None):
        self._lists = lists
        self._brands = brands

    def run(
        self, message: ParsedMessage, links: tuple[Link, ...], context: Context
    ) -> Iterator[Reason]:
        lists = self._lists if self._lists is not None else bundled_lists()
        brands = self._brands if self._brands is not None else bundled_brands()
        found: dict[str, list[str]] = {}
        per_url: tuple[Callable[[_Url], str | None], ...] = (
            lambda u: _brand_mismatch(u, brands, context),
            _text_mismatch,
            lambda u: _redirect(u, lists),
            lambda u: _form_service(u, lists),
        )
        codes = (
            "links.brand-mismatch",
            "links.text-mismatch",
            "links.redirector",
            "links.form-service",
        )
        for link in links:
            url = _Url.of(link)
            for code, evidence in _simple_signs(url, lists):
                found.setdefault(code, []).append(evidence)
            for code, sign in zip(codes, per_url, strict=True):
                shown = sign(url)
                if shown is not None:
                    found.setdefault(code, []).append(shown)
        if "<form" in message.html.lower():
            sender = message.sender_address
            home = split(sender.domain).registrable if sender else ""
            for code, form in _forms(message.html, context, home):
                found.setdefault(code, []).append(form)
        if "links.brand-mismatch" in found:
            found.pop("links.text-mismatch", None)  # the same sign, counted once
        for code, items in found.items():
            yield Reason(code, POINTS[code], _summary(items))


def _summary(evidence: list[str]) -> str:
    unique = list(dict.fromkeys(evidence))
    more = f" (and {len(unique) - 3} more)" if len(unique) > 3 else ""
    return ("; ".join(unique[:3]) + more)[:500]


CHECKS.register(LinksCheck())
