"""Helpers shared by the inventory tests: the fixture folder and a parse shortcut."""

from __future__ import annotations

from pathlib import Path

from tocsin.errors import InventoryError
from tocsin.inventory.importers import ParsedInventory, get_importer

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> Path:
    return FIXTURES / name


def parse(fmt: str, text: str, origin: str = "inventaire.csv") -> ParsedInventory:
    return get_importer(fmt).parse(text, origin)


def error(fmt: str, text: str, origin: str = "inventaire.csv") -> InventoryError:
    """The InventoryError that parsing ``text`` raises (fails the test when none is)."""
    try:
        get_importer(fmt).parse(text, origin)
    except InventoryError as exc:
        return exc
    raise AssertionError("no InventoryError raised")


def read(name: str) -> str:
    """A fixture's text as Tocsin reads it (bytes decoded, line endings kept)."""
    from tocsin.inventory.importers.reading import read_text

    return read_text(fixture(name), 10_000_000).text
