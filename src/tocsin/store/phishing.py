"""Phishing reports of an establishment: kept with their analysis, listed, overridden.

A message is kept once per establishment (its SHA-256): the same email uploaded twice, or
reported again, is the same report. The raw message is kept zlib-compressed, so that it can
be analysed again and shown (sanitised) to those allowed. An analyst's verdict overrides the
machine's everywhere it is shown, and is kept next to it for retraining; overrides go to
the audit log.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tocsin.errors import NotFoundError, UsageError
from tocsin.phishing.model import Reason, Verdict
from tocsin.store import audit
from tocsin.store.tables import PhishingReportRow

MAX_RAW_BYTES = 30 * 1024 * 1024


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class StoredReport:
    id: int
    establishment_id: int
    received_at: datetime
    origin: str
    reporter: str | None
    subject: str
    sender: str
    machine_verdict: Verdict
    score: int
    reasons: tuple[Reason, ...]
    indicators: dict[str, list[str]]
    analyst_verdict: Verdict | None
    analyst: str | None
    analyst_note: str | None
    overridden_at: datetime | None
    replied_at: datetime | None
    raw_size: int

    @property
    def verdict(self) -> Verdict:
        """The analyst's verdict when there is one, else the machine's."""
        return self.analyst_verdict or self.machine_verdict

    def to_dict(self) -> dict[str, Any]:
        """docs/json-shapes.md, "Phishing report", version 1."""
        return {
            "version": 1,
            "id": self.id,
            "received_at": self.received_at.isoformat(),
            "origin": self.origin,
            "reporter": self.reporter,
            "subject": self.subject,
            "from": self.sender,
            "verdict": self.verdict.value,
            "machine_verdict": self.machine_verdict.value,
            "score": self.score,
            "reasons": [r.to_dict() for r in self.reasons],
            "indicators": self.indicators,
            "analyst_verdict": self.analyst_verdict.value if self.analyst_verdict else None,
            "analyst": self.analyst,
            "analyst_note": self.analyst_note,
            "replied_at": self.replied_at.isoformat() if self.replied_at else None,
        }


def _stored(row: PhishingReportRow) -> StoredReport:
    return StoredReport(
        id=row.id,
        establishment_id=row.establishment_id,
        received_at=_aware(row.received_at) or row.received_at,
        origin=row.origin,
        reporter=row.reporter,
        subject=row.subject,
        sender=row.sender,
        machine_verdict=Verdict(row.verdict),
        score=row.score,
        reasons=tuple(
            Reason(str(r["code"]), int(r["points"]), str(r["detail"])) for r in row.reasons or ()
        ),
        indicators={k: list(v) for k, v in (row.indicators or {}).items()},
        analyst_verdict=Verdict(row.analyst_verdict) if row.analyst_verdict else None,
        analyst=row.analyst,
        analyst_note=row.analyst_note,
        overridden_at=_aware(row.overridden_at),
        replied_at=_aware(row.replied_at),
        raw_size=row.raw_size,
    )


@dataclass(frozen=True)
class NewReport:
    """What to keep of one analysed message."""

    origin: str
    reporter: str | None
    subject: str
    sender: str
    verdict: Verdict
    score: int
    reasons: tuple[Reason, ...]
    indicators: dict[str, list[str]]
    raw: bytes


def save_report(
    session: Session, establishment_id: int, new: NewReport, now: datetime | None = None
) -> tuple[StoredReport, bool]:
    """Keep ``new`` (or find the same message kept before); (report, created)."""
    if len(new.raw) > MAX_RAW_BYTES:
        raise UsageError(f"message of {len(new.raw):,} bytes, over {MAX_RAW_BYTES:,}")
    digest = hashlib.sha256(new.raw).hexdigest()
    existing = session.scalar(
        select(PhishingReportRow).where(
            PhishingReportRow.establishment_id == establishment_id,
            PhishingReportRow.message_sha256 == digest,
        )
    )
    if existing is not None:
        return _stored(existing), False
    row = PhishingReportRow(
        establishment_id=establishment_id,
        received_at=now or datetime.now(UTC),
        origin=new.origin,
        reporter=new.reporter,
        subject=new.subject[:2000],
        sender=new.sender[:320],
        verdict=new.verdict.value,
        score=new.score,
        reasons=[r.to_dict() for r in new.reasons],
        indicators=new.indicators,
        message_sha256=digest,
        raw_size=len(new.raw),
        raw=zlib.compress(new.raw, 6),
    )
    session.add(row)
    session.flush()
    return _stored(row), True


def _effective(verdict: str) -> Any:
    return func.coalesce(PhishingReportRow.analyst_verdict, PhishingReportRow.verdict) == verdict


def list_reports(
    session: Session,
    establishment_id: int,
    verdict: Verdict | None = None,
    *,
    limit: int | None = 50,
    offset: int = 0,
) -> list[StoredReport]:
    """Reports, latest first; ``verdict`` filters on the effective verdict."""
    query = select(PhishingReportRow).where(PhishingReportRow.establishment_id == establishment_id)
    if verdict is not None:
        query = query.where(_effective(verdict.value))
    query = query.order_by(PhishingReportRow.received_at.desc(), PhishingReportRow.id.desc())
    query = query.offset(offset).limit(limit) if limit is not None else query.offset(offset)
    return [_stored(row) for row in session.scalars(query)]


def report_counts(session: Session, establishment_id: int) -> dict[str, int]:
    """Reports per effective verdict."""
    verdict = func.coalesce(PhishingReportRow.analyst_verdict, PhishingReportRow.verdict)
    rows = session.execute(
        select(verdict, func.count(PhishingReportRow.id))
        .where(PhishingReportRow.establishment_id == establishment_id)
        .group_by(verdict)
    )
    return {str(v): int(n) for v, n in rows}


def _row(session: Session, establishment_id: int | None, report_id: int) -> PhishingReportRow:
    row = session.get(PhishingReportRow, report_id)
    if row is None or establishment_id not in (None, row.establishment_id):
        raise NotFoundError(f"no phishing report {report_id} in this establishment")
    return row


def get_report(session: Session, establishment_id: int | None, report_id: int) -> StoredReport:
    return _stored(_row(session, establishment_id, report_id))


def raw_message(session: Session, establishment_id: int | None, report_id: int) -> bytes:
    return zlib.decompress(_row(session, establishment_id, report_id).raw)


def override_verdict(
    session: Session,
    establishment_id: int | None,
    report_id: int,
    verdict: Verdict | str | None,
    actor: str,
    note: str | None = None,
) -> StoredReport:
    """Set (or, with None, remove) the analyst's verdict; audited."""
    try:
        chosen = Verdict(verdict) if verdict else None
    except ValueError:
        raise UsageError(f"unknown verdict {verdict!r}") from None
    row = _row(session, establishment_id, report_id)
    before = row.analyst_verdict or row.verdict
    row.analyst_verdict = chosen.value if chosen else None
    row.analyst = actor if chosen else None
    row.analyst_note = (note or "").strip()[:2000] or None
    row.overridden_at = datetime.now(UTC) if chosen else None
    audit.record(
        session,
        actor,
        "phishing.report.verdict",
        "phishing_report",
        str(report_id),
        establishment_id=row.establishment_id,
        details={"from": before, "to": chosen.value if chosen else row.verdict, "note": note},
    )
    session.flush()
    return _stored(row)


def overridden_reports(
    session: Session, establishment_id: int
) -> Iterator[tuple[StoredReport, bytes]]:
    """The reports an analyst gave a verdict, oldest override first, with their raw
    message: what retraining the classifier learns from (docs/phishing-classifier.md)."""
    query = (
        select(PhishingReportRow)
        .where(
            PhishingReportRow.establishment_id == establishment_id,
            PhishingReportRow.analyst_verdict.is_not(None),
        )
        .order_by(PhishingReportRow.overridden_at, PhishingReportRow.id)
    )
    for row in session.scalars(query):
        yield _stored(row), zlib.decompress(row.raw)


def mark_replied(session: Session, report_id: int, now: datetime | None = None) -> None:
    row = session.get(PhishingReportRow, report_id)
    if row is not None:
        row.replied_at = now or datetime.now(UTC)
