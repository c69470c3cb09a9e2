"""Domains as the header checks compare them: the registrable domain (public-suffix aware,
from the list snapshot bundled with ``tldextract``, never downloaded) and the free mail
providers anyone can open an account at.

``registrable("mail.ameli.fr") == "ameli.fr"``, ``registrable("a.b.nhs.uk") == "b.nhs.uk"``;
private suffixes count (``x.github.io`` and ``y.github.io`` belong to different people).
A name without a known suffix (``pot``, ``localhost``) is its own registrable domain.
"""

from __future__ import annotations

from functools import cache, lru_cache

import tldextract

FREEMAIL = frozenset(
    {
        "aol.com",
        "free.fr",
        "gmail.com",
        "gmx.com",
        "gmx.de",
        "gmx.fr",
        "googlemail.com",
        "hotmail.com",
        "hotmail.fr",
        "icloud.com",
        "laposte.net",
        "live.com",
        "live.fr",
        "mail.com",
        "mail.ru",
        "me.com",
        "msn.com",
        "orange.fr",
        "outlook.com",
        "outlook.fr",
        "proton.me",
        "protonmail.com",
        "sfr.fr",
        "wanadoo.fr",
        "yahoo.com",
        "yahoo.fr",
        "yandex.com",
        "yandex.ru",
        "zoho.com",
    }
)
"""Registrable domains of free mailbox providers (a Reply-To there, under a company's From,
is the classic way to get the answers of a spoofed message)."""


@cache
def _extractor() -> tldextract.TLDExtract:
    return tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
    )


@lru_cache(maxsize=4096)
def registrable(domain: str) -> str:
    """The registrable domain of ``domain`` in lower case ("" for an empty one)."""
    name = domain.strip().strip("[]<>").rstrip(".").lower()
    if not name:
        return ""
    try:
        found = _extractor()(name).top_domain_under_public_suffix
    except (ValueError, UnicodeError):  # odd labels the IDNA codec refuses
        return name
    return found or name


def domain_of(address: str) -> str:
    """The domain part of an address (``user@host`` → ``host``), "" when there is none."""
    local, at, host = address.strip().strip("<>").rpartition("@")
    return host.strip().rstrip(".").lower() if at and local else ""


def is_freemail(domain: str) -> bool:
    return registrable(domain) in FREEMAIL
