"""Train the phishing classifier on ../shared/data/mail and evaluate it honestly.

    .venv/bin/python -m tocsin.phishing.train --data ../shared/data/mail \\
        --out src/tocsin/data/phishing/model.json [--report report.md]

1. Every message of every corpus is parsed and turned into features
   (:mod:`tocsin.phishing.features`: no header but the Subject, collection artefacts
   normalised away).
2. Each message goes to the test split (30 %) or the training split by a seeded hash of its
   file name (and index inside an mbox): the same split on every machine and every run,
   whatever the order of the files. A test message whose normalised content is the same as
   a training message's (the same phishing sent twice, a mbox repeating another) is dropped
   from the test split, so nothing is tested on what it was trained on.
3. A logistic regression is fitted on phishing (phishing_pot and Nazario training splits)
   against legitimate mail (SpamAssassin easy-ham and hard-ham training splits); spam is not
   phishing and is not trained on (the share of it flagged is reported). Regularisation is
   chosen by cross-validation on the training split only. The shipped file keeps the
   :data:`KEEP_WEIGHTS` largest hashed weights; the numbers are those of that pruned model.
4. Reported, per corpus, on the test splits only: recall on phishing, false positives on
   ham, at several probability thresholds. Then two checks of honesty: a model of header
   names alone (what the features leave out) separates the collections almost perfectly;
   and a model trained without Nazario still finds Nazario's phishing (a collection it never
   saw, 15 years older), so what the features learnt is not "which collection".
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from rich.console import Console
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from tocsin.phishing.classifier import MODEL_FORMAT
from tocsin.phishing.features import (
    FEATURES_VERSION,
    N_HASHED,
    SHAPE,
    Vector,
    body_of,
    n_columns,
    normalise,
    subject_of,
    vectorise,
)
from tocsin.phishing.message import ParsedMessage
from tocsin.phishing.model import Source
from tocsin.phishing.parse import MessageError, iter_sources, parse_message

CORPORA: dict[str, tuple[str, ...]] = {
    "phishing_pot": ("phishing_pot/email",),
    "nazario": ("nazario",),
    "easy_ham": ("spamassassin/easy-ham-1", "spamassassin/easy-ham-2"),
    "hard_ham": ("spamassassin/hard-ham-1",),
    "spam": ("spamassassin/spam-1", "spamassassin/spam-2"),
}
LABELS = {"phishing_pot": 1, "nazario": 1, "easy_ham": 0, "hard_ham": 0}  # spam: reported only
# Messages labelled by an establishment's analysts (``tocsin phish export-labelled``):
# training only, never in the evaluation, so the published numbers stay the corpora's.
EXTRA = {"extra-phishing": ("phishing", 1), "extra-legitimate": ("legitimate", 0)}
TRAINED = ("phishing_pot", "nazario", "easy_ham", "hard_ham", *EXTRA)
TEST_SHARE = 0.30
SEED = "tocsin-phishing-split-1"
C_GRID = (4.0, 16.0, 64.0)
KEEP_WEIGHTS = 30_000
THRESHOLDS = (0.5, 0.7, 0.8, 0.9, 0.95, 0.99)


@dataclass(frozen=True)
class Sample:
    corpus: str
    key: str  # file name relative to the corpus folder, "#index" inside an mbox
    vector: Vector
    header_names: frozenset[str]
    digest: str  # of the normalised subject and body: equal texts, equal digests
    test: bool


def is_test(key: str) -> bool:
    """Whether the message named ``key`` is in the test split (seeded hash, 30 %)."""
    value = int.from_bytes(hashlib.sha256(f"{SEED}:{key}".encode()).digest()[:8], "big")
    return value / 2**64 < TEST_SHARE


def _key(file: str, index: int | None, base: Path) -> str:
    path = Path(file)
    name = path.relative_to(base).as_posix() if path.is_relative_to(base) else path.name
    return name if index is None else f"{name}#{index}"


def sample_of(corpus: str, key: str, message: ParsedMessage) -> Sample:
    body, _ = body_of(message)
    text = " ".join(normalise(subject_of(message) + "\n" + body).split())
    return Sample(
        corpus=corpus,
        key=key,
        vector=vectorise(message),
        header_names=frozenset(name for name, _ in message.headers),
        digest=hashlib.sha256(text.encode()).hexdigest(),
        test=is_test(key),
    )


def _sample_or_none(job: tuple[str, str, Source, bytes]) -> Sample | None:
    corpus, key, source, raw = job
    try:
        return sample_of(corpus, key, parse_message(raw, source))
    except MessageError:
        return None


def _jobs(data: Path, corpus: str) -> Iterator[tuple[str, str, Source, bytes]]:
    for folder in CORPORA[corpus]:
        base = data / folder
        base = base if base.is_dir() else base.parent
        for source, raw in iter_sources([data / folder]):
            yield corpus, _key(source.file, source.index, base), source, raw


def _parsed(work: Iterable[tuple[str, str, Source, bytes]], jobs: int) -> tuple[list[Sample], int]:
    """The samples of ``work`` (in order, ``jobs`` processes) and how many messages the
    parser refused."""
    if jobs <= 1:
        found = [_sample_or_none(job) for job in work]
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            found = list(pool.map(_sample_or_none, work, chunksize=16))
    samples = [s for s in found if s is not None]
    return samples, len(found) - len(samples)


def load_corpus(data: Path, corpus: str, jobs: int = 1) -> tuple[list[Sample], int]:
    """The samples of one corpus (in file order, ``jobs`` processes) and how many messages
    the parser refused."""
    return _parsed(_jobs(data, corpus), jobs)


def load_extra(folder: Path, jobs: int = 1) -> tuple[list[Sample], int]:
    """The labelled messages of ``folder`` (``phishing/`` and ``legitimate/``, .eml or
    mbox), all in the training split; and how many the parser refused."""
    samples: list[Sample] = []
    refused = 0
    for corpus, (name, _) in EXTRA.items():
        base = folder / name
        if not base.is_dir():
            continue
        work = (
            (corpus, f"{folder.name}/{_key(source.file, source.index, base)}", source, raw)
            for source, raw in iter_sources([base])
        )
        found, unread = _parsed(work, jobs)
        samples.extend(replace(s, test=False) for s in found)
        refused += unread
    return samples, refused


def label_of(sample: Sample) -> int:
    return EXTRA[sample.corpus][1] if sample.corpus in EXTRA else LABELS[sample.corpus]


def dedupe(samples: list[Sample], train_corpora: Iterable[str]) -> tuple[list[Sample], int]:
    """``samples`` without the test messages whose text is a training message's."""
    wanted = set(train_corpora)
    seen = {s.digest for s in samples if not s.test and s.corpus in wanted}
    kept = [s for s in samples if not (s.test and s.digest in seen)]
    return kept, len(samples) - len(kept)


def matrix(vectors: Sequence[Vector], columns: int) -> csr_matrix:
    indptr, indices, data = [0], [], []
    for vector in vectors:
        for column in sorted(vector):
            indices.append(column)
            data.append(vector[column])
        indptr.append(len(indices))
    return csr_matrix(
        (np.array(data, dtype=np.float64), np.array(indices), np.array(indptr)),
        shape=(len(vectors), columns),
    )


def _regression(c: float) -> LogisticRegression:
    return LogisticRegression(C=c, solver="liblinear", class_weight="balanced", max_iter=1000)


def choose_c(x: csr_matrix, y: np.ndarray) -> tuple[float, dict[float, float]]:
    """The C of :data:`C_GRID` with the best cross-validated log loss on the training split."""
    folds = StratifiedKFold(n_splits=4, shuffle=True, random_state=0)
    losses: dict[float, float] = {}
    for c in C_GRID:
        p = cross_val_predict(_regression(c), x, y, cv=folds, method="predict_proba")[:, 1]
        p = np.clip(p, 1e-6, 1 - 1e-6)
        losses[c] = float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    return min(losses, key=lambda c: losses[c]), losses


def fit_model(vectors: Sequence[Vector], labels: Sequence[int], c: float) -> dict[str, object]:
    """The JSON document of a logistic regression fitted on ``vectors`` (deterministic:
    liblinear with a fixed order), keeping the :data:`KEEP_WEIGHTS` largest hashed weights."""
    x = matrix(vectors, n_columns())
    regression = _regression(c).fit(x, np.array(labels))
    coef = regression.coef_[0]
    hashed = coef[len(SHAPE) :]
    order = np.argsort(-np.abs(hashed), kind="stable")[:KEEP_WEIGHTS]
    pairs = sorted((int(i), _round(hashed[i])) for i in order if hashed[i] != 0)
    return {
        "format": MODEL_FORMAT,
        "features_version": FEATURES_VERSION,
        "n_hashed": N_HASHED,
        "hashing": "crc32",
        "shape": list(SHAPE),
        "intercept": _round(regression.intercept_[0]),
        "shape_weights": {name: _round(coef[i]) for i, name in enumerate(SHAPE)},
        "weights": pairs,
    }


def _round(value: float) -> float:
    return float(f"{value:.5g}")


def probabilities(document: dict[str, object], vectors: Sequence[Vector]) -> np.ndarray:
    """The model's probabilities, computed as the shipped classifier computes them."""
    weights = np.zeros(n_columns())
    shape_weights = document["shape_weights"]
    assert isinstance(shape_weights, dict)
    for i, name in enumerate(SHAPE):
        weights[i] = shape_weights[name]
    pairs = document["weights"]
    assert isinstance(pairs, list)
    for column, weight in pairs:
        weights[len(SHAPE) + column] = weight
    intercept = document["intercept"]
    assert isinstance(intercept, float)
    scores = matrix(vectors, n_columns()) @ weights + intercept
    return np.asarray(1.0 / (1.0 + np.exp(-scores)))


@dataclass(frozen=True)
class Row:
    corpus: str
    measure: str  # "recall" on phishing, "false positives" on ham, "flagged" on spam
    n: int
    rates: tuple[float, ...]  # one per threshold


def rows(samples: Sequence[Sample], p: np.ndarray, thresholds: Sequence[float]) -> list[Row]:
    """Per corpus, the share of its messages at or over each threshold."""
    found: list[Row] = []
    for corpus in CORPORA:
        mask = np.array([s.corpus == corpus for s in samples], dtype=bool)
        if not mask.any():
            continue
        label = LABELS.get(corpus)
        measure = "recall" if label == 1 else "false positives"
        measure = "flagged (not phishing)" if label is None else measure
        rates = tuple(float(np.mean(p[mask] >= t)) for t in thresholds)
        found.append(Row(corpus, measure, int(mask.sum()), rates))
    return found


def markdown(title: str, table: list[Row], thresholds: Sequence[float]) -> str:
    head = "| corpus (test split) | measure | messages | " + " | ".join(
        f"p ≥ {t:g}" for t in thresholds
    )
    lines = [f"{title}\n", head + " |", "|---|---|---:|" + "---:|" * len(thresholds)]
    for row in table:
        cells = " | ".join(f"{100 * r:.1f} %" for r in row.rates)
        lines.append(f"| {row.corpus} | {row.measure} | {row.n} | {cells} |")
    return "\n".join(lines) + "\n"


def _names_vector(names: frozenset[str]) -> Vector:
    vector: Vector = {}
    for name in names:
        column = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) % N_HASHED
        vector[len(SHAPE) + column] = 1.0
    return vector


Featurise = Callable[[Sample], Vector]


def experiment(
    samples: list[Sample], train_corpora: Sequence[str], featurise: Featurise, c: float
) -> tuple[dict[str, object], list[Sample], np.ndarray]:
    """Train on the training splits of ``train_corpora``; the test samples (every message
    of a corpus not trained on, minus texts seen in training) and their probabilities."""
    kept, _ = dedupe(samples, train_corpora)
    train = [s for s in kept if not s.test and s.corpus in train_corpora]
    test = [s for s in kept if (s.test or s.corpus not in train_corpora) and s.corpus not in EXTRA]
    document = fit_model([featurise(s) for s in train], [label_of(s) for s in train], c)
    return document, test, probabilities(document, [featurise(s) for s in test])


def _vector(sample: Sample) -> Vector:
    return sample.vector


def _header_names(sample: Sample) -> Vector:
    return _names_vector(sample.header_names)


def run(
    data: Path,
    out: Path | None,
    console: Console,
    jobs: int = 2,
    extra: Sequence[Path] = (),
) -> str:
    """Train, evaluate, write the model to ``out``; the Markdown report. ``extra`` folders
    of labelled messages are added to the training split only."""
    started = time.perf_counter()
    samples: list[Sample] = []
    for corpus in CORPORA:
        found, refused = load_corpus(data, corpus, jobs)
        samples.extend(found)
        console.print(f"{corpus}: {len(found)} messages ({refused} refused by the parser)")
    for folder in extra:
        found, refused = load_extra(folder, jobs)
        samples.extend(found)
        console.print(f"{folder}: {len(found)} labelled messages ({refused} refused)")
    loaded = time.perf_counter() - started
    kept, dropped = dedupe(samples, TRAINED)
    train = [s for s in kept if not s.test and s.corpus in TRAINED]
    test = [s for s in kept if s.test]
    labels = np.array([label_of(s) for s in train])
    c, losses = choose_c(matrix([s.vector for s in train], n_columns()), labels)
    document = fit_model([s.vector for s in train], labels.tolist(), c)
    document["trained"] = {
        "data": "../shared/data/mail (docs/phishing-classifier.md)",
        "split": f"{SEED}, test share {TEST_SHARE}",
        "messages": dict(Counter(s.corpus for s in train)),
        "C": c,
    }
    main = rows(test, probabilities(document, [s.vector for s in test]), THRESHOLDS)
    fitted = time.perf_counter() - started - loaded
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(document, separators=(",", ":")) + "\n", "utf-8")
    report = _report(samples, main, document, c, losses, dropped)
    size = f"{out.stat().st_size / 1024:.0f} KiB" if out is not None else "not written"
    report += (
        f"\nModel file: {size}, {len(document['weights'])} hashed weights "  # type: ignore[arg-type]
        f"+ {len(SHAPE)} shape weights. Time: {loaded:.0f} s to parse and featurise "
        f"{len(samples):,} messages, {fitted:.0f} s to train and evaluate (main model).\n"
    )
    return report + _honesty(samples, c)


def _report(
    samples: list[Sample],
    main: list[Row],
    document: dict[str, object],
    c: float,
    losses: dict[float, float],
    dropped: int,
) -> str:
    counts = Counter((s.corpus, s.test) for s in samples)
    split = ", ".join(f"{k} {counts[(k, False)]}/{counts[(k, True)]}" for k in CORPORA)
    cv = ", ".join(f"C={k:g}: {v:.3f}" for k, v in losses.items())
    return (
        markdown(
            "Main model (trained on phishing_pot + Nazario vs easy-ham + hard-ham):",
            main,
            THRESHOLDS,
        )
        + f"\nSplit (train/test messages): {split}; {dropped} test messages dropped because "
        f"their normalised text is a training message's. Cross-validated log loss on the "
        f"training split: {cv}; chosen C={c:g}.\n"
    )


def _honesty(samples: list[Sample], c: float) -> str:
    """The two leakage experiments of the module docstring, as Markdown."""
    without = ("phishing_pot", "easy_ham", "hard_ham")
    _, test, p = experiment(samples, without, _vector, c)
    ours = rows(test, p, THRESHOLDS)
    _, test, p = experiment(samples, without, _header_names, 1.0)
    names = rows(test, p, THRESHOLDS)
    return (
        "\n"
        + markdown(
            "Out of collection: the same features trained WITHOUT Nazario "
            "(Nazario row: all of it, never seen):",
            ours,
            THRESHOLDS,
        )
        + "\n"
        + markdown(
            "Leakage check: header NAMES alone (what the features leave out), trained the "
            "same way without Nazario:",
            names,
            THRESHOLDS,
        )
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tocsin.phishing.train", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--data", type=Path, default=Path("../shared/data/mail"))
    parser.add_argument("--out", type=Path, default=None, help="where to write model.json")
    parser.add_argument("--report", type=Path, default=None, help="write the Markdown here")
    parser.add_argument("--jobs", type=int, default=2, help="processes to parse with")
    parser.add_argument(
        "--extra",
        type=Path,
        action="append",
        default=[],
        help="labelled messages (phishing/, legitimate/) to train on too; repeatable",
    )
    args = parser.parse_args(argv)
    console = Console(soft_wrap=True)
    report = run(args.data, args.out, console, args.jobs, args.extra)
    console.print(report, markup=False, highlight=False)
    if args.report is not None:
        args.report.write_text(report, "utf-8")


if __name__ == "__main__":
    main()


__all__ = ["fit_model", "is_test", "main", "probabilities", "run"]
