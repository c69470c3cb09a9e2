"""Editions and releases in product names: what is the product, and what only qualifies it.

Inventories and advisories qualify the same product in different words. "Windows Server
2019 Standard", "Windows Server 2019 Datacenter" and "Windows Server 2019 (Server Core
installation)" are Windows Server 2019; "Windows 11 Professionnel" and "Windows 11
Enterprise" are Windows 11; "Exchange Server 2019 CU14" and "Exchange Server 2019
Cumulative Update 14" are one release. :func:`split_name` reads a product name into its
**base** (the product), its **release** (a branch of it, which advisories list apart) and
its **editions** (licensing tiers, which they do not):

- *remarks* in parentheses and *architectures* ("for x64-based Systems", "pour systèmes 32
  bits", "(64-bit)") are dropped;
- a trailing **release**: "Version 22H2", "22H2", "23H2 Edition", "Cumulative Update 14" or
  "CU14", "Service Pack 1" or "SP1", a Windows 10 release number after the product's own
  number ("Windows 10 1809", "windows_10_1809"), "LTSC 2019" (read as the Windows release
  it is, 1809), a dotted number ("Linux kernel 4.14"). Releases are normalised ("cu14",
  "sp1", "22h2");
- trailing **editions**: Standard, Datacenter, Essentials, Enterprise/Entreprise,
  Professional/Professionnel/Pro, Education/Éducation, Home/Famille, Ultimate/Intégrale,
  Starter, Evaluation, IoT Enterprise, Pro for Workstations, Professional Plus, Home and
  Business, LTSC/LTSB (without a year), "Community/Developer/Express Edition", N and KN
  after another edition.

What is *not* an edition on purpose: "ESR" (Firefox ESR has its own fixes), "EMS",
"Subscription Edition" (SharePoint Server Subscription Edition is its own release), "Web"
("M-Files Web" is another product than M-Files), "Core" (".NET Core"), "Foundation"
("VMware Cloud Foundation"), "Server", "Cloud", "Online" (products of their own). Matching
(docs/matching.md) compares bases, then releases: the same release, or a release stated on
one side only, at a lower confidence unless the version shows it.

Pure functions on text, cached.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["NameParts", "RELEASE_EQUIVALENTS", "split_name"]

_MAX_NAME = 256
_PARENS = re.compile(r"\s*\([^()]*\)")
_ARCH = re.compile(
    r"[\s,]+(?:(?:for|pour|on|sur)\s+(?:les\s+)?(?:syst[eè]mes?\s+|systems?\s+|editions?\s+)?"
    r"(?:x64|x86|arm64|arm|itanium|ia64|32|64)(?:[\s\-]?(?:bits?|based))?(?:\s+(?:systems?"
    r"|syst[eè]mes?|editions?))?|(?:x64|x86|arm64|32[\s\-]?bits?|64[\s\-]?bits?))\s*$",
    re.IGNORECASE,
)
# A trailing release, first match wins; group "r" is the release, "k" its kind.
_RELEASES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), kind)
    for pattern, kind in (
        (r"[\s,_]+(?:cumulative[\s_]+update|cu)[\s_]*(?P<r>\d{1,3})$", "cu"),
        (r"[\s,_]+(?:service[\s_]+pack|sp)[\s_]*(?P<r>\d{1,2})$", "sp"),
        (r"[\s,_]+(?:version[\s_]+)?(?P<r>\d{2}h\d)(?:[\s_]+edition)?$", ""),
        (r"[\s,_]+(?P<r>lts[bc][\s_]+\d{4})$", ""),
        (r"[\s,_]+(?:version|release)[\s_]+(?P<r>(?=[\w.\-]*\d)[\w.\-]{1,30})$", ""),
        (r"[\s,_]+v[\s_]*(?P<r>[0-9][\w.\-]{0,30})$", ""),
        (r"(?<=\d)[\s_]+(?P<r>(?:1[5-9]|2\d)(?:0[1-9]|1[0-2]))$", ""),  # "Windows 10 1809"
        (r"[\s,_]+(?P<r>[\w.\-]*\d[\w.\-]*)[\s_]+edition$", ""),  # "23H2 Edition"
        (r"[\s_]+v?(?P<r>\d+(?:\.\d+)+[a-z]?)$", ""),  # "Linux kernel 4.14"
    )
)
# Windows LTSB/LTSC releases are the semi-annual releases of the same build.
RELEASE_EQUIVALENTS = {
    "ltsb2015": "1507",
    "ltsb2016": "1607",
    "ltsc2019": "1809",
    "ltsc2021": "21h2",
    "ltsc2024": "24h2",
}
_EDITION_WORDS = frozenset(
    """
    standard datacenter essentials enterprise entreprise professional professionnel
    professionnelle pro education home famille familiale ultimate integrale starter
    evaluation ltsc ltsb
    """.split()
)
_EDITION_PHRASES: tuple[tuple[str, ...], ...] = (
    ("pro", "for", "workstations"),
    ("for", "workstations"),
    ("professional", "plus"),
    ("pro", "plus"),
    ("home", "and", "business"),
    ("home", "and", "student"),
    ("home", "premium"),
    ("home", "basic"),
    ("familiale", "premium"),
    ("iot", "enterprise"),
    ("pro", "education"),
    ("server", "core"),
    ("datacenter:", "azure", "edition"),
    ("azure", "edition"),
)
# Words that name an edition only before "Edition" ("Community Edition").
_EDITION_NAMES = frozenset({"community", "developer", "express", "free", "team", "premium"})
_REGIONAL = frozenset({"n", "kn"})  # "Windows 10 Pro N": only after another edition
_CONNECTORS = frozenset({",", "-", "for", "pour", "and", "et", "&"})
_ACCENTS = str.maketrans("éèêÉÈÊ", "eeeeee")


@dataclass(frozen=True, slots=True)
class NameParts:
    """A product name read apart: ``base`` is the product, ``release`` a branch of it,
    ``editions`` the licensing tiers that were set aside (lower case)."""

    base: str
    release: str | None = None
    editions: tuple[str, ...] = ()

    @property
    def qualified(self) -> bool:
        """Whether anything was set aside (the base differs from the name)."""
        return self.release is not None or bool(self.editions)


def _words(text: str) -> list[str]:
    return text.split()


def _strip_editions(words: list[str]) -> tuple[list[str], list[str]]:
    """Trailing edition words and phrases, removed; the base keeps at least one word."""
    editions: list[str] = []
    folded = [w.lower().translate(_ACCENTS).strip(",") for w in words]
    changed = True
    while changed and len(folded) > 1:
        changed = False
        for phrase in _EDITION_PHRASES:
            n = len(phrase)
            if len(folded) > n and tuple(folded[-n:]) == phrase:
                editions.insert(0, " ".join(phrase))
                del folded[-n:], words[-n:]
                changed = True
                break
        if changed:
            continue
        last = folded[-1]
        before = folded[-2] if len(folded) > 2 else ""
        if last == "edition" and (before in _EDITION_WORDS or before in _EDITION_NAMES):
            # "Enterprise Edition", "Community Edition"; not "Subscription Edition" (a
            # product of its own) nor "23H2 Edition" (a release)
            editions.insert(0, " ".join(folded[-2:]))
            del folded[-2:], words[-2:]
            changed = True
            continue
        regional = last in _REGIONAL and len(folded) > 2 and folded[-2] in _EDITION_WORDS
        if last in _EDITION_WORDS or regional:
            editions.insert(0, last)
            folded.pop()
            words.pop()
            changed = True
        elif last in _CONNECTORS and editions:
            folded.pop()
            words.pop()
            changed = True
    return words, editions


def _release(text: str) -> tuple[str, str | None]:
    """The text without a trailing release, and the release (normalised)."""
    for pattern, kind in _RELEASES:
        found = pattern.search(text)
        if found is not None and found.start() > 0:
            release = kind + re.sub(r"[\s_]+", "", found["r"].lower())
            release = RELEASE_EQUIVALENTS.get(release, release)
            return text[: found.start()].rstrip(" ,;:-_"), release
    return text, None


@lru_cache(maxsize=1 << 16)
def split_name(name: str) -> NameParts:
    """The base, release and editions of a product name (see the module docstring).

    The base keeps at least the first word; a name that is only qualifiers is its own base.
    """
    text = " ".join(name.split())[:_MAX_NAME]
    text = _PARENS.sub("", text).strip(" ,;:")
    release: str | None = None
    editions: list[str] = []
    for _ in range(4):
        before = text
        text = _ARCH.sub("", text).strip(" ,;:")
        words, found = _strip_editions(_words(text))
        editions = found + editions
        text = " ".join(words)
        if release is None:
            text, release = _release(text)
        if text == before:
            break
    text = text.strip(" ,;:-_")
    if not text:
        return NameParts(" ".join(name.split())[:_MAX_NAME])
    return NameParts(text, release, tuple(editions))
