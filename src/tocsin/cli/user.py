"""``tocsin user``: accounts for the dashboard, API tokens and feed tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from tocsin import accounts
from tocsin.accounts.service import generate_password
from tocsin.cli.output import OutputFormat, console, emit
from tocsin.cli.state import STATE
from tocsin.model import Role
from tocsin.store.feed_tokens import create_feed_token, list_feed_tokens, revoke_feed_token

app = typer.Typer(help="Dashboard accounts, roles and API tokens.", no_args_is_help=True)
feed_tokens = typer.Typer(
    help="Personal addresses of the Atom feeds, for feed readers.", no_args_is_help=True
)
app.add_typer(feed_tokens, name="feed-token")


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


# -- feed tokens ---------------------------------------------------------------------------
def _feed_url(establishment: str, token: str) -> str:
    web = STATE.settings.web
    base = (web.base_url or f"http://{web.host}:{web.port}").rstrip("/")
    return f"{base}/watch/{establishment}/feed.atom?token={token}"


@feed_tokens.command("create")
def feed_token_create(
    username: str,
    establishment: Annotated[
        str, typer.Option("--establishment", "-e", envvar="TOCSIN_ESTABLISHMENT")
    ],
    label: Annotated[str, typer.Option(help="What the address is for.")] = "feed reader",
) -> None:
    """Create a feed address for USERNAME and one establishment (printed once on stdout)."""
    with STATE.database.session() as session:
        token, value = create_feed_token(session, username, establishment, label, actor="cli")
    console(stderr=True).print(
        f"feed token {token.id} for {username} on {establishment} (shown once; "
        "or send it as 'Authorization: Bearer …'):",
        markup=False,
    )
    typer.echo(_feed_url(establishment, value))


@feed_tokens.command("list")
def feed_token_list(
    username: Annotated[str | None, typer.Argument(help="Only this user's.")] = None,
    establishment: Annotated[str | None, typer.Option("--establishment", "-e")] = None,
    revoked: Annotated[bool, typer.Option("--revoked", help="Include revoked ones.")] = False,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.TABLE,
) -> None:
    """List feed tokens (never the tokens themselves)."""
    with STATE.database.session() as session:
        found = list_feed_tokens(
            session, username=username, establishment=establishment, include_revoked=revoked
        )
    emit(
        (t.document() for t in found),
        fmt,
        ("id", "username", "establishment", "label", "created_at", "last_used_at", "revoked_at"),
        title="Feed tokens",
        wrapper="feed_tokens",
    )


@feed_tokens.command("revoke")
def feed_token_revoke(token_id: Annotated[int, typer.Argument(help="The token's number.")]) -> None:
    """Revoke a feed token: the feed reader using it gets 401 from now on."""
    with STATE.database.session() as session:
        token = revoke_feed_token(session, token_id, actor="cli")
    typer.echo(f"revoked feed token {token.id} ({token.username}, {token.establishment})")
