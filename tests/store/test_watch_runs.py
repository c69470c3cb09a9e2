"""Leases and run records: one holder at a time, expiry, one run per scheduled slot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from tocsin.store import watch_runs as store
from tocsin.store.db import Database

T0 = datetime(2025, 9, 1, 4, 30, tzinfo=UTC)
TTL = timedelta(minutes=10)


def test_lease_has_one_holder_until_it_expires(database: Database) -> None:
    assert store.acquire_lease(database, "x", "a", TTL, T0)
    assert not store.acquire_lease(database, "x", "b", TTL, T0 + timedelta(minutes=5))
    assert store.acquire_lease(database, "x", "a", TTL, T0 + timedelta(minutes=5))  # ours
    assert store.renew_lease(database, "x", "a", TTL, T0 + timedelta(minutes=9))
    assert not store.renew_lease(database, "x", "b", TTL, T0 + timedelta(minutes=9))
    assert not store.acquire_lease(database, "x", "b", TTL, T0 + timedelta(minutes=18))
    assert store.acquire_lease(database, "x", "b", TTL, T0 + timedelta(minutes=20))  # expired
    with database.session() as session:
        lease = store.current_lease(session, "x")
    assert lease is not None and lease.holder == "b"
    assert lease.expires_at == T0 + timedelta(minutes=30)
    store.release_lease(database, "x", "a")  # not a's: nothing happens
    assert not store.acquire_lease(database, "x", "a", TTL, T0 + timedelta(minutes=21))
    store.release_lease(database, "x", "b")
    assert store.acquire_lease(database, "x", "a", TTL, T0 + timedelta(minutes=21))


def test_runs_are_recorded_and_a_slot_runs_once(database: Database) -> None:
    with database.session() as session:
        first = store.start_run(session, "schedule", "a", T0, slot=T0)
        manual = store.start_run(session, "cli", "a", T0)
    with database.session() as session:
        assert store.slot_taken(session, T0) and not store.slot_taken(session, T0 + TTL)
        store.finish_run(session, first, "ok", T0 + TTL, counts={"created": 2})
        assert store.abandon_running(session, T0 + TTL) == 1  # the manual one
    with pytest.raises(IntegrityError), database.session() as session:
        store.start_run(session, "schedule", "b", T0, slot=T0)
    with database.session() as session:
        runs = store.recent_runs(session)
        with pytest.raises(ValueError, match="outcome"):
            store.finish_run(session, first, "great", T0)
    assert [(r.id, r.outcome) for r in runs] == [(manual, "abandoned"), (first, "ok")]
    assert runs[1].counts == {"created": 2} and runs[1].finished_at == T0 + TTL
    assert runs[1].slot == T0 and runs[1].document()["trigger"] == "schedule"


def test_migration_0003_up_and_down_keeps_earlier_data(database_url: str) -> None:
    from sqlalchemy import inspect, text

    from tocsin.model import Establishment
    from tocsin.store.inventory import add_establishment

    new_tables = {"feed_tokens", "watch_runs", "leases"}
    db = Database(database_url)
    try:
        db.upgrade("0002")
        with db.session() as session:
            add_establishment(session, Establishment("ch-a", "CH A"))
        assert not new_tables & set(inspect(db.engine).get_table_names())
        db.upgrade("0003")
        assert new_tables <= set(inspect(db.engine).get_table_names())
        assert store.acquire_lease(db, "x", "a", TTL, T0)
        db.downgrade("0002")
        assert not new_tables & set(inspect(db.engine).get_table_names())
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT slug FROM establishments")).scalar_one() == "ch-a"
        db.upgrade()
        assert db.current_revision() == db.head_revision()
    finally:
        db.dispose()
