"""Bundled inventory importers; importing this package registers them."""

from tocsin.inventory.importers import csv as csv
from tocsin.inventory.importers import cyclonedx as cyclonedx
from tocsin.inventory.importers import glpi as glpi
from tocsin.inventory.importers.base import (
    Importer,
    ImportWarning,
    ParsedInventory,
    detect_importer,
    get_importer,
    importers,
    register,
)

__all__ = [
    "ImportWarning",
    "Importer",
    "ParsedInventory",
    "detect_importer",
    "get_importer",
    "importers",
    "register",
]
