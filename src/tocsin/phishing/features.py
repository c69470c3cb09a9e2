"""What the phishing classifier sees of a message: its words and its shape, and nothing that
tells which collection a training message came from.

The public corpora the model is trained on (../shared/data/mail) were gathered by different
people at different times: SpamAssassin's ham from mailing lists in 2002, phishing_pot's
phishing from honeypots in 2023-2025 with every recipient replaced by ``phishing@pot``. A
model given the whole message learns *which collection* a message is from (header names alone
separate them almost perfectly, ``python -m tocsin.phishing.train`` shows it) and not
whether it is phishing. So the features are built from the parts that exist in every email
and say something about its intent, with the artefacts normalised away:

- **No header at all except the Subject.** Header names, recipients (``phishing@pot``),
  Received chains, Message-ID domains, dates, X-Mailer and other software versions,
  mailing-list headers (List-*, Mailing-List, Precedence), authentication results: none is
  read. The rule-based checks judge the headers, with the establishment's own context.
- **Subject:** list tags such as ``[SAtalk]`` or ``[ILUG]`` at its start removed.
- **Body:** the text/plain body, or the text of the HTML body when there is no plain one
  (scripts and styles dropped); mailing-list footers (the ``____`` block naming the list,
  ``listinfo`` and ``unsubscribe`` lines, "sponsored by" blocks of 2002 lists) removed; then
  lower-cased, accents folded, URLs, email addresses (``phishing@pot`` too, wherever the
  collectors' replacement put it), numbers (so every year and date), and currency signs
  replaced by placeholder tokens. Words are hashed (word 1-2-grams, crc32, signed) into
  :data:`N_HASHED` columns: there is no stored vocabulary.
- **Shape** (:data:`SHAPE`): links and distinct link hosts, links to IP addresses, anchors
  that show one URL and lead to another host, forms, password and other input fields,
  scripts, iframes, images, attachments by kind, HTML without any plain body, the share of
  the HTML that is visible text, subject cues (Re/Fwd, capitals, exclamation marks), length.

Pure: no I/O; the same function serves training and analysis, so they cannot disagree.
"""

from __future__ import annotations

import math
import re
import unicodedata
import zlib
from collections import Counter
from html import unescape
from ipaddress import ip_address

from tocsin.phishing.links import Link, extract_links, host_of
from tocsin.phishing.message import ParsedMessage

FEATURES_VERSION = 2
N_HASHED = 2**18
MAX_BODY_CHARS = 100_000  # longer bodies are judged on their beginning

SHAPE: tuple[str, ...] = (
    "links",
    "link_hosts",
    "ip_links",
    "mismatched_anchors",
    "forms",
    "password_inputs",
    "inputs",
    "scripts",
    "iframes",
    "images",
    "attachments",
    "attach_office",
    "attach_pdf",
    "attach_archive",
    "attach_executable",
    "attach_html",
    "attach_image",
    "html_only",
    "html_text_ratio",
    "subject_reply",
    "subject_capitals",
    "subject_exclamation",
    "subject_empty",
    "body_words",
    "body_empty",
)
"""The shape features, in the order of the first columns of a vector."""

Vector = dict[int, float]

LANGUAGE_MARKERS = frozenset(
    # French
    "de la le les des du un une et en au aux est sont pour par sur dans avec que qui ne pas "
    "ce cette ces se sa ses il elle nous vous je ma mes notre nos votre vos leur "
    "ou mais si tout tous tres bien ete etre avez avons "
    # Spanish and Portuguese
    "el los las del al es su sus por para como mas lo uma os da dos "
    "das na nas ao com seu sua voce "
    # German, Dutch, Italian
    "der das und ist ein eine nicht mit dem zu auf fur sie wir het een di "
    "che non una sono".split()
)
"""Function words of the languages other than English found in the corpora. The only
non-English mail of the training corpora is phishing (the ham is English), so these
words would teach the model "not English, so phishing" and make every French email of a
hospital suspect; they are dropped. French content words stay (``compte``, ``garde``…)."""

_URL = re.compile(r"""(?:\b[a-z][a-z0-9+.-]{1,9}://|\bwww\.)[^\s<>"'\])}]+""", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*", re.UNICODE)
_POT = re.compile(r"phishing@pot", re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:[.,:/-]\d+)*")
_CURRENCY = re.compile(r"[$€£¥]")
_WORD = re.compile(r"[^\W\d_]{2,30}")
_LIST_TAG = re.compile(r"^\s*((?:re|fwd?|tr)\s*:\s*)?\[[^\]]{1,40}\]\s*", re.IGNORECASE)
_REPLY = re.compile(r"^\s*(re|fwd?|tr|aw|wg)\s*:", re.IGNORECASE)
_RULE = re.compile(r"^\s*[_=\-~*]{5,}\s*$")
_FOOTER_WORDS = re.compile(
    r"mailing list|listinfo|list-unsubscribe|groups sponsor|is sponsored by|"
    r"unsubscribe|mailman/|lists\.sourceforge|yahoo! groups",
    re.IGNORECASE,
)
_OFFICE = (".doc", ".docx", ".docm", ".xls", ".xlsx", ".xlsm", ".ppt", ".pptx", ".rtf", ".odt")
_ARCHIVE = (".zip", ".rar", ".7z", ".gz", ".tar", ".iso", ".img", ".cab", ".arj", ".lzh")
_EXECUTABLE = (
    ".exe",
    ".scr",
    ".js",
    ".vbs",
    ".bat",
    ".cmd",
    ".lnk",
    ".hta",
    ".msi",
    ".ps1",
    ".jar",
)
_HTML = (".html", ".htm", ".shtml", ".svg", ".xhtml")


_HIDDEN = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
_COUNTED = re.compile(r"<(form|script|iframe|img)\b", re.IGNORECASE)
_INPUT = re.compile(r"<input\b[^>]*>", re.IGNORECASE)
_INPUT_TYPE = re.compile(r"""\btype\s*=\s*["']?(\w+)""", re.IGNORECASE)
_BLOCK = re.compile(r"<(?:br|p|div|tr|li|td|h\d)\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")


def html_text(html: str) -> tuple[str, Counter[str]]:
    """The visible text of ``html`` (scripts, styles and comments dropped, tags removed,
    entities decoded) and the counts of forms, inputs (``password`` ones apart, hidden ones
    not counted), scripts, iframes and images. Regular expressions, not a parser: the
    classifier needs words and counts, several times faster than :mod:`html.parser`."""
    html = html[: MAX_BODY_CHARS * 4]
    counts: Counter[str] = Counter(m.lower() for m in _COUNTED.findall(html))
    for tag in _INPUT.findall(html):
        kind = _INPUT_TYPE.search(tag)
        name = kind.group(1).lower() if kind else "text"
        if name != "hidden":
            counts["password" if name == "password" else "input"] += 1
    text = _TAG.sub(" ", _BLOCK.sub("\n", _HIDDEN.sub(" ", html)))
    return unescape(text), counts


def strip_list_footers(text: str) -> str:
    """``text`` without mailing-list footers: a rule line (``_____``) followed within three
    lines by a line naming a list ends the message; other lines naming a list are dropped."""
    lines = text.splitlines()
    kept: list[str] = []
    for i, line in enumerate(lines):
        if _RULE.match(line) and any(_FOOTER_WORDS.search(x) for x in lines[i + 1 : i + 4]):
            break
        if not _FOOTER_WORDS.search(line):
            kept.append(line)
    return "\n".join(kept)


def normalise(text: str) -> str:
    """Lower case, accents folded, URLs, addresses, numbers and currency signs replaced by
    placeholder words (``zzurl``, ``zzemail``, ``zznum``, ``zzcur``)."""
    text = _POT.sub(" zzemail ", text)
    text = _URL.sub(" zzurl ", text)
    text = _EMAIL.sub(" zzemail ", text)
    text = _NUMBER.sub(" zznum ", text)
    text = _CURRENCY.sub(" zzcur ", text)
    text = text.lower()
    if text.isascii():
        return text
    folded = unicodedata.normalize("NFKD", text)
    return "".join(c for c in folded if not unicodedata.combining(c))


def subject_of(message: ParsedMessage) -> str:
    """The subject without a mailing list's tag (``[ILUG]``), keeping a Re:/Fwd: prefix."""
    subject = message.subject
    match = _LIST_TAG.match(subject)
    if match:
        subject = (match.group(1) or "") + subject[match.end() :]
    return subject.strip()


def body_of(message: ParsedMessage) -> tuple[str, Counter[str]]:
    """The body as read (plain text, else the HTML's visible text), footers removed, and the
    HTML element counts (``visible``: the length of the HTML's visible text)."""
    visible, counts = html_text(message.html) if message.html else ("", Counter[str]())
    counts["visible"] = len(visible.strip())
    body = message.text if message.text.strip() else visible
    return strip_list_footers(body[:MAX_BODY_CHARS]), counts


def words_of(text: str) -> list[str]:
    """The words of normalised ``text``, without :data:`LANGUAGE_MARKERS`."""
    return [w for w in _WORD.findall(normalise(text)) if w not in LANGUAGE_MARKERS]


def tokens(subject: str, body: str) -> list[str]:
    """Words and word pairs of the normalised body, and subject words marked ``s:``."""
    words = words_of(body)
    found = words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
    found.extend("s:" + w for w in words_of(subject))
    return found


def hashed(token: str) -> tuple[int, float]:
    """The column (after the shape columns) and the sign of ``token``."""
    code = zlib.crc32(token.encode("utf-8"))
    return len(SHAPE) + code % N_HASHED, -1.0 if code >> 31 else 1.0


def _ip(host: str) -> bool:
    try:
        ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _mismatched(link: Link) -> bool:
    shown = link.shown.strip().lower()
    if link.origin != "html" or not _URL.match(shown):
        return False
    return host_of(shown) not in ("", link.host)


def _attachment_counts(message: ParsedMessage) -> dict[str, float]:
    counts: Counter[str] = Counter()
    for item in message.attachments:
        name = item.filename.lower()
        if item.inline and item.content_type.startswith("image/"):
            continue  # the pictures of an HTML body, counted as images
        counts["attachments"] += 1
        if name.endswith(_OFFICE):
            counts["attach_office"] += 1
        elif name.endswith(".pdf") or item.content_type == "application/pdf":
            counts["attach_pdf"] += 1
        elif name.endswith(_ARCHIVE):
            counts["attach_archive"] += 1
        elif name.endswith(_EXECUTABLE):
            counts["attach_executable"] += 1
        elif name.endswith(_HTML) or item.content_type == "text/html":
            counts["attach_html"] += 1
        elif item.content_type.startswith("image/"):
            counts["attach_image"] += 1
    return {k: math.log1p(v) for k, v in counts.items()}


def _subject_shape(subject: str) -> dict[str, float]:
    letters = [c for c in subject if c.isalpha()]
    capitals = sum(c.isupper() for c in letters) / len(letters) if len(letters) >= 4 else 0.0
    return {
        "subject_reply": float(bool(_REPLY.match(subject))),
        "subject_capitals": capitals,
        "subject_exclamation": float("!" in subject),
        "subject_empty": float(not subject.strip()),
    }


def shape(
    message: ParsedMessage, links: tuple[Link, ...], counts: Counter[str], body: str
) -> dict[str, float]:
    """The shape features (:data:`SHAPE`) of ``message``, counts on a log scale. Links
    written in a plain body count only when they are still in ``body`` (not in a removed
    mailing-list footer)."""
    links = tuple(link for link in links if link.origin != "text" or link.url in body)
    hosts = {link.host for link in links if link.host}
    visible = counts["visible"]
    words = len(words_of(body))
    values = {
        "links": math.log1p(len(links)),
        "link_hosts": math.log1p(len(hosts)),
        "ip_links": float(any(_ip(h) for h in hosts)),
        "mismatched_anchors": math.log1p(sum(_mismatched(link) for link in links)),
        "forms": math.log1p(counts["form"]),
        "password_inputs": float(counts["password"] > 0),
        "inputs": math.log1p(counts["input"]),
        "scripts": math.log1p(counts["script"]),
        "iframes": math.log1p(counts["iframe"]),
        "images": math.log1p(counts["img"]),
        "html_only": float(bool(message.html.strip()) and not message.text.strip()),
        "html_text_ratio": visible / len(message.html) if message.html else 0.0,
        "body_words": math.log1p(words) / 10,
        "body_empty": float(words < 5),
    }
    values.update(_attachment_counts(message))
    values.update(_subject_shape(subject_of(message)))
    return values


def vectorise(message: ParsedMessage, links: tuple[Link, ...] | None = None) -> Vector:
    """The sparse feature vector of ``message``: shape columns first, then hashed words
    (1 + log of the count, signed, L2-normalised together)."""
    if links is None:
        links = extract_links(message)
    body, counts = body_of(message)
    values = shape(message, links, counts, body)
    vector: Vector = {i: values[name] for i, name in enumerate(SHAPE) if values.get(name)}
    hashed_values: dict[int, float] = {}
    for token, count in Counter(tokens(subject_of(message), body)).items():
        column, sign = hashed(token)
        hashed_values[column] = hashed_values.get(column, 0.0) + sign * (1.0 + math.log(count))
    norm = math.sqrt(sum(v * v for v in hashed_values.values())) or 1.0
    for column, value in hashed_values.items():
        if value:
            vector[column] = value / norm
    return vector


def n_columns() -> int:
    """How many columns a vector has: the shape columns and the hashed ones."""
    return len(SHAPE) + N_HASHED


__all__ = [
    "FEATURES_VERSION",
    "N_HASHED",
    "SHAPE",
    "Vector",
    "body_of",
    "n_columns",
    "normalise",
    "subject_of",
    "tokens",
    "vectorise",
]
