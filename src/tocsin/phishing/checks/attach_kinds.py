"""What an attachment is: its kind from its first bytes (magic numbers, never its declared
type), and what its name says (dangerous extensions, double extensions, bidi tricks).

The extension lists are data (``tocsin/data/phishing/attachments.toml``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache

from pydantic import BaseModel, ConfigDict

from tocsin.data import data_path
from tocsin.phishing.links import Link
from tocsin.phishing.model import Reason

# Kinds a user's double click runs (or that carry something it runs).
EXECUTABLE_KINDS = frozenset({"pe", "elf", "mach-o", "lnk", "onenote"})
ARCHIVE_KINDS = frozenset({"zip", "gzip", "7z", "rar", "cab", "bzip2", "xz"})
DISK_KINDS = frozenset({"iso", "vhd", "vhdx"})

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "pe"),
    (b"\x7fELF", "elf"),
    (b"\xfe\xed\xfa\xce", "mach-o"),
    (b"\xfe\xed\xfa\xcf", "mach-o"),
    (b"\xce\xfa\xed\xfe", "mach-o"),
    (b"\xcf\xfa\xed\xfe", "mach-o"),
    (b"\xca\xfe\xba\xbe", "mach-o"),  # universal binary (or a Java class)
    (b"L\x00\x00\x00\x01\x14\x02\x00", "lnk"),
    (b"\xe4\x52\x5c\x7b\x8c\xd8\xa7\x4d\xae\xb1\x53\x78\xd0\x29\x96\xd3", "onenote"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"\x1f\x8b", "gzip"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!\x1a\x07", "rar"),
    (b"MSCF", "cab"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
    (b"{\\rt", "rtf"),
    (b"conectix", "vhd"),
    (b"vhdxfile", "vhdx"),
    (b"\x89PNG\r\n\x1a\n", "image"),
    (b"\xff\xd8\xff", "image"),
    (b"GIF8", "image"),
    (b"BM", "image"),
)
_MARKUP = re.compile(rb"<(svg|!doctype html|html|head|body|script|meta|iframe|form)\b", re.I)
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass
class Findings:
    """What one look at an attachment found: reasons, and URLs it carries (PDF links,
    remote templates, QR codes) for :func:`~tocsin.phishing.checks.attachments.attachment_links`."""

    reasons: list[Reason] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)

    def add(self, other: Findings) -> None:
        self.reasons += other.reasons
        self.links += other.links


class _Lists(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    executable: frozenset[str]
    disk_image: frozenset[str]
    archive: frozenset[str]
    decoy: frozenset[str]
    macro_enabled: frozenset[str]


@lru_cache(maxsize=1)
def lists() -> _Lists:
    """The extension lists of ``attachments.toml`` (read once)."""
    text = data_path("phishing", "attachments.toml").read_text(encoding="utf-8")
    return _Lists.model_validate(tomllib.loads(text))


def sniff(data: bytes) -> str:
    """The kind of ``data`` from its content: "pe", "zip", "ole", "pdf", "html", "svg",
    "image", "iso"… or "" when unknown."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if any(data[at : at + 5] == b"CD001" for at in (0x8001, 0x8801, 0x9001)):
        return "iso"
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    found = _MARKUP.search(head)
    if found:
        return "svg" if found.group(1).lower() == b"svg" else "html"
    return ""


@dataclass(frozen=True)
class Name:
    """A file name as a person sees it and as Windows runs it."""

    raw: str
    clean: str  # bidi controls removed, trailing dots and spaces stripped
    extension: str  # the real one, lower case, "" when none
    inner: str  # the extension before it ("pdf" of "facture.pdf.exe"), lower case

    @property
    def has_bidi(self) -> bool:
        return bool(_BIDI.search(self.raw))


def name_of(filename: str) -> Name:
    base = filename.replace("\\", "/").rpartition("/")[2]
    clean = _BIDI.sub("", base).strip().rstrip(". ")
    stem, dot, extension = clean.rpartition(".")
    if not dot:
        return Name(filename, clean, "", "")
    inner = stem.rstrip(" _\u00a0").rpartition(".")[2] if "." in stem else ""
    return Name(filename, clean, extension.strip().lower(), inner.strip().lower())


def name_reasons(filename: str, where: str) -> list[Reason]:
    """Reasons from a file name alone (``where`` names it in the details: the attachment,
    or "member x of y.zip")."""
    name = name_of(filename)
    found: list[Reason] = []
    known = lists()
    if name.has_bidi:
        found.append(
            Reason(
                "attachment.bidi-name",
                50,
                f"{where}: the name hides its real extension .{name.extension} with"
                " right-to-left control characters",
            )
        )
    dangerous = name.extension in known.executable or name.extension in known.disk_image
    if dangerous and name.inner in known.decoy:
        found.append(
            Reason(
                "attachment.double-extension",
                60,
                f"{where}: looks like a .{name.inner} but is a .{name.extension}",
            )
        )
    return found
