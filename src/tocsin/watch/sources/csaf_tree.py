"""The product tree of a CSAF 2.0 document, read into one entry per product id.

CSAF names products in a tree (section 3.1.3 of the standard): ``branches`` nest from vendor
through product family and product name down to a version, where ``product_version`` is one
version and ``product_version_range`` is a ``vers:`` string or the vendor's own wording
("<=3.2", "All versions", "< V4.1.3"). ``full_product_names`` stand alone, and
``relationships`` build composite products ("firmware X installed on device Y") whose ids the
vulnerabilities may refer to. :func:`read_product_tree` walks all three into one
:class:`TreeProduct` per product id; a composite stands for its component (the product that
carries the flaw), named by the composite's full name.

Version wording that is not a ``vers:`` string goes through the free-text reader of
:mod:`tocsin.watch.match.freetext`; what it cannot read stays a name-only entry, with the
full product name kept as evidence in ``AffectedProduct.text``.

Hostile documents: branches are walked without recursion, their depth and the number of
nodes and products are bounded, and a tree over a bound refuses the whole document
(:class:`TreeLimitError`) rather than yield half of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from pydantic import BaseModel, ConfigDict, StrictStr, ValidationError

from tocsin.errors import Location
from tocsin.model.advisory import AffectedProduct, VersionRange, VersionScheme
from tocsin.watch.match.freetext import parse_affected_text, parse_product_version
from tocsin.watch.sources.base import ParseReport

MAX_BRANCH_DEPTH = 64
MAX_BRANCH_NODES = 200_000
MAX_PRODUCTS = 50_000


class TreeLimitError(Exception):
    """The product tree is over a bound: the document is refused, with where and why."""

    def __init__(self, reason: str, path: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path


# --- boundary models ---------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Helper(_Model):
    cpe: StrictStr | None = None
    purl: StrictStr | None = None


class _Product(_Model):
    product_id: StrictStr
    name: StrictStr = ""
    product_identification_helper: _Helper | None = None


class _Branch(_Model):
    category: StrictStr = ""
    name: StrictStr = ""
    product: _Product | None = None
    branches: list[Any] = []


class _Relationship(_Model):
    category: StrictStr = ""
    product_reference: StrictStr
    relates_to_product_reference: StrictStr = ""
    full_product_name: _Product


# --- what the tree says about one product ---------------------------------------------------


@dataclass(frozen=True)
class TreeProduct:
    """One product id: vendor, product name, the versions it covers, its identifiers."""

    product_id: str
    name: str
    product: str
    vendor: str | None = None
    ranges: tuple[VersionRange, ...] = ()
    version: str | None = None  # a single version (product_version), for fixed versions
    cpe: str | None = None
    purl: str | None = None

    def affected(
        self, affected: bool = True, fixed_versions: tuple[str, ...] = ()
    ) -> AffectedProduct:
        return AffectedProduct(
            product=self.product,
            vendor=self.vendor,
            ranges=self.ranges,
            purl=self.purl,
            cpes=(self.cpe,) if self.cpe else (),
            fixed_versions=fixed_versions,
            affected=affected,
            text=self.name or None,
        )


@dataclass
class ProductTree:
    """Products by id, in document order."""

    products: dict[str, TreeProduct] = field(default_factory=dict)

    def __contains__(self, product_id: object) -> bool:
        return product_id in self.products

    def get(self, product_id: str) -> TreeProduct | None:
        return self.products.get(product_id)


@dataclass(frozen=True)
class _Context:
    """What the branches above a node said: vendor, family, name, version wording."""

    vendor: str | None = None
    family: str | None = None
    product_name: str | None = None
    version_category: str | None = None
    version_name: str | None = None

    def below(self, category: str, name: str) -> _Context:
        name = " ".join(name.split())
        if not name:
            return self
        if category == "vendor":
            return _Context(vendor=name)
        if category == "product_family":
            return _Context(self.vendor, name, self.product_name)
        if category == "product_name":
            return _Context(self.vendor, self.family, name)
        if category in ("product_version", "product_version_range"):
            return _Context(self.vendor, self.family, self.product_name, category, name)
        return self


# --- reading the tree ---------------------------------------------------------------------


def read_product_tree(raw: object, origin: str, report: ParseReport) -> ProductTree:
    """Every product of ``raw`` (the document's ``product_tree``), by id.

    A malformed node or relationship is skipped with its location; a tree over a bound
    raises :class:`TreeLimitError`.
    """
    tree = ProductTree()
    if raw is None:
        return tree
    if not isinstance(raw, dict):
        report.skip(Location(origin, field="product_tree"), "product_tree is not an object")
        return tree
    branches = raw.get("branches")
    if branches is not None:
        _read_branches(branches, tree, origin, report)
    names = raw.get("full_product_names")
    if names is not None:
        for path, item in _items(names, "product_tree.full_product_names", origin, report):
            _read_full_name(item, path, tree, origin, report)
    relationships = raw.get("relationships")
    if relationships is not None:
        for path, item in _items(relationships, "product_tree.relationships", origin, report):
            _read_relationship(item, path, tree, origin, report)
    return tree


def _items(
    raw: object, path: str, origin: str, report: ParseReport
) -> Iterator[tuple[str, object]]:
    if not isinstance(raw, list):
        report.skip(Location(origin, field=path), "expected a list")
        return
    for index, item in enumerate(raw):
        yield f"{path}[{index}]", item


def _read_branches(raw: object, tree: ProductTree, origin: str, report: ParseReport) -> None:
    """Walk the branches depth-first with an explicit stack (no recursion)."""
    if not isinstance(raw, list):
        report.skip(Location(origin, field="product_tree.branches"), "expected a list")
        return
    stack: list[tuple[object, _Context, int, str]] = [
        (node, _Context(), 1, f"product_tree.branches[{i}]") for i, node in enumerate(raw)
    ]
    stack.reverse()
    nodes = 0
    while stack:
        node, context, depth, path = stack.pop()
        nodes += 1
        if nodes > MAX_BRANCH_NODES:
            raise TreeLimitError(f"product tree over {MAX_BRANCH_NODES:,} branches", path)
        if depth > MAX_BRANCH_DEPTH:
            raise TreeLimitError(f"branches nested deeper than {MAX_BRANCH_DEPTH}", path)
        try:
            branch = _Branch.model_validate(node)
        except ValidationError as exc:
            skip_invalid(report, origin, path, exc, "malformed branch")
            continue
        here = context.below(branch.category, branch.name)
        if branch.product is not None:
            _add(tree, _from_branch(branch.product, here), f"{path}.product", origin, report)
        children = [
            (child, here, depth + 1, f"{path}.branches[{i}]")
            for i, child in enumerate(branch.branches)
        ]
        stack.extend(reversed(children))


def _read_full_name(
    raw: object, path: str, tree: ProductTree, origin: str, report: ParseReport
) -> None:
    try:
        product = _Product.model_validate(raw)
    except ValidationError as exc:
        skip_invalid(report, origin, path, exc, "malformed product")
        return
    _add(tree, _from_full_name(product), path, origin, report)


def _read_relationship(
    raw: object, path: str, tree: ProductTree, origin: str, report: ParseReport
) -> None:
    try:
        rel = _Relationship.model_validate(raw)
    except ValidationError as exc:
        skip_invalid(report, origin, path, exc, "malformed relationship")
        return
    component = tree.get(rel.product_reference)
    if component is None:
        reason = "relationship refers to an unknown product id"
        report.skip(Location(origin, field=f"{path}.product_reference"), reason)
        return
    composite = rel.full_product_name
    helper = composite.product_identification_helper
    product = TreeProduct(
        product_id=composite.product_id,
        name=" ".join(composite.name.split()) or component.name,
        product=component.product,
        vendor=component.vendor,
        ranges=component.ranges,
        version=component.version,
        cpe=(helper.cpe if helper else None) or component.cpe,
        purl=(helper.purl if helper else None) or component.purl,
    )
    _add(tree, product, f"{path}.full_product_name", origin, report)


def _add(
    tree: ProductTree, product: TreeProduct, path: str, origin: str, report: ParseReport
) -> None:
    if product.product_id in tree.products:
        report.skip(Location(origin, field=f"{path}.product_id"), "duplicate product id")
        return
    if len(tree.products) >= MAX_PRODUCTS:
        raise TreeLimitError(f"product tree over {MAX_PRODUCTS:,} products", path)
    tree.products[product.product_id] = product


def _from_branch(raw: _Product, context: _Context) -> TreeProduct:
    full_name = " ".join(raw.name.split())
    product = context.product_name or context.family or full_name or raw.product_id
    if context.family and context.product_name:
        if context.family.casefold() not in context.product_name.casefold():
            product = f"{context.family} {context.product_name}"
    ranges: tuple[VersionRange, ...] = ()
    version: str | None = None
    if context.version_category == "product_version" and context.version_name:
        ranges, version = version_ranges(product, context.version_name)
    elif context.version_category == "product_version_range" and context.version_name:
        ranges = range_ranges(product, context.version_name)
    helper = raw.product_identification_helper
    return TreeProduct(
        product_id=raw.product_id,
        name=full_name,
        product=product,
        vendor=context.vendor,
        ranges=ranges,
        version=version,
        cpe=helper.cpe if helper else None,
        purl=helper.purl if helper else None,
    )


def _from_full_name(raw: _Product) -> TreeProduct:
    """A product named alone: read its name as free text ("Product X < 4.2")."""
    name = " ".join(raw.name.split())
    parsed = parse_affected_text(name, "en")
    entries = parsed.entries
    product = entries[0].product if entries and entries[0].product else name or raw.product_id
    helper = raw.product_identification_helper
    return TreeProduct(
        product_id=raw.product_id,
        name=name,
        product=product,
        ranges=_union(entry.ranges for entry in entries),
        cpe=helper.cpe if helper else None,
        purl=helper.purl if helper else None,
    )


# --- version wording --------------------------------------------------------------------

_SINGLE_VERSION = re.compile(r"[vV]?(?P<v>[0-9][A-Za-z0-9._+~:()\-]*)")


def version_ranges(product: str, name: str) -> tuple[tuple[VersionRange, ...], str | None]:
    """A ``product_version`` branch: one version exactly, or wording read as free text."""
    text = " ".join(name.split())
    vers = parse_vers(text)  # CISA writes "vers:all/*" here too
    if vers is not None:
        exact = vers[0].exact if len(vers) == 1 else None
        return vers, exact
    single = _SINGLE_VERSION.fullmatch(text)
    if single is not None:
        return (VersionRange(exact=single["v"], text=text),), single["v"]
    ranges = _free_text(product, text)
    if not ranges and " " not in text and any(ch.isdigit() for ch in text):
        return (VersionRange(exact=text, text=text),), text  # "MX-V4.0.1.15", "R3b"
    return ranges, None


def range_ranges(product: str, name: str) -> tuple[VersionRange, ...]:
    """A ``product_version_range`` branch: a ``vers:`` string, or the vendor's wording."""
    text = " ".join(name.split())
    vers = parse_vers(text)
    if vers is not None:
        return vers
    return _free_text(product, text)


@lru_cache(maxsize=1 << 15)
def _free_text(product: str, text: str) -> tuple[VersionRange, ...]:
    return _union(entry.ranges for entry in parse_product_version(product, text, "en"))


def _union(groups: Iterable[tuple[VersionRange, ...]]) -> tuple[VersionRange, ...]:
    return tuple(dict.fromkeys(rng for group in groups for rng in group))


_VERS = re.compile(r"vers:(?P<scheme>[A-Za-z0-9.+\-]{1,32})/(?P<rest>.*)", re.DOTALL)
_CONSTRAINT = re.compile(r"(?P<op>>=|<=|!=|<|>|=)?\s*(?P<version>[^<>=!|\s]+)")
_SCHEMES = {
    "npm": VersionScheme.NPM,
    "pypi": VersionScheme.PYPI,
    "deb": VersionScheme.DEB,
    "rpm": VersionScheme.RPM,
    "maven": VersionScheme.MAVEN,
    "semver": VersionScheme.SEMVER,
    "golang": VersionScheme.SEMVER,
    "cargo": VersionScheme.SEMVER,
}
_LEADING_V = re.compile(r"[vV](?=[0-9])")


def parse_vers(text: str) -> tuple[VersionRange, ...] | None:
    """A ``vers:`` range (the package-url VERS specification) as version ranges.

    Constraints are read in order: a lower bound (``>``, ``>=``) pairs with the next upper
    bound (``<``, ``<=``); ``=`` (or no operator) is one version; ``*`` is every version.
    ``!=`` cannot be expressed as a range and is left out, which widens the range (the
    safe side for a watch). Vendors' variants seen in CISA documents are accepted: the
    ``all`` scheme, a leading "V" on versions, constraints not separated by ``|``.
    Returns None when ``text`` is not a ``vers:`` string or has no constraint.
    """
    match = _VERS.fullmatch(text.strip())
    if match is None:
        return None
    scheme = _SCHEMES.get(match["scheme"].lower(), VersionScheme.GENERIC)
    rest = match["rest"].strip()
    if rest == "*":
        return (VersionRange(all_versions=True, scheme=scheme, text=text),)
    constraints = [
        (m["op"] or "=", _vers_version(m["version"], scheme)) for m in _CONSTRAINT.finditer(rest)
    ]
    if not constraints:
        return None
    return tuple(dict.fromkeys(_vers_ranges(constraints, scheme, text)))


def _vers_version(raw: str, scheme: VersionScheme) -> str:
    version = unquote(raw)
    if scheme is VersionScheme.GENERIC:
        version = _LEADING_V.sub("", version, count=1)
    return version


def _vers_ranges(
    constraints: list[tuple[str, str]], scheme: VersionScheme, text: str
) -> Iterator[VersionRange]:
    lower: tuple[str, bool] | None = None
    for op, version in constraints:
        if op == "=":
            yield VersionRange(exact=version, scheme=scheme, text=text)
        elif op in (">", ">="):
            if lower is not None:  # two lower bounds in a row: the first is open-ended
                yield _bounded(lower, None, None, scheme, text)
            lower = (version, op == ">")
        elif op in ("<", "<="):
            fixed = version if op == "<" else None
            last = version if op == "<=" else None
            yield _bounded(lower, fixed, last, scheme, text)
            lower = None
    if lower is not None:
        yield _bounded(lower, None, None, scheme, text)


def _bounded(
    lower: tuple[str, bool] | None,
    fixed: str | None,
    last: str | None,
    scheme: VersionScheme,
    text: str,
) -> VersionRange:
    return VersionRange(
        introduced=lower[0] if lower else None,
        introduced_exclusive=lower[1] if lower else False,
        fixed=fixed,
        last_affected=last,
        scheme=scheme,
        text=text,
    )


def skip_invalid(
    report: ParseReport, origin: str, path: str, exc: ValidationError, what: str
) -> None:
    """Count a record pydantic refused: where (its first error's path) and why."""
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0] if errors else None
    where = json_path(first["loc"]) if first else ""
    if where:
        path = f"{path}.{where}" if path and not where.startswith("[") else f"{path}{where}"
    reason = f"{what}: {first['msg']}" if first else what
    report.skip(Location(origin, field=path or None), reason)


def json_path(loc: Iterable[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
