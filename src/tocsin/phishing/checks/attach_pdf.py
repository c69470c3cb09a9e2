"""PDF documents: JavaScript, automatic and launch actions, embedded files, forms, the links
they carry (a PDF whose content is one button to a site is a common lure), and QR codes in
their images.

Two readers, both bounded: a raw scan of the bytes for the names that matter (with ``#xx``
escapes undone, the way ``/J#61vaScript`` hides) and for uncompressed ``/URI`` strings;
then pypdf (non-strict) for what object streams hide: the catalogue's actions, names and
form, the first :data:`MAX_PAGES` pages' link annotations and images.
"""

from __future__ import annotations

import io
import logging
import re
import struct
import zlib

from PIL import Image
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from tocsin.phishing.checks.attach_kinds import Findings
from tocsin.phishing.checks.attach_qr import MAX_PIXELS, decode_image, qr_findings
from tocsin.phishing.links import Link
from tocsin.phishing.model import Reason

logging.getLogger("pypdf").setLevel(logging.CRITICAL)  # malformed PDFs are the norm in mail

MAX_PAGES = 20
MAX_IMAGES = 8
MAX_URLS = 100
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_NAME = re.compile(rb"/[A-Za-z0-9#]{2,40}")
_HEX = re.compile(rb"#([0-9A-Fa-f]{2})")
_URI = re.compile(rb"/URI\s*\(([^)]{4,2000})\)")
_INTERESTING = {
    b"/JavaScript",
    b"/JS",
    b"/OpenAction",
    b"/AA",
    b"/Launch",
    b"/EmbeddedFile",
    b"/EmbeddedFiles",
    b"/AcroForm",
    b"/XFA",
    b"/SubmitForm",
}


def _raw_names(data: bytes) -> set[bytes]:
    found: set[bytes] = set()
    for match in _NAME.finditer(data):
        name = match.group(0)
        if b"#" in name:
            name = _HEX.sub(lambda m: bytes([int(m.group(1), 16)]), name)
        if name in _INTERESTING:
            found.add(name)
    return found


def _reader_names(reader: PdfReader) -> set[bytes]:
    """The same names, from the catalogue, its name trees and the pages' annotations."""
    found: set[bytes] = set()
    root = reader.trailer.get("/Root")
    root = root.get_object() if root is not None else None
    if not isinstance(root, DictionaryObject):
        return found
    found |= {k.encode() for k in root if k.encode() in _INTERESTING}
    names = root.get("/Names")
    names = names.get_object() if names is not None else None
    if isinstance(names, DictionaryObject):
        found |= {k.encode() for k in names if k.encode() in _INTERESTING}
    return found


def _urls(reader: PdfReader) -> list[str]:
    urls: list[str] = []
    for page in list(reader.pages)[:MAX_PAGES]:
        annots = page.get("/Annots")
        annots = annots.get_object() if annots is not None else None
        for ref in annots if isinstance(annots, list) else []:
            annot = ref.get_object()
            action = annot.get("/A") if isinstance(annot, DictionaryObject) else None
            action = action.get_object() if action is not None else None
            if isinstance(action, DictionaryObject) and "/URI" in action:
                urls.append(str(action["/URI"]))
            if len(urls) >= MAX_URLS:
                return urls
    return urls


def _channels(xobject: DictionaryObject) -> int:
    space = xobject.get("/ColorSpace")
    space = space.get_object() if space is not None else None
    if space == "/DeviceGray":
        return 1
    if space == "/DeviceRGB":
        return 3
    if isinstance(space, list) and space and space[0] == "/ICCBased":
        profile = space[1].get_object() if len(space) > 1 else None
        if isinstance(profile, DictionaryObject):
            return int(profile.get("/N", 0))
    return 0


def _png(width: int, height: int, channels: int, idat: bytes) -> bytes:
    """A PNG file around a Flate stream with PNG predictors (the same bytes as IDAT)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    colour = 0 if channels == 1 else 2
    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return _PNG_MAGIC + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _image(xobject: DictionaryObject, width: int, height: int) -> Image.Image | None:
    """The picture of an image XObject, decoded by Pillow (C) rather than pypdf's Python
    filters: JPEG as is, 8-bit grey or RGB Flate streams; other encodings are skipped."""
    filters = xobject.get("/Filter")
    filters = filters.get_object() if filters is not None else None
    names = list(filters) if isinstance(filters, list) else [filters]
    raw: bytes = getattr(xobject, "_data", b"") or b""
    if names == ["/DCTDecode"]:
        return Image.open(io.BytesIO(raw))
    channels = _channels(xobject)
    if names != ["/FlateDecode"] or channels not in (1, 3) or xobject.get("/BitsPerComponent") != 8:
        return None
    parms = xobject.get("/DecodeParms")
    parms = parms.get_object() if parms is not None else None
    predictor = int(parms.get("/Predictor", 1)) if isinstance(parms, DictionaryObject) else 1
    if predictor >= 10:
        return Image.open(io.BytesIO(_png(width, height, channels, raw)))
    pixels = zlib.decompressobj().decompress(raw, width * height * channels)
    return Image.frombytes("L" if channels == 1 else "RGB", (width, height), pixels)


def _qr_texts(reader: PdfReader) -> list[str]:
    texts: list[str] = []
    decoded = 0
    for page in list(reader.pages)[:MAX_PAGES]:
        resources = page.get("/Resources")
        resources = resources.get_object() if resources is not None else None
        xobjects = resources.get("/XObject") if isinstance(resources, DictionaryObject) else None
        xobjects = xobjects.get_object() if xobjects is not None else None
        if not isinstance(xobjects, DictionaryObject):
            continue
        for ref in list(xobjects.values())[:MAX_IMAGES]:
            xobject = ref.get_object()
            if not isinstance(xobject, DictionaryObject) or xobject.get("/Subtype") != "/Image":
                continue
            width, height = int(xobject.get("/Width", 0)), int(xobject.get("/Height", 0))
            if width * height > MAX_PIXELS or decoded >= MAX_IMAGES:
                continue
            decoded += 1
            image = _image(xobject, width, height)
            if image is not None:
                texts += decode_image(image)
    return texts


def pdf_findings(data: bytes, where: str) -> Findings:
    """Signs in the PDF in ``data``; pypdf's own failures propagate (the caller turns them
    into ``attachment.unreadable``) after the raw scan's findings are kept."""
    findings = Findings()
    names = _raw_names(data)
    urls = [m.decode("latin-1").replace("\\", "") for m in _URI.findall(data)[:MAX_URLS]]
    qr: list[str] = []
    problem = ""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            findings.reasons.append(
                Reason(
                    "attachment.pdf-encrypted",
                    30,
                    f"{where}: the PDF opens only with a password (its content cannot be checked)",
                )
            )
        else:
            names |= _reader_names(reader)
            urls += _urls(reader)
            qr = _qr_texts(reader)
    except Exception as exc:  # noqa: BLE001 - any pypdf failure: keep what the raw scan found
        problem = f"{type(exc).__name__}: {exc}"[:200]
    _name_reasons(names, where, findings)
    unique = list(dict.fromkeys(u.strip() for u in urls if u.strip()))[:MAX_URLS]
    findings.links += [Link(url, "", "pdf") for url in unique]
    if unique:
        shown = ", ".join(unique[:5]) + (f" (+{len(unique) - 5})" if len(unique) > 5 else "")
        findings.reasons.append(
            Reason("attachment.pdf-link", 10, f"{where}: links to {shown}"[:600])
        )
    findings.add(qr_findings(qr, where))
    if problem:
        findings.reasons.append(
            Reason("attachment.unreadable", 0, f"{where}: PDF only partly read ({problem})")
        )
    return findings


def _name_reasons(names: set[bytes], where: str, findings: Findings) -> None:
    add = findings.reasons.append
    if names & {b"/JavaScript", b"/JS"}:
        add(Reason("attachment.pdf-javascript", 40, f"{where}: the PDF holds JavaScript"))
    if b"/Launch" in names:
        add(Reason("attachment.pdf-launch", 60, f"{where}: the PDF launches a program"))
    if names & {b"/EmbeddedFile", b"/EmbeddedFiles"}:
        add(Reason("attachment.pdf-embedded-file", 30, f"{where}: the PDF carries a file"))
    if names & {b"/OpenAction", b"/AA"} and names & {b"/JavaScript", b"/JS", b"/Launch"}:
        add(Reason("attachment.pdf-autoaction", 20, f"{where}: the PDF acts on opening"))
    if names & {b"/AcroForm", b"/XFA", b"/SubmitForm"}:
        add(Reason("attachment.pdf-form", 10, f"{where}: the PDF holds a form"))
