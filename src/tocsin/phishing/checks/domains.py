"""Domain helpers of the impersonation and links checks: registrable domains, homoglyph
skeletons, typo distance, and :func:`lookalike`, which says how a host imitates a domain.

Pure and total: every function takes any string (empty, IP literal, odd Unicode) and
returns a value without raising. The registrable domain comes from the Public Suffix List
snapshot bundled with ``tldextract`` (never downloaded: ``suffix_list_urls=()``).

The skeleton follows the idea of Unicode TR39 (``skeleton(a) == skeleton(b)`` when ``a``
and ``b`` look alike) with a small table of our own: NFKC (full-width and mathematical
letters), diacritics removed (``amélі`` → ``ameli``), the Cyrillic and Greek letters that
look Latin, the digits that pass for letters (``0`` → ``o``, ``1`` → ``l``) and the letter
pairs that do (``rn`` → ``m``, ``vv`` → ``w``). It is lower-cased last, so a capital ``I``
reads as ``l`` (``PayPaI``).
"""

from __future__ import annotations

import ipaddress
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache

import tldextract

_SINGLE = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i", "ј": "j",
    "к": "k", "ӏ": "l", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "ѕ": "s",
    "т": "t", "у": "y", "х": "x", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ь": "b", "п": "n",
    "А": "a", "В": "b", "Е": "e", "К": "k", "М": "m", "Н": "h", "О": "o", "Р": "p",
    "С": "c", "Т": "t", "Х": "x", "І": "l", "Ј": "j", "Ѕ": "s", "Ү": "y",
    # Greek
    "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "ω": "w", "Α": "a", "Β": "b", "Ε": "e", "Ζ": "z",
    "Η": "h", "Ι": "l", "Κ": "k", "Μ": "m", "Ν": "n", "Ο": "o", "Ρ": "p", "Τ": "t",
    "Υ": "y", "Χ": "x",
    # Latin look-alikes, digits and signs
    "ı": "i", "ł": "l", "ɡ": "g", "ɩ": "i", "ɑ": "a", "ƅ": "b", "ǀ": "l", "I": "l",
    "0": "o", "1": "l", "|": "l", "5": "s", "$": "s", "@": "a",
}  # fmt: skip
_PAIRS = (("rn", "m"), ("vv", "w"), ("cl", "d"))
_TABLE = str.maketrans(_SINGLE)
_INVISIBLE = {"Mn", "Me", "Cf"}  # accents, variation selectors, zero-width characters


@lru_cache(maxsize=8192)
def skeleton(text: str) -> str:
    """What ``text`` looks like: equal skeletons mean a reader may take one for the other."""
    folded = unicodedata.normalize("NFKC", text).translate(_TABLE)
    decomposed = unicodedata.normalize("NFKD", folded)
    stripped = "".join(c for c in decomposed if unicodedata.category(c) not in _INVISIBLE)
    result = stripped.translate(_TABLE).lower()
    for pair, single in _PAIRS:
        result = result.replace(pair, single)
    return result


def fold(text: str) -> str:
    """``text`` for matching names: skeleton, and every run of non-alphanumerics one space."""
    chars = [c if c.isalnum() else " " for c in skeleton(text)]
    return " ".join("".join(chars).split())


def distance(a: str, b: str, limit: int = 2) -> int:
    """Damerau-Levenshtein distance (optimal string alignment) of ``a`` and ``b``; any
    distance above ``limit`` is returned as ``limit + 1`` (cheap on long strings)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[-1], limit + 1)


@cache
def _extractor() -> tldextract.TLDExtract:
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@dataclass(frozen=True)
class Domain:
    """A host cut at its public suffix: ``login.ameli-rembourse.co.uk`` is subdomain
    ``login``, label ``ameli-rembourse``, suffix ``co.uk``."""

    host: str
    subdomain: str
    label: str
    suffix: str

    @property
    def registrable(self) -> str:
        return f"{self.label}.{self.suffix}" if self.label and self.suffix else self.host


def normalise_host(host: str) -> str:
    return host.strip().rstrip(".").lower()


@cache
def split(host: str) -> Domain:
    """``host`` cut at its public suffix (an IP literal or a bare name has no suffix)."""
    host = normalise_host(host)
    if not host or is_ip(host) or len(host) > 253:
        return Domain(host, "", host, "")
    try:
        parts = _extractor()(host)
    except (ValueError, UnicodeError):
        return Domain(host, "", host, "")
    return Domain(host, parts.subdomain, parts.domain, parts.suffix)


def is_ip(host: str) -> bool:
    """An IPv4 or IPv6 literal, or an IPv4 written as one number (http://3232235777/)."""
    host = host.strip("[]")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host.isdigit() and 0 < len(host) <= 10 or host.lower().startswith("0x")
    return True


def under(host: str, domains: frozenset[str] | tuple[str, ...]) -> str | None:
    """The entry of ``domains`` that ``host`` is or is under (``mail.ameli.fr`` → ameli.fr)."""
    if not domains:
        return None
    candidate = normalise_host(host)
    while candidate:
        if candidate in domains:
            return candidate
        candidate = candidate.partition(".")[2]
    return None


def unicode_host(host: str) -> str:
    """``host`` with its ``xn--`` labels decoded (as they are when they cannot be)."""
    labels = []
    for label in host.split("."):
        if label.startswith("xn--"):
            try:
                label = label.encode("ascii").decode("idna")
            except UnicodeError:
                pass
        labels.append(label)
    return ".".join(labels)


class Kind(StrEnum):
    """How a host imitates a domain."""

    HOMOGLYPH = "homoglyph"  # ameIi.fr, аmeli.fr (Cyrillic a), ch-exemp1e.fr
    TYPO = "typo"  # amelli.fr, doctolbi.fr
    ADDED_WORDS = "added words"  # ameli-remboursement.info, doctolib-rdv.net
    OTHER_TLD = "other TLD"  # ameli.com
    SUBDOMAIN = "domain in subdomain"  # ameli.fr.secure-login.com


@dataclass(frozen=True)
class Lookalike:
    host: str
    target: str  # the imitated domain
    kind: Kind


def _tokens(label: str) -> list[str]:
    return [t for t in label.replace("_", "-").split("-") if t]


def _typo(label: str, wanted: str, *, same_suffix: bool) -> int | None:
    """The edits from ``wanted``: one allowed from a label of 5-6 letters under the same
    suffix (amelli.fr), one under any suffix from 7 letters, two from 9 (doctollb.net)."""
    if len(wanted) < 5 or (len(wanted) < 7 and not same_suffix):
        return None
    limit = 2 if len(wanted) >= 9 else 1
    edits = distance(label, wanted, limit)
    return edits if 0 < edits <= limit else None


def _compare(host: Domain, target: Domain, any_tld: bool) -> Kind | None:
    label, wanted = skeleton(unicode_host(host.label)), skeleton(target.label)
    if not label or not wanted:
        return None
    if host.label == target.label:
        if any_tld or host.suffix == target.suffix:
            return None
        return Kind.OTHER_TLD
    if label == wanted:
        return Kind.HOMOGLYPH
    edits = _typo(label, wanted, same_suffix=host.suffix == target.suffix)
    if edits == 1:
        return Kind.TYPO
    if wanted in _tokens(label) or (len(wanted) >= 6 and wanted in label):
        return Kind.ADDED_WORDS
    if edits is not None:
        return Kind.TYPO
    full = f".{target.label}.{target.suffix}."
    if host.subdomain and full in f".{host.subdomain}.":
        return Kind.SUBDOMAIN
    return None


def lookalike(
    host: str,
    targets: frozenset[str],
    *,
    legit: frozenset[str] = frozenset(),
    any_tld: bool = False,
) -> Lookalike | None:
    """How ``host`` imitates one of ``targets`` (registrable domains), or None.

    A host under a target or under a ``legit`` domain imitates nothing; neither does an IP
    literal or a bare name. A target label of six letters or more counts as added words
    anywhere in the label (``paypalsecure``), a shorter one only as a whole word between
    hyphens (``ameli-remboursement``, not ``shagmail``). Labels under five characters are
    never compared for typos: ``lcl`` is one letter from too many honest names.
    """
    if under(host, targets) or under(host, legit):
        return None
    return imitation(split(host), targets, any_tld=any_tld)


def imitation(
    domain: Domain, targets: frozenset[str], *, any_tld: bool = False
) -> Lookalike | None:
    """:func:`lookalike` for a host already split and known to be none of the targets'."""
    if not domain.suffix:
        return None
    for target in sorted(targets):
        kind = _compare(domain, split(target), any_tld)
        if kind is not None:
            return Lookalike(domain.host, target, kind)
    return None
