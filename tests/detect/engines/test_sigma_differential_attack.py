"""Differential test at scale: every SigmaHQ Windows rule over the 277 EVTX attack samples.

Tocsin's SQL backend on DuckDB against pySigma's SQLite backend (``pysigma-backend-sqlite``,
same processing pipeline, ``collate_nocase``, keywords over ``_fulltext``): the rules of
``rules*/`` whose log source is ``product: windows`` (all statuses; correlations are
compared elsewhere, their semantics differ by design), the events the ingest package
writes for the samples. Both sides must refuse the same rules (placeholders) and, for every
other rule, give the same hits as (rule, file, record); a difference is either fixed here
or listed in :data:`KNOWN_DIFFERENCES` with a focused test showing their bug.

Measured (2-core machine, shared): 2,872 Windows rules load, 2,856 compile on both sides
(16 refused by both: unresolved placeholders), 8,255 events, 375 rules fire, 1,559 hits,
identical. Cost: ingest a few seconds, loading the rules ~25 s (pure-Python YAML; loaded
once, copied with pickle for the second backend, whose pipeline changes rules in place),
DuckDB ~40 s, SQLite ~45 s with 50 conditions a pass (~90 s with one query a rule).
"""

from __future__ import annotations

import pickle
from pathlib import Path

import duckdb
import pytest
from detect_engine_support import Hit, SQLiteReference
from sigma.rule import SigmaRule

from conftest import shared_data
from tocsin.detect.engines.duckdb import DuckDBEngine
from tocsin.detect.ingest import ingest
from tocsin.detect.sigma.compile import CompiledRuleSet, compile_rules
from tocsin.detect.sigma.loader import load_rules

# (rule id, sample path, record) → why SQLite's answer is wrong (none so far).
KNOWN_DIFFERENCES: dict[Hit, str] = {}


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(samples folder, event store with every sample ingested once)."""
    root = shared_data("detect", "evtx-attack-samples")
    store = tmp_path_factory.mktemp("attack") / "store"
    report = ingest([root], store)
    assert report.events > 8000, report.events
    return root, store


@pytest.fixture(scope="module")
def windows_rules() -> list[SigmaRule]:
    base = shared_data("detect", "sigma")
    ruleset = load_rules(sorted(base.glob("rules*")))
    assert not ruleset.problems, ruleset.problems[:5]
    return [
        rule
        for rule in ruleset.rules
        if isinstance(rule, SigmaRule) and (rule.logsource.product or "").lower() == "windows"
    ]


def _store_rows(store: Path) -> list[dict[str, object]]:
    con = duckdb.connect()
    cursor = con.execute(
        "SELECT * FROM read_parquet(?, union_by_name = true, hive_partitioning = false)",
        [str(store / "**" / "*.parquet")],
    )
    names = [d[0] for d in cursor.description or ()]
    rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    con.close()
    return rows


def _relative(root: Path, hits: set[Hit]) -> set[Hit]:
    return {(rule, str(Path(file).relative_to(root)), record) for rule, file, record in hits}


# Ingesting 277 files and running 2,856 rules on two engines: ~150 s alone, over the global
# 300 s limit once on a machine loaded by other jobs.
@pytest.mark.timeout(900)
def test_same_hits_as_pysigma_sqlite_on_the_attack_samples(
    samples: tuple[Path, Path], windows_rules: list[SigmaRule]
) -> None:
    root, store = samples
    theirs_rules: list[SigmaRule] = pickle.loads(pickle.dumps(windows_rules))  # noqa: S301
    compiled: CompiledRuleSet = compile_rules(windows_rules)
    result = DuckDBEngine(store, sample_limit=1_000_000).run(compiled)
    assert not result.problems, result.problems
    ours = {(a.rule.id, e.file or "", e.record or 0) for a in result.alerts for e in a.events}

    reference = SQLiteReference(_store_rows(store))
    theirs, refused = reference.hits(theirs_rules, batch=50)

    # Both refuse the same rules, for the same reason: an unresolved placeholder.
    assert {p.rule_id for p in compiled.problems} == set(refused), (compiled.problems, refused)
    assert all("placeholder" in why for why in refused.values()), refused
    assert len(compiled.rules) >= 2800

    ours, theirs = _relative(root, ours), _relative(root, theirs)
    unexplained = sorted(d for d in ours ^ theirs if d not in KNOWN_DIFFERENCES)
    assert not unexplained, (
        f"{len(ours)} hits here, {len(theirs)} on SQLite; "
        f"only here: {sorted(ours - theirs)[:10]}; only SQLite: {sorted(theirs - ours)[:10]}"
    )
    # The comparison is not vacuous: hundreds of rules fire on the samples.
    assert len({rule for rule, _, _ in ours}) >= 300
    assert len(ours) >= 1500
