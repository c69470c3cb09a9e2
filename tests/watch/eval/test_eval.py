"""The labelled evaluation set: real CERT-FR, ICSMA and CVE 5 records against hand-written
inventory rows, scored for precision and recall (format and method: README.md here).

The advisories are not copied into the repository: each case cites a record of the shared
data (``../shared/data/watch``, or ``TOCSIN_SHARED_DATA``), which is read once, parsed with
the registered source parsers and matched with :func:`tocsin.watch.match.engine.match`.

A finding counts as a *positive answer* unless it *needs review*: its match kind is
``name-only`` (names agree, the version could not be decided; 0.4 to 0.5 in docs/matching.md)
or its confidence is below :data:`REVIEW_BELOW` (0.5, the documented ``--min-confidence``
cut for name-only evidence). A finding for review is reported, never dropped, but answers
neither yes nor no: in the strict score a positive case answered only for review is a miss,
and a negative case answered only for review is not a false positive. Both are counted
separately, and the recall with review findings counted as found is reported too.

``bench/watch_eval.py`` prints the same scores per source and per match kind, with the misses.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import shared_data
from tocsin.inventory.normalise import AliasTable, load_aliases
from tocsin.model.advisory import Advisory
from tocsin.model.finding import Finding, MatchKind
from tocsin.model.inventory import Asset, AssetKind
from tocsin.watch.match.engine import match
from tocsin.watch.sources import ParseReport, get_source

CASES_FILE = Path(__file__).with_name("cases.json")
REVIEW_BELOW = 0.5  # below this confidence, or name-only, a finding "needs review"
TARGET = 0.95  # the bar for precision and recall
SOURCES = ("certfr", "csaf", "cve5")
POSITIVE_CATEGORIES = frozenset({"affected", "all-versions", "no-patch-level"})
NEGATIVE_CATEGORIES = frozenset(
    {
        "fixed",  # same product at (or past) the fixed version
        "other-branch",  # same product, a branch the advisory does not list
        "outside-range",  # same product, before or after a stated range
        "not-listed",  # same product family, a model or version the advisory does not list
        "excluded",  # a product the advisory explicitly excludes
        "sibling",  # same vendor, another product with a similar name
        "collision",  # same or similar product name from another vendor
        "generic",  # the names share only a generic word ("Server", "Firewall", "Client")
    }
)
CERTFR_FILE = ("watch", "certfr", "avis.jsonl.gz")
ICSMA_DIR = ("watch", "csaf", "icsma")
CVE5_FILE = ("watch", "vulnrichment", "cve5-records.jsonl.gz")
_REFERENCE = re.compile(rb'"reference"\s*:\s*"([^"]+)"')
_CVE_ID = re.compile(rb'"cveId"\s*:\s*"([^"]+)"')


@dataclass(frozen=True)
class Case:
    """One labelled (asset, advisory) pair."""

    id: str
    source: str
    advisory: str
    asset: Asset
    expected: bool  # True: the advisory affects this asset at this version
    category: str
    why: str


def needs_review(finding: Finding) -> bool:
    """Name-only evidence, or any finding below the review threshold."""
    return finding.match is MatchKind.NAME_ONLY or finding.confidence < REVIEW_BELOW


@dataclass(frozen=True)
class Outcome:
    """What the engine answered for one case."""

    case: Case
    finding: Finding | None

    @property
    def predicted(self) -> bool:
        """A positive answer: a finding that does not need review."""
        return self.finding is not None and not needs_review(self.finding)

    @property
    def review(self) -> bool:
        """A finding reported for review: neither yes nor no."""
        return self.finding is not None and needs_review(self.finding)

    @property
    def correct(self) -> bool:
        return self.predicted == self.case.expected

    def describe(self) -> str:
        case, found = self.case, self.finding
        asset = case.asset
        got = (
            "no finding"
            if found is None
            else f"{found.match.value} {found.confidence:.2f}: {found.evidence}"
        )
        want = "positive" if case.expected else f"negative ({case.category})"
        return (
            f"{case.id} {case.advisory} | {asset.vendor} / {asset.product} {asset.version or '-'}"
            f" | expected {want}, got {got} | why: {case.why}"
        )


@dataclass
class Score:
    """Counts and rates for a group of outcomes."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    review_positive: int = 0  # positive cases answered only for review (counted in fn)
    review_negative: int = 0  # negative cases answered only for review (counted in tn)
    misses: list[Outcome] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        expected, predicted = outcome.case.expected, outcome.predicted
        if expected and predicted:
            self.tp += 1
        elif expected:
            self.fn += 1
            self.review_positive += outcome.review
        elif predicted:
            self.fp += 1
        else:
            self.tn += 1
            self.review_negative += outcome.review
        if not outcome.correct:
            self.misses.append(outcome)

    @property
    def cases(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def recall_with_review(self) -> float:
        """Recall when findings for review count as found (what a reader would still see)."""
        found = self.tp + self.review_positive
        return found / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def summary(self) -> str:
        return (
            f"precision {self.precision:.3f} recall {self.recall:.3f} "
            f"(tp {self.tp}, fp {self.fp}, fn {self.fn}, tn {self.tn}; for review: "
            f"{self.review_positive} positive, {self.review_negative} negative)"
        )


def score(outcomes: Iterable[Outcome]) -> Score:
    result = Score()
    for outcome in outcomes:
        result.add(outcome)
    return result


def score_by(outcomes: Iterable[Outcome], key: Callable[[Outcome], str]) -> dict[str, Score]:
    groups: dict[str, Score] = {}
    for outcome in outcomes:
        groups.setdefault(key(outcome), Score()).add(outcome)
    return dict(sorted(groups.items()))


# --- reading the cases and the cited records ----------------------------------------------


def load_cases(path: Path = CASES_FILE) -> list[Case]:
    document = json.loads(path.read_text(encoding="utf-8"))
    cases: list[Case] = []
    for raw in document["cases"]:
        spec = raw["asset"]
        vendor, product = spec.get("vendor"), spec["product"]
        asset = Asset(
            id=raw["id"],
            name=" ".join(part for part in (vendor, product) if part),
            kind=AssetKind(spec.get("kind", "software")),
            vendor=vendor,
            product=product,
            version=spec.get("version"),
            cpe=spec.get("cpe"),
        )
        expected = {"positive": True, "negative": False}[raw["expected"]]
        cases.append(
            Case(
                id=raw["id"],
                source=raw["source"],
                advisory=raw["advisory"],
                asset=asset,
                expected=expected,
                category=raw["category"],
                why=raw["why"],
            )
        )
    return cases


def _jsonl_lines(path: Path, pattern: re.Pattern[bytes], wanted: set[str]) -> Iterator[bytes]:
    """The lines of a .jsonl.gz whose first ``pattern`` match is a wanted id (one pass)."""
    left = set(wanted)
    with gzip.open(path, "rb") as stream:
        for line in stream:
            found = pattern.search(line)
            if found is not None and found.group(1).decode() in left:
                left.discard(found.group(1).decode())
                yield line
                if not left:
                    return


def _parse(
    kind: str, documents: Iterable[tuple[str, bytes]], report: ParseReport
) -> list[Advisory]:
    source = get_source(kind)
    return [
        record
        for origin, raw in documents
        for record in source.parse(raw, origin, report)
        if isinstance(record, Advisory)
    ]


def read_records(
    data: Path, wanted: dict[str, set[str]]
) -> tuple[list[Advisory], list[ParseReport]]:
    """The wanted records of each source (certfr, csaf, cve5: their own ids), parsed with
    the registered sources; the big .jsonl.gz files are scanned once."""
    reports = {kind: ParseReport(kind) for kind in SOURCES}
    advisories: list[Advisory] = []
    if wanted.get("certfr"):
        path = data.joinpath(*CERTFR_FILE)
        lines = _jsonl_lines(path, _REFERENCE, wanted["certfr"])
        advisories += _parse("certfr", ((str(path), line) for line in lines), reports["certfr"])
    if wanted.get("csaf"):
        files = {p.stem.lower(): p for p in data.joinpath(*ICSMA_DIR).rglob("*.json")}
        chosen = [files[name.lower()] for name in sorted(wanted["csaf"]) if name.lower() in files]
        advisories += _parse("csaf", ((str(p), p.read_bytes()) for p in chosen), reports["csaf"])
    if wanted.get("cve5"):
        path = data.joinpath(*CVE5_FILE)
        lines = _jsonl_lines(path, _CVE_ID, wanted["cve5"])
        advisories += _parse("cve5", ((str(path), line) for line in lines), reports["cve5"])
    return advisories, list(reports.values())


def load_advisories(data: Path, cases: Iterable[Case]) -> tuple[list[Advisory], list[ParseReport]]:
    """The records the cases cite, and nothing else."""
    wanted: dict[str, set[str]] = {}
    for case in cases:
        wanted.setdefault(case.source, set()).add(case.advisory)
    return read_records(data, wanted)


def evaluate(cases: list[Case], advisories: list[Advisory], aliases: AliasTable) -> list[Outcome]:
    """Every case asset matched against every cited advisory at once; one outcome per case."""
    assets = [aliases.normalise(case.asset) for case in cases]
    findings = match(assets, advisories, aliases=aliases)
    by_pair = {(f.asset, f.advisory): f for f in findings}
    return [Outcome(case, by_pair.get((case.id, case.advisory))) for case in cases]


@dataclass
class Evaluation:
    cases: list[Case]
    advisories: list[Advisory]
    reports: list[ParseReport]
    outcomes: list[Outcome]


def run(data: Path, cases_file: Path = CASES_FILE) -> Evaluation:
    cases = load_cases(cases_file)
    advisories, reports = load_advisories(data, cases)
    outcomes = evaluate(cases, advisories, load_aliases())
    return Evaluation(cases, advisories, reports, outcomes)


# --- tests -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def evaluation() -> Evaluation:
    for part in (CERTFR_FILE, ICSMA_DIR, CVE5_FILE):
        shared_data(*part)  # skips, with the path, when the shared data is absent
    return run(shared_data())


def test_the_set_is_large_balanced_and_explained() -> None:
    cases = load_cases()
    assert len(cases) >= 150
    assert len({case.id for case in cases}) == len(cases), "case ids must be unique"
    negatives = [case for case in cases if not case.expected]
    assert len(negatives) >= len(cases) / 2, "at least half of the cases are hard negatives"
    for source in SOURCES:
        share = sum(case.source == source for case in cases) / len(cases)
        assert share >= 0.25, f"{source} has only {share:.0%} of the cases"
    for case in cases:
        allowed = POSITIVE_CATEGORIES if case.expected else NEGATIVE_CATEGORIES
        assert case.category in allowed, f"{case.id}: category {case.category!r}"
        assert case.why.strip(), f"{case.id}: every label cites its phrase or criterion"
        assert case.asset.product, f"{case.id}: the asset names a product"


def test_every_cited_record_is_read_without_skips(evaluation: Evaluation) -> None:
    cited = {case.advisory for case in evaluation.cases}
    read = {advisory.id for advisory in evaluation.advisories}
    assert cited <= read, f"records not found or not parsed: {sorted(cited - read)}"
    for report in evaluation.reports:
        assert not report.skipped, f"{report.source}: {[str(s) for s in report.skipped]}"


def test_precision_and_recall_reach_the_target(evaluation: Evaluation) -> None:
    overall = score(evaluation.outcomes)
    per_source = score_by(evaluation.outcomes, lambda o: o.case.source)
    lines = [f"overall: {overall.summary()}"]
    lines += [f"{source}: {s.summary()}" for source, s in per_source.items()]
    lines += ["misses:"] + [f"  {miss.describe()}" for miss in overall.misses]
    report = "\n".join(lines)
    assert overall.precision >= TARGET and overall.recall >= TARGET, report
