"""QR codes in images (quishing): a mail that shows a QR code leading to a site moves the
click to a phone, out of the mail gateway's and the workstation's protection.

Images are opened with Pillow only after their header says they are at most
:data:`MAX_PIXELS` pixels (the decompression-bomb guard, checked before any pixel is
decoded); codes are read with zxing-cpp. Only the first frame of an animated image is read.
"""

from __future__ import annotations

import io
import re

import zxingcpp
from PIL import Image

from tocsin.phishing.checks.attach_kinds import Findings
from tocsin.phishing.links import Link, host_of
from tocsin.phishing.model import Reason

MAX_PIXELS = 16_000_000
_QR = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
MIN_SIDE = 40  # tracking pixels and spacers hold no code
_URLISH = re.compile(r"^(?:https?://|www\.)\S+$|^[a-z0-9-]+(?:\.[a-z0-9-]+)+/\S*$", re.I)


def _readable(image: Image.Image) -> Image.Image:
    """A plain grey copy (zxing-cpp reads luminance; some decoders' images it refuses)."""
    return image.convert("L")


def decode_image(image: Image.Image) -> list[str]:
    """The texts of the QR codes in ``image`` (too large or too small images: none)."""
    width, height = image.size
    if width * height > MAX_PIXELS or min(width, height) < MIN_SIDE:
        return []
    codes = zxingcpp.read_barcodes(_readable(image), formats=_QR)
    return [code.text for code in codes[:10] if code.text]


def image_texts(data: bytes) -> tuple[list[str], str]:
    """(QR texts, problem) for the image file in ``data``; the problem is "" when none."""
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        if width * height > MAX_PIXELS:
            return [], f"image of {width}x{height} pixels not decoded (over {MAX_PIXELS:,})"
        image.seek(0)
        return decode_image(image), ""


def qr_findings(texts: list[str], where: str) -> Findings:
    """``attachment.qr-url`` for each QR code that holds a URL (the others are ignored)."""
    findings = Findings()
    for text in dict.fromkeys(t.strip() for t in texts):
        if not _URLISH.match(text):
            continue
        host = host_of(text)
        findings.links.append(Link(text, "", "qr"))
        findings.reasons.append(
            Reason(
                "attachment.qr-url",
                50,
                f"{where}: a QR code leads to {text[:300]} (host {host or 'unknown'})",
            )
        )
    return findings
