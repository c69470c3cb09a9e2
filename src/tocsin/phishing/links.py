"""URLs of a message, extracted without fetching anything: HTML anchors (with the text they
show), form actions, and URLs written in the text bodies.

The HTML parser is the standard library's (no scripts, no network, no entity expansion
beyond HTML's own); at most :data:`MAX_LINKS` links are kept. ``host`` is the URL's host in
lower case (IDNA-decoded names keep their ``xn--`` form in ``host``, the Unicode form is
``display_host``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

from tocsin.phishing.message import ParsedMessage

MAX_LINKS = 500
_URL = re.compile(r"""\b(?:https?://|www\.)[^\s<>"'\])}]{2,2000}""", re.IGNORECASE)
_TRAILING = ".,;:!?)"


@dataclass(frozen=True)
class Link:
    url: str
    shown: str  # the text the reader sees for it ("" when none)
    origin: str  # "html", "form", "text", and later "pdf", "qr"

    @property
    def host(self) -> str:
        return host_of(self.url)

    @property
    def display_host(self) -> str:
        host = self.host
        if "xn--" not in host:
            return host
        try:
            return host.encode("ascii").decode("idna")
        except UnicodeError:
            return host


def host_of(url: str) -> str:
    """The host of ``url`` in lower case ("" when there is none)."""
    candidate = url if "://" in url[:12] else "http://" + url
    try:
        host = urlsplit(candidate.strip()).hostname or ""
    except ValueError:
        return ""
    return host.rstrip(".").lower()


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[Link] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if len(self.links) >= MAX_LINKS:
            return
        values = {k.lower(): (v or "") for k, v in attrs}
        if tag == "a" and values.get("href"):
            self._close()
            self._href, self._text = values["href"].strip(), []
        elif tag == "form" and values.get("action"):
            self.links.append(Link(values["action"].strip(), "", "form"))
        elif tag == "area" and values.get("href"):
            self.links.append(Link(values["href"].strip(), values.get("alt", ""), "html"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._close()

    def handle_data(self, data: str) -> None:
        if self._href is not None and sum(map(len, self._text)) < 2000:
            self._text.append(data)

    def _close(self) -> None:
        if self._href is not None:
            shown = " ".join("".join(self._text).split())
            self.links.append(Link(self._href, shown, "html"))
        self._href, self._text = None, []

    def close(self) -> None:
        super().close()
        self._close()


def _text_links(text: str) -> list[Link]:
    found = []
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        found.append(Link(url, url, "text"))
        if len(found) >= MAX_LINKS:
            break
    return found


def extract_links(message: ParsedMessage) -> tuple[Link, ...]:
    """Every link of the message's bodies, HTML first, duplicates (same URL, text, origin)
    removed, in order."""
    links: list[Link] = []
    if message.html:
        parser = _Anchors()
        try:
            parser.feed(message.html)
            parser.close()
        except (AssertionError, ValueError):  # HTMLParser on pathological markup
            pass
        links.extend(parser.links)
    links.extend(_text_links(message.text))
    unique = dict.fromkeys(link for link in links if link.url and not _local(link.url))
    return tuple(unique)[:MAX_LINKS]


def _local(url: str) -> bool:
    """Anchors and mail addresses are not links to a site."""
    lowered = url.lower()
    return lowered.startswith(("#", "mailto:", "tel:", "cid:"))
