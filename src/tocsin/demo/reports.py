"""The demo's phishing step: its reported emails analysed and kept (the Phishing pages).

The emails are written by :mod:`tocsin.demo.phishing` into ``tocsin/data/demo/phishing``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tocsin.config import Settings
from tocsin.store.db import Database
from tocsin.store.inventory import get_establishment


@dataclass(frozen=True)
class DemoReports:
    kept: int  # reports of the demo establishment after the run
    by_verdict: dict[str, int]


def record_demo_reports(database: Database, settings: Settings, slug: str) -> DemoReports:
    """Analyse and keep the demo's reported emails (``tocsin/data/demo/phishing``); a second
    run finds them kept already (one report per message)."""
    from importlib import resources

    from tocsin.data import data_path
    from tocsin.phishing.service import record_report
    from tocsin.store.phishing import report_counts

    with resources.as_file(data_path("demo", "phishing")) as folder:
        files = sorted(Path(folder).glob("*.eml"))
        for path in files:
            record_report(
                database, settings, slug, path.read_bytes(),
                origin="demo", name=path.name, actor="demo",
            )  # fmt: skip
    with database.session() as session:
        counts = report_counts(session, get_establishment(session, slug).id)
    return DemoReports(sum(counts.values()), counts)
