"""``tocsin db``: schema migrations (they also run automatically on start)."""

from __future__ import annotations

import typer

from tocsin.cli.state import STATE
from tocsin.store.db import Database

app = typer.Typer(
    help="Database schema: current revision, upgrade, downgrade.", no_args_is_help=True
)


def _database() -> Database:
    STATE.settings.home.mkdir(parents=True, exist_ok=True)
    return Database(STATE.settings.effective_database_url)


@app.command("current")
def current() -> None:
    """Print the schema revision and the latest one."""
    database = _database()
    typer.echo(
        f"current: {database.current_revision() or 'empty'}; head: {database.head_revision()}"
    )
    database.dispose()


@app.command("upgrade")
def upgrade(revision: str = "head") -> None:
    """Migrate the schema up."""
    database = _database()
    database.upgrade(revision)
    typer.echo(f"schema at {database.current_revision()}")
    database.dispose()


@app.command("downgrade")
def downgrade(revision: str) -> None:
    """Migrate the schema down (``base`` removes every table)."""
    database = _database()
    database.downgrade(revision)
    typer.echo(f"schema at {database.current_revision() or 'empty'}")
    database.dispose()
