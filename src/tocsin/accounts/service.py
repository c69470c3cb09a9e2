"""Account operations shared by the CLI and the web faces."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tocsin.errors import AuthError, NotFoundError, UsageError
from tocsin.model import Permission, Role
from tocsin.store import audit
from tocsin.store.inventory import Scope, get_establishment
from tocsin.store.tables import ApiTokenRow, LoginAttemptRow, UserRow

_hasher = PasswordHasher()
_dummy_hash: str | None = None


def _timing_hash() -> str:
    """A hash checked when the user does not exist, so timing does not reveal who does.

    Computed on first use: argon2 costs time and memory every CLI start would pay.
    """
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("tocsin-timing-equaliser")
    return _dummy_hash


MIN_PASSWORD_LENGTH = 12
TOKEN_PREFIX = "tcs_"  # noqa: S105 - a visible prefix, not a secret


@dataclass(frozen=True)
class Account:
    """A signed-in user as the faces see it."""

    id: int
    username: str
    role: Role
    language: str | None
    all_establishments: bool
    establishments: tuple[str, ...]
    establishment_ids: frozenset[int]
    active: bool

    @property
    def scope(self) -> Scope:
        if self.all_establishments:
            return Scope.everything()
        return Scope(self.establishment_ids)

    def can(self, permission: Permission) -> bool:
        return self.role.can(permission)


def _account(row: UserRow) -> Account:
    return Account(
        id=row.id,
        username=row.username,
        role=Role(row.role),
        language=row.language,
        all_establishments=row.all_establishments,
        establishments=tuple(sorted(e.slug for e in row.establishments)),
        establishment_ids=frozenset(e.id for e in row.establishments),
        active=row.active,
    )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def _check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UsageError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")


def _user_row(session: Session, username: str) -> UserRow:
    row = session.scalar(select(UserRow).where(UserRow.username == username))
    if row is None:
        raise NotFoundError(f"no user {username!r}")
    return row


def create_user(
    session: Session,
    username: str,
    password: str,
    role: Role,
    *,
    establishments: Sequence[str] = (),
    all_establishments: bool = False,
    language: str | None = None,
    actor: str = "system",
) -> Account:
    username = username.strip()
    if not username or len(username) > 128:
        raise UsageError("username must have 1 to 128 characters")
    if session.scalar(select(UserRow).where(UserRow.username == username)):
        raise UsageError(f"user {username!r} already exists")
    _check_password_strength(password)
    rows = [get_establishment(session, slug) for slug in establishments]
    row = UserRow(
        username=username,
        password_hash=hash_password(password),
        role=role.value,
        language=language,
        all_establishments=all_establishments or role is Role.ADMIN,
        active=True,
    )
    row.establishments = rows
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "user.create",
        "user",
        username,
        details={"role": role.value, "establishments": list(establishments)},
    )
    return _account(row)


def update_user(
    session: Session,
    username: str,
    *,
    role: Role | None = None,
    establishments: Sequence[str] | None = None,
    all_establishments: bool | None = None,
    active: bool | None = None,
    actor: str = "system",
) -> Account:
    row = _user_row(session, username)
    changes: dict[str, object] = {}
    if role is not None and role.value != row.role:
        changes["role"] = [row.role, role.value]
        row.role = role.value
    if establishments is not None:
        row.establishments = [get_establishment(session, slug) for slug in establishments]
        changes["establishments"] = list(establishments)
    if all_establishments is not None:
        row.all_establishments = all_establishments
        changes["all_establishments"] = all_establishments
    if active is not None and active != row.active:
        row.active = active
        changes["active"] = active
    session.flush()
    if changes:
        audit.record(session, actor, "user.update", "user", username, details=changes)
    return _account(row)


def set_password(session: Session, username: str, password: str, actor: str = "system") -> None:
    _check_password_strength(password)
    row = _user_row(session, username)
    row.password_hash = hash_password(password)
    audit.record(session, actor, "user.password", "user", username)


def get_account(session: Session, user_id: int) -> Account | None:
    row = session.get(UserRow, user_id)
    if row is None or not row.active:
        return None
    return _account(row)


def list_accounts(session: Session) -> list[Account]:
    return [_account(r) for r in session.scalars(select(UserRow).order_by(UserRow.username))]


def recent_failures(session: Session, username: str, window: timedelta) -> int:
    since = datetime.now(UTC) - window
    query = select(func.count()).where(
        LoginAttemptRow.username == username,
        LoginAttemptRow.success.is_(False),
        LoginAttemptRow.at >= since,
    )
    return int(session.scalar(query) or 0)


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    remote_addr: str | None = None,
    max_failures: int = 5,
    window: timedelta = timedelta(minutes=15),
) -> Account:
    """Check a password; refuse once ``max_failures`` failures hit the window.

    Raises :class:`AuthError` with a message that never says whether the user exists.
    A failed attempt is committed before raising, so that it counts.
    """
    username = username.strip()[:128]
    if recent_failures(session, username, window) >= max_failures:
        raise AuthError("too many failed sign-in attempts; try again later")
    row = session.scalar(select(UserRow).where(UserRow.username == username))
    ok = False
    try:
        ok = _hasher.verify(row.password_hash if row else _timing_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    ok = ok and row is not None and row.active
    session.add(LoginAttemptRow(username=username, remote_addr=remote_addr, success=ok))
    if not ok or row is None:
        # The failure must outlive the caller's rollback, or rate limiting never bites.
        session.commit()
        raise AuthError("invalid username or password")
    if _hasher.check_needs_rehash(row.password_hash):
        row.password_hash = hash_password(password)
    row.last_login_at = datetime.now(UTC)
    # A success clears the record of earlier failures for that user.
    session.execute(
        delete(LoginAttemptRow).where(
            LoginAttemptRow.username == username, LoginAttemptRow.success.is_(False)
        )
    )
    session.flush()
    return _account(row)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    session: Session,
    username: str,
    name: str,
    *,
    days: int | None = 365,
    actor: str = "system",
) -> str:
    """Create an API token; the clear token is returned once and only its hash is kept."""
    row = _user_row(session, username)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(days=days) if days else None
    session.add(
        ApiTokenRow(user_id=row.id, name=name, token_hash=_token_hash(token), expires_at=expires)
    )
    audit.record(session, actor, "token.create", "user", username, details={"name": name})
    return token


def authenticate_token(session: Session, token: str) -> Account:
    row = session.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == _token_hash(token)))
    if row is None or row.revoked:
        raise AuthError("invalid API token")
    expires = row.expires_at
    if expires is not None:
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        if expires < datetime.now(UTC):
            raise AuthError("API token expired")
    account = get_account(session, row.user_id)
    if account is None:
        raise AuthError("invalid API token")
    row.last_used_at = datetime.now(UTC)
    return account
