"""Benchmark: the labelled matching evaluation set (tests/watch/eval), scored in detail.

Runs the same evaluation as ``tests/watch/eval/test_eval.py`` (which holds the loader and
the scoring: this script imports it) and prints:

- precision and recall per source (CERT-FR, ICSMA CSAF, CVE 5) and overall, with the
  findings left for review (name-only evidence or confidence below 0.5);
- per match kind of the engine's answer (cpe, purl, name+version, name-only, none): how many
  cases, true and false positives, and the precision of that kind;
- per label category (affected, all-versions, fixed, sibling, collision, ...): how many cases
  and how many were answered wrongly;
- every miss: the case, what was expected, what the engine said, and the label's reason.

Usage: .venv/bin/python bench/watch_eval.py [--data ../shared/data] [--cases FILE]
Results are kept in bench/README.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
EVAL_MODULE = ROOT / "tests" / "watch" / "eval" / "test_eval.py"
DATA = Path(os.environ.get("TOCSIN_SHARED_DATA") or ROOT.parent / "shared" / "data")


def load_eval_module() -> ModuleType:
    """tests/watch/eval/test_eval.py, which needs tests/ on the path for ``conftest``."""
    sys.path.insert(0, str(ROOT / "tests"))
    spec = importlib.util.spec_from_file_location("watch_eval_set", EVAL_MODULE)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {EVAL_MODULE}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def rate(value: float) -> str:
    return f"{value:.3f}"


def score_table(title: str, groups: dict[str, Any], overall: Any) -> Table:
    table = Table(title=title)
    for column in ("group", "cases", "tp", "fp", "fn", "tn", "review +", "review -"):
        table.add_column(column, justify="right" if column != "group" else "left")
    table.add_column("precision", justify="right")
    table.add_column("recall", justify="right")
    table.add_column("recall incl. review", justify="right")
    for name, score in [*groups.items(), ("all", overall)]:
        table.add_row(
            name,
            str(score.cases),
            str(score.tp),
            str(score.fp),
            str(score.fn),
            str(score.tn),
            str(score.review_positive),
            str(score.review_negative),
            rate(score.precision),
            rate(score.recall),
            rate(score.recall_with_review),
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DATA, help="the shared data folder")
    parser.add_argument("--cases", type=Path, default=None, help="a cases file (JSON)")
    args = parser.parse_args()
    console = Console(width=160)
    evalset = load_eval_module()
    for part in (evalset.CERTFR_FILE, evalset.ICSMA_DIR, evalset.CVE5_FILE):
        if not args.data.joinpath(*part).exists():
            console.print(f"[red]shared data missing: {args.data.joinpath(*part)}[/]")
            raise SystemExit(4)
    started = time.perf_counter()
    result = evalset.run(args.data, args.cases or evalset.CASES_FILE)
    seconds = time.perf_counter() - started
    outcomes = result.outcomes
    overall = evalset.score(outcomes)
    negatives = sum(not case.expected for case in result.cases)
    console.print(
        f"{len(result.cases)} cases ({negatives} hard negatives) on {len(result.advisories)} "
        f"records, read and matched in {seconds:.1f} s; review: name-only or confidence "
        f"< {evalset.REVIEW_BELOW}"
    )
    by_source = evalset.score_by(outcomes, lambda o: o.case.source)
    console.print(score_table("Per source", by_source, overall))

    kinds = Table(title="Per match kind of the engine's answer")
    for column in ("match", "cases", "tp", "fp", "review", "no answer", "precision"):
        kinds.add_column(column, justify="left" if column == "match" else "right")
    by_kind = evalset.score_by(
        outcomes, lambda o: o.finding.match.value if o.finding is not None else "(none)"
    )
    for kind, score in by_kind.items():
        review = score.review_positive + score.review_negative
        answered = score.tp + score.fp
        kinds.add_row(
            kind,
            str(score.cases),
            str(score.tp),
            str(score.fp),
            str(review),
            str(score.cases - answered - review),
            rate(score.precision) if answered else "-",
        )
    console.print(kinds)

    categories = Table(title="Per label category")
    for column in ("category", "label", "cases", "wrong"):
        categories.add_column(
            column, justify="left" if column in ("category", "label") else "right"
        )
    by_category = evalset.score_by(
        outcomes, lambda o: f"{o.case.category}|{'positive' if o.case.expected else 'negative'}"
    )
    for key, score in by_category.items():
        category, label = key.split("|")
        categories.add_row(category, label, str(score.cases), str(len(score.misses)))
    console.print(categories)

    console.print(f"[bold]Misses ({len(overall.misses)})[/]")
    for miss in overall.misses:
        console.print(f"  {miss.describe()}", highlight=False, soft_wrap=True)
    reviewed = [o for o in outcomes if o.review]
    console.print(f"[bold]Findings left for review ({len(reviewed)})[/]")
    for outcome in reviewed:
        console.print(f"  {outcome.describe()}", highlight=False, soft_wrap=True)


if __name__ == "__main__":
    main()
