"""CPE 2.3 names: reading, binding, name matching, and one NVD criterion against one CPE.

Names are read from the formatted-string binding (``cpe:2.3:a:vendor:product:...``, NISTIR
7695, with ``\\`` escapes) or, leniently, from a CPE 2.2 URI. Each attribute is kept in a
canonical form: ``*`` (ANY), ``-`` (NA), or the value in lower case with every escape
removed except those of ``\\*``, ``\\?`` and ``\\\\`` (so ``veeam_backup_\\&_replication`` and
an unescaped ``veeam_backup_&_replication`` are the same name); an unescaped ``*`` or ``?``
at either end of a value is a wildcard.

:func:`cpe_matches` is the name-matching relation of NISTIR 7696 (every attribute of the
pattern a superset of or equal to the target's); :func:`criterion_matches` tests one NVD
``cpeMatch`` criterion (with its version bounds) against one CPE. Sets of CPEs and whole
configurations (AND/OR, negate, platforms) are in :mod:`tocsin.watch.match.cpe_config`,
docs/matching-versions.md gives the
choices made where the specification leaves room (``-`` versions, the update field,
attributes the inventory leaves unspecified).
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import unquote

from tocsin.errors import InputError
from tocsin.model.advisory import CpeMatch, VersionRange
from tocsin.watch.match.versions import InvalidVersionError, compare, describe_range, in_range

ANY = "*"
NA = "-"
_LITERAL_ESCAPED = frozenset("*?\\")
_FS_BARE = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.-")
_MAX_CPE_LENGTH = 1024


class InvalidCpeError(InputError, ValueError):
    """Text that is not a CPE 2.3 formatted string (nor a CPE 2.2 URI)."""


class Cpe(NamedTuple):
    """A CPE name with canonical attribute values (see the module docstring)."""

    part: str
    vendor: str
    product: str
    version: str
    update: str
    edition: str
    language: str
    sw_edition: str
    target_sw: str
    target_hw: str
    other: str

    def __str__(self) -> str:
        return "cpe:2.3:" + ":".join(_bind(value) for value in self)


# --- parsing and binding ---------------------------------------------------------------------


_CHAR = re.compile(r"\\.|.", re.DOTALL)  # an escaped pair or one character


def _split_unescaped(text: str) -> list[str]:
    if "\\" not in text:
        return text.split(":")
    parts = [""]
    for piece in _CHAR.findall(text):
        if piece == ":":
            parts.append("")
        else:
            parts[-1] += piece
    return parts


def _canonical(raw: str) -> str:
    """The canonical form of one formatted-string attribute value."""
    if raw in ("", ANY, NA):
        return raw or ANY
    # (character, is an unescaped wildcard); wildcards count only in runs at either end.
    chars = [(token[-1], token in ("*", "?")) for token in _CHAR.findall(raw)]
    lead = 0
    while lead < len(chars) and chars[lead][1]:
        lead += 1
    tail = len(chars)
    while tail > lead and chars[tail - 1][1]:
        tail -= 1
    value = "".join(
        ch if (special and not lead <= i < tail) or ch not in _LITERAL_ESCAPED else "\\" + ch
        for i, (ch, special) in enumerate(chars)
    ).lower()
    return "\\-" if value == NA else value


def _from_literal(text: str) -> str:
    """The canonical form of a plain (unescaped, wildcard-free) value."""
    value = "".join("\\" + ch if ch in _LITERAL_ESCAPED else ch for ch in text.strip().lower())
    return ANY if not value else "\\-" if value == NA else value


def _bind(value: str) -> str:
    """A canonical value back in formatted-string syntax."""
    if value in (ANY, NA):
        return value
    return "".join(
        t if len(t) == 2 or t in _FS_BARE or t in "*?" else "\\" + t for t in _CHAR.findall(value)
    )


def literal(value: str) -> str:
    """A canonical value with its escapes removed ("xerces-c++", "7.2.5")."""
    return value.replace("\\\\", "\x00").replace("\\", "").replace("\x00", "\\")


def _parse_uri(text: str) -> Cpe:
    fields = [unquote(field) for field in text[5:].split(":")]
    if len(fields) > 7 or not fields[0]:
        raise InvalidCpeError(f"not a CPE 2.2 URI: {text[:120]!r}")
    fields += [""] * (7 - len(fields))
    edition = fields[5]
    extended = ["", "", "", ""]
    if edition.startswith("~"):  # packed: ~edition~sw_edition~target_sw~target_hw~other
        packed = (edition[1:].split("~") + [""] * 5)[:5]
        edition, extended = packed[0], packed[1:]
    values = [*fields[:5], edition, fields[6], *extended]
    return Cpe(*(v if v in (ANY, NA) else _from_literal(v) for v in values))


@lru_cache(maxsize=1 << 16)
def parse_cpe(text: str) -> Cpe:
    """Parse a CPE 2.3 formatted string (or a CPE 2.2 URI); raises :class:`InvalidCpeError`."""
    text = text.strip()
    if len(text) > _MAX_CPE_LENGTH:
        raise InvalidCpeError(f"CPE name longer than {_MAX_CPE_LENGTH} characters")
    lowered = text[:8].lower()
    if lowered.startswith("cpe:/"):
        return _parse_uri(text)
    if not lowered.startswith("cpe:2.3:"):
        raise InvalidCpeError(f"not a CPE 2.3 name: {text[:120]!r}")
    parts = _split_unescaped(text[8:])
    if len(parts) != 11:
        raise InvalidCpeError(f"a CPE 2.3 name has 11 attributes, not {len(parts)}: {text[:120]!r}")
    cpe = Cpe(*(_canonical(part) for part in parts))
    if cpe.part not in ("a", "o", "h", ANY):
        raise InvalidCpeError(f"CPE part must be a, o or h, not {cpe.part!r}")
    return cpe


def _to_cpe(value: str | Cpe) -> Cpe:
    return value if isinstance(value, Cpe) else parse_cpe(value)


def _name_part(text: str) -> str:
    return re.sub(r"\s+", "_", text.strip())


def cpe_from_parts(
    part: str, vendor: str, product: str, version: str | None = None, update: str | None = None
) -> str:
    """A CPE 2.3 formatted string from plain words: ``("a", "Veeam", "Backup & Replication")``."""
    values = [part, _name_part(vendor), _name_part(product), version or ANY, update or ANY]
    canonical = [v.strip() if v.strip() in (ANY, NA) else _from_literal(v) for v in values]
    return str(Cpe(*canonical, *([ANY] * 6)))


def vendor_product(cpe: str | Cpe) -> tuple[str, str]:
    """The vendor and product keys of a CPE for name matching: plain, lower case, ``_``-joined
    (the same form as ``tocsin.inventory.normalise.fold``)."""
    name = _to_cpe(cpe)
    return literal(name.vendor), literal(name.product)


# --- attribute comparison (NISTIR 7696) -------------------------------------------------------


@lru_cache(maxsize=4096)
def _wildcard_regex(value: str) -> re.Pattern[str]:
    pattern = "".join(
        ".*" if t == "*" else "." if t == "?" else re.escape(t[-1]) for t in _CHAR.findall(value)
    )
    return re.compile(pattern, re.DOTALL)


def is_wildcard(value: str) -> bool:
    """Whether a canonical value (not ANY) holds an unescaped wildcard."""
    return ("*" in value or "?" in value) and any(t in ("*", "?") for t in _CHAR.findall(value))


def _superset(source: str, target: str) -> bool:
    """``source`` is a superset of or equal to ``target`` (NISTIR 7696, table 6-2)."""
    if source == target or source == ANY:
        return True
    if source == NA:
        return target == NA
    if target in (ANY, NA) or is_wildcard(target):
        return False  # SUBSET, DISJOINT or UNDEFINED
    if is_wildcard(source):
        return _wildcard_regex(source).fullmatch(literal(target)) is not None
    return source == target


def _compatible(source: str, target: str) -> bool:
    """Like :func:`_superset`, but an attribute the inventory leaves unspecified does not
    exclude a match (target ANY) — used for the part and the refining attributes."""
    return source == target or target == ANY or _superset(source, target)


def cpe_matches(pattern: str | Cpe, target: str | Cpe) -> bool:
    """NISTIR 7696 name matching: ``pattern`` is a superset of or equal to ``target``."""
    source, name = _to_cpe(pattern), _to_cpe(target)
    return all(_superset(s, t) for s, t in zip(source, name, strict=True))


# --- one criterion against one asset CPE ------------------------------------------------------

_GLUED_UPDATE = re.compile(
    r"(?P<base>[0-9]+(?:\.[0-9]+)*)[ ._-]?"
    r"(?:p|sp|u|update|patch|build|r|rev|hotfix|hf|fp)[ ._-]?[0-9]+",
    re.IGNORECASE,
)


def _bounds(match: CpeMatch) -> VersionRange | None:
    start = match.version_start_including or match.version_start_excluding
    if not (start or match.version_end_excluding or match.version_end_including):
        return None
    return VersionRange(
        introduced=start,
        introduced_exclusive=match.version_start_including is None and start is not None,
        fixed=match.version_end_excluding,
        last_affected=match.version_end_including,
    )


@lru_cache(maxsize=1 << 16)
def criterion_range(match: CpeMatch) -> VersionRange | None:
    """The version bounds of a criterion as a range, or None when it has none."""
    bounds = _bounds(match)
    return None if bounds is None else replace(bounds, text=describe_criterion(match))


def describe_criterion(match: CpeMatch) -> str:
    """The criterion with its bounds, as evidence: ``cpe:2.3:a:... [>= 7.2.0, < 7.2.10]``."""
    bounds = _bounds(match)
    text = match.criteria if bounds is None else f"{match.criteria} [{describe_range(bounds)}]"
    return text if match.vulnerable else text + " (platform)"


def _equal_versions(a: str, b: str) -> bool:
    try:
        return compare(a, b) == 0
    except InvalidVersionError:
        return a.strip().lower() == b.strip().lower()


def _asset_version(target: Cpe, fallback: str | None) -> str | None:
    """The asset's version: its CPE's, else the inventory's; NA kept; None when unknown."""
    if target.version == NA:
        return NA
    if target.version != ANY:
        return literal(target.version)
    if fallback is None or fallback.strip() in ("", ANY, NA):
        return None
    return fallback.strip()


def _with_update(version: str, update: str) -> str:
    return version if update in (ANY, NA) else f"{version} {literal(update)}"


def _same_release(crit: Cpe, target: Cpe, have: str) -> bool:
    """A concrete criterion version (and update) against the asset's version."""
    if crit.update not in (ANY, NA):  # "7.2.5" update "p1" is the release "7.2.5 p1"
        want = f"{literal(crit.version)} {literal(crit.update)}"
        return _equal_versions(_with_update(have, target.update), want)
    if is_wildcard(crit.version):
        same = _wildcard_regex(crit.version).fullmatch(have.lower()) is not None
    else:
        same = _equal_versions(have, literal(crit.version))
    if same:
        return crit.update == ANY or target.update in (ANY, NA)  # '-': no update applied
    glued = _GLUED_UPDATE.fullmatch(have.strip())
    if glued and crit.update == ANY and target.update == ANY and not is_wildcard(crit.version):
        return _equal_versions(glued["base"], literal(crit.version))  # 7.2p1 is a 7.2
    return False


def _version_test(match: CpeMatch, crit: Cpe, target: Cpe, version: str | None) -> bool | None:
    have = _asset_version(target, version)
    bounds = criterion_range(match)
    if crit.version == NA:
        # "-": the product without version information. It holds for an asset whose version
        # is NA too and for hardware (models have no versions); otherwise undecidable.
        return True if have == NA or crit.part == "h" else None
    if crit.version == ANY:
        if not _compatible(crit.update, target.update):
            return False
        if bounds is None:
            return True
        if have is None or have == NA:
            return None if have is None else False
        return in_range(_with_update(have, target.update), bounds)
    if have is None or have == NA:
        return None if have is None else False
    if not _same_release(crit, target, have):
        return False
    return True if bounds is None else in_range(_with_update(have, target.update), bounds)


_UNSPECIFIED = (ANY,) * 6


def criterion_test(match: CpeMatch, crit: Cpe, target: Cpe, version: str | None) -> bool | None:
    if not (_superset(crit.vendor, target.vendor) and _superset(crit.product, target.product)):
        return False
    if not _compatible(crit.part, target.part):
        return False
    if crit[5:] != _UNSPECIFIED:  # edition, language, sw_edition, target_sw/hw, other
        for source, value in zip(crit[5:], target[5:], strict=True):
            if not _compatible(source, value):
                return False
    return _version_test(match, crit, target, version)


def criterion_matches(
    match: CpeMatch, asset_cpe: str | Cpe, asset_version: str | None = None
) -> bool | None:
    """Whether one cpeMatch criterion covers one asset CPE; None when the names agree but
    the version cannot be decided (unknown or unreadable). ``asset_version`` stands for the
    CPE's version when that is ``*``."""
    try:
        crit = parse_cpe(match.criteria)
    except InvalidCpeError:
        return False
    return criterion_test(match, crit, _to_cpe(asset_cpe), asset_version)
