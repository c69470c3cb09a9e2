"""CycloneDX 1.4, 1.5 and 1.6 JSON SBOMs (docs/inventory-formats.md).

The document is checked in this order, each step bounding the work of the next: JSON
syntax (line and column), overall nesting depth, the CycloneDX header (``bomFormat``,
``specVersion``), nesting depth and count of components, then the official JSON schema
of its ``specVersion`` (with ``uniqueItems`` checked in linear time). Every component,
nested ones included, becomes an asset; ``metadata.component`` is the subject of the SBOM
and is only imported when it carries the property ``tocsin:asset=true``. ``tocsin:``
properties (criticality, exposure, …) are inherited by nested components, and from
``metadata.component`` by all of them: the libraries inside a vital medical device are as
vital as the device. Errors name the file and the JSON path of the problem, e.g.
``components[3].components[0].purl``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import PurePath
from typing import Any, ClassVar

from tocsin.errors import InventoryError, Location
from tocsin.inventory.importers.base import ImportWarning, ParsedInventory, register
from tocsin.inventory.importers.fields import build_asset
from tocsin.model import Asset

SUPPORTED_VERSIONS = ("1.4", "1.5", "1.6")
MAX_COMPONENT_DEPTH = 32
MAX_COMPONENTS = 100_000
MAX_JSON_DEPTH = 128
MAX_MESSAGE = 300

KINDS = {
    **dict.fromkeys(
        ("application", "framework", "library", "container", "file", "device-driver"), "software"
    ),
    "operating-system": "os",
    **dict.fromkeys(("device", "firmware", "platform"), "appliance"),
}
# Component types that are not something an advisory can hit: counted, not imported.
NOT_ASSETS = ("data", "cryptographic-asset", "machine-learning-model")
# Properties a component may carry to set Tocsin's own fields: tocsin:<field>.
PROPERTIES = {
    f"tocsin:{name}": name
    for name in ("criticality", "exposure", "function", "owner", "location", "tags", "kind")
}
ASSET_PROPERTY = "tocsin:asset"
# Nested components inherit their parent's tocsin: properties (and top-level components
# those of metadata.component), except the kind, which describes one component only.
NOT_INHERITED = ("kind",)
SUBJECT = "metadata.component"
_TRUE = {"true", "yes", "oui", "1"}

Component = Mapping[str, Any]


def json_path(parts: Iterable[str | int]) -> str:
    """``["components", 3, "purl"]`` → ``components[3].purl``; the root is ``$``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "$"


def _short(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"


def _json_depth(doc: object) -> int:
    """Nesting depth of a parsed JSON value, without recursion."""
    deepest = 0
    stack: list[tuple[object, int]] = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            deepest = max(deepest, depth)
            if depth <= MAX_JSON_DEPTH:
                stack.extend((item, depth + 1) for item in value)
    return deepest


def load_document(text: str, origin: str) -> dict[str, Any]:
    """Parse JSON and check the CycloneDX header; returns the document."""
    try:
        doc = json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as exc:
        raise InventoryError(
            f"invalid JSON: {exc.msg}", Location(origin, exc.lineno, exc.colno)
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise InventoryError(f"invalid JSON: {_short(str(exc))}", Location(origin)) from exc
    if _json_depth(doc) > MAX_JSON_DEPTH:
        raise InventoryError(
            f"JSON nested more than {MAX_JSON_DEPTH} levels deep", Location(origin)
        )
    if not isinstance(doc, dict):
        raise InventoryError(
            "not a CycloneDX document: the top level is not a JSON object",
            Location(origin, field="$"),
        )
    if doc.get("bomFormat") != "CycloneDX":
        raise InventoryError(
            'not a CycloneDX document: bomFormat must be "CycloneDX"',
            Location(origin, field="bomFormat"),
        )
    version = doc.get("specVersion")
    if version not in SUPPORTED_VERSIONS:
        shown = repr(version) if isinstance(version, str) else "missing or not a string"
        raise InventoryError(
            f"CycloneDX specVersion {_short(shown)} is not supported; "
            f"export the SBOM as CycloneDX {', '.join(SUPPORTED_VERSIONS)} JSON",
            Location(origin, field="specVersion"),
        )
    return doc


def _children(component: object, path: str) -> list[tuple[str, Component]]:
    if not isinstance(component, Mapping):
        return []
    nested = component.get("components")
    if not isinstance(nested, list):
        return []
    prefix = f"{path}.components" if path else "components"
    return [(f"{prefix}[{i}]", c) for i, c in enumerate(nested) if isinstance(c, Mapping)]


def iter_components(doc: Mapping[str, Any]) -> Iterator[tuple[str, int, Component]]:
    """(JSON path, depth, component) for every component, depth first, in file order."""
    stack = [(path, 1, c) for path, c in reversed(_children(doc, ""))]
    while stack:
        path, depth, component = stack.pop()
        yield path, depth, component
        stack.extend((p, depth + 1, c) for p, c in reversed(_children(component, path)))


def check_bounds(doc: Mapping[str, Any], origin: str) -> None:
    """Refuse components nested too deep or too many, before the schema sees them."""
    for count, (path, depth, _component) in enumerate(iter_components(doc), start=1):
        if depth > MAX_COMPONENT_DEPTH:
            raise InventoryError(
                f"components nested more than {MAX_COMPONENT_DEPTH} levels deep",
                Location(origin, field=path),
            )
        if count > MAX_COMPONENTS:
            raise InventoryError(
                f"more than {MAX_COMPONENTS:,} components", Location(origin, field=path)
            )


def _unique_items(validator: Any, unique: object, instance: object, schema: object) -> Any:
    """jsonschema's ``uniqueItems`` in linear time (its own compares every pair of items)."""
    from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped]

    if not unique or not isinstance(instance, list):
        return
    seen: dict[str, int] = {}
    for index, item in enumerate(instance):
        key = json.dumps(item, sort_keys=True)
        if key in seen:
            yield ValidationError(f"same as item {seen[key]}; items must be unique", path=[index])
            return
        seen[key] = index


@lru_cache(maxsize=len(SUPPORTED_VERSIONS))
def _schema_validator(version: str) -> Any:
    """The official schema of ``version`` (from cyclonedx-python-lib), with a faster uniqueItems.

    Imported here: jsonschema's format checkers take seconds to import, and only
    CycloneDX imports need them, not every start of the CLI.
    """
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonValidator
    from jsonschema.validators import extend  # type: ignore[import-untyped]

    official = JsonValidator(SchemaVersion.from_version(version))._validator
    try:
        faster = extend(type(official), {"uniqueItems": _unique_items})
        return faster(
            official.schema, registry=official._registry, format_checker=official.format_checker
        )
    except (AttributeError, TypeError):  # jsonschema's internals moved: quadratic but correct
        return official


def validate(doc: Mapping[str, Any], version: str, origin: str) -> None:
    """Validate against the CycloneDX JSON schema of ``version``; the best error is raised."""
    from jsonschema.exceptions import best_match

    try:
        error = best_match(_schema_validator(version).iter_errors(doc))
    except RecursionError as exc:
        raise InventoryError("document too deeply nested to validate", Location(origin)) from exc
    if error is not None:
        raise InventoryError(
            f"not a valid CycloneDX {version} document: {_short(str(error.message))}",
            Location(origin, field=json_path(error.absolute_path)),
        )


def _text(value: object) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _named(value: object) -> str | None:
    return _text(value.get("name")) if isinstance(value, Mapping) else None


def _identity(component: Component, path: str) -> tuple[str | None, str]:
    """id = bom-ref, else purl, else group/name@version; with the JSON path it came from."""
    for key in ("bom-ref", "purl"):
        value = _text(component.get(key))
        if value is not None:
            return value, f"{path}.{key}"
    name = _text(component.get("name"))
    group = _text(component.get("group"))
    version = _text(component.get("version"))
    if name is None:
        return None, f"{path}.name"
    key = f"{group}/{name}" if group else name
    return (f"{key}@{version}" if version else key), f"{path}.name"


def _vendor(component: Component, path: str) -> tuple[str | None, str]:
    for key in ("supplier", "manufacturer"):
        name = _named(component.get(key))
        if name is not None:
            return name, f"{path}.{key}.name"
    publisher = _text(component.get("publisher"))
    if publisher is not None:
        return publisher, f"{path}.publisher"
    if _text(component.get("purl")) is None:
        group = _text(component.get("group"))
        if group is not None:
            return group, f"{path}.group"
    return None, path


@dataclass
class _Properties:
    """Tocsin fields set by ``tocsin:`` properties, with the JSON path of each value."""

    values: dict[str, str] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    asset: bool = False

    def inherited(self) -> _Properties:
        """What nested components inherit: everything but the kind."""
        keep = [key for key in self.values if key not in NOT_INHERITED]
        return _Properties({k: self.values[k] for k in keep}, {k: self.paths[k] for k in keep})


def properties(
    component: Component,
    path: str,
    origin: str,
    warnings: list[ImportWarning],
    parent: _Properties | None = None,
) -> _Properties:
    """Read a component's ``tocsin:`` properties over those it inherits from ``parent``."""
    found = parent.inherited() if parent is not None else _Properties()
    items = component.get("properties")
    for i, item in enumerate(items if isinstance(items, list) else []):
        name = item.get("name") if isinstance(item, Mapping) else None
        if not isinstance(name, str) or not name.lower().startswith("tocsin:"):
            continue
        value = _text(item.get("value")) or ""
        key = name.lower()
        if key == ASSET_PROPERTY:
            found.asset = value.lower() in _TRUE
        elif key in PROPERTIES:
            target = PROPERTIES[key]
            if target == "tags" and found.values.get("tags"):
                value = f"{found.values['tags']};{value}"  # tags add up, other fields override
            found.values[target] = value
            found.paths[target] = f"{path}.properties[{i}].value"
        else:
            where = Location(origin, field=f"{path}.properties[{i}].name")
            warnings.append(ImportWarning(where, f"unknown property {name!r} ignored"))
    return found


def component_asset(component: Component, path: str, origin: str, props: _Properties) -> Asset:
    """Map one component to an asset, validated with the shared field rules."""
    asset_id, id_path = _identity(component, path)
    vendor, vendor_path = _vendor(component, path)
    raw: dict[str, str | None] = {
        "id": asset_id,
        "name": _text(component.get("name")),
        "product": _text(component.get("name")),
        "vendor": vendor,
        "version": _text(component.get("version")),
        "cpe": _text(component.get("cpe")),
        "purl": _text(component.get("purl")),
        "kind": KINDS.get(str(component.get("type")), "software"),
    }
    paths = {
        "id": id_path,
        "name": f"{path}.name",
        "product": f"{path}.name",
        "vendor": vendor_path,
        "version": f"{path}.version",
        "cpe": f"{path}.cpe",
        "purl": f"{path}.purl",
        "kind": f"{path}.type",
    }
    raw.update(props.values)
    paths.update(props.paths)
    at = {key: Location(origin, field=where) for key, where in paths.items()}
    at["*"] = Location(origin, field=path)
    return build_asset(raw, at)


def _subject(doc: Mapping[str, Any]) -> Component | None:
    metadata = doc.get("metadata")
    subject = metadata.get("component") if isinstance(metadata, Mapping) else None
    return subject if isinstance(subject, Mapping) else None


def default_source(doc: Mapping[str, Any], origin: str) -> str:
    name = _named(_subject(doc)) or PurePath(origin).stem or "sbom"
    return f"cyclonedx:{name[:200]}"


def _parent(path: str) -> str:
    """``components[1].components[0]`` → ``components[1]``; top level → the subject."""
    cut = path.rfind(".components[")
    return path[:cut] if cut >= 0 else SUBJECT


@dataclass
class _Collector:
    """Turns components into assets in file order, refusing conflicting duplicates."""

    origin: str
    assets: list[Asset] = field(default_factory=list)
    first: dict[str, tuple[str, Asset]] = field(default_factory=dict)
    warnings: list[ImportWarning] = field(default_factory=list)
    props: dict[str, _Properties] = field(default_factory=dict)

    def add(self, component: Component, path: str, *, subject: bool = False) -> None:
        parent = None if subject else self.props.get(_parent(path))
        props = properties(component, path, self.origin, self.warnings, parent)
        self.props[path] = props
        kind = component.get("type")
        if subject and not props.asset:
            return
        if kind in NOT_ASSETS:
            where = Location(self.origin, field=path)
            self.warnings.append(ImportWarning(where, f"{kind} component not imported"))
            return
        asset = component_asset(component, path, self.origin, props)
        if asset.id not in self.first:
            self.first[asset.id] = (path, asset)
            self.assets.append(asset)
            return
        first_path, first_asset = self.first[asset.id]
        if first_asset != asset:
            raise InventoryError(
                f"duplicate id {asset.id!r} (first at {first_path}) with different fields",
                Location(self.origin, field=path),
            )
        where = Location(self.origin, field=path)
        self.warnings.append(ImportWarning(where, f"same as {first_path}; skipped"))


@register
class CycloneDxImporter:
    name: ClassVar[str] = "cyclonedx"
    description: ClassVar[str] = "CycloneDX 1.4–1.6 JSON SBOM"

    def sniff(self, head: str, filename: str) -> bool:
        start = head.lstrip("\ufeff \t\r\n")
        return start.startswith("{") and '"bomFormat"' in head and "CycloneDX" in head

    def parse(
        self, text: str, origin: str, progress: Callable[[int], None] | None = None
    ) -> ParsedInventory:
        doc = load_document(text, origin)
        check_bounds(doc, origin)
        validate(doc, doc["specVersion"], origin)
        collector = _Collector(origin)
        subject = _subject(doc)
        if subject is not None:
            collector.add(subject, SUBJECT, subject=True)
        count = 0
        for count, (path, _depth, component) in enumerate(iter_components(doc), start=1):
            collector.add(component, path)
            if progress is not None and count % 500 == 0:
                progress(count)
        if progress is not None:
            progress(count)
        services = doc.get("services")
        if isinstance(services, list) and services:
            collector.warnings.append(
                ImportWarning(
                    Location(origin, field="services"),
                    f"{len(services)} services not imported (only components are assets)",
                )
            )
        return ParsedInventory(
            assets=collector.assets,
            source=default_source(doc, origin),
            warnings=collector.warnings,
        )
