"""Migrations run up and down on every backend, and the schema matches the ORM classes."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from tocsin.store.db import Database, open_database
from tocsin.store.tables import Base


def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    db = Database(database_url)
    assert db.current_revision() is None
    db.ensure_current()
    assert db.current_revision() == db.head_revision()
    tables = set(inspect(db.engine).get_table_names())
    assert {"establishments", "assets", "users", "audit_log", "api_tokens"} <= tables
    db.downgrade("base")
    assert db.current_revision() is None
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    db.upgrade()
    assert db.current_revision() == db.head_revision()
    db.dispose()


def test_migrated_schema_matches_models(database: Database) -> None:
    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_audit_log_is_append_only(database: Database) -> None:
    with database.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_log (at, actor, action, target_type, details) "
                "VALUES (CURRENT_TIMESTAMP, 'a', 'b', 'c', '{}')"
            )
        )
    for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError), database.engine.begin() as conn:
            conn.execute(text(statement))
    with database.engine.connect() as conn:
        assert conn.execute(text("SELECT actor FROM audit_log")).scalar_one() == "a"


def test_open_database_is_idempotent(database_url: str) -> None:
    first = open_database(database_url)
    first.dispose()
    second = open_database(database_url)
    assert second.current_revision() == second.head_revision()
    second.dispose()
