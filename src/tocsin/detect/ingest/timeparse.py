"""Timestamps as logs write them, to aware UTC datetimes (pure, locale-independent)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )
}
_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})")
# Epoch numbers above these are milli-, micro-, nanoseconds.
_EPOCH_SCALES = ((1e17, 1e9), (1e14, 1e6), (1e11, 1e3))


def utc(value: datetime) -> datetime:
    """Aware datetimes converted to UTC; naive ones taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def offset(text: str) -> timezone | None:
    """``+0100``, ``-05:00``, ``Z`` or ``UTC`` as a fixed zone; None when unrecognised."""
    text = text.strip()
    if text in ("Z", "z", "UTC", "GMT"):
        return UTC
    match = _OFFSET.fullmatch(text)
    if not match:
        return None
    sign, hours, minutes = match.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    if delta >= timedelta(hours=24):
        return None
    return timezone(-delta if sign == "-" else delta)


def iso(text: str) -> datetime:
    """An ISO 8601 timestamp (``T`` or space, optional fraction and zone); ValueError if not."""
    return utc(datetime.fromisoformat(text.strip()))


def epoch(value: float) -> datetime:
    """Seconds, or milli/micro/nanoseconds since 1970 told apart by magnitude."""
    for bound, scale in _EPOCH_SCALES:
        if abs(value) >= bound:
            value = value / scale
            break
    return datetime.fromtimestamp(value, UTC)


def month(name: str) -> int:
    """``Jan`` → 1; ValueError for anything else."""
    number = MONTHS.get(name[:3].lower()) if len(name) == 3 else None
    if number is None:
        raise ValueError(f"unknown month {name!r}")
    return number


def infer_year(
    month_number: int, day: int, clock: tuple[int, int, int], reference: datetime
) -> datetime:
    """A date without a year (RFC 3164): the latest one not after ``reference`` + 2 days."""
    hour, minute, second = clock
    for year in (reference.year, reference.year - 1, reference.year - 4):
        try:
            candidate = datetime(year, month_number, day, hour, minute, second, tzinfo=UTC)
        except ValueError:
            continue  # 29 February in a year that has none
        if candidate <= reference + timedelta(days=2):
            return candidate
    raise ValueError(f"no year fits {month_number:02d}-{day:02d}")
