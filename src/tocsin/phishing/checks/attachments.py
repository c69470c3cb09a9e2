"""The "attachments" check: what a message's attachments would do if opened.

Every attachment (and every member of an archive or disk image it holds, to
:attr:`~tocsin.phishing.checks.attach_archives.ArchiveLimits.max_depth` levels) is judged
on its bytes and its name: programs and scripts, double extensions and bidi tricks,
declared types that lie, archives (encrypted, nested, bombs), ISO/IMG/VHD images, Office
macros and template injection (:mod:`attach_office`), PDF actions and links
(:mod:`attach_pdf`), HTML/SVG smuggling (:mod:`attach_html`), QR codes (:mod:`attach_qr`).
The HTML body of the message is checked for smuggling too.

Nothing is executed, fetched or written; a library that fails on an odd file gives the
0-point reason ``attachment.unreadable`` and the other attachments are still checked.
:func:`attachment_links` returns the URLs the attachments carry (PDF links, QR codes,
remote templates) for the link checks.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from tocsin.phishing.checks import CHECKS
from tocsin.phishing.checks.attach_archives import (
    Budget,
    Opened,
    gzip_name,
    is_office_zip,
    open_iso,
    open_zip,
)
from tocsin.phishing.checks.attach_html import html_reasons, smuggling_signs, svg_reasons
from tocsin.phishing.checks.attach_kinds import (
    ARCHIVE_KINDS,
    DISK_KINDS,
    EXECUTABLE_KINDS,
    Findings,
    lists,
    name_of,
    name_reasons,
    sniff,
)
from tocsin.phishing.checks.attach_office import office_findings
from tocsin.phishing.checks.attach_pdf import pdf_findings
from tocsin.phishing.checks.attach_qr import image_texts, qr_findings
from tocsin.phishing.context import Context
from tocsin.phishing.links import Link
from tocsin.phishing.message import Attachment, ParsedMessage
from tocsin.phishing.model import Reason

MAX_ATTACHMENTS = 50
MAX_IMAGES = 10  # images whose QR codes are read, per message

_KIND_NAMES = {
    "pe": "a Windows program",
    "elf": "a Linux program",
    "mach-o": "a macOS program",
    "lnk": "a Windows shortcut (LNK)",
    "onenote": "a OneNote notebook",
}
# What a name promises, and the kinds of content that keep that promise.
_EXPECTED = {
    "pdf": {"pdf"},
    "doc": {"ole", "rtf", "html"},
    "xls": {"ole", "html"},
    "ppt": {"ole"},
    "docx": {"zip"},
    "xlsx": {"zip"},
    "pptx": {"zip"},
    "rtf": {"rtf"},
    "jpg": {"image"},
    "jpeg": {"image"},
    "png": {"image"},
    "gif": {"image"},
    "txt": {""},
}
_TELLING = EXECUTABLE_KINDS | ARCHIVE_KINDS | DISK_KINDS | {"ole", "rtf", "html", "svg", "pdf"}


@dataclass
class _Walk:
    """One message's inspection: what was found and what it may still cost."""

    findings: Findings = field(default_factory=Findings)
    images: int = 0


def _dedupe(reasons: list[Reason]) -> list[Reason]:
    return list(dict.fromkeys(reasons))


class _Inspector:
    """Judges one attachment and, recursively, what it contains."""

    def __init__(self, walk: _Walk) -> None:
        self.walk = walk
        self.budget = Budget()

    def add(self, *reasons: Reason) -> None:
        self.walk.findings.reasons.extend(reasons)

    def inspect(
        self, filename: str, data: bytes, chain: tuple[str, ...], content_type: str
    ) -> None:
        where = " inside ".join((filename or "(unnamed)", *reversed(chain)))
        name = name_of(filename)
        kind = sniff(data)
        self.add(*name_reasons(filename, where))
        self._executable(name.extension, kind, where, chain)
        self._mismatch(name.extension, content_type, kind, where)
        try:
            self._content(filename, data, kind, chain, where)
        except Exception as exc:  # noqa: BLE001 - a library's failure on an odd file
            detail = f"{where}: not fully read ({type(exc).__name__}: {exc})"
            self.add(Reason("attachment.unreadable", 0, detail[:300]))

    def _executable(self, extension: str, kind: str, where: str, chain: tuple[str, ...]) -> None:
        known = lists()
        what = _KIND_NAMES.get(kind) or (
            f"a .{extension} file" if extension in known.executable else ""
        )
        if not what:
            return
        code = "attachment.archive-executable" if chain else "attachment.executable"
        self.add(Reason(code, 70, f"{where}: {what}, run when opened"))

    def _mismatch(self, extension: str, content_type: str, kind: str, where: str) -> None:
        expected = _EXPECTED.get(extension)
        if expected is None and content_type.startswith("image/") and kind != "svg":
            expected = {"image"}
        if expected is None or kind in expected or kind not in _TELLING:
            return
        told = f".{extension}" if extension in _EXPECTED else content_type
        self.add(
            Reason(
                "attachment.type-mismatch",
                30,
                f"{where}: named or typed as {told} but its content is {kind}",
            )
        )

    def _content(
        self, filename: str, data: bytes, kind: str, chain: tuple[str, ...], where: str
    ) -> None:
        extension = name_of(filename).extension
        if kind == "zip" and is_office_zip(data):
            self._office(data, "zip", filename, chain, where)
        elif kind in ("ole", "rtf"):
            self._office(data, kind, filename, chain, where)
        elif kind == "zip":
            self._container("zip", data, chain, where, filename)
        elif kind in ("iso", "vhd", "vhdx") or extension in lists().disk_image:
            self._disk(data, kind, chain, where, filename)
        elif kind in ARCHIVE_KINDS:
            self._opaque(data, kind, chain, where, filename)
        elif kind == "pdf":
            self.walk.findings.add(pdf_findings(data, where))
        elif kind == "html" or extension in ("htm", "html", "xhtml", "shtml"):
            self.add(*html_reasons(data.decode("utf-8", "replace"), where))
        elif kind == "svg" or extension == "svg":
            self.add(*svg_reasons(data.decode("utf-8", "replace"), where))
        elif kind == "image" and self.walk.images < MAX_IMAGES:
            self.walk.images += 1
            texts, problem = image_texts(data)
            self.walk.findings.add(qr_findings(texts, where))
            if problem:
                self.add(Reason("attachment.unreadable", 0, f"{where}: {problem}"))

    def _office(
        self, data: bytes, kind: str, filename: str, chain: tuple[str, ...], where: str
    ) -> None:
        if kind == "zip":
            opened = open_zip(data, Budget(self.budget.limits))  # the bomb checks only
            if opened.bomb:
                self._bomb(opened, where)
                return
        self.walk.findings.add(office_findings(data, kind, filename, where))

    def _bomb(self, opened: Opened, where: str) -> None:
        self.add(
            Reason(
                "attachment.archive-bomb",
                50,
                f"{where}: refused as a decompression bomb ({opened.bomb})",
            )
        )

    def _container(
        self, kind: str, data: bytes, chain: tuple[str, ...], where: str, filename: str
    ) -> None:
        if len(chain) >= self.budget.limits.max_depth:
            self.add(
                Reason(
                    "attachment.archive-deep",
                    40,
                    f"{where}: archives nested over {self.budget.limits.max_depth} deep,"
                    " not opened",
                )
            )
            return
        try:
            opened = open_zip(data, self.budget) if kind == "zip" else open_iso(data, self.budget)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
            self.add(Reason("attachment.unreadable", 0, f"{where}: broken archive ({exc})"[:300]))
            return
        self._opened(opened, chain + (filename or "(unnamed)",), where)

    def _opened(self, opened: Opened, chain: tuple[str, ...], where: str) -> None:
        if opened.bomb:
            self._bomb(opened, where)
            return
        if opened.encrypted:
            shown = ", ".join(opened.encrypted[:5])
            self.add(
                Reason(
                    "attachment.archive-encrypted",
                    40,
                    f"{where}: password-protected members ({shown}): their content cannot be"
                    " checked",
                )
            )
        if opened.cut:
            self.add(Reason("attachment.archive-bomb", 50, f"{where}: too much to unpack"))
        if len(chain) > 1:
            self.add(Reason("attachment.archive-nested", 10, f"{where}: an archive in an archive"))
        for member, content in opened.members:
            self.inspect(member, content, chain, "")

    def _disk(self, data: bytes, kind: str, chain: tuple[str, ...], where: str, name: str) -> None:
        self.add(
            Reason(
                "attachment.disk-image",
                50,
                f"{where}: a disk image ({kind or name_of(name).extension}) that Windows opens"
                " as a drive, hiding its files from scanners",
            )
        )
        if kind == "iso":
            self._container("iso", data, chain, where, name)

    def _opaque(
        self, data: bytes, kind: str, chain: tuple[str, ...], where: str, filename: str
    ) -> None:
        self.add(
            Reason(
                "attachment.archive-opaque",
                15,
                f"{where}: a {kind} archive Tocsin does not open (its content is not checked)",
            )
        )
        inner = gzip_name(data) if kind == "gzip" else ""
        if inner:
            self.inspect(inner, b"", (*chain, filename or "(unnamed)"), "")


def _inspect_message(message: ParsedMessage) -> Findings:
    walk = _Walk()
    for attachment in message.attachments[:MAX_ATTACHMENTS]:
        _Inspector(walk).inspect(attachment.filename, attachment.data, (), attachment.content_type)
        if attachment.truncated:
            walk.findings.reasons.append(_cut(attachment))
    signs = smuggling_signs(message.html)
    if signs:
        walk.findings.reasons.append(
            Reason("attachment.html-smuggling", 70, f"the message's HTML body: {'; '.join(signs)}")
        )
    return walk.findings


def _cut(attachment: Attachment) -> Reason:
    return Reason(
        "attachment.unreadable",
        0,
        f"{attachment.filename}: only the first {len(attachment.data):,} of"
        f" {attachment.size:,} bytes were checked",
    )


def attachment_links(message: ParsedMessage) -> list[Link]:
    """The URLs the attachments carry: PDF links (origin "pdf"), QR codes ("qr"), Office
    remote templates and external objects ("office")."""
    return list(dict.fromkeys(_inspect_message(message).links))


class AttachmentsCheck:
    name = "attachments"

    def run(
        self, message: ParsedMessage, links: tuple[Link, ...], context: Context
    ) -> Iterator[Reason]:
        yield from _dedupe(_inspect_message(message).reasons)


CHECKS.register(AttachmentsCheck())
