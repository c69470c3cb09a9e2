"""Fixtures of the dashboard tests: a seeded database (SQLite and PostgreSQL) and an app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from web_helpers import Browser, make_settings, seed

from tocsin.accounts import service as account_service
from tocsin.config import Settings
from tocsin.store.db import Database
from tocsin.web.app import create_app


@pytest.fixture(autouse=True)
def _cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with small costs, so that seeding five accounts per test stays fast."""
    monkeypatch.setattr(
        account_service, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "home")


@pytest.fixture
def seeded(database: Database) -> Database:
    seed(database)
    return database


@pytest.fixture
def app(settings: Settings, seeded: Database) -> FastAPI:
    return create_app(settings, seeded)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def browser(client: TestClient) -> Browser:
    return Browser(client)
