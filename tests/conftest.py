"""Shared fixtures: a migrated database on SQLite and, when configured, on PostgreSQL.

Store tests take the ``database`` fixture and run once per backend. PostgreSQL runs when
TOCSIN_TEST_DATABASE_URL is set (CI sets it); each test gets a schema of its own, dropped
afterwards. With TOCSIN_REQUIRE_POSTGRES=1 an unreachable server fails instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tocsin.cli.main import main
from tocsin.store.db import Database, open_database

PG_URL = os.environ.get("TOCSIN_TEST_DATABASE_URL")
REQUIRE_PG = os.environ.get("TOCSIN_REQUIRE_POSTGRES") == "1"
# ../shared/data from the project's root, unless TOCSIN_SHARED_DATA names another folder.
SHARED_DATA = Path(
    os.environ.get("TOCSIN_SHARED_DATA")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data"
)


def _pg_available() -> str | None:
    if not PG_URL:
        return "TOCSIN_TEST_DATABASE_URL is not set"
    try:
        engine = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means: no server
        return f"PostgreSQL unreachable: {exc}"
    return None


_PG_PROBLEM = _pg_available()


def _backends() -> list[object]:
    params: list[object] = [pytest.param("sqlite", id="sqlite")]
    marks = [pytest.mark.postgres]
    if _PG_PROBLEM and not REQUIRE_PG:
        marks.append(pytest.mark.skip(reason=_PG_PROBLEM))
    params.append(pytest.param("postgresql", id="postgresql", marks=marks))
    return params


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'tocsin.db'}"
        return
    if _PG_PROBLEM:
        pytest.fail(_PG_PROBLEM)
    assert PG_URL is not None
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_url" in metafunc.fixturenames and "backend_fixed" not in metafunc.fixturenames:
        metafunc.parametrize("database_url", _backends(), indirect=True)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = open_database(database_url)
    yield db
    db.dispose()


class Cli:
    """Runs ``tocsin`` in-process with its own home folder and database."""

    def __init__(self, home: Path, database_url: str | None) -> None:
        self.home = home
        self.database_url = database_url

    def __call__(self, *args: str) -> int:
        return main(list(args))


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Cli:
    home = tmp_path / "home"
    monkeypatch.setenv("TOCSIN_HOME", str(home))
    monkeypatch.setenv("TOCSIN_DATABASE_URL", database_url)
    monkeypatch.delenv("TOCSIN_CONFIG", raising=False)
    monkeypatch.delenv("TOCSIN_ESTABLISHMENT", raising=False)
    return Cli(home, database_url)


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data; skips the test when the folder is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI") or os.environ.get("TOCSIN_REQUIRE_SHARED_DATA") == "1":
            pytest.fail(f"shared data missing: {path}")
        pytest.skip(f"shared data not on this machine: {path}")
    return path
