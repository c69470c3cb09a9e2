"""Regenerate ``tocsin/data/demo/inventory.csv`` from the demo tables.

Usage, from a source checkout::

    .venv/bin/python -m tocsin.demo.generate           # rewrite the bundled CSV
    .venv/bin/python -m tocsin.demo.generate --check   # exit 1 if it is out of date

The CSV is committed so that ``tocsin demo`` imports it through the same parser as any
user's file; a test fails when it no longer matches the tables.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Sequence
from pathlib import Path

from tocsin.data import data_path
from tocsin.demo.catalogue import DEMO_DIR, INVENTORY_FILE, demo_rows
from tocsin.inventory.importers.csv import COLUMNS


def render_csv(rows: Sequence[dict[str, str]]) -> str:
    """CSV text in Tocsin's format: UTF-8, comma separated, header first, ``\\n`` lines."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def demo_csv() -> str:
    """The CSV the bundled tables produce now."""
    return render_csv(demo_rows())


def bundled_csv_path() -> Path:
    return Path(str(data_path(*DEMO_DIR, INVENTORY_FILE)))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--check", action="store_true", help="only check that the file is up to date"
    )
    parser.add_argument("--output", type=Path, help="write here instead of the bundled file")
    args = parser.parse_args(argv)
    target: Path = args.output or bundled_csv_path()
    text = demo_csv()
    if args.check:
        current = target.read_text(encoding="utf-8") if target.is_file() else ""
        if current != text:
            sys.stderr.write(f"{target} is out of date; run python -m tocsin.demo.generate\n")
            return 1
        return 0
    temporary = target.with_name(target.name + ".part")
    temporary.write_text(text, encoding="utf-8", newline="")
    temporary.replace(target)
    sys.stderr.write(f"wrote {text.count(chr(10)) - 1} assets to {target}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
