"""The importer extension point: one module per inventory format.

An importer is pure: ``parse(text, origin)`` turns decoded text into assets, or raises
:class:`~tocsin.errors.InventoryError` naming the file, line, column and field. Reading
the file (size limits, encodings) is done once for all in ``reading.py``. Third parties
register importers through the ``tocsin.inventory_importers`` entry-point group.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import ClassVar, Protocol

from tocsin.errors import Location, UsageError
from tocsin.model import Asset


@dataclass(frozen=True)
class ImportWarning:
    """A problem that did not stop the import (an ignored column, a skipped component)."""

    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass
class ParsedInventory:
    assets: list[Asset]
    source: str
    warnings: list[ImportWarning] = field(default_factory=list)


class Importer(Protocol):
    name: ClassVar[str]
    description: ClassVar[str]

    def sniff(self, head: str, filename: str) -> bool:
        """Whether the start of a file looks like this format."""
        ...

    def parse(
        self,
        text: str,
        origin: str,
        progress: Callable[[int], None] | None = None,
    ) -> ParsedInventory:
        """Parse a whole decoded file; ``progress`` receives the number of records read."""
        ...


_REGISTRY: dict[str, type[Importer]] = {}
_ENTRY_POINTS_LOADED = False


def register(cls: type[Importer]) -> type[Importer]:
    """Class decorator adding an importer to the registry; duplicate names are refused."""
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise UsageError(f"inventory importer {cls.name!r} is already registered")
    _REGISTRY[cls.name] = cls
    return cls


def _load_entry_points() -> None:
    global _ENTRY_POINTS_LOADED
    if _ENTRY_POINTS_LOADED:
        return
    _ENTRY_POINTS_LOADED = True
    for entry in entry_points(group="tocsin.inventory_importers"):
        register(entry.load())


def importers() -> dict[str, type[Importer]]:
    # Importing the package registers the bundled importers.
    import tocsin.inventory.importers  # noqa: F401

    _load_entry_points()
    return dict(_REGISTRY)


def get_importer(name: str) -> Importer:
    available = importers()
    if name not in available:
        raise UsageError(
            f"unknown inventory format {name!r}; known: {', '.join(sorted(available))}"
        )
    return available[name]()


def detect_importer(head: str, filename: str) -> Importer:
    for name in ("cyclonedx", "glpi-computers", "glpi-software", "csv"):
        cls = importers().get(name)
        if cls is not None and cls().sniff(head, filename):
            return cls()
    for cls in importers().values():
        if cls().sniff(head, filename):
            return cls()
    raise UsageError(f"{filename}: cannot tell the inventory format; pass --format")
