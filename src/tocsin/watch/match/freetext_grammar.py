"""Words and shapes of the free-text version grammar (French and English).

The parser in :mod:`tocsin.watch.match.freetext` works on tokens of a *normalised* line
and compares their *folded* form (lower case, accents removed, one character for one, so
offsets in both strings agree) with the phrase tables below. Everything here is data or a
small pure function; nothing does I/O. Regular expressions are linear: character classes
and bounded repeats only, no nested unbounded quantifiers over the same characters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import product

MAX_INPUT_CHARS = 2000  # longer input is cut here (and reported as truncated)
MAX_VERSION_CHARS = 64  # a longer token is never read as a version

Phrase = tuple[str, ...]

# --- normalisation ------------------------------------------------------------------------

_HTML_TAG = re.compile(r"</?[A-Za-z][^<>]{0,200}>")
_SPACES = re.compile(r"\s+")
_GLUED_A = re.compile(r"à(?=[vV]?[0-9])")  # "supérieures ou égales àV30.1.0"
_CHAR_MAP = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u2013": "-", "\u2014": "-"})
_CHAR_MAP.update({0x2010: "-", 0x2011: "-", 0x00A0: " ", 0x202F: " "})


def normalise(text: str) -> tuple[str, bool]:
    """The line cut to :data:`MAX_INPUT_CHARS`, tags removed, spaces collapsed; truncated?"""
    truncated = len(text) > MAX_INPUT_CHARS
    text = _HTML_TAG.sub(" ", text[:MAX_INPUT_CHARS].translate(_CHAR_MAP))
    text = _GLUED_A.sub("à ", text)
    return _SPACES.sub(" ", text).strip(), truncated


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    base = unicodedata.normalize("NFKD", ch)[:1] or ch
    low = base.lower()
    return low if len(low) == 1 else base


def fold(text: str) -> str:
    """Lower case without accents, exactly one character per input character."""
    return "".join(_fold_char(ch) for ch in text)


# --- tokens -------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"(?P<op><=|>=|=<|=>|==|!=|[<>=≤≥])"
    r"|(?P<punct>[,;|()\[\]])"
    r"|(?P<colon>:)"
    r"|(?P<word>(?:[^\s,;|()\[\]<>=≤≥:]|:(?=[0-9])){1,200}(?:(?<=[0-9])\([0-9A-Za-z.]{1,20}\))?)"
)


@dataclass(frozen=True, slots=True)
class Token:
    """One token: ``raw`` as written, ``low`` folded, and its offsets in the line."""

    kind: str  # "word", "op", "punct", "colon"
    raw: str
    low: str
    start: int
    end: int


def tokenize(text: str, folded: str) -> list[Token]:
    """Tokens of ``text``; a word loses its trailing full stops ("2.4.4.4." → "2.4.4.4")."""
    tokens: list[Token] = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "word"
        start, end = m.start(), m.end()
        if kind == "word":
            while end > start and text[end - 1] == ".":
                end -= 1
            if end == start:
                continue
        tokens.append(Token(kind, text[start:end], folded[start:end], start, end))
    return tokens


# --- phrase tables (folded words) ---------------------------------------------------------


def _fr(stem: str) -> tuple[str, ...]:
    """The four forms of a French adjective: antérieur, antérieure, antérieurs, antérieures."""
    return (stem, stem + "e", stem + "s", stem + "es")


_EGAL = ("egal", "egale", "egaux", "egales")


def _seq(*parts: tuple[str, ...] | str) -> list[Phrase]:
    """Every phrase made by picking one word from each part (a str is a fixed word)."""
    choices = [(p,) if isinstance(p, str) else p for p in parts]
    return [tuple(words) for words in product(*choices)]


_BEFORE_FR = _fr("anterieur") + _fr("inferieur")
_AFTER_FR = _fr("posterieur") + _fr("superieur") + _fr("ulterieur")
_EN_LOWER = ("prior", "earlier", "below", "lower", "older", "previous", "before", "less")
_EN_HIGHER = ("later", "above", "newer", "higher", "after", "greater")

# "< V": fixed = V
LT_PREFIX: list[Phrase] = [
    *_seq(_BEFORE_FR, "a"),
    *_seq(_BEFORE_FR),
    ("avant",),
    ("prior", "to"),
    ("before",),
    ("earlier", "than"),
    ("older", "than"),
    ("lower", "than"),
    ("less", "than"),
    ("below",),
    ("until",),
    ("up", "to", "but", "excluding"),
    ("up", "to", "excluding"),
    ("<",),
]
# "<= V": last_affected = V
LE_PREFIX: list[Phrase] = [
    *_seq(_BEFORE_FR, "ou", _EGAL, "a"),
    ("jusqu'a",),
    ("jusqu'au",),
    ("jusqu'aux",),
    ("through",),
    ("thru",),
    ("up", "to", "and", "including"),
    ("up", "to"),
    ("<=",),
    ("=<",),
    ("≤",),
]
# ">= V": introduced = V
GE_PREFIX: list[Phrase] = [
    *_seq(_AFTER_FR, "ou", _EGAL, "a"),
    ("a", "partir", "de"),
    ("a", "partir", "du"),
    ("depuis",),
    ("since",),
    ("from",),
    ("starting", "with"),
    ("starting", "from"),
    (">=",),
    ("=>",),
    ("≥",),
]
# "> V": introduced = V, exclusive
GT_PREFIX: list[Phrase] = [
    *_seq(_AFTER_FR, "a"),
    ("after",),
    ("later", "than"),
    ("newer", "than"),
    ("greater", "than"),
    ("higher", "than"),
    (">",),
]
# "= V": exactly V
EQ_PREFIX: list[Phrase] = [("=",), ("==",)]
# "entre V et W", "between V and W"
BETWEEN_PREFIX: list[Phrase] = [
    ("entre",),
    *_seq(("comprises", "compris", "comprise"), "entre"),
    ("between",),
]
# after a version: "V et antérieures", "V and prior"
LE_SUFFIX: list[Phrase] = [
    *_seq(("et", "ou"), _BEFORE_FR + _fr("precedent")),
    *_seq(("et", "ou"), ("versions", "les"), _BEFORE_FR + _fr("precedent")),
    *_seq("et", "les", "versions", _BEFORE_FR + _fr("precedent")),
    ("ainsi", "que", "celles", "anterieures"),
    ("ainsi", "que", "les", "versions", "anterieures"),
    *_seq(("and", "or"), _EN_LOWER),
    *_seq(("and", "or"), "all", _EN_LOWER),
]
# after a version: "V et ultérieures", "V and later"
GE_SUFFIX: list[Phrase] = [
    *_seq(("et", "ou"), _AFTER_FR + _fr("suivant")),
    *_seq(("et", "ou"), "versions", _AFTER_FR + _fr("suivant")),
    *_seq(("and", "or"), _EN_HIGHER),
    ("and", "up"),
]
# between two versions: "V à W", "V to W", "V - W"
RANGE_CONN: list[Phrase] = [
    ("a",),
    ("au",),
    ("aux",),
    ("jusqu'a",),
    ("jusqu'au",),
    ("jusqu'aux",),
    ("to",),
    ("through", "to"),
    ("through",),
    ("thru",),
    ("up", "to"),
    ("until",),
    ("-",),
    ("~",),
]
FRENCH_ONLY_CONN = frozenset({("a",), ("au",), ("aux",)})
ALL_PHRASES: list[Phrase] = [
    *_seq(("toutes", "toute", "tous"), ("versions", "version")),
    *_seq(("toutes", "toute", "tous"), ("les", "des"), ("versions", "version")),
    *_seq(("all", "any", "every"), ("versions", "version", "releases", "release")),
    ("all", "software", "versions"),
    ("all", "models"),
    ("toutes", "les", "gammes"),
    ("*",),
]
# words that may sit between the parts of a clause: "versions", "à la version", "de la"
FILLERS = frozenset(
    {
        "la", "le", "les", "l'", "de", "des", "du", "d'", "the", "of", "-", ":",
        "version", "versions", "release", "releases", "rev", "revision", "revisions",
        "software", "firmware", "sw", "fw", "logiciel", "logiciels", "logicielle",
        "logicielles", "micrologiciel", "comprises", "compris", "numero", "no", "n°",
    }
)  # fmt: skip
MARKERS = frozenset(
    {
        "version", "versions", "release", "releases", "rev", "revision", "revisions",
        "software", "firmware", "sw", "fw", "logicielle", "logicielles",
    }
)  # fmt: skip
CONNECTORS = frozenset({",", ";", "|", "et", "and", "ou", "or", "&", "/", "+"})
# after a clause, these open a qualifier ("pour Windows", "sur macOS", "with OIS")
PREPOSITIONS = frozenset(
    {
        "pour", "sur", "sous", "avec", "dans", "en", "executant", "incluant", "utilisant",
        "including", "includes", "dont", "sauf", "hors", "on", "for", "under", "with",
        "running", "in", "installed", "that", "which", "when", "if", "si", "lorsque",
        "except", "excluding", "via", "par", "by", "as", "qui", "fonctionnant",
    }
)  # fmt: skip
# trimmed from both ends of a product name
PRODUCT_STOP = CONNECTORS | frozenset(
    {
        "la", "le", "les", "l'", "de", "des", "du", "d'", "the", "of", "-", ":", "toutes",
        "toute", "tous", "all", "dans", "en", "pour", "from", "with", "avec", "in",
        "executant", "running", "utilisant", "fonctionnant", "sur", "on",
    }
)  # fmt: skip
MONTHS = frozenset(
    {
        "janvier", "fevrier", "mars", "avril", "mai", "juin", "juillet", "aout", "septembre",
        "octobre", "novembre", "decembre", "january", "february", "march", "april", "may",
        "june", "july", "august", "september", "october", "november", "december",
    }
)  # fmt: skip
INCLUDES_WORDS = frozenset({"inclus", "incluant", "includes", "including", "included"})
INCLUSIVE_WORDS = frozenset(
    {"inclus", "incluse", "incluses", "inclue", "inclues", "included", "inclusive", "inclusively"}
)
EXCLUSIVE_WORDS = frozenset(
    {"exclu", "exclue", "exclus", "exclues", "excluded", "exclusive", "exclusively"}
)

# --- noise removed before parsing (replaced by spaces, kept as qualifiers) -----------------

# "sans les derniers correctifs de sécurité", "n'intégrant pas le correctif", "without the
# latest patches": every version is affected unless patched; cut to the end of the line.
MISSING_PATCH = re.compile(
    r"\b(?:sans|n'integrant pas|n'incluant pas|ne disposant pas d[ue']|n'ayant pas|avant)"
    r" (?:(?:les|le|la|l'|leurs?|aucun|des) ?)?(?:(?:derni\w{1,4}|recent\w{0,3}) )?"
    r"(?:correctifs?|patch\w{0,2}|mises? a jour|mesures|bulletins?|commit|update)"
    r"|\bwithout (?:the )?(?:(?:latest|last|recent) )?(?:security )?(?:patch|update|fix)"
    r"|\bnot (?:yet )?patched\b|\bunpatched\b"
)
# "pour la vulnérabilité CVE-…", "for CVE-…": cut to the end of the line
CVE_TAIL = re.compile(
    r"\b(?:pour|for|concernant|affected by|impacted by) (?:(?:la|les|the) )?"
    r"(?:vulnerabilit\w{1,4} )?cve-"
)
# "se référer au bulletin de l'éditeur pour la liste des versions vulnérables", "voir le
# bulletin de l'éditeur", "see the vendor advisory": where the versions are, not which; cut to
# the end of the line, or to the closing parenthesis when in one.
REFER_PARENS = re.compile(
    r"\((?:voir|see|cf\.?|se referer|se reporter|consulter|refer to)\b[^()]{0,200}\)"
)
REFER_TAIL = re.compile(
    r"(?:[,;.]\s*|\s)(?:se (?:referer|reporter)|(?:merci de |veuillez )?(?:voir|consulter)"
    r"|cf\.?|(?:please )?(?:see|refer to|consult))\s(?:[^()]{0,40}?[\s'])?"
    r"(?:bulletins?|avis|site|advisor(?:y|ies)|notes?|documentation|page|tableau|publication)\b"
)
# Windows and Office architecture notes: "pour systèmes x64", "(éditions 32 bits)"
ARCH_NOISE = re.compile(
    r"\(?\b(?:pour|for|sur|on) (?:les )?(?:systemes?|systems?|editions?) "
    r"(?:x64|x86|arm64|arm|itanium|ia64|32|64)(?:[- ]?(?:bits?|based))?(?: (?:systems?|editions?))?"
    r"\)?"
    r"|\b(?:pour|for) (?:x64|x86|arm64|32|64)(?:[- ]?(?:bits?|based)){1,2} systems?\b"
    r"|\((?:editions?|edition) (?:32|64)[- ]?bits?\)"
    r"|\((?:32|64)[- ]?bits?(?: editions?)?\)"
    r"|\bpour (?:les )?editions (?:32|64) bits\b"
)
# a sentence after the affected line: "…toutes versions. L'éditeur indique que…"
SENTENCE_END = re.compile(r"(?<=[0-9s)])\. (?=[A-Z])")

# --- versions -----------------------------------------------------------------------------

# A version that may open a clause on its own: dotted numbers, maybe after v/r/h ("7.2",
# "v2.1", "h5.1.x", "10.11.x", "4.6/4.6.1"); bare integers need a bound next to them.
BARE_VERSION = re.compile(r"(?:v|r|h|[a-z]\.)?[0-9]{1,9}(?:\.(?:[0-9]|x\b|\*))")
_LETTERS_FIRST = re.compile(r"[a-z]{0,3}[0-9]|[a-z][.\-_][0-9]")
_EXCLUDED = re.compile(
    r"cve-|(?:x86_64|x86|x64|amd64|arm64|aarch64|ppc64le|ppc64|s390x|i386|i686|ia64)$"
    r"|[0-9]{1,2}/[0-9]{1,2}/[0-9]{2,4}$|[0-9]+(?:st|nd|rd|th|e|er|eme|ere)$"
    r"|[0-9]{1,3}[- ]?(?:bits?|based)$|kb[0-9]"
)
# glued suffixes that belong to the version before them: "SP1", "FP9", "P10", "IF01", "HF2"
SUFFIX_GLUED = re.compile(
    r"(?:sp|fp|up|u|if|ifix|hf|hp|mr|cu|p|sr|ru|b|build|patch|update|rc|beta|alpha|esu)[0-9][\w.\-]{0,20}$"
)
SUFFIX_WORDS = frozenset(
    {
        "build", "patch", "update", "sp", "fp", "up", "if", "hf", "mr", "cu", "p", "sr",
        "ru", "hotfix", "rollup", "fixpack", "ifix", "rc", "beta", "alpha", "b", "hp",
    }
)  # fmt: skip
SUFFIX_PAIRS: frozenset[Phrase] = frozenset(
    {("fix", "pack"), ("service", "pack"), ("cumulative", "update"), ("hot", "fix")}
)
NUMBER = re.compile(r"[0-9][\w.\-]{0,30}$")


def is_versionish(low: str, in_version_context: bool, after_bound: bool = False) -> bool:
    """Whether a folded word reads as a version (strictly when nothing announced one)."""
    if len(low) > MAX_VERSION_CHARS or not any(ch.isdigit() for ch in low):
        return False
    if _EXCLUDED.match(low):
        return False
    if after_bound:  # "<= GEH-1.1": right after a bound, any word with a digit
        return True
    if in_version_context:  # "L81", "R4.1L1", "B.02", "h5.1" but not "KRNL64UC", "QCA6391"
        return _LETTERS_FIRST.match(low) is not None
    return BARE_VERSION.match(low) is not None


def strip_v(text: str) -> str:
    """ "V4.1.8" → "4.1.8"; other letter prefixes (h5.1, R21) are part of the version."""
    return text[1:] if text[:1] in "vV" and text[1:2].isdigit() else text


def series(version: str) -> str | None:
    """The series a wildcard names: "7.2.x" → "7.2", "4.*" → "4", "6.5x" → "6.5"; else None."""
    low = version.lower().rstrip()
    stem = low
    while stem.endswith((".x", ".*", "-x", "_x")):
        stem = stem[:-2]
    if stem == low and len(low) > 1 and low[-1] in "x*" and low[-2].isdigit():
        stem = low[:-1]
    if stem == low:
        cut = re.search(r"\.[x*](?=[.\-])", low)
        stem = low[: cut.start()] if cut else low
    if stem == low or not any(ch.isdigit() for ch in stem):
        return None
    return version[: len(stem)]


_LAST_NUMBER = re.compile(r"([0-9]{1,18})([^0-9]{0,64})$")
_LEADING_NUMBERS = re.compile(r"[A-Za-z]{0,4}([0-9]{1,18}(?:\.[0-9]{1,18}){0,12})")


def next_version(prefix: str) -> str | None:
    """The first version after the series ``prefix``: "7.2" → "7.3", "h5.1" → "h5.2"."""
    m = _LAST_NUMBER.search(prefix)
    if m is None:
        return None
    digits = m.group(1)
    bumped = str(int(digits) + 1).zfill(len(digits))
    return prefix[: m.start(1)] + bumped


def numeric_key(version: str) -> tuple[int, ...] | None:
    """The leading dotted numbers of a version, for ordering fixes: "7.3R4" → (7, 3)."""
    m = _LEADING_NUMBERS.match(version)
    return tuple(int(part) for part in m.group(1).split(".")) if m else None


def next_branch(fixed: str) -> str | None:
    """The branch after the one a fix belongs to: "2.2.5" → "2.3", "7.3R4" → "7.4"; "13" → None."""
    m = _LEADING_NUMBERS.match(fixed)
    if m is None:
        return None
    key = [int(part) for part in m.group(1).split(".")]
    if m.end() == len(fixed):  # "2.2.5": the branch is "2.2"
        key = key[:-1]
    if not key:
        return None
    return ".".join(str(part) for part in (*key[:-1], key[-1] + 1))


def same_series(prefix: str, version: str) -> bool:
    """Whether ``version`` starts with ``prefix`` at a component boundary ("16.1" / "16.1R1")."""
    p, v = strip_v(prefix).lower(), strip_v(version).lower()
    if not v.startswith(p):
        return False
    rest = v[len(p) :]
    return rest == "" or not (rest[0].isdigit() or (p[-1:].isalpha() and rest[0].isalpha()))
