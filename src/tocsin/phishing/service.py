"""Reported emails of an establishment: analyse, keep, override (the faces call this).

``record_report`` is what the report mailbox (IMAP intake), the upload page, the API and
``tocsin demo`` share: the message is analysed with the establishment's context
(``[phishing]`` settings) and kept with its analysis (:mod:`tocsin.store.phishing`).
"""

from __future__ import annotations

from dataclasses import dataclass

from tocsin.config import Settings
from tocsin.phishing.analyze import Analysis, analyze_bytes
from tocsin.phishing.context import context_from
from tocsin.phishing.model import Source
from tocsin.store import audit
from tocsin.store.db import Database
from tocsin.store.inventory import get_establishment
from tocsin.store.phishing import NewReport, StoredReport, save_report

ORIGINS = ("imap", "upload", "api", "cli", "demo")


@dataclass(frozen=True)
class ReportOutcome:
    report: StoredReport
    created: bool  # False: the same message was kept before
    analysis: Analysis


def record_report(
    database: Database,
    settings: Settings,
    slug: str,
    raw: bytes,
    *,
    origin: str,
    name: str = "report.eml",
    reporter: str | None = None,
    actor: str = "system",
) -> ReportOutcome:
    """Analyse ``raw`` for establishment ``slug`` and keep it (module docstring).

    A message forwarded as an attachment is judged on the forwarded one; its reporter is the
    forwarding message's sender unless ``reporter`` says otherwise.
    """
    if origin not in ORIGINS:
        raise ValueError(f"unknown origin {origin!r}")
    context = context_from(settings.phishing, settings.language)
    analysis = analyze_bytes(raw, Source(name), context)
    new = NewReport(
        origin=origin,
        reporter=reporter or analysis.reported_by,
        subject=analysis.subject,
        sender=analysis.sender,
        verdict=analysis.verdict,
        score=analysis.score,
        reasons=analysis.reasons,
        indicators=analysis.indicators.to_dict(),
        raw=raw,
    )
    with database.session() as session:
        establishment = get_establishment(session, slug)
        report, created = save_report(session, establishment.id, new)
        if created:
            audit.record(
                session,
                actor,
                "phishing.report",
                "phishing_report",
                str(report.id),
                establishment_id=establishment.id,
                details={"origin": origin, "verdict": analysis.verdict.value},
            )
    return ReportOutcome(report, created, analysis)
