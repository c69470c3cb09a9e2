"""The database schema, as SQLAlchemy 2 ORM classes.

Alembic migrations under ``store/migrations`` create it; a test checks that the
migrated schema and these classes agree.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True), dict[str, Any]: JSON}


class EstablishmentRow(Base):
    __tablename__ = "establishments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(16))
    finess: Mapped[str | None] = mapped_column(String(9))
    region: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    assets: Mapped[list[AssetRow]] = relationship(
        back_populates="establishment", cascade="all, delete-orphan", passive_deletes=True
    )


class AssetRow(Base):
    __tablename__ = "assets"
    __table_args__ = (
        UniqueConstraint("establishment_id", "asset_key", name="uq_assets_establishment_key"),
        Index("ix_assets_establishment_kind", "establishment_id", "kind"),
        Index("ix_assets_vendor_product", "vendor_key", "product_key"),
        Index("ix_assets_establishment_source", "establishment_id", "source"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    establishment_id: Mapped[int] = mapped_column(
        ForeignKey("establishments.id", ondelete="CASCADE")
    )
    asset_key: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(512))
    kind: Mapped[str] = mapped_column(String(32))
    vendor: Mapped[str | None] = mapped_column(String(255))
    product: Mapped[str | None] = mapped_column(String(255))
    version: Mapped[str | None] = mapped_column(String(128))
    cpe: Mapped[str | None] = mapped_column(String(512))
    purl: Mapped[str | None] = mapped_column(String(1024))
    criticality: Mapped[str] = mapped_column(String(16))
    exposure: Mapped[str] = mapped_column(String(16))
    function: Mapped[str | None] = mapped_column(String(64))
    owner: Mapped[str | None] = mapped_column(String(255))
    location: Mapped[str | None] = mapped_column(String(255))
    tags: Mapped[str] = mapped_column(Text, default="")
    vendor_key: Mapped[str | None] = mapped_column(String(255))
    product_key: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    establishment: Mapped[EstablishmentRow] = relationship(back_populates="assets")


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(128), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(2))
    all_establishments: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column()

    establishments: Mapped[list[EstablishmentRow]] = relationship(
        secondary="user_establishments", lazy="selectin"
    )


class UserEstablishmentRow(Base):
    __tablename__ = "user_establishments"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    establishment_id: Mapped[int] = mapped_column(
        ForeignKey("establishments.id", ondelete="CASCADE"), primary_key=True
    )


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditRow(Base):
    """Append-only: database triggers refuse UPDATE and DELETE on this table."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(255))
    establishment_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class LoginAttemptRow(Base):
    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(128))
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    success: Mapped[bool] = mapped_column(Boolean)


# -- watch (veille): advisories, enrichments, feeds, exposures and their lifecycle -----
class AdvisoryRow(Base):
    """One advisory as one feed states it: the same CVE from NVD, CVE 5 and KEV is three rows,
    merged by the matching engine (``watch.match.merge``) when it reads them."""

    __tablename__ = "advisories"
    __table_args__ = (
        UniqueConstraint("advisory_id", "source", name="uq_advisories_advisory_source"),
        Index("ix_advisories_advisory_id", "advisory_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    advisory_id: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    published: Mapped[datetime | None] = mapped_column()
    modified: Mapped[datetime | None] = mapped_column()
    cves: Mapped[list[str]] = mapped_column(JSON, default=list)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    data: Mapped[dict[str, Any]] = mapped_column()
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)


class EnrichmentRow(Base):
    """Exploitation signals of one CVE from feeds that are not advisories (KEV, EPSS)."""

    __tablename__ = "enrichments"

    cve: Mapped[str] = mapped_column(String(32), primary_key=True)
    kev: Mapped[bool] = mapped_column(Boolean, default=False)
    kev_date_added: Mapped[str | None] = mapped_column(String(32))
    kev_due_date: Mapped[str | None] = mapped_column(String(32))
    ransomware_use: Mapped[bool] = mapped_column(Boolean, default=False)
    epss: Mapped[float | None] = mapped_column(Float)
    epss_percentile: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeedStateRow(Base):
    """Per feed (by its name in the feed list): what the next fetch needs, how the last went.

    ``state`` is the fetcher's own state (``tocsin.watch.fetch.FeedState.to_json``: the date
    of the last complete run and the ETag/Last-Modified of each URL, for conditional
    requests), saved in the same transaction as the feed's data.
    """

    __tablename__ = "feed_state"

    feed: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_attempt: Mapped[datetime | None] = mapped_column()
    last_success: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)


class WatchPolicyRow(Base):
    """An establishment's own priority settings (due dates per decision)."""

    __tablename__ = "watch_policies"

    establishment_id: Mapped[int] = mapped_column(
        ForeignKey("establishments.id", ondelete="CASCADE"), primary_key=True
    )
    act_now_days: Mapped[int | None] = mapped_column(Integer)
    out_of_cycle_days: Mapped[int | None] = mapped_column(Integer)
    scheduled_days: Mapped[int | None] = mapped_column(Integer)
    track_days: Mapped[int | None] = mapped_column(Integer)
    epss_poc: Mapped[float] = mapped_column(Float)
    act_now_min_confidence: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExposureRow(Base):
    """An advisory that hits an asset of an establishment, and where its handling stands."""

    __tablename__ = "exposures"
    __table_args__ = (
        UniqueConstraint(
            "establishment_id",
            "asset_key",
            "advisory_id",
            name="uq_exposures_establishment_asset_advisory",
        ),
        Index("ix_exposures_establishment_status", "establishment_id", "status"),
        Index("ix_exposures_advisory_id", "advisory_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    establishment_id: Mapped[int] = mapped_column(
        ForeignKey("establishments.id", ondelete="CASCADE")
    )
    asset_key: Mapped[str] = mapped_column(String(255))
    advisory_id: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(Text, default="")
    cves: Mapped[list[str]] = mapped_column(JSON, default=list)
    match_kind: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[float] = mapped_column(Float)
    evidence: Mapped[str] = mapped_column(Text, default="")
    fixed_version: Mapped[str | None] = mapped_column(String(128))
    asset_version: Mapped[str | None] = mapped_column(String(128))
    kev: Mapped[bool] = mapped_column(Boolean, default=False)
    epss: Mapped[float | None] = mapped_column(Float)
    decision: Mapped[str] = mapped_column(String(16))
    score: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_until: Mapped[datetime | None] = mapped_column()
    due_date: Mapped[date | None] = mapped_column(Date)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column()


class ExposureEventRow(Base):
    """Append-only history of an exposure's status (the repositories never update it)."""

    __tablename__ = "exposure_events"
    __table_args__ = (Index("ix_exposure_events_exposure_at", "exposure_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exposure_id: Mapped[int] = mapped_column(ForeignKey("exposures.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(128))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)


class SuppressionRow(Base):
    """A false-positive rule: findings it covers are dropped before exposures are updated.

    ``scope`` is ``asset`` (``asset_key``) or ``product`` (``vendor_pattern`` and
    ``product_pattern``, globs over the assets' vendor and product keys); ``advisory_pattern``
    is an advisory id, a CVE id or ``*``. Revoked rules are kept, with ``revoked_at``.
    """

    __tablename__ = "suppressions"
    __table_args__ = (Index("ix_suppressions_establishment_id", "establishment_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    establishment_id: Mapped[int] = mapped_column(
        ForeignKey("establishments.id", ondelete="CASCADE")
    )
    scope: Mapped[str] = mapped_column(String(16))
    asset_key: Mapped[str | None] = mapped_column(String(255))
    vendor_pattern: Mapped[str | None] = mapped_column(String(255))
    product_pattern: Mapped[str | None] = mapped_column(String(255))
    advisory_pattern: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column()
    exposure_id: Mapped[int | None] = mapped_column(ForeignKey("exposures.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column()
    revoked_by: Mapped[str | None] = mapped_column(String(128))


# -- feed tokens, watch runs and leases (0003) ----------------------------------------
class FeedTokenRow(Base):
    """A personal token for one establishment's Atom feed; only its SHA-256 is kept."""

    __tablename__ = "feed_tokens"
    __table_args__ = (Index("ix_feed_tokens_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    establishment_id: Mapped[int] = mapped_column(
        ForeignKey("establishments.id", ondelete="CASCADE")
    )
    label: Mapped[str] = mapped_column(String(128))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    revoked_by: Mapped[str | None] = mapped_column(String(128))


class WatchRunRow(Base):
    """One watch cycle (update, match, bulletins, delivery), from the CLI or the scheduler.

    ``slot`` is the scheduled time a scheduler run was for (unique: one run per slot, however
    many ``tocsin serve`` share the database); None for a run started by hand.
    """

    __tablename__ = "watch_runs"
    __table_args__ = (Index("ix_watch_runs_started_at", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trigger: Mapped[str] = mapped_column(String(16))
    slot: Mapped[datetime | None] = mapped_column(unique=True)
    holder: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    outcome: Mapped[str] = mapped_column(String(16))
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class LeaseRow(Base):
    """A named lock with an expiry, shared by every process on the database."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()


class DetectAlertRow(Base):
    """A detection alert: one rule (or detector) on one host within one window.

    ``group_key`` (model.alerts.DetectedAlert.group_key) makes a second run of the same
    detection update the alert instead of adding one; ``events`` holds a few matching events
    copied from the logs (the logs may be gone when someone reads the alert).
    """

    __tablename__ = "detect_alerts"
    __table_args__ = (
        UniqueConstraint("establishment_id", "group_key", name="uq_detect_alerts_group"),
        Index("ix_detect_alerts_establishment_first", "establishment_id", "first_seen"),
        Index("ix_detect_alerts_establishment_host", "establishment_id", "host_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    establishment_id: Mapped[int] = mapped_column(
        ForeignKey("establishments.id", ondelete="CASCADE")
    )
    group_key: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(512))
    level: Mapped[str] = mapped_column(String(16))
    host: Mapped[str | None] = mapped_column(String(255))
    host_key: Mapped[str | None] = mapped_column(String(255))  # lower-case short name
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id", ondelete="SET NULL"))
    window_start: Mapped[datetime | None] = mapped_column()
    first_seen: Mapped[datetime | None] = mapped_column()
    last_seen: Mapped[datetime | None] = mapped_column()
    count: Mapped[int] = mapped_column(Integer)
    attack: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    events: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="new")
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    notified_at: Mapped[datetime | None] = mapped_column()


class PhishingReportRow(Base):
    """A reported (or uploaded) email with its analysis, and the analyst's decision.

    ``raw`` keeps the message (zlib-compressed) so that it can be analysed again and shown;
    ``analyst_verdict`` overrides ``verdict`` when set and is kept for retraining.
    """

    __tablename__ = "phishing_reports"
    __table_args__ = (
        Index("ix_phishing_reports_establishment_received", "establishment_id", "received_at"),
        UniqueConstraint("establishment_id", "message_sha256", name="uq_phishing_reports_message"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    establishment_id: Mapped[int] = mapped_column(
        ForeignKey("establishments.id", ondelete="CASCADE")
    )
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    origin: Mapped[str] = mapped_column(String(16))  # imap, upload, api, cli, demo
    reporter: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)
    sender: Mapped[str] = mapped_column(String(320))
    verdict: Mapped[str] = mapped_column(String(16))
    score: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    indicators: Mapped[dict[str, Any]] = mapped_column(default=dict)
    message_sha256: Mapped[str] = mapped_column(String(64))
    raw_size: Mapped[int] = mapped_column(Integer)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    analyst_verdict: Mapped[str | None] = mapped_column(String(16))
    analyst: Mapped[str | None] = mapped_column(String(128))
    analyst_note: Mapped[str | None] = mapped_column(Text)
    overridden_at: Mapped[datetime | None] = mapped_column()
    replied_at: Mapped[datetime | None] = mapped_column()
