"""Synthetic data for the watch benchmarks: inventories and an NVD-sized CVE 5 corpus.

Both are drawn with a fixed seed from the real CVE 5 records of the shared data
(``watch/vulnrichment/cve5-records.jsonl.gz``, 44,130 records with CISA ADP containers):

- an inventory: products that exist in the corpus (the CPE vendor/product names of the
  CISA ADP ``affected`` entries, 12,832 of them), each drawn with a probability
  proportional to its number of CVEs (a product with many CVEs is a product many sites
  run), at a realistic version: a bound that the corpus states for that product (a
  range's start, its ``lessThan`` or ``lessThanOrEqual``, a listed version), as it is or
  with its last number moved by one either way, so that versions fall on both sides of
  the bounds. The rows carry CPE-style names (``google``, ``chrome``), which is what
  cve-bin-tool needs and what Tocsin's alias table reads unchanged.
- a corpus: ``--count`` records, each a real record chosen at random (its containers,
  affected entries, version shapes, CVSS metrics and text) under a new CVE id. Half of
  them (``--keep-names``) keep their vendor and product names, so a product that is
  common in the sample is common at NVD size, as it is in NVD (Chrome, Android, the Linux
  kernel have 15 to 25 times more CVEs in NVD than in this 44,130-record sample); the
  others get a vendor suffix, one of 50,000 new vendors, the long tail of NVD. In each
  record, every version bound has its last number moved by the same amount (−2 to +2),
  so ranges are not copies of the real ones but keep their shape and order.

Usage: .venv/bin/python bench/watch_synthetic.py corpus [--count 400000] [--out FILE]
       .venv/bin/python bench/watch_synthetic.py inventory --assets 1000 [--out FILE]
The default output folder is build/bench/ (ignored by git); the benchmarks call these
functions themselves and reuse a corpus file already written with the same parameters.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import random
import re
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("TOCSIN_SHARED_DATA") or ROOT.parent / "shared" / "data")
CVE5 = ("watch", "vulnrichment", "cve5-records.jsonl.gz")
BUILD = ROOT / "build" / "bench"
SEED = 20240401
NVD_SIZE = 400_000

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")  # CPE names without escapes
_LAST_NUMBER = re.compile(r"(\d+)(?!.*\d)")
# A git commit id written as a version (the Linux kernel CNA, copied by CISA ADP)
COMMIT = re.compile(r"^(?=[0-9]*[a-f])[0-9a-f]{7,40}$")
_WILDCARD = re.compile(r"(^|[.\-])[xX*](\.|$)")  # "16.2.x": a series, not an installed version
_OPEN = frozenset({"0", "*", "-", "n/a", "unspecified", ""})
INVENTORY_COLUMNS = ("id", "name", "vendor", "product", "version", "kind", "criticality")
CRITICALITIES = ("vital", "high", "medium", "medium", "low")


def cve5_path(data: Path = DATA) -> Path:
    return data.joinpath(*CVE5)


def iter_records(path: Path) -> Iterator[dict[str, object]]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


# --- the product catalogue and inventories ----------------------------------------------------


@dataclass(frozen=True)
class Product:
    vendor: str
    product: str
    cves: int
    bounds: tuple[str, ...]  # versions the corpus states for it, sorted


def _version_like(text: object) -> bool:
    return (
        isinstance(text, str)
        and text not in _OPEN
        and any(c.isdigit() for c in text)
        and not any(c.isspace() or c == "\\" for c in text)
        and "*" not in text
        and len(text) <= 40
        and not COMMIT.match(text)
        and not _WILDCARD.search(text)
    )


def _adp_entries(record: dict[str, object]) -> Iterator[dict[str, object]]:
    containers = record.get("containers")
    if not isinstance(containers, dict):
        return
    for adp in containers.get("adp") or ():
        yield from adp.get("affected") or ()


def catalogue(path: Path) -> list[Product]:
    """Products named by the CPEs of the CISA ADP entries, with their CVE count and bounds."""
    counts: Counter[tuple[str, str]] = Counter()
    bounds: dict[tuple[str, str], set[str]] = {}
    for record in iter_records(path):
        named: set[tuple[str, str]] = set()
        for entry in _adp_entries(record):
            versions = [
                value
                for item in entry.get("versions") or ()
                if item.get("versionType") != "git"
                for key in ("version", "lessThan", "lessThanOrEqual")
                if _version_like(value := item.get(key))
            ]
            for cpe in entry.get("cpes") or ():
                parts = cpe.split(":")
                if len(parts) < 13 or not (_NAME.match(parts[3]) and _NAME.match(parts[4])):
                    continue
                key = (parts[3], parts[4])
                named.add(key)
                bounds.setdefault(key, set()).update(versions)
        counts.update(named)
    return [
        Product(vendor, product, counts[(vendor, product)], tuple(sorted(found)))
        for (vendor, product), found in sorted(bounds.items())
        if found
    ]


def _nudge(version: str, rng: random.Random) -> str:
    """The version as it is (half the time) or with its last number moved by one."""
    roll = rng.random()
    if roll < 0.5:
        return version
    match = _LAST_NUMBER.search(version)
    if match is None:
        return version
    number = int(match.group(1))
    moved = number + 1 if roll < 0.75 or number == 0 else number - 1
    return f"{version[: match.start()]}{moved}{version[match.end() :]}"


def inventory_rows(products: list[Product], count: int, seed: int = SEED) -> list[dict[str, str]]:
    """``count`` assets: products weighted by their CVE count, versions near stated bounds."""
    rng = random.Random(seed)
    weights = [p.cves for p in products]
    chosen = rng.choices(products, weights=weights, k=count)
    rows = []
    for number, product in enumerate(chosen):
        version = _nudge(rng.choice(product.bounds), rng)
        rows.append(
            {
                "id": f"a{number:06d}",
                "name": f"{product.product} {version}",
                "vendor": product.vendor,
                "product": product.product,
                "version": version,
                "kind": "os" if product.product.endswith("_firmware") else "software",
                "criticality": rng.choice(CRITICALITIES),
            }
        )
    return rows


def write_inventory(path: Path, rows: list[dict[str, str]]) -> Path:
    """Tocsin's CSV format (the columns ``tocsin inventory import`` reads)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=INVENTORY_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


# --- the NVD-sized corpus -----------------------------------------------------------------------


def _shift(version: object, delta: int) -> object:
    if not isinstance(version, str) or version in _OPEN or delta == 0:
        return version
    match = _LAST_NUMBER.search(version)
    if match is None:
        return version
    moved = max(0, int(match.group(1)) + delta)
    return f"{version[: match.start()]}{moved}{version[match.end() :]}"


def _rename_cpe(cpe: str, suffix: str) -> str:
    parts = cpe.split(":")
    if len(parts) >= 5:
        parts[3] = f"{parts[3]}_{suffix}"
    return ":".join(parts)


def _transform(entry: dict[str, object], suffix: str | None, delta: int) -> None:
    """Rename the vendor (when ``suffix``) and shift the version bounds, in place."""
    if suffix is not None:
        vendor = entry.get("vendor")
        if isinstance(vendor, str) and vendor.strip().lower() not in _OPEN:
            entry["vendor"] = f"{vendor} {suffix}"
        entry["cpes"] = [_rename_cpe(c, suffix) for c in entry.get("cpes") or ()]
        if entry.get("packageName"):
            entry["packageName"] = f"{entry['packageName']}-{suffix}"
    for item in entry.get("versions") or ():
        if item.get("versionType") == "git":
            continue
        for key in ("version", "lessThan", "lessThanOrEqual"):
            if key in item:
                item[key] = _shift(item[key], delta)
        for change in item.get("changes") or ():
            change["at"] = _shift(change.get("at"), delta)


def synthetic_records(
    templates: list[str], count: int, seed: int = SEED, keep_names: float = 0.5
) -> Iterator[dict[str, object]]:
    rng = random.Random(seed)
    for number in range(count):
        record = json.loads(rng.choice(templates))
        meta = record["cveMetadata"]
        year = meta["cveId"].split("-")[1]
        meta["cveId"] = f"CVE-{year}-{1_000_000 + number}"
        suffix = None if rng.random() < keep_names else f"s{rng.randrange(50_000)}"
        delta = rng.randint(-2, 2)
        containers = record["containers"]
        for container in (containers["cna"], *(containers.get("adp") or ())):
            for entry in container.get("affected") or ():
                if isinstance(entry, dict):
                    _transform(entry, suffix, delta)
        yield record


def corpus_file(
    count: int = NVD_SIZE,
    seed: int = SEED,
    keep_names: float = 0.5,
    out: Path | None = None,
    source: Path | None = None,
) -> Path:
    """The synthetic corpus as CVE 5 JSON lines (.jsonl.gz); reused when already written."""
    path = out or BUILD / f"synthetic-cve5-{count}-{seed}-{keep_names}.jsonl.gz"
    if path.exists():
        return path
    with gzip.open(source or cve5_path(), "rt", encoding="utf-8") as lines:
        templates = [line for line in lines if line.strip()]
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    with gzip.open(partial, "wt", encoding="utf-8", compresslevel=3) as output:
        for record in synthetic_records(templates, count, seed, keep_names):
            output.write(json.dumps(record, separators=(",", ":")))
            output.write("\n")
    partial.replace(path)
    return path


def _shape(path: Path, limit: int) -> dict[str, float]:
    """A few distribution figures of a CVE 5 JSON lines file (its first ``limit`` records)."""
    entries, ranges, products = [], Counter[str](), set()
    records = 0
    for record in iter_records(path):
        records += 1
        affected = [
            e
            for c in (record["containers"]["cna"], *(record["containers"].get("adp") or ()))
            for e in c.get("affected") or ()
        ]
        entries.append(len(affected))
        for entry in affected:
            products.add((str(entry.get("vendor")).lower(), str(entry.get("product")).lower()))
            for item in entry.get("versions") or ():
                bound = "lessThan" if "lessThan" in item else "lessThanOrEqual"
                ranges[bound if bound in item else "single version"] += 1
        if records >= limit:
            break
    total = sum(ranges.values()) or 1
    return {
        "records": records,
        "affected entries / record (mean)": statistics.fmean(entries),
        "distinct vendor/product": len(products),
        "lessThan share": ranges["lessThan"] / total,
        "lessThanOrEqual share": ranges["lessThanOrEqual"] / total,
        "single-version share": ranges["single version"] / total,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("corpus", "inventory"))
    parser.add_argument("--count", type=int, default=NVD_SIZE, help="corpus records")
    parser.add_argument("--assets", type=int, default=1000, help="inventory rows")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--keep-names", type=float, default=0.5)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    console = Console()
    source = cve5_path(args.data)
    if not source.exists():
        raise SystemExit(f"the shared data is absent: {source}")
    start = time.perf_counter()
    if args.what == "inventory":
        rows = inventory_rows(catalogue(source), args.assets, args.seed)
        out = write_inventory(args.out or BUILD / f"inventory-{args.assets}.csv", rows)
        console.print(f"{len(rows):,} assets → {out} ({time.perf_counter() - start:.1f} s)")
        return
    out = corpus_file(args.count, args.seed, args.keep_names, args.out, source)
    console.print(f"{args.count:,} records → {out} ({time.perf_counter() - start:.1f} s)")
    table = Table(title="real and synthetic CVE 5 records (first 44,130 of each)")
    for column in ("figure", "real", "synthetic"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    real, synthetic = _shape(source, 44_130), _shape(out, 44_130)
    for figure, value in real.items():
        fmt = "{:,.0f}" if value >= 100 else "{:.3f}"
        table.add_row(figure, fmt.format(value), fmt.format(synthetic[figure]))
    console.print(table)


if __name__ == "__main__":
    main()
