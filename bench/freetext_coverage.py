"""Coverage of the free-text version parser on the shared real data.

Reads every CERT-FR affected-system line (watch/certfr/avis.jsonl.gz), every ICSMA CSAF
product version branch and full product name (watch/csaf/icsma/), and the free-text
``version`` fields of the CVE 5 records (watch/vulnrichment/cve5-records.jsonl.gz); prints,
per source, how many lines read into version ranges, into "all versions", or fell back to
name-only, and the most frequent unread forms.

A line "has version wording" when an independent, deliberately broad test finds a dotted
number, a wildcard, a version word or an operator in it (see ``_WORDING``); the coverage
figure is the share of those lines that the parser reads into ranges or "all versions".

    .venv/bin/python bench/freetext_coverage.py [--data ../shared/data] [--top 30] [--no-cve5]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tocsin.watch.match.freetext import ParsedProducts, parse_affected_text, parse_product_version
from tocsin.watch.match.freetext_grammar import fold

DEFAULT_DATA = Path(
    os.environ.get("TOCSIN_SHARED_DATA")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data"
)
_WORDING = re.compile(
    r"[0-9]\.[0-9x*]|\bversions?\b|anterieur|posterieur|ulterieur|superieur|inferieur|"
    r"precedent|jusqu|\btoutes?\b|\bprior\b|\bbefore\b|\bthrough\b|\bearlier\b|\blater\b|"
    r"\ball\b|[<>]|\bv[0-9]|correctif|\bpatch(?:es)?\b"
)
_DIGITS = re.compile(r"[vV]?[0-9]+(?:[.\-_][0-9A-Za-z]+)*")


@dataclass
class Tally:
    """Counts for one source."""

    name: str
    lines: int = 0
    ranges: int = 0
    all_versions: int = 0
    missing_patch: int = 0
    name_only_wording: int = 0
    name_only_plain: int = 0
    multi_product: int = 0
    seconds: float = 0.0
    unread: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)

    def add(self, where: str, text: str, result: ParsedProducts) -> None:
        self.lines += 1
        self.multi_product += len(result) > 1
        if result.parsed:
            bounded = any(not r.all_versions for e in result for r in e.ranges)
            self.ranges += bounded
            self.all_versions += not bounded
            self.missing_patch += any(e.missing_patch for e in result)
            return
        folded = fold(text)
        m = _WORDING.search(folded)
        if m is None:
            self.name_only_plain += 1
            return
        self.name_only_wording += 1
        shape = _DIGITS.sub("N", text[max(0, m.start() - 12) :].strip())[:90]
        self.unread[shape] += 1
        self.examples.setdefault(shape, f"{where}: {text[:150]}")

    @property
    def coverage(self) -> float:
        read = self.ranges + self.all_versions
        return read / max(1, read + self.name_only_wording)


def certfr_lines(data: Path) -> Iterator[tuple[str, str]]:
    with gzip.open(data / "watch" / "certfr" / "avis.jsonl.gz", "rt", encoding="utf-8") as fh:
        for raw in fh:
            avis = json.loads(raw)
            for system in avis.get("affected_systems") or []:
                yield avis.get("reference", "?"), system.get("description") or ""


def _leaves(branches: list[dict[str, object]], product: str) -> Iterator[tuple[str, str, str]]:
    for branch in branches:
        name, category = str(branch.get("name", "")), str(branch.get("category", ""))
        children = branch.get("branches")
        if isinstance(children, list):
            yield from _leaves(children, name if category == "product_name" else product)
        elif category in ("product_version", "product_version_range"):
            full = branch.get("product")
            full_name = str(full.get("name", "")) if isinstance(full, dict) else ""
            yield product, name, full_name


def icsma_versions(data: Path) -> Iterator[tuple[str, str, str, str]]:
    for path in sorted((data / "watch" / "csaf" / "icsma").rglob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        ident = doc["document"]["tracking"]["id"]
        for product, version, full in _leaves(doc["product_tree"].get("branches", []), ""):
            yield ident, product, version, full


def cve5_versions(data: Path) -> Iterator[tuple[str, str, str]]:
    path = data / "watch" / "vulnrichment" / "cve5-records.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for raw in fh:
            record = json.loads(raw)
            ident = record["cveMetadata"]["cveId"]
            containers = record["containers"]
            for container in [containers.get("cna", {}), *containers.get("adp", [])]:
                for affected in container.get("affected") or []:
                    for version in affected.get("versions") or []:
                        text = str(version.get("version", ""))
                        if " " in text or text[:1] in "<>=":
                            yield ident, str(affected.get("product", "")), text


def run(data: Path, with_cve5: bool) -> list[Tally]:
    tallies = [Tally("CERT-FR affected lines"), Tally("ICSMA version branches")]
    tallies.append(Tally("ICSMA full product names"))
    start = time.perf_counter()
    for ident, text in certfr_lines(data):
        tallies[0].add(ident, text, parse_affected_text(text, "fr"))
    tallies[0].seconds = time.perf_counter() - start
    start = time.perf_counter()
    for ident, product, version, full in icsma_versions(data):
        tallies[1].add(ident, version, parse_product_version(product, version, "en"))
        if full:
            tallies[2].add(ident, full, parse_affected_text(full, "en"))
    tallies[1].seconds = tallies[2].seconds = time.perf_counter() - start
    if with_cve5:
        tallies.append(Tally("CVE 5 free-text versions"))
        start = time.perf_counter()
        for ident, product, text in cve5_versions(data):
            tallies[3].add(ident, text, parse_product_version(product, text, "en"))
        tallies[3].seconds = time.perf_counter() - start
    return tallies


def report(tallies: list[Tally], top: int) -> None:
    head = f"{'source':28} {'lines':>7} {'ranges':>7} {'all':>6} {'(patch)':>8} "
    head += f"{'name:word':>9} {'name:none':>9} {'cover':>7} {'lines/s':>8}"
    print(head)
    print("-" * len(head))
    for t in tallies:
        rate = t.lines / t.seconds if t.seconds else 0.0
        print(
            f"{t.name:28} {t.lines:7} {t.ranges:7} {t.all_versions:6} {t.missing_patch:8} "
            f"{t.name_only_wording:9} {t.name_only_plain:9} {t.coverage:7.1%} {rate:8.0f}"
        )
    print("\nranges: read into bounded ranges; all: 'all versions' (patch: of which 'sans les")
    print("derniers correctifs'); name:word: name-only although version wording was found;")
    print("name:none: name-only, no version wording; cover = (ranges+all)/(ranges+all+name:word)")
    for t in tallies:
        print(f"\nTop {top} unread forms — {t.name} ({t.name_only_wording} lines)")
        for shape, count in t.unread.most_common(top):
            print(f"{count:6}  {shape!r}\n        e.g. {t.examples[shape]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--no-cve5", action="store_true")
    args = parser.parse_args()
    if not (args.data / "watch").is_dir():
        raise SystemExit(f"shared data not found at {args.data} (use --data)")
    report(run(args.data, not args.no_cve5), args.top)


if __name__ == "__main__":
    main()
