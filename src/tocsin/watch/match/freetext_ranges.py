"""Free text, last step: the version atoms of one clause combined into version ranges.

:mod:`tocsin.watch.match.freetext_clauses` reads a clause into atoms (a version, a bound
word with its version, a series); :func:`combine_atoms` pairs lower and upper bounds into
:class:`~tocsin.model.advisory.VersionRange` values ("à partir de 7.2.0 et antérieures à
7.2.10"), chains branch labels with the bounds that follow them ("7.2.x antérieures à
7.2.10"), and makes a series or a point of what stands alone. Used by
:mod:`tocsin.watch.match.freetext`; the grammar is in docs/matching-freetext.md.
"""

from __future__ import annotations

from dataclasses import replace

from tocsin.model.advisory import VersionRange
from tocsin.watch.match.freetext_clauses import Atom, Version
from tocsin.watch.match.freetext_grammar import next_branch, next_version, numeric_key, same_series

__all__ = ["combine_atoms"]

Bound = tuple[str, bool]  # (version, exclusive) for a lower bound, (version, inclusive) upper


def combine_atoms(atoms: list[Atom], text: str) -> tuple[list[VersionRange], Atom | None]:
    """The ranges a clause's atoms say, and a leading release label that names the product."""
    out: list[VersionRange] = []
    label: Atom | None = None
    branch: str | None = None
    low: Bound | None = None
    loose: list[VersionRange] = []  # upper bounds written each without a lower bound
    saw_all = False
    i = 0
    while i < len(atoms):
        atom = atoms[i]
        nxt = atoms[i + 1] if i + 1 < len(atoms) else None
        if atom.kind == "all":
            saw_all = True
        elif _is_branch_label(atom, nxt) and branch is None and low is None:
            assert nxt is not None
            version = atom.versions[0]
            if version.stem is not None or same_series(version.value, nxt.versions[0].value):
                branch = version.stem if version.stem is not None else version.value
            elif i == 0:
                label = atom
        elif atom.kind in ("plain", "exact"):
            out.extend(_point(v, atom.kind == "exact", text) for v in atom.versions)
        elif atom.kind == "pair":
            lower = _lower(atom.versions[0], atom.lo_exclusive)
            if nxt is not None and nxt.joined and nxt.kind == "hi":
                out.extend(_uppers(nxt, lower, text))
                i += 2
                continue
            out.append(_make(lower, _upper(atom.versions[1], atom.hi_exclusive), text))
        elif atom.kind == "lo":
            low = _lower(atom.versions[0], atom.lo_exclusive)
            if nxt is None or nxt.kind != "hi":
                upper = (f"{branch}.*", True) if branch else None
                out.append(_make(low, upper, text))
                low = branch = None
        elif atom.kind == "hi":
            start = low or ((branch, False) if branch else None)
            found = _uppers(atom, start, text)
            if start is None and len(atom.versions) == 1:
                loose.extend(found)
            out.extend(found)
            low = branch = None
        i += 1
    if saw_all and not out:
        out.append(VersionRange(all_versions=True, text=text))
    if len(loose) > 1:
        out = _chain(out, loose)
    return out, label


def _chain(out: list[VersionRange], loose: list[VersionRange]) -> list[VersionRange]:
    """Several bounds each written on its own ("7.2.0 and below, 7.0.6 and below, 6.4.9 and
    below"): each closes its branch, as in "antérieures à 2.2.5, 3.2.2 et 4.0" — 7.0.6
    and below holds from 6.5 on, so 7.0.12 is not in "7.2.0 and below"."""
    keyed: list[tuple[tuple[int, ...], VersionRange]] = []
    for rng in loose:
        key = numeric_key(rng.fixed or rng.last_affected or "")
        if not key:
            return out
        keyed.append((key, rng))
    keyed.sort(key=lambda pair: pair[0])
    started: dict[int, VersionRange] = {}
    previous: str | None = None
    for key, rng in keyed:
        bound = rng.fixed or rng.last_affected or ""
        if previous is not None:
            after = next_branch(previous)
            after_key = numeric_key(after or "")
            if after and after_key and after_key <= key:
                started[id(rng)] = replace(rng, introduced=after)
        previous = bound
    return [started.get(id(r), r) for r in out]


def _is_branch_label(atom: Atom, nxt: Atom | None) -> bool:
    """A single version right before a bound: "7.2.x antérieures à 7.2.10", "Version 1607 …"."""
    return (
        atom.kind == "plain"
        and len(atom.versions) == 1
        and nxt is not None
        and nxt.joined
        and nxt.kind in ("lo", "hi")
    )


def _lower(version: Version, exclusive: bool) -> Bound:
    if version.stem is None:
        return (version.value, exclusive)
    if exclusive:  # "postérieures à 4.4.x": from the next series on
        after = next_version(version.stem)
        return (after, False) if after else (version.stem, True)
    return (version.stem, False)


def _upper(version: Version, exclusive: bool) -> Bound:
    if version.stem is None:
        return (version.value, not exclusive)
    if exclusive:  # "prior to 3.x": everything before the 3 series
        return (version.stem, False)
    return (f"{version.stem}.*", True)  # "11.x and earlier": up to the end of 11


def _uppers(atom: Atom, lower: Bound | None, text: str) -> list[VersionRange]:
    """One range per fixed version; without a lower bound, each later fix closes its branch."""
    if lower is not None or len(atom.versions) == 1:
        return [_make(lower, _upper(v, atom.hi_exclusive), text) for v in atom.versions]
    out: list[VersionRange] = []
    previous: str | None = None
    for version in atom.versions:
        start: Bound | None = None
        if previous is not None:  # "antérieures à 2.2.5, 3.2.2 et 4.0": 3.2.2 fixes from 2.3
            after = next_branch(previous)
            after_key, this_key = numeric_key(after or ""), numeric_key(version.value)
            if after and after_key and this_key and after_key <= this_key:
                start = (after, False)
        out.append(_make(start, _upper(version, atom.hi_exclusive), text))
        previous = version.stem or version.value
    return out


def _point(version: Version, exact: bool, text: str) -> VersionRange:
    """A version named alone: its whole series, or exactly it when it ends with a letter."""
    stem = version.stem
    if stem is None and not exact and version.value[-1:].isdigit():
        stem = version.value
    if stem is None:
        return VersionRange(exact=version.value, text=text)
    return VersionRange(introduced=stem, last_affected=f"{stem}.*", text=text)


def _make(lower: Bound | None, upper: Bound | None, text: str) -> VersionRange:
    fixed = upper[0] if upper is not None and not upper[1] else None
    last = upper[0] if upper is not None and upper[1] else None
    return VersionRange(
        introduced=lower[0] if lower else None,
        introduced_exclusive=lower[1] if lower else False,
        fixed=fixed,
        last_affected=last,
        text=text,
    )
