"""Suppressions: false positives that stay dismissed, as pure rules.

A suppression says "this advisory does not apply here" for one asset (scope ``asset``) or
for every asset whose normalised vendor and product keys match glob patterns (scope
``product``: ``fortinet`` / ``forti*``). Its advisory pattern is an advisory id
(``CERTFR-2025-AVI-0001``), a CVE id (which also covers bulletins listing that CVE), a glob
(``CVE-2024-*``) or ``*``. Rules are keyed by ids and keys, not by an advisory's content, so
they survive re-runs and new versions of the advisory. The match run drops the findings a
live rule covers before it touches the exposures: a suppressed finding never re-opens.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache

from tocsin.errors import UsageError
from tocsin.model.finding import Finding
from tocsin.model.inventory import Asset

__all__ = [
    "ProductPattern",
    "Suppression",
    "SuppressionScope",
    "glob_matches",
    "split_findings",
    "validate",
]

_PATTERN = re.compile(r"^[\w.*+:/@-]+$")


class SuppressionScope(StrEnum):
    ASSET = "asset"
    PRODUCT = "product"


@dataclass(frozen=True)
class ProductPattern:
    """Globs (``*`` only) over an asset's ``vendor_key`` and ``product_key``."""

    vendor: str = "*"
    product: str = "*"


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    parts = (re.escape(piece) for piece in pattern.casefold().split("*"))
    return re.compile(".*".join(parts), re.DOTALL)


def glob_matches(pattern: str, value: str | None) -> bool:
    """Whether ``value`` matches ``pattern`` (``*`` matches anything, case ignored)."""
    if pattern == "*":
        return True
    return value is not None and _compiled(pattern).fullmatch(value.casefold()) is not None


@dataclass(frozen=True)
class Suppression:
    """A false-positive rule of one establishment (``id`` None until stored)."""

    scope: SuppressionScope
    advisory_pattern: str
    reason: str
    asset_key: str | None = None
    product: ProductPattern | None = None
    expires_at: datetime | None = None
    id: int | None = None
    created_by: str = ""
    created_at: datetime | None = None
    exposure_id: int | None = None  # the exposure whose false-positive status made it
    revoked_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > now

    def covers(
        self, advisory: str, cves: Sequence[str], asset_key: str, asset: Asset | None
    ) -> bool:
        """Whether the rule covers ``advisory`` (with its ``cves``) on an asset.

        ``asset`` gives the vendor and product keys a product rule matches (None: unknown).
        """
        pattern = self.advisory_pattern
        if not (glob_matches(pattern, advisory) or any(glob_matches(pattern, c) for c in cves)):
            return False
        if self.scope is SuppressionScope.ASSET:
            return asset_key == self.asset_key
        product = self.product or ProductPattern()
        vendor_key = asset.vendor_key if asset is not None else None
        product_key = asset.product_key if asset is not None else None
        return glob_matches(product.vendor, vendor_key) and glob_matches(
            product.product, product_key
        )

    def describe(self) -> str:
        """A short human description, recorded as the reason of the status change."""
        if self.scope is SuppressionScope.ASSET:
            where = f"asset {self.asset_key}"
        else:
            product = self.product or ProductPattern()
            where = f"product {product.vendor}/{product.product}"
        number = f" #{self.id}" if self.id is not None else ""
        return f"suppressed by rule{number} ({where}, {self.advisory_pattern}): {self.reason}"


def validate(rule: Suppression) -> None:
    """Refuse rules that are incomplete or would hide everything (UsageError)."""
    if not rule.reason.strip():
        raise UsageError("a suppression needs a reason")
    if not _PATTERN.match(rule.advisory_pattern):
        raise UsageError(f"invalid advisory pattern {rule.advisory_pattern!r}")
    if rule.scope is SuppressionScope.ASSET:
        if not rule.asset_key:
            raise UsageError("a suppression scoped to an asset needs the asset's key")
        return
    product = rule.product
    if product is None:
        raise UsageError("a suppression scoped to a product needs vendor and product patterns")
    for pattern in (product.vendor, product.product):
        if not pattern or not _PATTERN.match(pattern):
            raise UsageError(f"invalid product pattern {pattern!r}")
    if product.vendor == "*" and product.product == "*" and rule.advisory_pattern == "*":
        raise UsageError("a suppression of every advisory on every product would hide everything")


def split_findings(
    findings: Iterable[Finding],
    assets: Mapping[str, Asset],
    rules: Sequence[Suppression],
    now: datetime,
) -> tuple[list[Finding], list[tuple[Finding, Suppression]]]:
    """(findings no live rule covers, covered findings with the first rule covering each)."""
    live = [rule for rule in rules if rule.active(now)]
    kept: list[Finding] = []
    covered: list[tuple[Finding, Suppression]] = []
    for finding in findings:
        asset = assets.get(finding.asset)
        rule = next(
            (r for r in live if r.covers(finding.advisory, finding.cves, finding.asset, asset)),
            None,
        )
        if rule is None:
            kept.append(finding)
        else:
            covered.append((finding, rule))
    return kept, covered
