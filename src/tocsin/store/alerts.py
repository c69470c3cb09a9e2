"""Detection alerts of an establishment: saved grouped, listed with filters, triaged.

``save_alerts`` takes what a detection run found (:class:`~tocsin.model.alerts.DetectedAlert`)
and keeps one row per (establishment, rule, host, window): a new group is inserted, a group
seen again is updated when it grew (more events, a later last event) and left alone
otherwise, so a run repeated over the same logs changes nothing. Hosts are linked to the
establishment's inventory by name (``srv-file-01.chu.local`` → asset ``srv-file-01``), or,
when the inventory lists workstations by fleet, by the fleet of a numbered machine
(``pc-w10-urg-02`` → ``pc-w10-urg``) if no asset has the machine's own name.
Status changes go to the audit log in the same transaction.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from tocsin.errors import NotFoundError, UsageError
from tocsin.model.alerts import (
    LEVELS,
    AlertEvent,
    AlertSource,
    AlertStatus,
    DetectedAlert,
    JsonValue,
)
from tocsin.store import audit
from tocsin.store.tables import AssetRow, DetectAlertRow

__all__ = [
    "AlertFilter",
    "SaveReport",
    "StoredAlert",
    "alert_counts",
    "count_alerts",
    "get_alert",
    "host_key",
    "list_alerts",
    "mark_notified",
    "save_alerts",
    "set_status",
]

OPEN_STATUSES = (AlertStatus.NEW.value, AlertStatus.ACKNOWLEDGED.value)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def host_key(host: str | None) -> str | None:
    """The name a host is known by in the inventory: lower case, without its domain.

    IP addresses are kept whole; ``DOMAIN\\host`` and ``host$`` forms lose their decoration.
    """
    if host is None or not host.strip():
        return None
    text = host.strip().lower().rsplit("\\", 1)[-1].rstrip("$")
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return text.split(".", 1)[0] or None
    return text


@dataclass(frozen=True)
class StoredAlert:
    """An alert as kept: what was detected, plus its id, asset, status and times."""

    id: int
    establishment_id: int
    alert: DetectedAlert
    status: AlertStatus
    note: str | None
    asset_id: int | None
    asset_key: str | None
    asset_name: str | None
    created_at: datetime
    updated_at: datetime
    notified_at: datetime | None


@dataclass
class SaveReport:
    new: list[int] = field(default_factory=list)  # ids of alerts inserted
    updated: list[int] = field(default_factory=list)
    unchanged: int = 0
    linked: int = 0  # alerts whose host is an asset of the establishment


@dataclass(frozen=True)
class AlertFilter:
    """Which alerts to list; every field left None selects all."""

    min_level: str | None = None
    statuses: Sequence[str] | None = None  # None: all; OPEN_STATUSES: the open ones
    source: str | None = None
    host: str | None = None  # matched on the host key (short name)
    rule: str | None = None
    text: str | None = None  # in the title or the rule id
    since: datetime | None = None  # first event at or after
    until: datetime | None = None  # first event at or before

    def check(self) -> None:
        if self.min_level is not None and self.min_level not in LEVELS:
            raise UsageError(f"unknown level {self.min_level!r} (one of {', '.join(LEVELS)})")
        for status in self.statuses or ():
            if status not in {s.value for s in AlertStatus}:
                raise UsageError(f"unknown alert status {status!r}")


def _asset_index(session: Session, establishment_id: int) -> dict[str, tuple[int, str, str]]:
    rows = session.execute(
        select(AssetRow.id, AssetRow.asset_key, AssetRow.name).where(
            AssetRow.establishment_id == establishment_id
        )
    )
    index: dict[str, tuple[int, str, str]] = {}
    for asset_id, key, name in rows:
        short = host_key(key)
        if short is not None:
            index.setdefault(short, (asset_id, key, name))
    return index


_NUMBERED = re.compile(r"^(?P<fleet>.+)-\d{1,4}$")


def _find_asset(
    assets: dict[str, tuple[int, str, str]], key: str | None
) -> tuple[int, str, str] | None:
    """The asset named ``key``; else the fleet a numbered machine belongs to, when the
    inventory lists machines by fleet (``pc-w10-urg-02`` → ``pc-w10-urg``)."""
    if key is None:
        return None
    if key in assets:
        return assets[key]
    numbered = _NUMBERED.match(key)
    return assets.get(numbered.group("fleet")) if numbered else None


def _events_json(events: Iterable[AlertEvent]) -> list[dict[str, Any]]:
    return [event.to_dict() for event in events]


def _new_row(establishment_id: int, alert: DetectedAlert, now: datetime) -> DetectAlertRow:
    return DetectAlertRow(
        establishment_id=establishment_id,
        group_key=alert.group_key,
        source=alert.source.value,
        rule=alert.rule,
        title=alert.title,
        level=alert.level,
        host=alert.host,
        host_key=host_key(alert.host),
        window_start=alert.window_start,
        first_seen=alert.first,
        last_seen=alert.last,
        count=alert.count,
        attack=list(alert.attack),
        tags=list(alert.tags),
        details=dict(alert.details),
        events=_events_json(alert.events),
        status=AlertStatus.NEW.value,
        created_at=now,
        updated_at=now,
    )


def _later(new: datetime | None, old: datetime | None) -> bool:
    new, old = _aware(new), _aware(old)
    return new is not None and (old is None or new > old)


def _grew(row: DetectAlertRow, alert: DetectedAlert) -> bool:
    return alert.count > row.count or _later(alert.last, row.last_seen)


def _update(row: DetectAlertRow, alert: DetectedAlert, now: datetime) -> None:
    row.count = max(row.count, alert.count)
    if _later(alert.last, row.last_seen):
        row.last_seen = alert.last
    if alert.first is not None and _later(row.first_seen, alert.first):  # earlier now
        row.first_seen = alert.first
    row.events = _events_json(alert.events) or row.events
    row.details = dict(alert.details) or row.details
    row.level, row.title = alert.level, alert.title
    row.updated_at = now


def save_alerts(
    session: Session,
    establishment_id: int,
    alerts: Iterable[DetectedAlert],
    now: datetime | None = None,
) -> SaveReport:
    """Insert new alert groups and update the ones that grew (module docstring)."""
    moment = now or datetime.now(UTC)
    assets = _asset_index(session, establishment_id)
    existing = {
        row.group_key: row
        for row in session.scalars(
            select(DetectAlertRow).where(DetectAlertRow.establishment_id == establishment_id)
        )
    }
    report = SaveReport()
    added: list[DetectAlertRow] = []
    for alert in alerts:
        asset = _find_asset(assets, host_key(alert.host))
        report.linked += asset is not None
        row = existing.get(alert.group_key)
        if row is None:
            row = _new_row(establishment_id, alert, moment)
            row.asset_id = asset[0] if asset else None
            session.add(row)
            existing[alert.group_key] = row
            added.append(row)
        elif _grew(row, alert):
            _update(row, alert, moment)
            row.asset_id = asset[0] if asset else row.asset_id
            report.updated.append(row.id)
        else:
            report.unchanged += 1
    session.flush()
    report.new = [row.id for row in added]
    return report


def _where(establishment_id: int, flt: AlertFilter) -> list[Any]:
    flt.check()
    clauses: list[Any] = [DetectAlertRow.establishment_id == establishment_id]
    if flt.min_level is not None:
        clauses.append(DetectAlertRow.level.in_(LEVELS[LEVELS.index(flt.min_level) :]))
    if flt.statuses is not None:
        clauses.append(DetectAlertRow.status.in_(list(flt.statuses)))
    if flt.source:
        clauses.append(DetectAlertRow.source == flt.source)
    if flt.host:
        clauses.append(DetectAlertRow.host_key == host_key(flt.host))
    if flt.rule:
        clauses.append(DetectAlertRow.rule == flt.rule)
    if flt.text:
        pattern = "%" + flt.text.lower().replace("\\", "\\\\").replace("%", "\\%") + "%"
        clauses.append(
            or_(
                func.lower(DetectAlertRow.title).like(pattern, escape="\\"),
                func.lower(DetectAlertRow.rule).like(pattern, escape="\\"),
            )
        )
    if flt.since is not None:
        clauses.append(DetectAlertRow.first_seen >= flt.since)
    if flt.until is not None:
        clauses.append(DetectAlertRow.first_seen <= flt.until)
    return clauses


def _event(data: dict[str, Any]) -> AlertEvent:
    time = data.get("time")
    return AlertEvent(
        time=datetime.fromisoformat(time) if isinstance(time, str) else None,
        host=data.get("host"),
        file=data.get("file"),
        record=data.get("record"),
        fields={str(k): str(v) for k, v in (data.get("fields") or {}).items()},
    )


def _stored(row: DetectAlertRow, asset: AssetRow | None) -> StoredAlert:
    details: dict[str, JsonValue] = dict(row.details or {})
    alert = DetectedAlert(
        source=AlertSource(row.source),
        rule=row.rule,
        title=row.title,
        level=row.level,
        host=row.host,
        window_start=_aware(row.window_start),
        first=_aware(row.first_seen),
        last=_aware(row.last_seen),
        count=row.count,
        attack=tuple(row.attack or ()),
        tags=tuple(row.tags or ()),
        details=details,
        events=tuple(_event(e) for e in row.events or ()),
    )
    return StoredAlert(
        id=row.id,
        establishment_id=row.establishment_id,
        alert=alert,
        status=AlertStatus(row.status),
        note=row.note,
        asset_id=row.asset_id,
        asset_key=asset.asset_key if asset else None,
        asset_name=asset.name if asset else None,
        created_at=_aware(row.created_at) or row.created_at,
        updated_at=_aware(row.updated_at) or row.updated_at,
        notified_at=_aware(row.notified_at),
    )


def list_alerts(
    session: Session,
    establishment_id: int,
    flt: AlertFilter | None = None,
    *,
    limit: int | None = 200,
    offset: int = 0,
    oldest_first: bool = False,
) -> list[StoredAlert]:
    """Alerts matching ``flt``, latest first event first (or oldest first)."""
    order = DetectAlertRow.first_seen.asc() if oldest_first else DetectAlertRow.first_seen.desc()
    query = (
        select(DetectAlertRow, AssetRow)
        .outerjoin(AssetRow, AssetRow.id == DetectAlertRow.asset_id)
        .where(*_where(establishment_id, flt or AlertFilter()))
        .order_by(order, DetectAlertRow.id)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return [_stored(row, asset) for row, asset in session.execute(query)]


def count_alerts(session: Session, establishment_id: int, flt: AlertFilter | None = None) -> int:
    query = select(func.count(DetectAlertRow.id)).where(
        *_where(establishment_id, flt or AlertFilter())
    )
    return int(session.scalar(query) or 0)


def alert_counts(session: Session, establishment_id: int) -> dict[str, int]:
    """Open alerts (new or acknowledged) per level."""
    rows = session.execute(
        select(DetectAlertRow.level, func.count(DetectAlertRow.id))
        .where(
            DetectAlertRow.establishment_id == establishment_id,
            DetectAlertRow.status.in_(OPEN_STATUSES),
        )
        .group_by(DetectAlertRow.level)
    )
    return {level: int(n) for level, n in rows}


def get_alert(session: Session, establishment_id: int | None, alert_id: int) -> StoredAlert:
    """Alert ``alert_id`` of the establishment (of any establishment when None)."""
    row = session.get(DetectAlertRow, alert_id)
    if row is None or establishment_id not in (None, row.establishment_id):
        raise NotFoundError(f"no alert {alert_id} in this establishment")
    asset = session.get(AssetRow, row.asset_id) if row.asset_id is not None else None
    return _stored(row, asset)


def set_status(
    session: Session,
    establishment_id: int,
    alert_id: int,
    status: AlertStatus | str,
    actor: str,
    note: str | None = None,
) -> StoredAlert:
    """Move an alert to ``status`` (with an optional note); audited."""
    try:
        chosen = AlertStatus(status)
    except ValueError:
        raise UsageError(f"unknown alert status {status!r}") from None
    row = session.get(DetectAlertRow, alert_id)
    if row is None or row.establishment_id != establishment_id:
        raise NotFoundError(f"no alert {alert_id} in this establishment")
    before = row.status
    row.status = chosen.value
    if note is not None:
        row.note = note.strip() or None
    row.updated_at = datetime.now(UTC)
    audit.record(
        session,
        actor,
        "detect.alert.status",
        "detect_alert",
        str(alert_id),
        establishment_id=establishment_id,
        details={"from": before, "to": chosen.value, "note": row.note},
    )
    session.flush()
    return get_alert(session, establishment_id, alert_id)


def mark_notified(session: Session, alert_ids: Iterable[int], now: datetime) -> None:
    for alert_id in alert_ids:
        row = session.get(DetectAlertRow, alert_id)
        if row is not None:
            row.notified_at = now
