"""Indicators to block and to share, from a message and its links."""

from __future__ import annotations

import ipaddress
import re

from tocsin.phishing.links import Link
from tocsin.phishing.message import ParsedMessage
from tocsin.phishing.model import Indicators

_ORIGINATING = re.compile(r"\[?([0-9a-fA-F.:]{7,45})\]?")


def _ip(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        return None


def collect(message: ParsedMessage, links: tuple[Link, ...]) -> Indicators:
    """Senders (From, Reply-To, Return-Path), link URLs and hosts, IP hosts and the
    X-Originating-IP, attachment SHA-256."""
    found = Indicators()
    for address in (*message.from_, *message.reply_to):
        if "@" in address.address:
            found.senders.add(address.address.lower())
            found.domains.add(address.domain)
    if "@" in message.return_path:
        found.senders.add(message.return_path.lower())
    for link in links:
        if not link.url.lower().startswith(("http://", "https://", "www.")):
            continue
        found.urls.add(link.url)
        host = link.host
        ip = _ip(host)
        if ip:
            found.ips.add(ip)
        elif host:
            found.domains.add(host)
    for value in message.header("x-originating-ip"):
        match = _ORIGINATING.search(value)
        ip = _ip(match.group(1)) if match else None
        if ip and not ipaddress.ip_address(ip).is_private:
            found.ips.add(ip)
    found.hashes.update(a.sha256 for a in message.attachments if a.size)
    found.domains.discard("")
    return found
