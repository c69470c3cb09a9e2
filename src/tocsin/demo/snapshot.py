"""The demo's bundled advisory snapshot: a few real public records that hit the demo hospital.

``tocsin demo`` loads the files under ``tocsin/data/demo/advisories`` into the store (one
feed per file, named ``demo-<kind>``) and matches them against ``ch-demo``, so that the
dashboard and the bulletin show real exposures without any network access.

The snapshot is *selected* from the shared research data (``../shared/data/watch``: CISA
KEV, CVE JSON 5 records with CISA ADP data, CERT-FR avis, ICS medical CSAF advisories) by
matching all of it against the demo inventory and keeping, per source, the most urgent
advisories first, one per product before a second for the same product. Regenerate it,
where the shared data is present, with::

    .venv/bin/python -m tocsin.demo.snapshot ../shared/data/watch

The script rewrites the record files only; ``PROVENANCE.md`` in the same folder is kept by
hand (sources, commits and licences).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tocsin.data import data_path
from tocsin.demo.catalogue import DEMO_DIR
from tocsin.inventory.normalise import AliasTable, load_aliases
from tocsin.model.advisory import Advisory, Exploitation
from tocsin.model.finding import Finding
from tocsin.watch.match.engine import Matcher
from tocsin.watch.match.merge import combine_exploitation, merge_advisories
from tocsin.watch.sources import Enrichment, ParseReport, get_source, iter_documents
from tocsin.watch.update import FeedDocuments, feed_from_path

__all__ = ["SNAPSHOT_FILES", "SnapshotFile", "snapshot_dir", "snapshot_feeds"]


@dataclass(frozen=True)
class SnapshotFile:
    """One file of the snapshot: the source kind that reads it, where it is selected from."""

    kind: str
    name: str  # the file (or folder) under tocsin/data/demo/advisories
    shared: str  # the file (or folder) under the shared data's watch/ folder
    limit: int  # at most this many records


SNAPSHOT_FILES: tuple[SnapshotFile, ...] = (
    SnapshotFile("certfr", "certfr-avis.jsonl", "certfr/avis.jsonl.gz", 16),
    SnapshotFile("cve5", "cve5-records.jsonl", "vulnrichment/cve5-records.jsonl.gz", 22),
    SnapshotFile("csaf", "csaf-icsma.jsonl", "csaf/icsma", 4),
    SnapshotFile("kev", "kev.json", "kev/known_exploited_vulnerabilities.json", 18),
)


def snapshot_dir() -> Path:
    """The bundled folder (Tocsin is installed as files, never as a zip)."""
    return Path(str(data_path(*DEMO_DIR, "advisories")))


def snapshot_feeds() -> list[FeedDocuments]:
    """The bundled snapshot as feeds for :func:`tocsin.watch.service.load_advisories`."""
    folder = snapshot_dir()
    return [
        feed_from_path(spec.kind, folder / spec.name, name=f"demo-{spec.kind}")
        for spec in SNAPSHOT_FILES
        if (folder / spec.name).exists()
    ]


# -- selection (runs only where the shared data is) -------------------------------------------
@dataclass
class _Read:
    advisories: list[Advisory]
    enrichments: dict[str, Exploitation]
    origins: dict[tuple[str, str], set[str]]  # (kind, advisory id) → document origins


def _read(root: Path) -> _Read:
    read = _Read([], {}, defaultdict(set))
    for spec in SNAPSHOT_FILES:
        source = get_source(spec.kind)
        report = ParseReport(spec.kind)
        for document in iter_documents(root / spec.shared):
            for record in source.parse(document.raw, document.origin, report):
                if isinstance(record, Enrichment):
                    known = read.enrichments.get(record.cve)
                    read.enrichments[record.cve] = (
                        record.exploitation
                        if known is None
                        else combine_exploitation((known, record.exploitation))
                    )
                    continue
                read.advisories.append(record)
                read.origins[(spec.kind, record.id)].add(document.origin)
    return read


def _kind_of(advisory_id: str) -> str | None:
    if advisory_id.startswith("CERTFR-"):
        return "certfr"
    if advisory_id.startswith("ICSMA-"):
        return "csaf"
    if advisory_id.startswith("CVE-"):
        return "cve5"
    return None


def _choose(findings: Sequence[Finding], products: dict[str, str]) -> dict[str, list[str]]:
    """Per kind, advisory ids: most urgent first, one per product before the second."""
    best: dict[str, tuple[int, bool, int, str]] = {}
    for f in findings:
        product = products.get(f.asset, f.asset)
        key = (f.decision.rank, f.kev, f.score, product)
        if f.advisory not in best or key > best[f.advisory]:
            best[f.advisory] = key
    chosen: dict[str, list[str]] = defaultdict(list)
    limits = {s.kind: s.limit for s in SNAPSHOT_FILES}
    for kind in ("certfr", "cve5", "csaf"):
        ranked = sorted(
            (a for a in best if _kind_of(a) == kind),
            key=lambda a: (best[a][:3], a),
            reverse=True,
        )
        seen: set[str] = set()
        for pass_ in (0, 1):
            for advisory in ranked:
                product = best[advisory][3]
                if len(chosen[kind]) >= limits[kind] or advisory in chosen[kind]:
                    continue
                if pass_ == 0 and product in seen:
                    continue
                seen.add(product)
                chosen[kind].append(advisory)
    return chosen


def _lines(path: Path, origins: set[str]) -> Iterator[bytes]:
    for document in iter_documents(path):
        if document.origin in origins:
            yield document.raw.strip()


def _kev(path: Path, cves: set[str], limit: int) -> bytes:
    catalogue = json.loads(path.read_bytes())
    entries = [e for e in catalogue["vulnerabilities"] if e.get("cveID") in cves]
    entries.sort(key=lambda e: (e.get("dateAdded", ""), e["cveID"]), reverse=True)
    kept = sorted(entries[:limit], key=lambda e: e["cveID"])
    catalogue["vulnerabilities"] = kept
    catalogue["count"] = len(kept)
    catalogue["title"] = f"{catalogue.get('title', 'CISA KEV')} (Tocsin demo excerpt)"
    return json.dumps(catalogue, ensure_ascii=False, indent=1).encode() + b"\n"


def build(root: Path, out: Path, aliases: AliasTable) -> dict[str, int]:
    """Select from ``root`` (the shared watch/ folder) into ``out``; records per file."""
    from tocsin.demo.service import demo_assets  # noqa: PLC0415 - service loads this module

    assets = demo_assets(aliases)
    products = {a.id: f"{a.vendor_key or ''}:{a.product_key or a.name}" for a in assets}
    read = _read(root)
    findings = Matcher(assets, aliases).findings(
        merge_advisories(read.advisories), enrichments=read.enrichments
    )
    chosen = _choose(findings, products)
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    cves: set[str] = set()
    for advisory in read.advisories:
        kind = _kind_of(advisory.id)
        if kind is not None and advisory.id in chosen[kind]:
            cves.update(advisory.cves or ((advisory.id,) if kind == "cve5" else ()))
    for spec in SNAPSHOT_FILES:
        target = out / spec.name
        if spec.kind == "kev":
            text = _kev(root / spec.shared, cves, spec.limit)
            target.write_bytes(text)
            counts[spec.name] = len(json.loads(text)["vulnerabilities"])
            continue
        origins = set().union(*(read.origins[(spec.kind, a)] for a in chosen[spec.kind]))
        lines = [line for line in _lines(root / spec.shared, origins) if line]
        if spec.kind == "csaf":  # one CSAF file per line, compacted
            lines = [json.dumps(json.loads(line), ensure_ascii=False).encode() for line in lines]
        target.write_bytes(b"\n".join(lines) + b"\n")
        counts[spec.name] = len(lines)
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("shared", type=Path, help="the shared data's watch/ folder")
    parser.add_argument("--out", type=Path, default=None, help="default: the bundled folder")
    args = parser.parse_args(argv)
    counts = build(args.shared, args.out or snapshot_dir(), load_aliases())
    print(json.dumps(counts, indent=1))  # noqa: T201 - a maintainer's script
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
