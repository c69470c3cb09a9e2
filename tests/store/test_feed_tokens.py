"""Feed tokens: hashed, scoped to one establishment, checked again at each use, audited."""

from __future__ import annotations

import hashlib

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from tocsin import accounts
from tocsin.accounts import service as account_service
from tocsin.errors import NotFoundError, UsageError
from tocsin.model import Establishment, EstablishmentType, Role
from tocsin.store import audit
from tocsin.store.db import Database
from tocsin.store.feed_tokens import (
    authenticate_feed_token,
    create_feed_token,
    list_feed_tokens,
    revoke_feed_token,
)
from tocsin.store.inventory import add_establishment
from tocsin.store.tables import FeedTokenRow

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        account_service, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture
def db(database: Database) -> Database:
    with database.session() as session:
        add_establishment(session, Establishment("chu-a", "CHU A", EstablishmentType.CHU))
        add_establishment(session, Establishment("ch-b", "CH B", EstablishmentType.CH))
        accounts.create_user(session, "ana", PASSWORD, Role.ANALYST, establishments=["chu-a"])
        accounts.create_user(session, "rssi", PASSWORD, Role.RSSI, all_establishments=True)
    return database


def test_token_is_stored_hashed_and_opens_its_establishment_only(db: Database) -> None:
    with db.session() as session:
        token, value = create_feed_token(session, "ana", "chu-a", "Thunderbird", actor="ana")
    assert value.startswith("tcf_") and len(value) > 40
    with db.session() as session:
        row = session.scalars(select(FeedTokenRow)).one()
        assert row.token_hash == hashlib.sha256(value.encode()).hexdigest()
        assert value not in str(row.__dict__)
        owner = authenticate_feed_token(session, value, "chu-a")
        assert owner is not None and owner.username == "ana"
        assert authenticate_feed_token(session, value, "ch-b") is None
        assert authenticate_feed_token(session, value + "x", "chu-a") is None
        assert authenticate_feed_token(session, "tcs_api-token", "chu-a") is None
    [listed] = list_feed_tokens_of(db, "ana")
    assert (listed.label, listed.establishment, listed.id) == ("Thunderbird", "chu-a", token.id)
    assert listed.last_used_at is not None  # the successful use above


def list_feed_tokens_of(db: Database, username: str) -> list[object]:
    with db.session() as session:
        return list(list_feed_tokens(session, username=username))


def test_creation_needs_watch_read_on_the_establishment(db: Database) -> None:
    with pytest.raises(UsageError, match="may not read"), db.session() as session:
        create_feed_token(session, "ana", "ch-b", "x", actor="ana")
    with pytest.raises(NotFoundError), db.session() as session:
        create_feed_token(session, "nobody", "chu-a", "x", actor="cli")
    with pytest.raises(NotFoundError), db.session() as session:
        create_feed_token(session, "ana", "nowhere", "x", actor="cli")


def test_losing_scope_role_or_account_silences_the_token(db: Database) -> None:
    with db.session() as session:
        _, value = create_feed_token(session, "ana", "chu-a", "x", actor="ana")
    checks = [
        {"establishments": ["ch-b"]},
        {"establishments": ["chu-a"], "active": False},
    ]
    for change in checks:
        with db.session() as session:
            accounts.update_user(session, "ana", actor="test", **change)  # type: ignore[arg-type]
        with db.session() as session:
            assert authenticate_feed_token(session, value, "chu-a") is None, change
    with db.session() as session:
        accounts.update_user(session, "ana", active=True, actor="test")
        assert authenticate_feed_token(session, value, "chu-a") is not None


def test_revocation_is_kept_and_audited(db: Database) -> None:
    with db.session() as session:
        token, value = create_feed_token(session, "rssi", "ch-b", "Outlook", actor="rssi")
    with pytest.raises(NotFoundError), db.session() as session:
        revoke_feed_token(session, token.id, actor="ana", owner="ana")  # not hers
    with db.session() as session:
        revoked = revoke_feed_token(session, token.id, actor="rssi", owner="rssi")
    assert revoked.revoked_at is not None and not revoked.active
    with db.session() as session:
        assert authenticate_feed_token(session, value, "ch-b") is None
        assert list_feed_tokens(session, username="rssi") == []
        assert len(list_feed_tokens(session, username="rssi", include_revoked=True)) == 1
        actions = [(e.action, e.target_id) for e in audit.recent(session)]
    assert ("feed_token.create", str(token.id)) in actions
    assert ("feed_token.revoke", str(token.id)) in actions
    with pytest.raises(NotFoundError), db.session() as session:
        revoke_feed_token(session, 9999, actor="cli")
