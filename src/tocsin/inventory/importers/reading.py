"""Reading an inventory file: size limit first, then a strict choice of encoding.

Accepted: UTF-8, UTF-8 with a byte-order mark, and Latin-1 (read as Windows-1252, its
superset that Excel writes). Refused with a clear message: UTF-16/UTF-32, binary files,
and text whose control characters show it was decoded with the wrong encoding.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path

from tocsin.errors import InventoryError, Location

_BAD_BOMS = {
    codecs.BOM_UTF32_LE: "UTF-32",
    codecs.BOM_UTF32_BE: "UTF-32",
    codecs.BOM_UTF16_LE: "UTF-16",
    codecs.BOM_UTF16_BE: "UTF-16",
}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
ACCEPTED = ("utf-8", "utf-8-sig", "latin-1", "cp1252")


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str
    size: int


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


def _decode_as(data: bytes, origin: str, encoding: str) -> tuple[str, str]:
    """Decode with the encoding the user chose; Latin-1 is read as Windows-1252 when it can."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        name = None
    if name not in {codecs.lookup(e).name for e in ACCEPTED}:
        raise InventoryError(
            f"encoding {encoding!r} is not supported; use UTF-8 or Latin-1", Location(origin)
        )
    if name == "iso8859-1":
        try:
            return data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            return data.decode("latin-1"), "latin-1"
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError as exc:
        prefix = data[: exc.start].decode(encoding, "replace")
        line, column = _position(prefix, len(prefix))
        raise InventoryError(
            f"not valid {encoding} at byte {exc.start}", Location(origin, line, column)
        ) from exc


def decode(data: bytes, origin: str, encoding: str | None = None) -> DecodedText:
    """Decode bytes read from ``origin`` following the rules above."""
    for bom, name in _BAD_BOMS.items():
        if data.startswith(bom):
            raise InventoryError(
                f"{name} files are not supported; save the file as UTF-8",
                Location(origin, 1, 1),
            )
    if encoding is not None:
        text, used = _decode_as(data, origin, encoding)
    elif data.startswith(codecs.BOM_UTF8):
        used = "utf-8-sig"
        try:
            text = data.decode(used)
        except UnicodeDecodeError as exc:
            prefix = data[: exc.start].decode(used, "replace")
            line, column = _position(prefix, len(prefix))
            raise InventoryError(
                f"file starts with a UTF-8 mark but byte {exc.start} is not UTF-8",
                Location(origin, line, column),
            ) from exc
    else:
        try:
            text = data.decode("utf-8")
            used = "utf-8"
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")
                used = "cp1252"
            except UnicodeDecodeError:
                text = data.decode("latin-1")
                used = "latin-1"
    bad = _CONTROL.search(text)
    if bad is not None:
        line, column = _position(text, bad.start())
        hint = "a binary file, or UTF-16" if bad.group() == "\x00" else "another encoding"
        raise InventoryError(
            f"unexpected control character U+{ord(bad.group()):04X} (read as {used}); "
            f"is this {hint}? Save the file as UTF-8",
            Location(origin, line, column),
        )
    return DecodedText(text, used, len(data))


def read_text(path: Path, max_bytes: int, encoding: str | None = None) -> DecodedText:
    """Read and decode a file, refusing it before reading when it is over ``max_bytes``."""
    origin = str(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise InventoryError("file not found", Location(origin)) from exc
    except OSError as exc:
        raise InventoryError(f"cannot read: {exc.strerror}", Location(origin)) from exc
    if not path.is_file():
        raise InventoryError("not a regular file", Location(origin))
    if size > max_bytes:
        raise InventoryError(
            f"file is {size:,} bytes, over the limit of {max_bytes:,} "
            "(raise TOCSIN_IMPORT_MAX_BYTES to import it)",
            Location(origin),
        )
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise InventoryError(f"cannot read: {exc.strerror}", Location(origin)) from exc
    if len(data) > max_bytes:
        raise InventoryError(f"file grew over the limit of {max_bytes:,} bytes", Location(origin))
    return decode(data, origin, encoding)
