"""HTML and SVG: smuggling (a script that assembles a file in the browser from an embedded
payload: Blob, atob, msSaveOrOpenBlob, createObjectURL, ``<a download>``, data: URIs,
large base64 strings), local credential pages, SVG images that carry script.

Read with regular expressions over at most :data:`MAX_CHARS` characters: nothing is
rendered, no script runs.
"""

from __future__ import annotations

import re

from tocsin.phishing.model import Reason

MAX_CHARS = 4_000_000

_SCRIPT = re.compile(r"<script\b|\bon(?:load|error|click|mouseover)\s*=|javascript:", re.I)
_BLOB = re.compile(r"\bnew\s+Blob\s*\(|createObjectURL|msSaveOrOpenBlob|msSaveBlob", re.I)
_DECODE = re.compile(
    r"\batob\s*\(|fromCharCode|\bunescape\s*\(|Uint8Array|charCodeAt|decodeURIComponent", re.I
)
_DOWNLOAD = re.compile(r"<a\b[^>]*\bdownload\b|\.download\s*=|setAttribute\(\s*['\"]download", re.I)
_DATA_FILE = re.compile(r"data:application/[\w.+-]+;base64,", re.I)
_BASE64 = re.compile(r"[A-Za-z0-9+/]{4000,}={0,2}")
_META_DATA = re.compile(
    r"<meta\b[^>]*http-equiv\s*=\s*['\"]?refresh[^>]*url\s*=\s*['\"]?data:", re.I
)
_PASSWORD = re.compile(r"<input\b[^>]*type\s*=\s*['\"]?password", re.I)
_FORM = re.compile(r"<form\b", re.I)
_REDIRECT = re.compile(
    r"(?:window|document|top|self)\.location(?:\.href)?\s*=|location\.replace\s*\(|"
    r"<meta\b[^>]*http-equiv\s*=\s*['\"]?refresh",
    re.I,
)
_SVG_ACTIVE = re.compile(r"<script\b|<foreignObject\b|\bon\w+\s*=|javascript:", re.I)


def smuggling_signs(text: str) -> list[str]:
    """What makes ``text`` an HTML smuggling page ([] when it is not one)."""
    text = text[:MAX_CHARS]
    if _META_DATA.search(text):
        return ["meta refresh to a data: URI"]
    if not _SCRIPT.search(text):
        return []
    signs = []
    if _BLOB.search(text):
        signs.append("builds a Blob / object URL")
    if _DECODE.search(text):
        signs.append("decodes an embedded payload")
    if _DOWNLOAD.search(text):
        signs.append("triggers a download")
    if _DATA_FILE.search(text):
        signs.append("a data: URI holding a file")
    if _BASE64.search(text):
        signs.append("a large base64 string")
    saves = bool(_BLOB.search(text)) or bool(_DOWNLOAD.search(text))
    payload = bool(_DECODE.search(text) or _BASE64.search(text) or _DATA_FILE.search(text))
    return signs if saves and payload else []


def html_reasons(text: str, where: str) -> list[Reason]:
    """Signs of an HTML attachment (``where`` names it)."""
    text = text[:MAX_CHARS]
    signs = smuggling_signs(text)
    if signs:
        return [
            Reason(
                "attachment.html-smuggling",
                70,
                f"{where}: HTML smuggling ({'; '.join(signs)})",
            )
        ]
    found: list[Reason] = []
    if _PASSWORD.search(text):
        found.append(
            Reason("attachment.html-password", 50, f"{where}: a local page asking for a password")
        )
    elif _FORM.search(text):
        found.append(Reason("attachment.html-form", 25, f"{where}: a local page with a form"))
    if _REDIRECT.search(text) and _SCRIPT.search(text):
        found.append(
            Reason("attachment.html-redirect", 30, f"{where}: a page that sends to another site")
        )
    return found


def svg_reasons(text: str, where: str) -> list[Reason]:
    """Signs of an SVG image: script, event handlers or embedded HTML have no place in a
    picture sent by mail."""
    text = text[:MAX_CHARS]
    signs = smuggling_signs(text)
    if signs:
        return [
            Reason("attachment.html-smuggling", 70, f"{where}: SVG smuggling ({'; '.join(signs)})")
        ]
    active = _SVG_ACTIVE.search(text)
    if active:
        return [
            Reason(
                "attachment.svg-script",
                60,
                f"{where}: an SVG image with active content ({active.group(0).strip()})",
            )
        ]
    return []
