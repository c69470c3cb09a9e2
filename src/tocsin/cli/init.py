"""``tocsin init``: create the home folder, the database and optionally a first admin."""

from __future__ import annotations

from typing import Annotated

import typer

from tocsin import accounts
from tocsin.accounts.service import generate_password
from tocsin.cli.establishment import validate
from tocsin.cli.state import STATE
from tocsin.model import Establishment, EstablishmentType, Role
from tocsin.store import audit
from tocsin.store.inventory import add_establishment


def init(
    establishment: Annotated[
        str | None, typer.Option(help="Slug of a first establishment.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Its full name.")] = None,
    type_: Annotated[EstablishmentType, typer.Option("--type")] = EstablishmentType.CH,
    finess: Annotated[str | None, typer.Option()] = None,
    region: Annotated[str | None, typer.Option()] = None,
    admin: Annotated[str | None, typer.Option(help="Create this admin account.")] = None,
) -> None:
    """Set up Tocsin's home and database (idempotent)."""
    settings = STATE.settings
    database = STATE.database
    typer.echo(f"home: {settings.home}")
    typer.echo(f"database: {database!r} at schema {database.current_revision()}")
    with database.session() as session:
        if establishment:
            validate(establishment, finess)
            add_establishment(
                session,
                Establishment(establishment, name or establishment, type_, finess, region),
            )
            audit.record(session, "cli", "establishment.create", "establishment", establishment)
            typer.echo(f"added establishment {establishment}")
        if admin:
            password = generate_password()
            accounts.create_user(
                session, admin, password, Role.ADMIN, all_establishments=True, actor="cli"
            )
            typer.echo(f"created admin account {admin}; password (shown once): {password}")
