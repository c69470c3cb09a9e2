"""Clauses of the free-text version grammar: atoms read from the tokens of one line.

A *clause* is what follows a product name: "versions 7.2.x antérieures à 7.2.10",
"2.3.6 and prior", ">= 2.0 | <= 3.0". :class:`LineParser` reads it into :class:`Atom` values
(a bound, a pair, a plain version, "all versions"); :mod:`tocsin.watch.match.freetext` turns
atoms into ranges. Each read looks at a bounded number of tokens, so a line is parsed in
time roughly proportional to its length.
"""

from __future__ import annotations

from dataclasses import dataclass

from tocsin.watch.match.freetext_grammar import (
    ALL_PHRASES,
    BARE_VERSION,
    BETWEEN_PREFIX,
    CONNECTORS,
    EQ_PREFIX,
    EXCLUSIVE_WORDS,
    FILLERS,
    FRENCH_ONLY_CONN,
    GE_PREFIX,
    GE_SUFFIX,
    GT_PREFIX,
    INCLUDES_WORDS,
    INCLUSIVE_WORDS,
    LE_PREFIX,
    LE_SUFFIX,
    LT_PREFIX,
    MARKERS,
    MONTHS,
    NUMBER,
    PREPOSITIONS,
    RANGE_CONN,
    SUFFIX_GLUED,
    SUFFIX_PAIRS,
    SUFFIX_WORDS,
    Phrase,
    Token,
    is_versionish,
    series,
)

# --- clauses ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    """A version as written (a leading "v" dropped); ``stem`` is the series of a wildcard."""

    value: str
    stem: str | None = None


@dataclass
class Atom:
    """One piece of a clause: ``all``, ``plain`` V, ``exact`` V, ``lo`` ≥V, ``hi`` <V, ``pair``."""

    kind: str
    versions: list[Version]
    start: int
    end: int
    joined: bool = True  # no connector ("et", ",", "|") between this atom and the one before
    lo_exclusive: bool = False
    hi_exclusive: bool = False


@dataclass
class Clause:
    """Atoms read from tokens ``start`` to ``end`` (exclusive)."""

    start: int
    end: int
    atoms: list[Atom]


class _Table:
    """Phrases indexed by their first word; the longest match wins."""

    def __init__(self, phrases: list[Phrase]) -> None:
        self.by_first: dict[str, list[Phrase]] = {}
        for phrase in sorted(set(phrases), key=len, reverse=True):
            self.by_first.setdefault(phrase[0], []).append(phrase)

    def match(self, lows: list[str], i: int) -> Phrase | None:
        for phrase in self.by_first.get(lows[i], ()) if i < len(lows) else ():
            if tuple(lows[i : i + len(phrase)]) == phrase:
                return phrase
        return None


_PREFIX_KIND: dict[Phrase, str] = {
    phrase: kind
    for kind, phrases in (
        ("between", BETWEEN_PREFIX),
        ("eq", EQ_PREFIX),
        ("gt", GT_PREFIX),
        ("ge", GE_PREFIX),
        ("lt", LT_PREFIX),
        ("le", LE_PREFIX),
    )
    for phrase in phrases
}  # a phrase in two lists keeps the later kind: "jusqu'à" is "le"
_PREFIXES = _Table(list(_PREFIX_KIND))
_LE_SUFFIX, _GE_SUFFIX = _Table(LE_SUFFIX), _Table(GE_SUFFIX)
_RANGE_CONN, _ALL = _Table(RANGE_CONN), _Table(ALL_PHRASES)
_MAX_SUFFIXES = 4


def _match_parens(lows: list[str]) -> dict[int, int]:
    """Index of each "(" → its ")"; unbalanced ones are left out."""
    stack: list[int] = []
    pairs: dict[int, int] = {}
    for i, low in enumerate(lows):
        if low == "(":
            stack.append(i)
        elif low == ")" and stack:
            pairs[stack.pop()] = i
    return pairs


class LineParser:
    """Reads version clauses from the tokens of one line (see docs/matching-freetext.md)."""

    def __init__(self, tokens: list[Token], french: bool = True) -> None:
        self.tokens = tokens
        self.lows = [token.low for token in tokens]
        self.n = len(tokens)
        self.french = french
        self.parens = _match_parens(self.lows)

    def skip_fillers(self, i: int) -> tuple[int, bool]:
        """Past "versions", "à la", "de la"…; True when a version marker was among them."""
        marker = False
        while i < self.n and self.lows[i] in FILLERS:
            marker = marker or self.lows[i] in MARKERS
            i += 1
        return i, marker

    def connector_len(self, i: int) -> int:
        return 1 if i < self.n and self.lows[i] in CONNECTORS else 0

    def prefix_at(self, i: int) -> tuple[str, int]:
        """The longest bound phrase starting at ``i``: ("lt", 2) for "antérieures à"."""
        phrase = _PREFIXES.match(self.lows, i)
        return ("", 0) if phrase is None else (_PREFIX_KIND[phrase], len(phrase))

    def starts_wording(self, i: int) -> bool:
        """Whether version wording starts at ``i`` (used to cut a name-only product)."""
        return bool(self.prefix_at(i)[1] or _ALL.match(self.lows, i) or self.lows[i] in MARKERS)

    def find_clause(self, i: int, version_first: bool) -> tuple[int, Clause] | None:
        """The first clause at or after ``i``, skipping parenthesised product details."""
        k = i
        while k < self.n:
            if self.lows[k] == "(" and k in self.parens:
                inner = self.group_clause(k)
                if inner is not None:
                    return k + 1, inner
                k = self.parens[k] + 1
                continue
            clause = self.clause_at(k, version_first and k == i)
            if clause is not None:
                return k, clause
            k += 1
        return None

    def group_clause(self, k: int) -> Clause | None:
        """A clause filling a group: "(versions antérieures à 1.5)", "(all models)"."""
        close, first = self.parens[k], k + 1
        if first >= close:
            return None
        low = self.lows[first]
        if not (low in MARKERS or self.starts_wording(first) or BARE_VERSION.match(low)):
            return None
        clause = self.clause_at(first, False)
        if clause is None or clause.end != close:
            return None
        return Clause(clause.start, close + 1, clause.atoms)

    def clause_at(self, i: int, version_context: bool) -> Clause | None:
        j, marker = self.skip_fillers(i)
        first = self.atom_at(j, version_context or marker)
        if first is None:
            return None
        atoms, end = [first[0]], first[1]
        extras: list[Atom] = []
        while end < self.n:
            step = self.connector_len(end)
            k, _ = self.skip_fillers(end + step)
            if k < self.n and self.lows[k] == "(" and k in self.parens:
                inner = self.includes_group(k)
                if inner is not None:
                    extras.extend(inner)
                    end = self.parens[k] + 1
                    continue
                after, _ = self.skip_fillers(self.parens[k] + 1)
                if step or self.atom_at(after, True) is None:
                    break
                k = after
            nxt = self.atom_at(k, True)
            if nxt is None:
                break
            nxt[0].joined = step == 0
            atoms.append(nxt[0])
            end = nxt[1]
        return Clause(i, end, atoms + extras)

    def includes_group(self, k: int) -> list[Atom] | None:
        """Atoms of "(includes 16.0 - 16.3)", "(inclus 16.0 - 16.10)"; None for other groups."""
        close = self.parens[k]
        if k + 1 >= close or self.lows[k + 1] not in INCLUDES_WORDS:
            return None
        clause = self.clause_at(k + 2, True)
        if clause is None or clause.end > close:
            return None
        for atom in clause.atoms:
            atom.joined = False
        return clause.atoms

    def atom_at(self, i: int, version_context: bool) -> tuple[Atom, int] | None:
        if i >= self.n:
            return None
        phrase = _ALL.match(self.lows, i)
        if phrase is not None:
            return Atom("all", [], i, i + len(phrase)), i + len(phrase)
        if self.lows[i] in ("all", "toutes"):  # "all", "All Windows XP-based versions"
            for k in range(i + 1, min(i + 4, self.n) + 1):
                if k == self.n or self.tokens[k].kind != "word" or self.lows[k] in MARKERS:
                    end = k + (k < self.n and self.lows[k] in MARKERS)
                    if k == i + 1 or end > k:
                        return Atom("all", [], i, end), end
                    break
                if self.lows[k] in CONNECTORS | PREPOSITIONS:
                    break
        kind, length = self.prefix_at(i)
        if length:
            return self.bound_atom(kind, i, i + length)
        return self.version_atom(i, version_context)

    def bound_atom(self, kind: str, i: int, j: int) -> tuple[Atom, int] | None:
        """A bound phrase then its version(s): "antérieures à 2.2.5, 3.2.2 et 4.0"."""
        j, _ = self.skip_fillers(j)
        repeated = self.prefix_at(j)  # "antérieures à Prior to 1.2"
        if repeated[0] in ("lt", "le"):
            j, _ = self.skip_fillers(j + repeated[1])
        if kind == "between":
            return self.between(i, j)
        read = self.version_at(j, True, after_bound=True) or self.version_after_name(j)
        if read is None:
            return self.letter_revision(kind, i, j)
        versions, j = read
        if kind in ("ge", "gt"):
            pair = self.range_conn_version(j)  # "from 3.0 to 3.2"
            if pair is not None:
                return Atom("pair", [versions[0], pair[0]], i, pair[2], hi_exclusive=pair[1]), pair[
                    2
                ]
            return Atom("lo", versions[:1], i, j, lo_exclusive=kind == "gt"), j
        if kind == "eq":
            return Atom("exact", versions, i, j), j
        if kind == "lt":
            versions, j = self.more_fixes(versions, j)
        inclusive, j = self.modifier(j)
        exclusive = kind == "lt" if inclusive is None else not inclusive
        return Atom("hi", versions, i, j, hi_exclusive=exclusive), j

    def letter_revision(self, kind: str, i: int, j: int) -> tuple[Atom, int] | None:
        """ "<=N" right after an operator: a software revision named by a letter (Philips
        IntelliVue "Rev. M.04" is revision M). Revision L holds L.0 to the last L.x, so
        "<= N" reads "before O.0" and ">= N" "from N.0"."""
        if self.tokens[i].kind != "op" or kind not in ("lt", "le", "ge", "gt") or j >= self.n:
            return None
        raw = self.tokens[j].raw
        alone = j + 1 == self.n or self.tokens[j + 1].kind != "word"
        if not (alone and len(raw) == 1 and "A" <= raw <= "Y"):
            return None
        after = chr(ord(raw) + 1)
        if kind in ("lt", "le"):
            value = f"{raw if kind == 'lt' else after}.0"
            return Atom("hi", [Version(value)], i, j + 1, hi_exclusive=True), j + 1
        value = f"{raw if kind == 'ge' else after}.0"
        return Atom("lo", [Version(value)], i, j + 1), j + 1

    def version_after_name(self, j: int) -> tuple[list[Version], int] | None:
        """The version in "antérieures à ClearPass 6.11.12": one or two name words first."""
        for skip in (1, 2):
            if j + skip > self.n or not _is_name_word(self.tokens[j + skip - 1]):
                return None
            read = self.version_at(j + skip, True)
            if read is not None:
                return read
        return None

    def version_atom(self, i: int, version_context: bool) -> tuple[Atom, int] | None:
        """A version, maybe with a suffix bound: "2.1 et antérieures", "6.4.0 à 6.4.15"."""
        read = self.version_at(i, True)
        if read is None:
            return None
        versions, j = read
        inclusive, j = self.modifier(j)
        for table, kind in ((_LE_SUFFIX, "hi"), (_GE_SUFFIX, "lo")):
            end = self.suffix_end(table, j)
            if end:
                return Atom(kind, versions[-1:] if kind == "lo" else versions, i, end), end
        pair = self.range_conn_version(j)
        if pair is not None:
            lo_excl, high = inclusive is False, self.relative(versions[-1], pair[0])
            atom = Atom("pair", [versions[-1], high], i, pair[2], lo_exclusive=lo_excl)
            atom.hi_exclusive = pair[1]
            return atom, pair[2]
        if not version_context and not BARE_VERSION.match(self.lows[i]):
            after, _ = self.skip_fillers(j)  # "Apex One 2019 versions antérieures à Patch 6"
            if self.prefix_at(after)[0] not in ("lt", "le", "ge", "gt"):
                return None
        return Atom("plain", versions, i, j), j

    def suffix_end(self, table: _Table, j: int) -> int:
        """End of "et antérieures" / "(et ultérieures)" / "and prior versions" at ``j``, or 0."""
        opened = j < self.n and self.lows[j] == "("
        phrase = table.match(self.lows, j + opened)
        if phrase is None:
            return 0
        end = j + opened + len(phrase)
        if opened:
            return end + 1 if end < self.n and self.lows[end] == ")" else 0
        return end + 1 if end < self.n and self.lows[end] in MARKERS else end

    def version_at(
        self, i: int, version_context: bool, after_bound: bool = False
    ) -> tuple[list[Version], int] | None:
        """The version phrase at ``i`` with its suffixes ("10.5 build 69.5", "8.1 SP1")."""
        if i >= self.n or self.tokens[i].kind != "word":
            return None
        words: list[str] = []
        j = i
        if is_versionish(self.lows[i], version_context, after_bound):
            words, j = [self.tokens[i].raw], i + 1
        elif version_context and self.suffix_len(i):  # "antérieures à Update 16"
            step = self.suffix_len(i)
            words, j = [t.raw for t in self.tokens[i : i + step]], i + step
        else:
            return None
        for _ in range(_MAX_SUFFIXES):
            step = self.suffix_len(j)
            if not step:
                break
            words.extend(t.raw for t in self.tokens[j : j + step])
            j += step
        return _expand(words), j

    def suffix_len(self, j: int) -> int:
        """Length of a version suffix at ``j``: "SP1" (1), "Patch 34" (2), "Fix Pack 6" (3)."""
        lows, n = self.lows, self.n
        if j >= n or self.tokens[j].kind != "word":
            return 0
        if SUFFIX_GLUED.match(lows[j]):
            return 1
        if j + 1 < n and lows[j] in SUFFIX_WORDS and NUMBER.match(lows[j + 1]):
            return 2
        if j + 2 < n and (lows[j], lows[j + 1]) in SUFFIX_PAIRS and NUMBER.match(lows[j + 2]):
            return 3
        return 0

    def more_fixes(self, versions: list[Version], j: int) -> tuple[list[Version], int]:
        """Further fixed versions after a connector, unless one opens its own bound."""
        while True:
            step = self.connector_len(j)
            if not step:
                return versions, j
            k, _ = self.skip_fillers(j + step)
            read = self.version_at(k, True)
            if read is None or self.bound_follows(read[1]):
                return versions, j
            versions, j = versions + read[0], read[1]

    def bound_follows(self, j: int) -> bool:
        after, _ = self.skip_fillers(j)
        if self.prefix_at(after)[1] or self.range_conn_version(j) is not None:
            return True
        return bool(self.suffix_end(_LE_SUFFIX, j) or self.suffix_end(_GE_SUFFIX, j))

    def modifier(self, j: int) -> tuple[bool | None, int]:
        """ "incluse" → True, "exclue" → False, also in parentheses ("(version incluse)")."""
        if j >= self.n:
            return None, j
        low = self.lows[j]
        if low in INCLUSIVE_WORDS or low in EXCLUSIVE_WORDS:
            return low in INCLUSIVE_WORDS, j + 1
        close = self.parens.get(j)
        if close is None or close - j > 4:
            return None, j
        inner = {w for w in self.lows[j + 1 : close] if w not in ("version", "la", "versions")}
        if len(inner) == 1 and inner <= INCLUSIVE_WORDS | EXCLUSIVE_WORDS:
            return bool(inner <= INCLUSIVE_WORDS), close + 1
        return None, j

    def range_conn_version(self, j: int) -> tuple[Version, bool, int] | None:
        """ "à W", "to W", "- W" after a version: (W, exclusive upper?, end)."""
        phrase = _RANGE_CONN.match(self.lows, j)
        if phrase is None or (not self.french and phrase in FRENCH_ONLY_CONN):
            return None
        k, _ = self.skip_fillers(j + len(phrase))
        read = self.version_at(k, True)
        if read is None:
            return None
        inclusive, end = self.modifier(read[1])
        return read[0][0], inclusive is False, end

    @staticmethod
    def relative(low: Version, high: Version) -> Version:
        """ "10.0.0.305 - 331": a bare build number after a dotted version replaces its end."""
        head, _, last = low.value.rpartition(".")
        value = high.value
        if head and value.isdigit() and len(value) == len(last) >= 3 and value > last:
            return Version(f"{head}.{value}")
        return high

    def between(self, i: int, j: int) -> tuple[Atom, int] | None:
        """ "entre 2.0 inclus et 2.5 exclue", "between 1.0 and 1.4.3"."""
        if j < self.n and self.lows[j] == "a":  # "comprises entre à 2.0"
            j += 1
        first = self.version_at(j, True)
        if first is None:
            return None
        lo_inclusive, k = self.modifier(first[1])
        if k < self.n and self.lows[k] in ("et", "and"):
            k += 1
        else:
            phrase = _RANGE_CONN.match(self.lows, k)
            k += len(phrase) if phrase else 0
        k, _ = self.skip_fillers(k)
        second = self.version_at(k, True)
        if second is None:
            return None
        hi_inclusive, end = self.modifier(second[1])
        atom = Atom("pair", [first[0][0], second[0][0]], i, end, lo_exclusive=lo_inclusive is False)
        atom.hi_exclusive = hi_inclusive is False
        return atom, end


def _is_name_word(token: Token) -> bool:
    low = token.low
    return (
        token.kind == "word"
        and low.isalpha()
        and low not in CONNECTORS | PREPOSITIONS | FILLERS | MONTHS | SUFFIX_WORDS
    )


def _expand(words: list[str]) -> list[Version]:
    """Versions of a phrase; "4.6/4.6.1" and "122.0.6261.128/.129" name several."""
    if len(words) == 1 and "/" in words[0]:
        parts = words[0].split("/")
        base = parts[0]
        values = [base]
        for part in parts[1:]:
            if part.startswith(".") and "." in base:
                part = base.rsplit(".", 1)[0] + part
            elif part.isdigit() and "." in base:
                part = base.rsplit(".", 1)[0] + "." + part
            values.append(part)
        if all(is_versionish(v.lower(), True) for v in values):
            return [Version(v, series(v)) for v in values]
    value = " ".join(words)
    return [Version(value, series(value) if len(words) == 1 else None)]
