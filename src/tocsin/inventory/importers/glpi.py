"""CSV exports of GLPI's search lists: Parc > Ordinateurs and Parc > Logiciels.

GLPI (Gestionnaire Libre de Parc Informatique) is the asset manager most French
hospitals run. Its "Exporter en CSV" writes the columns displayed in the list, titled in
the user's language, separated by ';' (a user preference), in UTF-8 with a byte-order
mark; GLPI 10 ends every line with the separator. Cells that hold several values (the
versions of a software, the groups of a computer) join them with ``<br>``, newlines or,
in older versions, ``$#$``. Column titles are recognised in French and English,
ignoring case, accents and spacing; a title row above the header is skipped.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from tocsin.errors import InventoryError, Location
from tocsin.inventory.importers.base import ImportWarning, ParsedInventory, register
from tocsin.inventory.importers.csv import read_rows, sniff_delimiter
from tocsin.inventory.importers.fields import build_asset
from tocsin.inventory.normalise import fold
from tocsin.model import Asset

HEADER_SEARCH_ROWS = 5
_MULTI = re.compile(r"\s*(?:<br\s*/?>|<hr\s*/?>|\$\$\$\$|\$#\$|\r\n|\r|\n)\s*", re.IGNORECASE)

# role → accepted column titles (French and English GLPI UI); compared after _title().
COMPUTER_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("ID",),
    "name": ("Nom", "Name"),
    "entity": ("Entité", "Entity"),
    "status": ("Statut", "Status"),
    "manufacturer": ("Fabricant", "Manufacturer"),
    "model": ("Modèle", "Model"),
    "type": ("Type",),
    "serial": ("Numéro de série", "Serial number"),
    "location": ("Lieu", "Location"),
    "os_name": (
        "Système d'exploitation - Nom",
        "Operating system - Name",
        "Système d'exploitation",
        "Operating system",
    ),
    "os_version": (
        "Système d'exploitation - Version",
        "Operating system - Version",
        "Version du système d'exploitation",
    ),
    "user": ("Utilisateur", "User", "Usager", "Alternate username"),
    "group": ("Groupe", "Group", "Groupe technique", "Group in charge of the hardware"),
    "updated": ("Dernière modification", "Last update"),
}
SOFTWARE_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("ID",),
    "name": ("Nom", "Name"),
    "publisher": ("Éditeur", "Publisher"),
    "versions": ("Versions - Nom", "Versions - Name", "Version - Nom", "Version - Name"),
    "installations": ("Nombre d'installations", "Number of installations"),
    "entity": ("Entité", "Entity"),
    "category": ("Catégorie", "Category"),
}
COMPUTER_REQUIRED = ("name", "os_name")
SOFTWARE_REQUIRED = ("name", "versions")

# Operating system names (lower case, searched anywhere) → the vendor that publishes them.
OS_VENDORS: tuple[tuple[str, str], ...] = (
    ("windows", "Microsoft"),
    ("microsoft", "Microsoft"),
    ("ubuntu", "Canonical"),
    ("red hat", "Red Hat"),
    ("rhel", "Red Hat"),
    ("debian", "Debian"),
    ("centos", "CentOS"),
    ("rocky", "Rocky Linux"),
    ("almalinux", "AlmaLinux"),
    ("suse", "SUSE"),
    ("sles", "SUSE"),
    ("fedora", "Fedora Project"),
    ("oracle linux", "Oracle"),
    ("mac os", "Apple"),
    ("macos", "Apple"),
    ("os x", "Apple"),
    ("esxi", "VMware"),
    ("freebsd", "FreeBSD"),
)


def _title(text: str) -> str:
    """A column title compared loosely: case, accents, apostrophes and spacing ignored."""
    text = html.unescape(text).replace("\u2019", "'").replace("\ufeff", "")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"\s*-\s*", " - ", text)
    return " ".join(text.split())


_COMPUTER_TITLES = {_title(t) for titles in COMPUTER_COLUMNS.values() for t in titles}
_SOFTWARE_TITLES = {_title(t) for titles in SOFTWARE_COLUMNS.values() for t in titles}


def values(cell: str | None) -> list[str]:
    """The values of a possibly multi-valued GLPI cell, in order, without duplicates."""
    if cell is None:
        return []
    found: list[str] = []
    for part in _MULTI.split(html.unescape(cell)):
        part = part.strip()
        if part and part not in found:
            found.append(part)
    return found


def _tag(text: str) -> str:
    """The last level of an entity path ("Entité racine > CHU > Site Nord"), as one tag."""
    last = text.rsplit(">", 1)[-1].strip()
    return " ".join(re.sub(r"[;,|]", " ", last).split())


def os_vendor(os_name: str | None) -> str | None:
    """The vendor of an operating system named as GLPI shows it, when known."""
    if not os_name:
        return None
    lowered = os_name.lower()
    for needle, vendor in OS_VENDORS:
        if needle in lowered:
            return vendor
    return None


def slug(*parts: str | None) -> str:
    return "-".join(fold(p) or "x" for p in parts if p)


@dataclass
class Row:
    """One data row with where each role's cell is, for values and error locations."""

    origin: str
    line: int
    cells: Sequence[str]
    columns: Mapping[str, tuple[int, str]]
    warnings: list[ImportWarning]

    def all(self, role: str) -> list[str]:
        if role not in self.columns:
            return []
        index = self.columns[role][0]
        return values(self.cells[index] if index < len(self.cells) else None)

    def first(self, role: str) -> str | None:
        found = self.all(role)
        if len(found) > 1:
            self.warnings.append(
                ImportWarning(self.at(role), f"{len(found)} values; only {found[0]!r} is used")
            )
        return found[0] if found else None

    def at(self, role: str) -> Location:
        if role not in self.columns:
            return Location(self.origin, self.line)
        index, title = self.columns[role]
        return Location(self.origin, self.line, index + 1, title)


@dataclass
class Export:
    """A GLPI export split into located rows, with the role of each recognised column."""

    origin: str
    columns: dict[str, tuple[int, str]]
    rows: list[Row] = field(default_factory=list)
    warnings: list[ImportWarning] = field(default_factory=list)


def _match_header(cells: Sequence[str], spec: Mapping[str, tuple[str, ...]]) -> dict[str, int]:
    lookup = {_title(t): role for role, titles in spec.items() for t in titles}
    found: dict[str, int] = {}
    for index, cell in enumerate(cells):
        role = lookup.get(_title(cell))
        if role is not None and role not in found:
            found[role] = index
    return found


def _expected(spec: Mapping[str, tuple[str, ...]], roles: Sequence[str]) -> str:
    return ", ".join(" / ".join(f'"{t}"' for t in spec[r][:2]) for r in roles)


def read_export(
    text: str, origin: str, spec: Mapping[str, tuple[str, ...]], required: Sequence[str]
) -> Export:
    """Find the header (skipping a title row), map columns to roles, locate the rows."""
    text = text.lstrip("\ufeff")
    head = text.split("\n", HEADER_SEARCH_ROWS + 1)[: HEADER_SEARCH_ROWS + 1]
    delimiter = sniff_delimiter(max(head, key=lambda line: sum(map(line.count, ";,\t"))))
    header, rows = read_rows(text, origin, delimiter)
    candidates = [(1, header), *rows[:HEADER_SEARCH_ROWS]]
    scored = [
        (len(_match_header(cells, spec)), n, line, cells)
        for n, (line, cells) in enumerate(candidates)
    ]
    _score, skip, header_line, header = max(scored, key=lambda s: (s[0], -s[1]))
    found = _match_header(header, spec)
    missing = [role for role in required if role not in found]
    if missing:
        titles = [c.strip()[:60] for c in header if c.strip()]
        seen = ", ".join(f'"{t}"' for t in titles[:20]) + (", …" if len(titles) > 20 else "")
        raise InventoryError(
            f"not a GLPI export of this list: missing column(s) {_expected(spec, missing)}; "
            f"found {seen or 'no title'}",
            Location(origin, header_line),
        )
    export = Export(origin, {role: (i, header[i].strip()) for role, i in found.items()})
    known = set(found.values())
    for index, title in enumerate(header):
        if index not in known and title.strip():
            export.warnings.append(
                ImportWarning(
                    Location(origin, header_line, index + 1, title.strip()), "column not used"
                )
            )
    for line, cells in rows[skip:]:
        extra = [i for i in range(len(header), len(cells)) if cells[i].strip()]
        if extra:
            raise InventoryError(
                f"{len(cells)} cells but the header has {len(header)} columns",
                Location(origin, line, extra[0] + 1),
            )
        export.rows.append(Row(origin, line, cells, export.columns, export.warnings))
    return export


def _locations(row: Row, roles: Mapping[str, str]) -> dict[str, Location]:
    """Tocsin field → location of the GLPI column it was read from."""
    at = {target: row.at(role) for target, role in roles.items()}
    at["*"] = Location(row.origin, row.line)
    return at


class _Unique:
    """Refuses a second asset with the same id, naming the line of the first."""

    def __init__(self) -> None:
        self.lines: dict[str, int] = {}

    def check(self, asset: Asset, location: Location, hint: str) -> None:
        if asset.id in self.lines:
            raise InventoryError(
                f"duplicate id {asset.id!r} (first on line {self.lines[asset.id]}){hint}",
                location,
            )
        self.lines[asset.id] = location.line or 0


def computer_asset(row: Row) -> Asset:
    """One computer → one asset of kind os (the operating system it runs)."""
    name = row.first("name")
    os_name = row.first("os_name")
    glpi_id = row.first("id")
    serial = row.first("serial")
    asset_id: str | None
    if glpi_id is not None:
        asset_id, id_role = f"glpi-computer-{glpi_id}", "id"
    elif serial is not None:
        asset_id, id_role = f"glpi-computer-sn-{slug(serial)}", "serial"
    else:
        asset_id, id_role = (f"glpi-computer-{slug(name)}" if name else None), "name"
    tags = [_tag(v) for role in ("entity", "type") for v in row.all(role)]
    owner_role = "user" if row.all("user") else "group"
    raw: dict[str, str | None] = {
        "id": asset_id,
        "name": name,
        "kind": "os",
        "vendor": os_vendor(os_name),
        "product": os_name,
        "version": row.first("os_version"),
        "owner": ", ".join(row.all(owner_role)) or None,
        "location": row.first("location"),
        "tags": "|".join(t for t in tags if t),
    }
    roles = {
        "id": id_role,
        "name": "name",
        "vendor": "os_name",
        "product": "os_name",
        "version": "os_version",
        "owner": owner_role,
        "location": "location",
        "tags": "entity",
    }
    return build_asset(raw, _locations(row, roles))


def software_assets(row: Row) -> list[Asset]:
    """One software → one asset per version listed (or one without version)."""
    name = row.first("name")
    publisher = row.first("publisher")
    glpi_id = row.first("id")
    tags = "|".join(t for role in ("entity", "category") for v in row.all(role) if (t := _tag(v)))
    roles = {
        "id": "id" if glpi_id else "name",
        "name": "name",
        "product": "name",
        "vendor": "publisher",
        "version": "versions",
        "tags": "entity",
    }
    assets = []
    versions: list[str | None] = [*row.all("versions")] or [None]
    for version in versions:
        asset_id: str | None = None
        if glpi_id is not None:
            asset_id = f"glpi-software-{glpi_id}" + (f"-{version}" if version else "")
        elif name is not None:
            asset_id = "glpi-software-" + slug(publisher, name, version)
        raw: dict[str, str | None] = {
            "id": asset_id,
            "name": name,
            "kind": "software",
            "vendor": publisher,
            "product": name,
            "version": version,
            "tags": tags,
        }
        assets.append(build_asset(raw, _locations(row, roles)))
    return assets


def _installed(row: Row) -> bool:
    """False when the export says the software is installed nowhere."""
    count = row.first("installations")
    return count is None or not count.isdigit() or int(count) > 0


def _sniff(head: str, titles: set[str], needed: Callable[[set[str]], bool]) -> bool:
    for line in head.lstrip("\ufeff").splitlines()[: HEADER_SEARCH_ROWS + 1]:
        cells = {_title(c.strip().strip('"')) for c in re.split(r"[;,\t]", line)}
        if needed(cells & titles):
            return True
    return False


@register
class GlpiComputersImporter:
    name: ClassVar[str] = "glpi-computers"
    description: ClassVar[str] = "GLPI export of Parc > Ordinateurs (CSV, French or English)"

    def sniff(self, head: str, filename: str) -> bool:
        os_titles = {_title(t) for t in COMPUTER_COLUMNS["os_name"]}
        names = {_title(t) for t in COMPUTER_COLUMNS["name"]}
        return _sniff(head, _COMPUTER_TITLES, lambda c: bool(c & names and c & os_titles))

    def parse(
        self, text: str, origin: str, progress: Callable[[int], None] | None = None
    ) -> ParsedInventory:
        export = read_export(text, origin, COMPUTER_COLUMNS, COMPUTER_REQUIRED)
        hint = "" if "id" in export.columns else "; add the ID column to the GLPI list"
        unique = _Unique()
        assets = []
        for count, row in enumerate(export.rows, start=1):
            asset = computer_asset(row)
            unique.check(asset, row.at("id" if "id" in export.columns else "name"), hint)
            if asset.product is None:
                export.warnings.append(ImportWarning(row.at("os_name"), "no operating system"))
            assets.append(asset)
            if progress is not None and count % 500 == 0:
                progress(count)
        if progress is not None:
            progress(len(export.rows))
        return ParsedInventory(assets, "glpi-computers", export.warnings)


@register
class GlpiSoftwareImporter:
    name: ClassVar[str] = "glpi-software"
    description: ClassVar[str] = "GLPI export of Parc > Logiciels (CSV, French or English)"

    def sniff(self, head: str, filename: str) -> bool:
        versions = {_title(t) for t in SOFTWARE_COLUMNS["versions"]}
        publishers = {_title(t) for t in SOFTWARE_COLUMNS["publisher"]}
        return _sniff(head, _SOFTWARE_TITLES, lambda c: bool(c & versions or c & publishers))

    def parse(
        self, text: str, origin: str, progress: Callable[[int], None] | None = None
    ) -> ParsedInventory:
        export = read_export(text, origin, SOFTWARE_COLUMNS, SOFTWARE_REQUIRED)
        hint = "" if "id" in export.columns else "; add the ID column to the GLPI list"
        unique = _Unique()
        assets = []
        for count, row in enumerate(export.rows, start=1):
            if not _installed(row):
                export.warnings.append(
                    ImportWarning(row.at("installations"), "installed nowhere; skipped")
                )
                continue
            for asset in software_assets(row):
                unique.check(asset, row.at("versions"), hint)
                assets.append(asset)
            if progress is not None and count % 500 == 0:
                progress(count)
        if progress is not None:
            progress(len(export.rows))
        return ParsedInventory(assets, "glpi-software", export.warnings)
