"""Accounts: argon2 hashes, roles, scope, login rate limiting, API tokens, audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from tocsin import accounts
from tocsin.errors import AuthError, UsageError
from tocsin.model import Establishment, Permission, Role
from tocsin.store import audit
from tocsin.store.db import Database
from tocsin.store.inventory import add_establishment
from tocsin.store.tables import ApiTokenRow, UserRow

PASSWORD = "correct horse battery"


@pytest.fixture
def db(database: Database) -> Database:
    with database.session() as s:
        add_establishment(s, Establishment("ch-a", "CH A"))
        add_establishment(s, Establishment("ch-b", "CH B"))
    return database


def test_password_is_hashed_with_argon2(db: Database) -> None:
    with db.session() as s:
        accounts.create_user(s, "alice", PASSWORD, Role.RSSI, establishments=["ch-a"])
        stored = s.scalar(select(UserRow.password_hash).where(UserRow.username == "alice"))
    assert stored is not None and stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_authenticate_and_scope(db: Database) -> None:
    with db.session() as s:
        accounts.create_user(s, "alice", PASSWORD, Role.ANALYST, establishments=["ch-a"])
    with db.session() as s:
        account = accounts.authenticate(s, "alice", PASSWORD)
    assert account.role is Role.ANALYST
    assert account.establishments == ("ch-a",)
    assert account.scope.establishment_ids is not None
    assert len(account.scope.establishment_ids) == 1
    assert account.can(Permission.INVENTORY_READ)
    assert not account.can(Permission.USERS_ADMIN)


def test_admin_sees_everything(db: Database) -> None:
    with db.session() as s:
        admin = accounts.create_user(s, "root", PASSWORD, Role.ADMIN)
    assert admin.scope.establishment_ids is None
    assert all(admin.can(p) for p in Permission)


def test_wrong_password_and_unknown_user_look_the_same(db: Database) -> None:
    with db.session() as s:
        accounts.create_user(s, "alice", PASSWORD, Role.VIEWER)
    messages = []
    for username in ("alice", "nobody"):
        with pytest.raises(AuthError) as caught, db.session() as s:
            accounts.authenticate(s, username, "wrong password!")
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


def test_rate_limit_blocks_even_the_right_password(db: Database) -> None:
    with db.session() as s:
        accounts.create_user(s, "alice", PASSWORD, Role.VIEWER)
    for _ in range(3):
        with pytest.raises(AuthError, match="invalid"):
            with db.session() as s:
                accounts.authenticate(s, "alice", "nope-nope-nope", max_failures=3)
    with pytest.raises(AuthError, match="too many"), db.session() as s:
        accounts.authenticate(s, "alice", PASSWORD, max_failures=3)
    # Outside the window the account works again.
    with db.session() as s:
        account = accounts.authenticate(
            s, "alice", PASSWORD, max_failures=3, window=timedelta(microseconds=1)
        )
    assert account.username == "alice"


def test_inactive_user_cannot_sign_in(db: Database) -> None:
    with db.session() as s:
        accounts.create_user(s, "bob", PASSWORD, Role.VIEWER)
        accounts.update_user(s, "bob", active=False, actor="root")
    with pytest.raises(AuthError), db.session() as s:
        accounts.authenticate(s, "bob", PASSWORD)


def test_weak_password_and_duplicates_refused(db: Database) -> None:
    with pytest.raises(UsageError, match="at least"), db.session() as s:
        accounts.create_user(s, "carol", "short", Role.VIEWER)
    with db.session() as s:
        accounts.create_user(s, "carol", PASSWORD, Role.VIEWER)
    with pytest.raises(UsageError, match="already exists"), db.session() as s:
        accounts.create_user(s, "carol", PASSWORD, Role.VIEWER)


def test_tokens(db: Database) -> None:
    with db.session() as s:
        accounts.create_user(s, "api", PASSWORD, Role.VIEWER, establishments=["ch-b"])
        token = accounts.create_token(s, "api", "siem")
        stored = s.scalar(select(ApiTokenRow.token_hash))
    assert token.startswith("tcs_") and stored != token
    with db.session() as s:
        assert accounts.authenticate_token(s, token).username == "api"
    with pytest.raises(AuthError), db.session() as s:
        accounts.authenticate_token(s, token + "x")
    with db.session() as s:
        s.execute(update(ApiTokenRow).values(expires_at=datetime.now(UTC) - timedelta(days=1)))
    with pytest.raises(AuthError, match="expired"), db.session() as s:
        accounts.authenticate_token(s, token)


def test_changes_are_audited(db: Database) -> None:
    with db.session() as s:
        accounts.create_user(s, "dave", PASSWORD, Role.VIEWER, actor="root")
        accounts.update_user(s, "dave", role=Role.DPO, actor="root")
        accounts.set_password(s, "dave", PASSWORD + "!", actor="dave")
    with db.session() as s:
        entries = audit.recent(s)
    actions = [(e.actor, e.action, e.target_id) for e in entries]
    assert ("root", "user.create", "dave") in actions
    assert ("root", "user.update", "dave") in actions
    assert ("dave", "user.password", "dave") in actions
    update_entry = next(e for e in entries if e.action == "user.update")
    assert update_entry.details["role"] == ["viewer", "dpo"]
