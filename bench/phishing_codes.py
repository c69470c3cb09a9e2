"""How often each phishing reason code fires, per corpus of ../shared/data/mail.

A tool for whoever writes or tunes a check: a sign worth points fires on phishing
(phishing_pot, Nazario) and stays rare on legitimate mail (SpamAssassin easy-ham,
hard-ham). Prints, per code, the share of messages of each corpus it fires on, and the
verdicts per corpus with the current checks.

    .venv/bin/python bench/phishing_codes.py [--data ../shared/data/mail] [--limit N]
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

from tocsin.phishing.analyze import analyze_bytes
from tocsin.phishing.parse import MessageError, iter_sources

CORPORA = {
    "phishing_pot": ("phishing_pot/email",),
    "nazario": ("nazario",),
    "easy_ham": ("spamassassin/easy-ham-1", "spamassassin/easy-ham-2"),
    "hard_ham": ("spamassassin/hard-ham-1",),
    "spam": ("spamassassin/spam-1", "spamassassin/spam-2"),
}


def _default_data() -> Path:
    shared = os.environ.get("TOCSIN_SHARED_DATA")
    base = Path(shared) if shared else Path(__file__).resolve().parents[2] / "shared" / "data"
    return base / "mail"


def run(data: Path, limit: int | None) -> None:
    codes: dict[str, Counter[str]] = {}
    verdicts: dict[str, Counter[str]] = {}
    sizes: dict[str, int] = {}
    for corpus, folders in CORPORA.items():
        fired: Counter[str] = Counter()
        verdict: Counter[str] = Counter()
        n = 0
        started = time.perf_counter()
        for source, raw in iter_sources([data / f for f in folders]):
            if limit is not None and n >= limit:
                break
            try:
                result = analyze_bytes(raw, source)
            except MessageError:
                verdict["refused"] += 1
                continue
            n += 1
            verdict[result.verdict.value] += 1
            fired.update({r.code for r in result.reasons})
        codes[corpus], verdicts[corpus], sizes[corpus] = fired, verdict, n
        seconds = time.perf_counter() - started
        print(f"{corpus}: {n} messages in {seconds:.1f} s ({n / seconds:,.0f}/s)")
    table = Table(title="Share of messages each code fires on (%)")
    table.add_column("code")
    for corpus in CORPORA:
        table.add_column(corpus, justify="right")
    every = sorted({c for fired in codes.values() for c in fired})
    for code in every:
        table.add_row(code, *(f"{100 * codes[c][code] / max(sizes[c], 1):.1f}" for c in CORPORA))
    for name in ("phishing", "suspicious", "legitimate", "refused"):
        table.add_row(
            f"[b]verdict {name}[/]",
            *(f"{100 * verdicts[c][name] / max(sizes[c], 1):.1f}" for c in CORPORA),
        )
    Console().print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=_default_data())
    parser.add_argument("--limit", type=int, default=None, help="messages per corpus")
    args = parser.parse_args()
    run(args.data, args.limit)


if __name__ == "__main__":
    main()
