"""Per-minute DDoS features from the Parquet event store, computed by DuckDB in SQL.

Millions of access-log or firewall lines become one row per (target, minute): the grouping,
the per-source counts, the entropies and the heaviest sources are all computed in SQL, so
Python only sees (targets x minutes) rows. Targets:

* ``web``: the virtual host (``cs-host``), else the host the log names (``_host``), else the
  log file (one file per site is common with plain combined logs); sources are ``c-ip``.
* ``fortigate``: ``dstip:dstport``; sources are ``srcip`` (one line is one session).

The destination entropy of a minute is computed over the targets of the same log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from tocsin.detect.detectors.ddos_model import MinuteStats
from tocsin.detect.engines.sql import literal
from tocsin.detect.store import list_partitions
from tocsin.errors import InputError, Location


@dataclass(frozen=True)
class _Log:
    source: str
    target: tuple[tuple[str, ...], str]  # columns whose first non-null value names the target
    client: str


_LOGS = (
    _Log("web", (("cs-host", "_host", "_file"), ""), "c-ip"),
    _Log("fortigate", (("dstip",), "dstport"), "srcip"),
)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _target_sql(log: _Log, columns: set[str]) -> str | None:
    names, port = log.target
    present = [_ident(n) for n in names if n.lower() in columns]
    if not present:
        return None
    host = present[0] if len(present) == 1 else f"coalesce({', '.join(present)})"
    if port and port.lower() in columns:
        return f"{host} || ':' || coalesce({_ident(port)}, '-')"
    return host


def _minutes_sql(files: str, where: str, target: str, client: str, top_k: int) -> str:
    return f"""
WITH ev AS (
  SELECT {target} AS target, date_trunc('minute', _time) AS minute, {client} AS src
  FROM read_parquet([{files}], union_by_name = true, hive_partitioning = false)
  WHERE {where}
), per_src AS (
  SELECT target, minute, coalesce(src, '-') AS src, count(*) AS n
  FROM ev WHERE target IS NOT NULL GROUP BY ALL
), per_min AS (
  SELECT target, minute, sum(n)::BIGINT AS requests, count(*) AS sources,
         greatest(0.0, log2(sum(n)) - sum(n * log2(n)) / sum(n)) AS entropy,
         list(struct_pack(s := src, n := n) ORDER BY n DESC, src)[1:{int(top_k)}] AS top
  FROM per_src GROUP BY ALL
), dest AS (
  SELECT minute,
         greatest(0.0, log2(sum(requests)) - sum(requests * log2(requests)) / sum(requests)) AS h
  FROM per_min GROUP BY minute
)
SELECT p.target, p.minute, p.requests, p.sources, p.entropy, d.h, p.top
FROM per_min p JOIN dest d USING (minute) ORDER BY p.target, p.minute
"""  # noqa: S608 - identifiers quoted, values are literals


def read_minutes(
    store: Path,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    sources: Sequence[str] = ("web", "fortigate"),
    top_k: int = 10,
    memory_limit: str = "1GB",
) -> list[MinuteStats]:
    """Per-minute features of every web and firewall target in ``store`` (inclusive bounds)."""
    rows: list[MinuteStats] = []
    con = duckdb.connect(":memory:", config={"memory_limit": memory_limit})
    try:
        con.execute("SET TimeZone = 'UTC'")
        for log in _LOGS:
            if log.source in sources:
                rows.extend(_read_log(con, store, log, since, until, top_k))
    finally:
        con.close()
    return rows


def _read_log(
    con: duckdb.DuckDBPyConnection,
    store: Path,
    log: _Log,
    since: datetime | None,
    until: datetime | None,
    top_k: int,
) -> list[MinuteStats]:
    partitions = list_partitions(
        store, [log.source], since.date() if since else None, until.date() if until else None
    )
    paths = [f for p in partitions for f in p.files()]
    if not paths:
        return []
    files = ", ".join(literal(str(f)) for f in paths)
    try:
        described = con.execute(
            f"DESCRIBE SELECT * FROM read_parquet([{files}], union_by_name = true, "  # noqa: S608
            "hive_partitioning = false)"
        ).fetchall()
    except duckdb.Error as exc:
        raise InputError(
            f"cannot read the {log.source} partitions: {exc}", Location(str(store))
        ) from exc
    columns = {str(r[0]).lower() for r in described}
    target = _target_sql(log, columns)
    if target is None or log.client.lower() not in columns or "_time" not in columns:
        return []
    where = ["_time IS NOT NULL"]
    if since is not None:
        where.append(f"_time >= {literal(since.isoformat())}::TIMESTAMPTZ")
    if until is not None:
        where.append(f"_time <= {literal(until.isoformat())}::TIMESTAMPTZ")
    sql = _minutes_sql(files, " AND ".join(where), target, _ident(log.client), top_k)
    result: list[MinuteStats] = []
    for name, minute, requests, n_sources, h_src, h_dest, top in con.execute(sql).fetchall():
        when = minute.astimezone(UTC) if minute.tzinfo else minute.replace(tzinfo=UTC)
        result.append(
            MinuteStats(
                log=log.source,
                target=str(name),
                minute=when,
                requests=int(requests),
                sources=int(n_sources),
                source_entropy=float(h_src),
                dest_entropy=float(h_dest),
                top=tuple((str(t["s"]), int(t["n"])) for t in top),
            )
        )
    return result
