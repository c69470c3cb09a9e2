"""Language cues: urgency, credentials, account suspension and payment, in French and English.

The phrases and regexes are data (``tocsin/data/phishing/language.toml``, its header says
how to write them). The subject, the text bodies and the HTML bodies turned into text (tags
stripped with the standard library's parser: nothing rendered, nothing fetched) are
normalised (accents removed, lower case, spaces collapsed, curly apostrophes straightened,
invisible characters dropped) and searched; each cue found gives one reason
``language.<cue>`` whose detail quotes the words as written in the message. The points are
small: wording alone must not make legitimate marketing phishing, it only adds to other signs.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from html.parser import HTMLParser

from pydantic import BaseModel, ConfigDict, Field

from tocsin.data import data_path
from tocsin.phishing.checks import CHECKS
from tocsin.phishing.context import Context
from tocsin.phishing.links import Link
from tocsin.phishing.message import ParsedMessage
from tocsin.phishing.model import Reason

MAX_CHARS = 60_000  # of text searched per message (the bait comes first)
LANGUAGES = ("fr", "en")
_INVISIBLE = frozenset("\u00ad\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\ufeff")
_APOSTROPHES = {"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"}
_SKIPPED_TAGS = frozenset({"script", "style", "head"})


class _Phrases(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phrases: list[str] = Field(default_factory=list)
    regexes: list[str] = Field(default_factory=list)


class _Cue(BaseModel):
    model_config = ConfigDict(extra="forbid")
    points: int = Field(ge=0, le=30)
    label: str
    fr: _Phrases = Field(default_factory=_Phrases)
    en: _Phrases = Field(default_factory=_Phrases)


class _LanguageFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cue: dict[str, _Cue]


@dataclass(frozen=True)
class Cue:
    """One cue in one language, its phrases compiled into one pattern."""

    name: str
    label: str
    lang: str
    points: int
    pattern: re.Pattern[str]


@lru_cache(maxsize=2048)
def _char(char: str) -> str:
    """One character normalised (it may become several, or none)."""
    if char in _INVISIBLE:
        return ""
    if char.isspace():
        return " "
    char = _APOSTROPHES.get(char, char)
    decomposed = unicodedata.normalize("NFKD", char)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " " if kept.isspace() else kept


def normalise(text: str) -> tuple[str, list[int]]:
    """``text`` normalised (module docstring), and for each of its characters the index of
    the character of ``text`` it comes from."""
    out: list[str] = []
    origin: list[int] = []
    space = True  # no leading space
    for index, char in enumerate(text[:MAX_CHARS]):
        piece = _char(char)
        if piece == " ":
            if space:
                continue
            space = True
        elif piece:
            space = False
        out.append(piece)
        origin.extend([index] * len(piece))
    return "".join(out), origin


def _alternation(items: list[str]) -> str:
    return "|".join(f"(?:{item})" for item in items)


def _compile(name: str, cue: _Cue, lang: str) -> Cue | None:
    spec: _Phrases = getattr(cue, lang)
    phrases = [re.escape(normalise(p)[0].strip()) for p in spec.phrases if p.strip()]
    parts = [p.replace(r"\ ", " ") for p in phrases] + spec.regexes
    if not parts:
        return None
    pattern = re.compile(rf"(?<![\w'-])(?:{_alternation(parts)})(?![\w-])")
    return Cue(name, cue.label, lang, cue.points, pattern)


def load_cues(text: str) -> tuple[Cue, ...]:
    """The cues of a language file's text (validated; a bad regex raises ``re.error``)."""
    document = _LanguageFile.model_validate(tomllib.loads(text))
    cues = (_compile(n, c, lang) for n, c in document.cue.items() for lang in LANGUAGES)
    return tuple(c for c in cues if c is not None)


@cache
def bundled_cues() -> tuple[Cue, ...]:
    return load_cues(data_path("phishing", "language.toml").read_text(encoding="utf-8"))


class _TextOfHtml(HTMLParser):
    """The text an HTML body shows, tags and scripts left out, blocks separated."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.size = 0
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self.skipping += 1
        self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS and self.skipping:
            self.skipping -= 1
        self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.skipping and self.size < MAX_CHARS:
            self.parts.append(data)
            self.size += len(data)


def html_text(html: str) -> str:
    """The text of an HTML body (never raising on broken markup)."""
    parser = _TextOfHtml()
    try:
        parser.feed(html[: MAX_CHARS * 4])
        parser.close()
    except (AssertionError, ValueError):  # HTMLParser on pathological markup
        pass
    return "".join(parser.parts)


def message_text(message: ParsedMessage) -> str:
    """Subject, text bodies and the text of the HTML bodies, as one text."""
    parts = [message.subject, message.text[:MAX_CHARS]]
    if message.html:
        parts.append(html_text(message.html))
    return "\n".join(p for p in parts if p)


def find_cues(text: str, cues: tuple[Cue, ...]) -> Iterator[Reason]:
    """One reason per cue found in ``text`` (the first language that finds it)."""
    normalised, origin = normalise(text)
    seen: set[str] = set()
    for cue in cues:
        if cue.name in seen:
            continue
        match = cue.pattern.search(normalised)
        if match is None:
            continue
        seen.add(cue.name)
        start, end = origin[match.start()], origin[match.end() - 1] + 1
        quoted = " ".join(text[start:end].split())[:120]
        yield Reason(f"language.{cue.name}", cue.points, f'{cue.label} ({cue.lang}): "{quoted}"')


class LanguageCheck:
    name = "language"

    def __init__(self, cues: tuple[Cue, ...] | None = None) -> None:
        self._cues = cues

    def run(
        self, message: ParsedMessage, links: tuple[Link, ...], context: Context
    ) -> Iterator[Reason]:
        cues = self._cues if self._cues is not None else bundled_cues()
        if context.lang == "en":  # the establishment's language first, for the detail
            cues = tuple(sorted(cues, key=lambda c: c.lang != "en"))
        yield from find_cues(message_text(message), cues)


CHECKS.register(LanguageCheck())
