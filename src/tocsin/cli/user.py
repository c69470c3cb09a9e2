"""``tocsin user``: accounts for the dashboard and API tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from tocsin import accounts
from tocsin.accounts.service import generate_password
from tocsin.cli.output import OutputFormat, console, emit
from tocsin.cli.state import STATE
from tocsin.model import Role

app = typer.Typer(help="Dashboard accounts, roles and API tokens.", no_args_is_help=True)


@app.command("add")
def add(
    username: str,
    role: Annotated[Role, typer.Option()] = Role.VIEWER,
    establishment: Annotated[
        list[str] | None, typer.Option("--establishment", "-e", help="Scope (repeatable).")
    ] = None,
    all_establishments: Annotated[bool, typer.Option("--all-establishments")] = False,
    password: Annotated[
        str | None,
        typer.Option(envvar="TOCSIN_NEW_PASSWORD", help="Default: a generated one, printed once."),
    ] = None,
) -> None:
    """Create an account; prints a generated password once unless one is given."""
    chosen = password or generate_password()
    with STATE.database.session() as session:
        accounts.create_user(
            session,
            username,
            chosen,
            role,
            establishments=establishment or (),
            all_establishments=all_establishments,
            actor="cli",
        )
    typer.echo(f"created {role.value} account {username}")
    if password is None:
        typer.echo(f"password (shown once): {chosen}")


@app.command("list")
def list_(
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.TABLE,
) -> None:
    """List accounts."""
    with STATE.database.session() as session:
        rows = [
            {
                "username": a.username,
                "role": a.role.value,
                "establishments": "*" if a.all_establishments else list(a.establishments),
                "active": a.active,
            }
            for a in accounts.list_accounts(session)
        ]
    emit(
        rows,
        fmt,
        ("username", "role", "establishments", "active"),
        title="Accounts",
        wrapper="users",
    )


@app.command("passwd")
def passwd(
    username: str,
    password: Annotated[str | None, typer.Option(envvar="TOCSIN_NEW_PASSWORD")] = None,
) -> None:
    """Set a new password (generated and printed once unless given)."""
    chosen = password or generate_password()
    with STATE.database.session() as session:
        accounts.set_password(session, username, chosen, actor="cli")
    typer.echo(f"password changed for {username}")
    if password is None:
        typer.echo(f"password (shown once): {chosen}")


@app.command("token")
def token(
    username: str,
    name: Annotated[str, typer.Option(help="What the token is for.")] = "api",
    days: Annotated[int, typer.Option(min=0, help="Validity in days; 0 never expires.")] = 365,
) -> None:
    """Create an API token for /api/v1 (shown once; send as 'Authorization: Bearer …')."""
    with STATE.database.session() as session:
        value = accounts.create_token(session, username, name, days=days or None, actor="cli")
    console(stderr=True).print("API token (shown once):")
    typer.echo(value)
