"""The stateless match: an inventory file against advisory files, with no database.

Behind ``tocsin watch match``: read the inventory (any format ``tocsin inventory import``
reads) and normalise it with the alias table; read each ``KIND=PATH`` source (a file, a
folder or a ``.gz``) with the source's pure ``parse``; prepare them as one
:class:`~tocsin.watch.match.corpus.Corpus` (merged, names resolved, ranges compiled), apply
the enrichments (KEV, EPSS), match and rank. What a source could not read is counted in its
:class:`~tocsin.watch.sources.ParseReport`, never silently dropped.
"""

from __future__ import annotations

import gc
import gzip
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tocsin.errors import InputError, Location, SourceUnavailableError, UsageError
from tocsin.inventory.importers import ImportWarning
from tocsin.inventory.normalise import AliasTable
from tocsin.inventory.service import parse_file
from tocsin.model.advisory import Advisory, Exploitation
from tocsin.model.finding import Finding
from tocsin.model.inventory import Asset
from tocsin.watch.match.corpus import Corpus
from tocsin.watch.match.engine import Matcher
from tocsin.watch.match.merge import combine_exploitation
from tocsin.watch.priority import DEFAULT_POLICY, PriorityPolicy
from tocsin.watch.sources import (
    Document,
    Enrichment,
    ParseReport,
    Source,
    get_source,
    iter_documents,
    sources,
)

__all__ = [
    "KNOWN_KINDS",
    "InventoryRead",
    "MatchRun",
    "SourceRun",
    "SourceSpec",
    "read_inventory",
    "read_source",
    "resolve_source",
    "run_match",
]

# The kinds the command documents; a kind listed here but not registered is unavailable
# (exit 4), any other unknown kind is a usage error (exit 2).
KNOWN_KINDS = ("nvd", "cve5", "kev", "epss", "csaf", "certfr", "osv")

Progress = Callable[[str, int], None]
"""Called with (what is being read, documents read so far)."""


@dataclass(frozen=True)
class SourceSpec:
    """One ``--source KIND=PATH``."""

    kind: str
    path: Path

    @classmethod
    def parse(cls, text: str) -> SourceSpec:
        kind, sep, path = text.partition("=")
        kind, path = kind.strip().lower(), path.strip()
        if not sep or not kind or not path:
            raise UsageError(f"--source takes KIND=PATH (e.g. cve5=records.jsonl.gz), not {text!r}")
        return cls(kind, Path(path))

    def __str__(self) -> str:
        return f"{self.kind}={self.path}"


@dataclass
class SourceRun:
    """What reading one source gave."""

    spec: SourceSpec
    report: ParseReport
    documents: int = 0
    advisories: int = 0
    enrichments: int = 0


@dataclass
class InventoryRead:
    file: str
    format: str
    records: int
    warnings: list[ImportWarning] = field(default_factory=list)


@dataclass
class MatchRun:
    """The result of a stateless match: findings, and what was read to find them."""

    inventory: InventoryRead
    sources: list[SourceRun]
    advisories: int  # after merging the same CVE from several sources
    profiles: int  # distinct asset profiles matched (assets that look alike count once)
    findings: list[Finding]


def resolve_source(kind: str) -> Source:
    """The registered source for ``kind``; documented but absent kinds are unavailable."""
    if kind in sources():
        return get_source(kind)
    if kind in KNOWN_KINDS:
        raise SourceUnavailableError(f"source kind {kind!r} is not available in this installation")
    known = ", ".join(sorted(set(KNOWN_KINDS) | set(sources())))
    raise UsageError(f"unknown source kind {kind!r}; known: {known}")


def read_inventory(
    path: Path, *, aliases: AliasTable, max_bytes: int, fmt: str | None = None
) -> tuple[InventoryRead, list[Asset]]:
    """The inventory file's assets, normalised with the alias table."""
    name, _, assets, _, warnings = parse_file(path, fmt=fmt, max_bytes=max_bytes)
    normalised = [aliases.normalise(asset) for asset in assets]
    return InventoryRead(str(path), name, len(assets), list(warnings)), normalised


def _documents(path: Path) -> Iterator[Document]:
    """The documents under ``path``, with read and decompression failures as InputError."""
    try:
        yield from iter_documents(path)
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise InputError(f"cannot read: {reason}", Location(str(path))) from exc


def read_source(
    spec: SourceSpec, source: Source, progress: Progress | None = None
) -> tuple[SourceRun, list[Advisory], dict[str, Exploitation]]:
    """Every advisory and enrichment of one source (a file, a folder, a .gz)."""
    if not spec.path.exists():
        raise InputError("no such file or folder", Location(str(spec.path)))
    run = SourceRun(spec, ParseReport(spec.kind))
    advisories: list[Advisory] = []
    enrichments: dict[str, Exploitation] = {}
    for document in _documents(spec.path):
        run.documents += 1
        for record in source.parse(document.raw, document.origin, run.report):
            if isinstance(record, Enrichment):
                run.enrichments += 1
                known = enrichments.get(record.cve)
                enrichments[record.cve] = (
                    record.exploitation
                    if known is None
                    else combine_exploitation((known, record.exploitation))
                )
            else:
                run.advisories += 1
                advisories.append(record)
        if progress is not None:
            progress(str(spec), run.documents)
    return run, advisories, enrichments


def run_match(
    inventory: Path,
    specs: Sequence[SourceSpec],
    *,
    aliases: AliasTable,
    max_bytes: int,
    inventory_format: str | None = None,
    policy: PriorityPolicy = DEFAULT_POLICY,
    progress: Progress | None = None,
) -> MatchRun:
    """Read, merge, match and rank; usage errors are raised before anything is read."""
    if not specs:
        raise UsageError("give at least one --source KIND=PATH")
    chosen = [(spec, resolve_source(spec.kind)) for spec in specs]
    read, assets = read_inventory(
        inventory, aliases=aliases, max_bytes=max_bytes, fmt=inventory_format
    )
    runs: list[SourceRun] = []
    advisories: list[Advisory] = []
    enrichments: dict[str, Exploitation] = {}
    for spec, source in chosen:
        run, found, enriched = read_source(spec, source, progress)
        runs.append(run)
        advisories.extend(found)
        for cve, exploitation in enriched.items():
            known = enrichments.get(cve)
            enrichments[cve] = (
                exploitation if known is None else combine_exploitation((known, exploitation))
            )
    if progress is not None:
        progress("matching", 0)
    # The corpus is prepared once (merged, names resolved, ranges compiled), then only the
    # advisories that state one of the inventory's keys are read.
    matcher = Matcher(assets, aliases)
    corpus = Corpus(advisories, aliases, resolver=matcher.resolver)
    with _frozen_heap():
        findings = matcher.findings(corpus, enrichments=enrichments, policy=policy, freeze=True)
    return MatchRun(read, runs, len(corpus), matcher.profiles, findings)


@contextmanager
def _frozen_heap() -> Iterator[None]:
    """Keep the cyclic garbage collector off the objects made so far (the parsed and
    prepared corpus: millions of objects that live until the run ends) while matching: a
    full collection would otherwise walk all of them, seconds each time, for nothing."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
