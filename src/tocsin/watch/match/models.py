"""Model numbers and product families in product names, medical devices above all.

ICS medical advisories name products by family and model, in lists and ranges: "IntelliVue
patient monitor MX400-MX850", "Patient Monitors MX40, MX450, MX550", "MiniMed Paradigm
522/722 pumps", "Ultrasound EPIQ/Affiniti", "LOGIQ, not including LOGIQ 100 Pro", "Vivid
products, not including EchoPAC". Inventories name one device: "IntelliVue MX800",
"Affiniti 70", "MiniMed Paradigm 522", "LOGIQ E10". This module reads both into a
:class:`Family`: the family words and the models.

- A **model** is one token of letters and digits ("MX800", "E10", "8015", "522K", "T1"),
  not a release ("22H2", "SP1", "CU14"), an architecture ("x64") or a dotted version. A
  list joins models with ",", "/", "and", "et", "&" or "or"; a range is "MX400-MX850",
  "MP2-MP90" or "R1-3" (same letters, numbers from low to high). A name whose numbers are
  not one such slot ("Windows Server 2012 R2": two numbers side by side) has no family.
- The **family words** are the other words, without the words for the kind of device
  ("ultrasound", "ventilator", "pump", "patient monitor"…), the markers ("model",
  "series", "products", "only") and the vendor's name ("HAMILTON-T1" is model T1 of
  Hamilton Medical; the engine drops the vendor, :mod:`tocsin.watch.match.names`).
- **Alternatives**: "EPIQ/Affiniti" (two names of four letters or more) and "A / B" name
  two products; each is read on its own.
- **Exclusions**: "X, not including Y and Z" (also "excluding", "except", "other than",
  "sauf", "hors", "à l'exception de") names X and excludes Y and Z.
- **Described names**: "Welch Allyn Q-Stress Cardiac Stress Testing System" is the product
  Q-Stress followed by a description: :func:`described_heads` gives the names a described
  product may be known by (three words of description or more, ending in a kind word).

Pure functions on text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from tocsin.inventory.normalise import GENERIC_WORDS, generic_word, repair_text

__all__ = [
    "Family",
    "ModelSpec",
    "TYPE_WORDS",
    "alternatives",
    "described_heads",
    "family_of",
    "split_exclusions",
]

_MODEL = re.compile(r"^(?P<p>[a-z]{0,4})(?P<n>\d{1,6})(?P<s>[a-z]{0,3})$")
_NOT_MODEL = re.compile(r"^(?:\d{2}h\d|sp\d+|cu\d+|x64|x86|x32|arm64|ia64|v\d+|\d+bits?|\d+h)$")
# Words for the kind of device, dropped from family words (English and French).
TYPE_WORDS = frozenset(
    """
    ultrasound ultrasounds echographe echographes ventilator ventilators ventilateur
    ventilateurs respirateur respirateurs pump pumps pompe pompes monitor monitors moniteur
    moniteurs scanner scanners device devices appareil appareils system systems systeme
    systemes
    """.split()
)
_TYPE_PHRASES: tuple[tuple[str, ...], ...] = (
    ("patient", "worn", "monitor"),
    ("patient", "monitor"),
    ("patient", "monitors"),
    ("patient", "monitoring"),
    ("infusion", "pump"),
    ("infusion", "pumps"),
    ("insulin", "pump"),
    ("insulin", "pumps"),
    ("product", "line"),
)
_MARKERS = frozenset(
    "model models modele modeles series serie products product produit produits only "
    "seulement gamme line".split()
)
_LIST_WORDS = frozenset({"and", "et", "&", "or", "ou"})
_EXCLUSION = re.compile(
    r"[,;]?\s+\b(?:not\s+including|excluding|except(?:\s+for)?|other\s+than|sauf|hors"
    r"|(?:a|à)\s+l'exception\s+d(?:e|es|u))\s+(?P<rest>.+)$",
    re.IGNORECASE,
)
_EXCLUDED_SPLIT = re.compile(r"\s*(?:,|;|\band\b|\bet\b|&)\s*", re.IGNORECASE)
_ALTERNATIVE = re.compile(r"^(?P<a>[A-Za-z][A-Za-z\-]{3,})/(?P<b>[A-Za-z][A-Za-z\-]{3,})$")
_MAX_ALTERNATIVES = 4


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """Models ``prefix`` + ``low``..``high`` + ``suffix`` ("mx", 400, 850, "")."""

    prefix: str
    low: int
    high: int
    suffix: str

    def holds(self, model: str) -> bool:
        parts = model_parts(model)
        if parts is None or parts[0] != self.prefix or parts[2] != self.suffix:
            return False
        return self.low <= parts[1] <= self.high


@lru_cache(maxsize=1 << 12)
def model_parts(model: str) -> tuple[str, int, str] | None:
    """(prefix, number, suffix) of a model ("mx", 450, ""), None if it is not one; read
    once per model (an advisory may list dozens of model ranges)."""
    found = _MODEL.match(model)
    return None if found is None else (found["p"], int(found["n"]), found["s"])


@dataclass(frozen=True, slots=True)
class Family:
    """Family words and models of a name; ``models`` empty means the whole family."""

    words: tuple[str, ...]
    models: tuple[ModelSpec, ...] = ()
    model_tokens: tuple[str, ...] = ()

    @property
    def core(self) -> str:
        return " ".join(self.words)

    @property
    def model(self) -> str | None:
        """The one model an inventory name gives, if it gives exactly one."""
        return self.model_tokens[0] if len(self.model_tokens) == 1 else None


def _fold_word(text: str) -> str:
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


def is_model(token: str) -> bool:
    return (
        _MODEL.match(token) is not None
        and _NOT_MODEL.match(token) is None
        and any(ch.isdigit() for ch in token)
    )


def _spec(token: str) -> ModelSpec:
    found = _MODEL.match(token)
    assert found is not None
    number = int(found["n"])
    return ModelSpec(found["p"], number, number, found["s"])


def _range(left: str, right: str) -> ModelSpec | None:
    """ "mx400-mx850", "mp2-mp90", "r1-3": one range of models, or None."""
    a, b = _MODEL.match(left), _MODEL.match(right)
    if a is None or b is None or a["s"] != b["s"]:
        return None
    if b["p"] not in (a["p"], ""):
        return None
    low, high = int(a["n"]), int(b["n"])
    return ModelSpec(a["p"], low, high, a["s"]) if low < high else None


_Item = tuple[str, str]  # ("word", w), ("model", token), ("range", "l-h"), ("sep", ",")


def _items(text: str) -> list[_Item]:
    items: list[_Item] = []
    for raw in _fold_word(repair_text(text)).split():
        trailing_comma = raw.endswith((",", ";"))
        token = raw.strip(",;:()[]")
        if not token:
            continue
        if "/" in token:
            parts = [p for p in token.split("/") if p]
            if parts and all(is_model(p) for p in parts):
                for i, part in enumerate(parts):
                    if i:
                        items.append(("sep", "/"))
                    items.append(("model", part))
            else:
                items.extend(("word", w) for p in parts for w in p.split("-") if w)
        elif "-" in token and (pair := token.split("-")) and len(pair) == 2 and _range(*pair):
            items.append(("range", token))
        else:
            for part in token.split("-"):
                if part:
                    items.append(("model" if is_model(part) else "word", part))
        if trailing_comma:
            items.append(("sep", ","))
    return items


def _drop_kinds(words: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(words):
        for phrase in _TYPE_PHRASES:
            if tuple(words[i : i + len(phrase)]) == phrase:
                i += len(phrase)
                break
        else:
            if words[i] not in TYPE_WORDS and words[i] not in _MARKERS:
                out.append(words[i])
            i += 1
    return out


@lru_cache(maxsize=1 << 16)
def family_of(text: str) -> Family | None:
    """The family words and models of a name; None when its models are not one slot."""
    slots: list[list[_Item]] = []
    words: list[str] = []
    joinable = after_model = False
    for kind, value in _items(text):
        if kind in ("model", "range"):
            if joinable and slots:
                slots[-1].append((kind, value))
            else:
                slots.append([(kind, value)])
            joinable, after_model = False, True
        elif kind == "sep" or value in _LIST_WORDS:
            joinable = after_model  # "MX40, MX450", "554CM and 754CM"
        else:
            words.append(value)
            joinable = after_model = False
    if len(slots) > 1:
        return None
    specs: list[ModelSpec] = []
    tokens: list[str] = []
    for kind, value in slots[0] if slots else []:
        if kind == "model":
            specs.append(_spec(value))
            tokens.append(value)
        elif (spec := _range(*value.split("-"))) is not None:
            specs.append(spec)
    return Family(tuple(_drop_kinds(words)), tuple(specs), tuple(tokens))


def split_exclusions(text: str) -> tuple[str, tuple[str, ...]]:
    """ "LOGIQ, not including LOGIQ 100 Pro" → ("LOGIQ", ("LOGIQ 100 Pro",))."""
    found = _EXCLUSION.search(text)
    if found is None or found.start() == 0:
        return text, ()
    excluded = tuple(p.strip(" .") for p in _EXCLUDED_SPLIT.split(found["rest"]) if p.strip(" ."))
    return text[: found.start()].strip(" ,;"), excluded


def alternatives(text: str) -> tuple[str, ...]:
    """The names a name lists: "A / B" and "Ultrasound EPIQ/Affiniti" name two products."""
    parts = [p.strip() for p in re.split(r"\s+/\s+", text) if p.strip()]
    out: list[str] = []
    for part in parts:
        words = part.split()
        for i, word in enumerate(words):
            found = _ALTERNATIVE.match(word)
            if found is not None and not any(
                w.lower() in GENERIC_WORDS for w in (found["a"], found["b"])
            ):
                out += [" ".join([*words[:i], found[s], *words[i + 1 :]]) for s in "ab"]
                break
        else:
            out.append(part)
    return tuple(dict.fromkeys(out))[:_MAX_ALTERNATIVES] if len(out) > 1 else (text,)


def described_heads(words: list[str]) -> list[str]:
    """Names a described product may go by: "q-stress cardiac stress testing system" →
    "q-stress" and "q-stress cardiac": a description of three words or more that ends in a
    kind word ("system", "monitor") and says what the product does with plain words (no
    model, no generic word before the kind word: "enterprise management server" is a
    product name, not a description)."""
    if len(words) < 4 or not (words[-1] in TYPE_WORDS or words[-1] in GENERIC_WORDS):
        return []
    heads: list[str] = []
    for size in range(len(words) - 3, 0, -1):
        described = words[size:-1]
        if not all(w.isalpha() and not generic_word(w) for w in described):
            break
        if not generic_word(words[0]):
            heads.append(" ".join(words[:size]))
    return heads
