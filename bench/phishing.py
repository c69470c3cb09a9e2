"""bench/phishing: Tocsin's verdicts side by side with SpamAssassin on ../shared/data/mail.

On the TEST split of each corpus (the split of ``tocsin.phishing.train``: the classifier
never saw these messages; test messages whose text is also a training message's are left
out, as in the classifier's evaluation), both tools judge the same messages, one process
each:

* Tocsin: ``analyze_bytes`` on every message (default context: no establishment settings);
  recall = share judged phishing (and phishing or suspicious), false positives = share of
  legitimate mail judged phishing (and suspicious).
* SpamAssassin (Debian's package, ``--local``: no network test, as Tocsin): the messages of
  a corpus written to one mbox and run through ``spamassassin -L --mbox`` in one process;
  a message counts as caught when ``X-Spam-Status: Yes`` (score at least 5.0, its default
  threshold).

Messages per second are wall-clock over the whole corpus, start-up included, median of
``--repeat`` runs. SpamAssassin: ``apt-get install spamassassin`` (or set
TOCSIN_BENCH_SPAMASSASSIN to its ``spamassassin`` script); without it only Tocsin runs.

    .venv/bin/python bench/phishing.py [--data ../shared/data/mail] [--repeat 3] [--limit N]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from tocsin.phishing.analyze import analyze_bytes
from tocsin.phishing.model import Source
from tocsin.phishing.parse import MessageError, iter_mbox, iter_sources
from tocsin.phishing.train import CORPORA, LABELS, _key, dedupe, is_test, load_corpus

_STATUS = re.compile(rb"^X-Spam-Status:\s*(Yes|No)", re.MULTILINE | re.IGNORECASE)


@dataclass
class Outcome:
    n: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    seconds: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.n / statistics.median(self.seconds) if self.seconds else 0.0

    def share(self, *names: str) -> float:
        return sum(self.verdicts[n] for n in names) / self.n if self.n else 0.0


def _default_data() -> Path:
    shared = os.environ.get("TOCSIN_SHARED_DATA")
    base = Path(shared) if shared else Path(__file__).resolve().parents[2] / "shared" / "data"
    return base / "mail"


def held_out(data: Path) -> set[str]:
    """Keys of test messages whose text is also a training message's (Nazario's three mbox
    files repeat each other): left out, as the classifier's own evaluation does."""
    samples = [s for corpus in LABELS for s in load_corpus(data, corpus, jobs=2)[0]]
    kept, _dropped = dedupe(samples, LABELS)
    kept_keys = {(s.corpus, s.key) for s in kept}
    return {f"{s.corpus}:{s.key}" for s in samples if s.test and (s.corpus, s.key) not in kept_keys}


def test_messages(
    data: Path, corpus: str, limit: int | None, skip: set[str] | None = None
) -> list[tuple[Source, bytes]]:
    """The test split of ``corpus`` (as the classifier's training script splits it), minus
    the ``skip`` keys (``corpus:key``)."""
    found: list[tuple[Source, bytes]] = []
    for folder in CORPORA[corpus]:
        base = data / folder
        base = base if base.is_dir() else base.parent
        for source, raw in iter_sources([data / folder]):
            key = _key(source.file, source.index, base)
            if is_test(key) and f"{corpus}:{key}" not in (skip or set()):
                found.append((source, raw))
                if limit is not None and len(found) >= limit:
                    return found
    return found


def run_tocsin(messages: list[tuple[Source, bytes]], repeat: int) -> Outcome:
    outcome = Outcome(n=len(messages))
    for round_ in range(repeat):
        started = time.perf_counter()
        verdicts: Counter[str] = Counter()
        for source, raw in messages:
            try:
                verdicts[analyze_bytes(raw, source).verdict.value] += 1
            except MessageError:
                verdicts["refused"] += 1
        outcome.seconds.append(time.perf_counter() - started)
        if round_ == 0:
            outcome.verdicts = verdicts
    return outcome


def _mbox(messages: list[tuple[Source, bytes]], folder: Path) -> Path:
    path = folder / "corpus.mbox"
    with path.open("wb") as out:
        for _source, raw in messages:
            body = re.sub(rb"(?m)^(>*From )", rb">\1", raw.replace(b"\r\n", b"\n"))
            out.write(
                b"From bench@tocsin Thu Jan  1 00:00:00 2026\n" + body.rstrip(b"\n") + b"\n\n"
            )
    return path


def run_spamassassin(binary: str, messages: list[tuple[Source, bytes]], repeat: int) -> Outcome:
    outcome = Outcome(n=len(messages))
    with tempfile.TemporaryDirectory(prefix="tocsin-bench-sa-") as temp:
        box = _mbox(messages, Path(temp))
        out = Path(temp) / "out.mbox"
        for round_ in range(repeat):
            started = time.perf_counter()
            with box.open("rb") as source, out.open("wb") as sink:
                subprocess.run(  # noqa: S603 - the benchmark's own command line
                    [binary, "-L", "--mbox"], stdin=source, stdout=sink, check=True,
                    stderr=subprocess.DEVNULL,
                )  # fmt: skip
            outcome.seconds.append(time.perf_counter() - started)
            if round_ == 0:
                for _src, raw in iter_mbox(out):
                    found = _STATUS.search(raw.split(b"\n\n", 1)[0])
                    caught = found is not None and found.group(1).lower() == b"yes"
                    outcome.verdicts["spam" if caught else "ham"] += 1
    return outcome


def _fmt(value: float) -> str:
    return f"{100 * value:.1f} %"


def report(results: dict[str, tuple[Outcome, Outcome | None]], console: Console) -> None:
    table = Table(title="Phishing verdicts on the test splits: Tocsin | SpamAssassin 4 (-L)")
    for column in ("corpus", "messages", "measure", "Tocsin: phishing", "Tocsin: +suspicious",
                   "SpamAssassin", "Tocsin msg/s", "SA msg/s"):  # fmt: skip
        table.add_column(column, justify="left" if column in ("corpus", "measure") else "right")
    for corpus, (tocsin, sa) in results.items():
        measure = "recall" if LABELS[corpus] else "false positives"
        table.add_row(
            corpus, str(tocsin.n), measure,
            _fmt(tocsin.share("phishing")), _fmt(tocsin.share("phishing", "suspicious")),
            _fmt(sa.share("spam")) if sa else "—",
            f"{tocsin.rate:,.1f}", f"{sa.rate:,.1f}" if sa else "—",
        )  # fmt: skip
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=_default_data())
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="messages per corpus")
    args = parser.parse_args()
    console = Console()
    binary = os.environ.get("TOCSIN_BENCH_SPAMASSASSIN") or shutil.which("spamassassin")
    if not binary:
        console.print("SpamAssassin not found: apt-get install spamassassin, or set "
                      "TOCSIN_BENCH_SPAMASSASSIN; Tocsin only.")  # fmt: skip
    skip = held_out(args.data)
    console.print(f"{len(skip)} test messages left out: their text is a training message's")
    results: dict[str, tuple[Outcome, Outcome | None]] = {}
    for corpus in LABELS:
        messages = test_messages(args.data, corpus, args.limit, skip)
        tocsin = run_tocsin(messages, args.repeat)
        sa = run_spamassassin(binary, messages, args.repeat) if binary else None
        results[corpus] = (tocsin, sa)
        console.print(f"{corpus}: {len(messages)} test messages done")
    report(results, console)


if __name__ == "__main__":
    main()
