"""The demo establishment's tables (``tocsin/data/demo/*.toml``) and their expansion.

``establishment.toml`` names the establishment, the demo account and the services
(care units and support areas, each with a care function and a location).
``assets-*.toml`` hold asset templates: an ``[[asset]]`` entry has the columns of the
CSV format (docs/inventory-formats.md) plus

- ``services``: repeat the entry for each listed service, whose care function and
  location become the defaults; ``{svc}`` and ``{service}`` give its code and label;
- ``count``: instances per service (or in all, without ``services``); ``{n}`` numbers
  them from 1 across the entry, e.g. ``srv-dc-{n:02}``;
- a list in ``vendor``, ``product``, ``version``, ``cpe``, ``location`` … picks its
  ``k``-th element (cycling) for the ``k``-th instance;
- ``{vendor}``, ``{product}`` and ``{version}`` in the other fields give the chosen values.

A ``[defaults]`` table fills the fields an entry leaves out (tags are added together).
Expansion is pure and deterministic; :mod:`tocsin.demo.generate` writes its result to
``inventory.csv``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tocsin.data import data_path
from tocsin.errors import ConfigError, Location
from tocsin.inventory.importers.csv import COLUMNS
from tocsin.model import EstablishmentType

DEMO_DIR = ("demo",)
INVENTORY_FILE = "inventory.csv"
ESTABLISHMENT_FILE = "establishment.toml"

Text = str | list[str]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServiceSpec(_Strict):
    label: str
    function: str
    location: str


class EstablishmentSpec(_Strict):
    slug: str
    name: str
    type: EstablishmentType = EstablishmentType.CH
    finess: str | None = None
    region: str | None = None


class AccountSpec(_Strict):
    username: str


class DemoSpec(_Strict):
    """Contents of ``establishment.toml``."""

    establishment: EstablishmentSpec
    account: AccountSpec
    services: dict[str, ServiceSpec]


class AssetTemplate(_Strict):
    """One ``[[asset]]`` entry of an ``assets-*.toml`` file."""

    id: str
    name: str
    kind: str | None = None
    vendor: Text | None = None
    product: Text | None = None
    version: Text | None = None
    cpe: Text | None = None
    purl: Text | None = None
    criticality: str | None = None
    exposure: str | None = None
    function: str | None = None
    owner: str | None = None
    location: Text | None = None
    tags: list[str] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list)
    count: int = Field(default=1, ge=1, le=1000)


@dataclass(frozen=True)
class _Instance:
    n: int
    k: int
    service_code: str | None
    service: ServiceSpec | None


def _load(name: str) -> dict[str, Any]:
    resource = data_path(*DEMO_DIR, name)
    try:
        return tomllib.loads(resource.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", Location(f"tocsin/data/demo/{name}")) from exc


def _invalid(name: str, exc: ValidationError) -> ConfigError:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    return ConfigError(first["msg"], Location(f"tocsin/data/demo/{name}", field=where))


def load_spec() -> DemoSpec:
    """The establishment, account and services of the demo."""
    try:
        return DemoSpec.model_validate(_load(ESTABLISHMENT_FILE))
    except ValidationError as exc:
        raise _invalid(ESTABLISHMENT_FILE, exc) from exc


def template_files() -> list[str]:
    folder = data_path(*DEMO_DIR)
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.name.startswith("assets-") and p.name.endswith(".toml")
    )


def load_templates() -> list[AssetTemplate]:
    """Every asset template, file by file in name order, defaults applied."""
    templates: list[AssetTemplate] = []
    for name in template_files():
        data = _load(name)
        defaults = data.get("defaults", {})
        for position, entry in enumerate(data.get("asset", [])):
            merged = {**defaults, **entry}
            merged["tags"] = [*defaults.get("tags", []), *entry.get("tags", [])]
            try:
                templates.append(AssetTemplate.model_validate(merged))
            except ValidationError as exc:
                error = _invalid(name, exc)
                raise ConfigError(
                    f"asset #{position + 1} ({entry.get('id', '?')}): {error.message}",
                    error.location,
                ) from exc
    return templates


def _instances(template: AssetTemplate, services: Mapping[str, ServiceSpec]) -> Iterator[_Instance]:
    codes: Sequence[str | None] = template.services or [None]
    k = 0
    for code in codes:
        if code is not None and code not in services:
            raise ConfigError(
                f"unknown service {code!r} in asset {template.id!r}",
                Location("tocsin/data/demo", field="services"),
            )
        for _ in range(template.count):
            yield _Instance(k + 1, k, code, services[code] if code else None)
            k += 1


def _pick(value: Text | None, k: int) -> str | None:
    if isinstance(value, list):
        return value[k % len(value)] if value else None
    return value


def _row(template: AssetTemplate, instance: _Instance) -> dict[str, str]:
    picked = {
        column: _pick(getattr(template, column), instance.k)
        for column in COLUMNS
        if column != "tags"
    }
    if instance.service is not None:
        picked["function"] = picked["function"] or instance.service.function
        picked["location"] = picked["location"] or instance.service.location
    variables = {
        "n": instance.n,
        "svc": instance.service_code or "",
        "service": instance.service.label if instance.service else "",
        "vendor": picked["vendor"] or "",
        "product": picked["product"] or "",
        "version": picked["version"] or "",
    }
    row = {column: (value or "").format(**variables) for column, value in picked.items()}
    row["tags"] = ";".join(template.tags)
    return row


def expand(
    templates: Sequence[AssetTemplate], services: Mapping[str, ServiceSpec]
) -> list[dict[str, str]]:
    """CSV rows (column → text) for every instance of every template, ids unique."""
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for template in templates:
        for instance in _instances(template, services):
            row = _row(template, instance)
            if row["id"] in seen:
                raise ConfigError(
                    f"duplicate asset id {row['id']!r}", Location("tocsin/data/demo", field="id")
                )
            seen.add(row["id"])
            rows.append(row)
    return rows


def demo_rows() -> list[dict[str, str]]:
    """The demo inventory as CSV rows, expanded from the bundled tables."""
    return expand(load_templates(), load_spec().services)
