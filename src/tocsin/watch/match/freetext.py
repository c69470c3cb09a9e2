"""Affected versions written as free text, read into version ranges (French and English).

CERT-FR avis list affected systems as sentences ("FortiOS versions 7.4.x antérieures à
7.4.3", "Google Android toutes versions n'intégrant pas le correctif de sécurité du …"); CISA
ICS medical advisories name versions in words ("Versions 2.3.6 and prior", "All versions
prior to 4.1"). :func:`parse_affected_text` turns one such line into
:class:`ParsedProduct` entries: a product name and :class:`~tocsin.model.advisory.VersionRange`
values, each range keeping the phrase it came from in ``text`` as evidence. A line that
cannot be read is never dropped: it becomes a name-only entry (``parsed`` is False) that the
matcher compares by name at :data:`CONFIDENCE_NAME_ONLY`. The grammar, with examples, is in
docs/matching-freetext.md.

A whole series ("7.2.x", or a release named alone: "version 4.1") is
``introduced="7.2", last_affected="7.2.*"``: the comparator in
:mod:`tocsin.watch.match.versions` reads a trailing ``.*`` as "up to the end of that series",
so 7.2.15 and 7.2.9b are in and 7.3.0-rc1 is out. :func:`series_of` gives the series back.

Pure functions; input longer than :data:`MAX_INPUT_CHARS` is cut there (``truncated``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from tocsin.model.advisory import AffectedProduct, VersionRange
from tocsin.watch.match.freetext_clauses import Atom, Clause, LineParser
from tocsin.watch.match.freetext_grammar import (
    ARCH_NOISE,
    CONNECTORS,
    CVE_TAIL,
    MARKERS,
    MAX_INPUT_CHARS,
    MISSING_PATCH,
    PREPOSITIONS,
    PRODUCT_STOP,
    REFER_PARENS,
    REFER_TAIL,
    SENTENCE_END,
    Token,
    fold,
    normalise,
    tokenize,
)
from tocsin.watch.match.freetext_ranges import combine_atoms

__all__ = [
    "CONFIDENCE_MISSING_PATCH",
    "CONFIDENCE_NAME_ONLY",
    "CONFIDENCE_RANGE",
    "MAX_INPUT_CHARS",
    "ParsedProduct",
    "ParsedProducts",
    "parse_affected_text",
    "parse_product_version",
    "series_of",
]

CONFIDENCE_RANGE = 1.0  # the version decides: in the range or not
CONFIDENCE_MISSING_PATCH = 0.6  # "sans les derniers correctifs": a patched install looks the same
CONFIDENCE_NAME_ONLY = 0.4  # nothing readable about versions: the name alone matched


@dataclass(frozen=True)
class ParsedProduct:
    """One product a free-text line names, with the versions it says are affected.

    ``parsed`` is False when no version wording could be read: the entry is then matched by
    name only. ``missing_patch`` marks "sans les derniers correctifs de sécurité" and the like
    (every version is listed as affected, but a patched install cannot be told apart).
    ``qualifiers`` keeps what was set aside: platforms, architectures, conditions.
    """

    product: str
    ranges: tuple[VersionRange, ...] = ()
    missing_patch: bool = False
    qualifiers: tuple[str, ...] = ()
    text: str = ""

    @property
    def parsed(self) -> bool:
        return bool(self.ranges)

    @property
    def confidence(self) -> float:
        """A factor for the matcher's confidence: 1.0, 0.6 (missing patch) or 0.4 (name only)."""
        if not self.parsed:
            return CONFIDENCE_NAME_ONLY
        return CONFIDENCE_MISSING_PATCH if self.missing_patch else CONFIDENCE_RANGE

    def to_affected(self, vendor: str | None = None) -> AffectedProduct:
        return AffectedProduct(
            product=self.product, vendor=vendor, ranges=self.ranges, text=self.text
        )


@dataclass(frozen=True)
class ParsedProducts:
    """What one line says: one entry per product (at least one unless the line is empty)."""

    text: str
    entries: tuple[ParsedProduct, ...] = ()
    truncated: bool = False
    lang: str | None = None

    def __iter__(self) -> Iterator[ParsedProduct]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def parsed(self) -> bool:
        return bool(self.entries) and all(entry.parsed for entry in self.entries)


def parse_affected_text(text: str, lang: str | None = None) -> ParsedProducts:
    """Read one affected-systems line: "Produit versions X.x antérieures à X.Y" and the like.

    ``lang`` is a hint: with ``"en"`` the French connector "à" (folded to "a") is not read
    between two versions. Never raises on any text.
    """
    line = _Line.read(text, lang)
    entries = line.entries(product=None)
    return ParsedProducts(text=line.norm, entries=entries, truncated=line.truncated, lang=lang)


def parse_product_version(
    product: str, version_text: str, lang: str | None = None
) -> ParsedProducts:
    """Read a version phrase that comes apart from its product (a CSAF version branch)."""
    line = _Line.read(version_text, lang)
    entries = line.entries(product=" ".join(product.split()))
    return ParsedProducts(text=line.norm, entries=entries, truncated=line.truncated, lang=lang)


def series_of(rng: VersionRange) -> str | None:
    """The series a range covers whole ("7.2" for 7.2.x), or None for any other range."""
    if rng.introduced and not rng.introduced_exclusive and rng.fixed is None:
        if rng.last_affected == f"{rng.introduced}.*":
            return rng.introduced
    return None


# --- one line -----------------------------------------------------------------------------


@dataclass
class _Line:
    """A normalised line with its noise set aside, and the tokens left to parse."""

    norm: str
    truncated: bool
    tokens: list[Token]
    french: bool
    masked: str = ""  # ``norm`` with the noise blanked out, same offsets
    missing_patch: str | None = None
    noise: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, text: str, lang: str | None) -> _Line:
        norm, truncated = normalise(text)
        norm = _VERS_PREFIX.sub("", norm)
        masked, folded = norm, fold(norm)
        noise: list[str] = []
        missing: str | None = None
        for pattern, to_end in _NOISE:
            source = masked if pattern is SENTENCE_END else folded
            m = pattern.search(source)
            while m is not None:
                end = len(norm) if to_end else m.end()
                noise.append(" ".join(masked[m.start() : end].split()).lstrip(",;. "))
                if pattern is MISSING_PATCH:
                    missing = noise[-1]
                masked = masked[: m.start()] + " " * (end - m.start()) + masked[end:]
                folded = folded[: m.start()] + " " * (end - m.start()) + folded[end:]
                m = None if to_end else pattern.search(folded, m.end())
        tokens = tokenize(masked, folded)
        return cls(norm, truncated, tokens, lang != "en", masked, missing, [n for n in noise if n])

    def span(self, start: int, end: int) -> str:
        """The original text of tokens ``start`` to ``end`` (exclusive), spaces collapsed."""
        if start >= end:
            return ""
        text = self.masked or self.norm
        return " ".join(text[self.tokens[start].start : self.tokens[end - 1].end].split())

    def entries(self, product: str | None) -> tuple[ParsedProduct, ...]:
        if not self.norm:
            return ()
        colon = _top_level_colon(self.tokens) if product is None else None
        if colon is not None:
            right = _Line(
                self.norm, self.truncated, self.tokens[colon + 1 :], self.french, self.masked
            )
            found = right.raw_entries(version_first=True)
            left = self.product_name(0, colon)
            if found:
                first = found[0]
                if not right.product_name(first.product_start, first.product_end) and left:
                    return self.finish(right, found, product=left, context=None)
                return self.finish(right, found, product=None, context=left or None)
            return (self.name_only(left or self.product_name(0, len(self.tokens))),)
        found = self.raw_entries(version_first=product is not None)
        if not found:
            name = product if product is not None else self.name_only_product()
            return (self.name_only(name, keep_text=product is not None),)
        return self.finish(self, found, product=product, context=None)

    def raw_entries(self, version_first: bool) -> list[_RawEntry]:
        return _split_entries(LineParser(self.tokens, self.french), version_first)

    def finish(
        self, line: _Line, found: list[_RawEntry], product: str | None, context: str | None
    ) -> tuple[ParsedProduct, ...]:
        out: list[ParsedProduct] = []
        for raw in found:
            ranges, label = combine_atoms(
                raw.atoms, line.clause_text(raw.clause.start, raw.clause.end)
            )
            end = raw.product_end if label is None else label.end
            if label is not None:  # evidence without the release label the name took
                text = line.span(label.end, raw.clause.end)
                ranges = [
                    replace(r, text=text) if r.text != self.missing_patch else r for r in ranges
                ]
            name = line.product_name(raw.product_start, end)
            if product is not None:
                name = f"{product} {name}".strip() if label is None else product
            if self.missing_patch and not ranges:
                ranges = [VersionRange(all_versions=True, text=self.missing_patch)]
            quals = [context or "", *self.noise]
            if raw.qualifier_start >= 0:
                quals.append(line.qualifier(raw.qualifier_start))
            out.append(
                ParsedProduct(
                    product=name,
                    ranges=tuple(dict.fromkeys(ranges)),
                    missing_patch=self.missing_patch is not None,
                    qualifiers=tuple(q for q in quals if q),
                    text=self.norm,
                )
            )
        return tuple(out)

    def name_only(self, name: str, keep_text: bool = False) -> ParsedProduct:
        ranges: tuple[VersionRange, ...] = ()
        if self.missing_patch:
            ranges = (VersionRange(all_versions=True, text=self.missing_patch),)
        quals = [*self.noise]
        if keep_text:
            quals.insert(0, self.norm)
        return ParsedProduct(
            product=name,
            ranges=ranges,
            missing_patch=self.missing_patch is not None,
            qualifiers=tuple(q for q in quals if q),
            text=self.norm,
        )

    def name_only_product(self) -> str:
        """The words before the first version wording, or the whole line."""
        parser = LineParser(self.tokens, self.french)
        for i in range(len(self.tokens)):
            if parser.starts_wording(i):
                name = self.product_name(0, i)
                if name:
                    return name
                break
        return self.product_name(0, len(self.tokens)) or " ".join(self.norm.split())

    def clause_text(self, start: int, end: int) -> str:
        """A clause's words as evidence, without the ")" of a group it filled."""
        text = self.span(start, end)
        return (
            text[:-1].rstrip() if text.endswith(")") and text.count(")") > text.count("(") else text
        )

    def qualifier(self, start: int) -> str:
        """What follows the clauses ("pour Windows et Mac"), without leading punctuation."""
        end = len(self.tokens)
        while (
            start < end
            and self.tokens[start].low != "("
            and (self.tokens[start].kind != "word" or self.tokens[start].low in CONNECTORS)
        ):
            start += 1
        return self.span(start, end)

    def product_name(self, start: int, end: int) -> str:
        """Tokens ``start``..``end`` as a name, trimmed of fillers and connectors at both ends."""
        while start < end and _trim(self.tokens[start], keep="("):
            start += 1
        while end > start and _trim(self.tokens[end - 1], keep=")"):
            end -= 1
        return self.span(start, end)


_VERS_PREFIX = re.compile(r"\bvers:[A-Za-z0-9.+\-]{1,20}/")
_NOISE = (
    (SENTENCE_END, True),
    (REFER_PARENS, False),
    (REFER_TAIL, True),
    (MISSING_PATCH, True),
    (CVE_TAIL, True),
    (ARCH_NOISE, False),
)


def _trim(token: Token, keep: str) -> bool:
    if token.kind != "word":
        return token.low != keep
    return token.low in PRODUCT_STOP or token.low in MARKERS


def _top_level_colon(tokens: list[Token]) -> int | None:
    depth = 0
    for i, token in enumerate(tokens):
        if token.low == "(":
            depth += 1
        elif token.low == ")":
            depth = max(0, depth - 1)
        elif token.kind == "colon" and depth == 0:
            return i if 0 < i < len(tokens) - 1 else None
    return None


# --- products and their clauses ------------------------------------------------------------


@dataclass
class _RawEntry:
    product_start: int
    product_end: int
    clause: Clause
    atoms: list[Atom]
    qualifier_start: int = -1


def _split_entries(parser: LineParser, version_first: bool) -> list[_RawEntry]:
    """Product words, then version clauses; a connector and new words start a new product."""
    out: list[_RawEntry] = []
    n, p = len(parser.tokens), 0
    carried: list[Atom] = []
    while p < n:
        found = parser.find_clause(p, version_first and p == 0)
        if found is None:
            break
        start, clause = found
        entry = _RawEntry(p, start, clause, carried + clause.atoms)
        carried, rest = [], clause.end
        if rest >= n:
            out.append(entry)
            break
        leading_all = all(atom.kind == "all" for atom in clause.atoms)
        if start == p and not out and leading_all:  # "Toutes les versions de X antérieures à…"
            later = parser.find_clause(rest, False)
            if later is not None and later[0] > rest:
                carried, p = entry.atoms, rest
                continue
        step = parser.connector_len(rest)
        if step and rest + step < n and parser.tokens[rest + step].low not in PREPOSITIONS:
            later = parser.find_clause(rest + step, False)
            if later is not None and later[0] > rest + step:
                out.append(entry)
                p = rest + step
                continue
        entry.qualifier_start = rest
        out.append(entry)
        break
    return out
