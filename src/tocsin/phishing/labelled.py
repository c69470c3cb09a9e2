"""Analysts' verdicts as training data: the overridden reports written out as labelled
messages, for ``python -m tocsin.phishing.train --extra DIR`` (docs/phishing-classifier.md).

``DIR/phishing/`` and ``DIR/legitimate/`` receive one ``.eml`` per report, named by the
SHA-256 of the message (the same report exported twice is one file); a report the analyst
called *suspicious* says nothing either way and is left out. Files are written whole
(temporary name, then renamed): an interrupted export leaves no half-written message.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from tocsin.phishing.model import Verdict

FOLDERS = {Verdict.PHISHING: "phishing", Verdict.LEGITIMATE: "legitimate"}


def export_labelled(reports: Iterable[tuple[Verdict, bytes]], folder: Path) -> Counter[str]:
    """Write each (analyst verdict, raw message) under ``folder``; counts per folder, and
    ``suspicious`` for those left out."""
    counts: Counter[str] = Counter()
    for verdict, raw in reports:
        name = FOLDERS.get(verdict)
        if name is None:
            counts[verdict.value] += 1
            continue
        target = folder / name
        target.mkdir(parents=True, exist_ok=True)
        path = target / f"{hashlib.sha256(raw).hexdigest()}.eml"
        counts[name] += 1
        if path.exists():
            continue
        handle, temporary = tempfile.mkstemp(dir=target, prefix=".part-", suffix=".eml")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(raw)
            Path(temporary).replace(path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return counts
