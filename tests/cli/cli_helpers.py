"""Helpers shared by the CLI tests: running ``tocsin`` in-process, inventory CSV files.

Each test module defines its own ``run`` fixture from :func:`runner`, taking ``cli_env``
so that it runs once per database backend with its own TOCSIN_HOME. (A conftest.py here
would shadow the top-level one, which other tests import as ``conftest``.)
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tocsin.cli.main import main
from tocsin.inventory.importers.csv import COLUMNS


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def err_text(self) -> str:
        """stderr with Rich's line wrapping undone (whitespace collapsed)."""
        return " ".join(self.err.split())

    def jsonl(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.splitlines()]


Run = Callable[..., Result]


def runner(capsys: pytest.CaptureFixture[str]) -> Run:
    """``run("inventory", "list")`` → Result(exit code, stdout, stderr)."""

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


KINDS = ("software", "os", "appliance", "medical_device", "service")
CRITICALITIES = ("vital", "high", "medium", "low")
EXPOSURES = ("internet", "internal", "isolated")


def asset_rows(count: int, prefix: str = "a") -> list[dict[str, str]]:
    """``count`` varied, valid rows of Tocsin's CSV format; every tenth is a FortiGate."""
    rows = []
    for i in range(count):
        fortigate = i % 10 == 0
        rows.append(
            {
                "id": f"{prefix}{i:05d}",
                "name": f"FortiGate pare-feu {i}" if fortigate else f"Asset {i}",
                "vendor": "Fortinet" if fortigate else "Acme Medical",
                "product": "FortiGate" if fortigate else f"Product {i % 7}",
                "version": f"7.2.{i % 9}",
                "cpe": f"cpe:2.3:o:fortinet:fortios:7.2.{i % 9}:*:*:*:*:*:*:*" if fortigate else "",
                "purl": "pkg:npm/lodash@4.17.21" if i % 50 == 1 else "",
                "kind": KINDS[i % len(KINDS)],
                "criticality": CRITICALITIES[i % len(CRITICALITIES)],
                "exposure": EXPOSURES[i % len(EXPOSURES)],
                "function": "urgences" if i % 2 else "infrastructure",
                "owner": "DSI",
                "location": f"Bâtiment {chr(65 + i % 5)}",
                "tags": "dmz;vpn" if fortigate else "",
            }
        )
    return rows


def write_rows(path: Path, rows: Iterable[Mapping[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path
