"""Both engines give identical alerts on SigmaHQ's regression_data (issue 4, "Done when").

The same store and compiled rules as ``test_sigma_regression_data.py`` run on DuckDB and on
Spark; every alert must be equal (rule, host, window, count, first, last, sample events) and
each case must fire its rule on Spark as it does on DuckDB.

Spark's start and its first queries (JIT, code generation) cost tens of seconds on a small
machine, so by default a representative subset runs (every ``SUBSET_STEP``-th case, which
spans process creation, registry, PowerShell, Security and Defender rules); set
``TOCSIN_SPARK_FULL=1`` for all 202 cases.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from detect_engine_support import write_events
from spark_support import spark  # noqa: F401 - the session fixture
from test_sigma_regression_data import KNOWN_MISSES, _cases, _rows, _rule_files

from conftest import shared_data
from tocsin.detect.engines.duckdb import DuckDBEngine
from tocsin.detect.engines.spark import SparkEngine
from tocsin.detect.sigma.compile import compile_rules
from tocsin.detect.sigma.loader import load_rules
from tocsin.detect.sigma.select import select

pytestmark = pytest.mark.spark

SUBSET_STEP = 8
FULL = os.environ.get("TOCSIN_SPARK_FULL") == "1"


def test_spark_and_duckdb_agree_on_regression_data(
    tmp_path: Path,
    spark: object,  # noqa: F811
) -> None:
    root = shared_data("detect", "sigma", "regression_data")
    cases = list(_cases(root))
    assert len(cases) == 202
    if not FULL:
        cases = cases[::SUBSET_STEP]
    store = tmp_path / "store"
    for _, evtx, companion in cases:
        write_events(store, "windows", _rows(evtx, companion), file=str(evtx))
    ids = {rule_id for rule_id, _, _ in cases}
    ruleset = load_rules(_rule_files(ids))
    assert not ruleset.problems, ruleset.problems
    compiled = compile_rules(select(ruleset))
    duck = DuckDBEngine(store, sample_limit=1000).run(compiled)
    sparked = SparkEngine(store, spark=spark, sample_limit=1000).run(compiled)  # type: ignore[arg-type]
    assert not duck.problems, duck.problems
    assert not sparked.problems, sparked.problems
    assert sparked.events_read == duck.events_read
    assert len(sparked.alerts) == len(duck.alerts)
    different = [(d, s) for d, s in zip(duck.alerts, sparked.alerts, strict=True) if d != s]
    assert not different, different[:3]
    fired = {(a.rule.id, e.file) for a in sparked.alerts for e in a.events}
    misses = {rule_id for rule_id, evtx, _ in cases if (rule_id, str(evtx)) not in fired}
    assert misses <= set(KNOWN_MISSES), misses
    print(  # noqa: T201 - the agreement numbers, shown with -s
        f"{len(cases) - len(misses)}/{len(cases)} cases fire on Spark; "
        f"{len(duck.alerts)} alerts identical on both engines"
    )
