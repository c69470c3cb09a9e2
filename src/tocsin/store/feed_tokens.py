"""Personal feed tokens: a feed reader's key to one establishment's Atom feed.

A feed reader cannot sign in with a cookie, so a user creates a token for one
establishment; the clear token is shown once and only its SHA-256 is stored, with a label,
its creation and last-use times. Every use checks again that the owner still exists, is
active, still holds ``watch:read`` and still sees the establishment: taking a permission or
an establishment away from a user silences their feeds at once. Creation and revocation
are written to the audit log.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.accounts import Account, get_account
from tocsin.errors import NotFoundError, UsageError
from tocsin.model import Permission
from tocsin.store import audit
from tocsin.store.inventory import get_establishment
from tocsin.store.tables import EstablishmentRow, FeedTokenRow, UserRow

__all__ = [
    "FEED_TOKEN_PREFIX",
    "FeedToken",
    "authenticate_feed_token",
    "create_feed_token",
    "get_feed_token",
    "list_feed_tokens",
    "revoke_feed_token",
]

FEED_TOKEN_PREFIX = "tcf_"  # noqa: S105 - a visible prefix, not a secret
MAX_LABEL = 128
MAX_TOKEN_LENGTH = 128


@dataclass(frozen=True)
class FeedToken:
    """A feed token as listed: never the token itself."""

    id: int
    username: str
    establishment: str
    label: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def document(self) -> dict[str, object]:
        return {
            "id": self.id,
            "username": self.username,
            "establishment": self.establishment,
            "label": self.label,
            "created_at": self.created_at.isoformat(),
            "last_used_at": None if self.last_used_at is None else self.last_used_at.isoformat(),
            "revoked_at": None if self.revoked_at is None else self.revoked_at.isoformat(),
        }


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _may_read(account: Account | None, establishment_id: int) -> bool:
    return (
        account is not None
        and account.active
        and account.can(Permission.WATCH_READ)
        and account.scope.allows(establishment_id)
    )


def _user(session: Session, username: str) -> UserRow:
    row = session.scalar(select(UserRow).where(UserRow.username == username))
    if row is None:
        raise NotFoundError(f"no user {username!r}")
    return row


def create_feed_token(
    session: Session, username: str, establishment: str, label: str, *, actor: str
) -> tuple[FeedToken, str]:
    """A new token of ``username`` for ``establishment``, and the clear token (shown once).

    UsageError when the user may not read that establishment's watch.
    """
    label = " ".join(label.split())[:MAX_LABEL] or "feed"
    user = _user(session, username)
    place = get_establishment(session, establishment)
    if not _may_read(get_account(session, user.id), place.id):
        raise UsageError(f"user {username!r} may not read the watch of {establishment!r}")
    token = FEED_TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = FeedTokenRow(
        user_id=user.id,
        establishment_id=place.id,
        label=label,
        token_hash=_hash(token),
        created_at=datetime.now(UTC),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "feed_token.create",
        "feed_token",
        str(row.id),
        establishment_id=place.id,
        details={"user": username, "label": label},
    )
    return _view(row, user.username, place.slug), token


def _view(row: FeedTokenRow, username: str, slug: str) -> FeedToken:
    created = _aware(row.created_at)
    assert created is not None
    return FeedToken(
        id=row.id,
        username=username,
        establishment=slug,
        label=row.label,
        created_at=created,
        last_used_at=_aware(row.last_used_at),
        revoked_at=_aware(row.revoked_at),
    )


def list_feed_tokens(
    session: Session,
    *,
    username: str | None = None,
    establishment: str | None = None,
    include_revoked: bool = False,
) -> list[FeedToken]:
    """Tokens, newest first, of one user and/or one establishment."""
    query = (
        select(FeedTokenRow, UserRow.username, EstablishmentRow.slug)
        .join(UserRow, UserRow.id == FeedTokenRow.user_id)
        .join(EstablishmentRow, EstablishmentRow.id == FeedTokenRow.establishment_id)
        .order_by(FeedTokenRow.id.desc())
    )
    if username is not None:
        query = query.where(UserRow.username == username)
    if establishment is not None:
        query = query.where(EstablishmentRow.slug == establishment)
    if not include_revoked:
        query = query.where(FeedTokenRow.revoked_at.is_(None))
    return [_view(row, user, slug) for row, user, slug in session.execute(query)]


def get_feed_token(session: Session, token_id: int) -> FeedToken:
    """One token as listed (revoked or not); NotFoundError when there is none."""
    found = session.execute(
        select(FeedTokenRow, UserRow.username, EstablishmentRow.slug)
        .join(UserRow, UserRow.id == FeedTokenRow.user_id)
        .join(EstablishmentRow, EstablishmentRow.id == FeedTokenRow.establishment_id)
        .where(FeedTokenRow.id == token_id)
    ).first()
    if found is None:
        raise NotFoundError(f"no feed token {token_id}")
    return _view(*found)


def revoke_feed_token(
    session: Session, token_id: int, *, actor: str, owner: str | None = None
) -> FeedToken:
    """Revoke a token (kept, with the time and who did it). With ``owner``, only theirs."""
    found = session.execute(
        select(FeedTokenRow, UserRow.username, EstablishmentRow.slug)
        .join(UserRow, UserRow.id == FeedTokenRow.user_id)
        .join(EstablishmentRow, EstablishmentRow.id == FeedTokenRow.establishment_id)
        .where(FeedTokenRow.id == token_id)
    ).first()
    if found is None or (owner is not None and found[1] != owner):
        raise NotFoundError(f"no feed token {token_id}")
    row, username, slug = found
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        row.revoked_by = actor[:128]
        audit.record(
            session,
            actor,
            "feed_token.revoke",
            "feed_token",
            str(row.id),
            establishment_id=row.establishment_id,
            details={"user": username, "label": row.label},
        )
        session.flush()
    return _view(row, username, slug)


def authenticate_feed_token(
    session: Session, token: str, establishment: str, *, now: datetime | None = None
) -> Account | None:
    """The owner of ``token`` if it opens ``establishment``'s feed right now, else None.

    None for an unknown or revoked token, a token of another establishment, an owner who
    is gone, inactive, lost ``watch:read`` or no longer sees the establishment. A success
    records the time of use.
    """
    if not token.startswith(FEED_TOKEN_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = session.scalar(select(FeedTokenRow).where(FeedTokenRow.token_hash == _hash(token)))
    if row is None or row.revoked_at is not None:
        return None
    place = session.get(EstablishmentRow, row.establishment_id)
    if place is None or place.slug != establishment:
        return None
    account = get_account(session, row.user_id)
    if account is None or not _may_read(account, place.id):
        return None
    row.last_used_at = now or datetime.now(UTC)
    return account
