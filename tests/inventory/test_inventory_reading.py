"""Reading inventory files: accepted and refused encodings, and the size limit."""

from __future__ import annotations

import codecs
import os
import time
from pathlib import Path

import pytest
from inventory_helpers import parse

from tocsin.errors import InventoryError
from tocsin.inventory.importers.reading import decode, read_text
from tocsin.inventory.service import parse_file

TEXT = (
    "id;name;vendor;location;owner\n"
    "pacs;Visionneuse PACS;Exemple Imagerie;Bâtiment B – étage 2;Équipe imagerie\n"
    "labo;Serveur laboratoire;Société Générale d'Informatique;Sous-sol;Œuvre « DSI »\n"
)
LIMIT = 10_000_000


def _write(tmp_path: Path, data: bytes, name: str = "parc.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# Latin-1 has neither the en dash nor the Œ ligature that Windows-1252 adds.
LATIN_TEXT = TEXT.replace("–", "-").replace("Œ", "Oe")


@pytest.mark.parametrize(
    ("data", "encoding", "text"),
    [
        (TEXT.encode("utf-8"), "utf-8", TEXT),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig", TEXT),
        (TEXT.encode("cp1252"), "cp1252", TEXT),
        (LATIN_TEXT.encode("latin-1"), "cp1252", LATIN_TEXT),
    ],
    ids=["utf-8", "utf-8-bom", "cp1252", "latin-1"],
)
def test_accepted_encodings_give_the_same_assets(
    tmp_path: Path, data: bytes, encoding: str, text: str
) -> None:
    decoded = read_text(_write(tmp_path, data), LIMIT)
    assert decoded.encoding == encoding
    assets = parse("csv", decoded.text).assets
    assert assets == parse("csv", text).assets
    assert assets[1].vendor == "Société Générale d'Informatique"
    assert assets[1].owner in ("Œuvre « DSI »", "Oeuvre « DSI »")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "UTF-16 files are not supported"),
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "UTF-16 files are not supported"),
        (codecs.BOM_UTF32_LE + TEXT.encode("utf-32-le"), "UTF-32 files are not supported"),
        (TEXT.encode("utf-16-le"), "U+0000"),
        (TEXT.encode("utf-16-be"), "U+0000"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00", "control character"),
        (bytes(range(256)) * 4, "control character"),
    ],
    ids=["utf-16-le-bom", "utf-16-be-bom", "utf-32-bom", "utf-16-le", "utf-16-be", "png", "binary"],
)
def test_refused_encodings_say_why(tmp_path: Path, data: bytes, message: str) -> None:
    path = _write(tmp_path, data)
    with pytest.raises(InventoryError) as caught:
        read_text(path, LIMIT)
    assert message in str(caught.value)
    assert str(caught.value).startswith(str(path))
    assert "UTF-8" in str(caught.value)


def test_utf16_without_bom_hints_at_the_encoding(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match="binary file, or UTF-16"):
        read_text(_write(tmp_path, TEXT.encode("utf-16-le")), LIMIT)


def test_forced_encoding() -> None:
    latin = TEXT.encode("cp1252")
    assert decode(latin, "x.csv", "latin-1").text.startswith("id;name")
    with pytest.raises(InventoryError) as caught:
        decode(latin, "x.csv", "utf-8")
    location = caught.value.location
    assert location is not None and (location.line, location.column) == (2, 41)  # the â of Bâtiment
    with pytest.raises(InventoryError, match="not supported"):
        decode(latin, "x.csv", "utf-16")
    with pytest.raises(InventoryError, match="not supported"):
        decode(latin, "x.csv", "no-such-encoding")


def test_bom_followed_by_invalid_utf8() -> None:
    with pytest.raises(InventoryError, match="UTF-8 mark"):
        decode(codecs.BOM_UTF8 + b"id,name\na,\xe9\n", "x.csv")


def test_size_limit_refuses_a_huge_file_before_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "enorme.csv"
    with path.open("wb") as handle:
        os.truncate(handle.fileno(), 1024**3)  # sparse: no disk used
    start = time.monotonic()
    with pytest.raises(InventoryError) as caught:
        read_text(path, 200 * 1024 * 1024)
    with pytest.raises(InventoryError) as through_service:
        parse_file(path, fmt=None, max_bytes=200 * 1024 * 1024)
    assert time.monotonic() - start < 1.0
    for exc in (caught.value, through_service.value):
        assert str(exc).startswith(str(path))
        assert "1,073,741,824 bytes" in str(exc)
        assert "limit of 209,715,200" in str(exc)
        assert "TOCSIN_IMPORT_MAX_BYTES" in str(exc)


def test_size_limit_is_inclusive(tmp_path: Path) -> None:
    data = b"id,name\na,A\n"
    assert read_text(_write(tmp_path, data), len(data)).size == len(data)
    with pytest.raises(InventoryError, match="over the limit"):
        read_text(_write(tmp_path, data), len(data) - 1)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match="file not found"):
        read_text(tmp_path / "absent.csv", LIMIT)
    with pytest.raises(InventoryError, match="not a regular file"):
        read_text(tmp_path, LIMIT)
