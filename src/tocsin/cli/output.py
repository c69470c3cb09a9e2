"""Rendering of listings as a Rich table, JSON or JSON lines, streamed where possible."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any

from rich.console import Console
from rich.table import Table


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    JSONL = "jsonl"


def console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def emit(
    rows: Iterable[dict[str, Any]],
    fmt: OutputFormat,
    columns: Sequence[str],
    *,
    title: str | None = None,
    wrapper: str | None = None,
) -> int:
    """Write ``rows``; returns how many were written. jsonl and json stream row by row."""
    out = sys.stdout
    count = 0
    if fmt is OutputFormat.JSONL:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            count += 1
        out.flush()
        return count
    if fmt is OutputFormat.JSON:
        out.write(f'{{"version": 1, "{wrapper}": [' if wrapper else "[")
        for row in rows:
            out.write(
                ("\n" if count == 0 else ",\n") + json.dumps(row, ensure_ascii=False, default=str)
            )
            count += 1
        out.write("\n]}\n" if wrapper else "\n]\n")
        out.flush()
        return count
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in columns))
        count += 1
    console().print(table)
    return count
