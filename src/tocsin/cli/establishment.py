"""``tocsin establishment``: the organisations this deployment serves."""

from __future__ import annotations

import re
from typing import Annotated

import typer

from tocsin.cli.output import OutputFormat, emit
from tocsin.cli.state import STATE
from tocsin.errors import UsageError
from tocsin.model import Establishment, EstablishmentType
from tocsin.store import audit
from tocsin.store.inventory import add_establishment, asset_counts, list_establishments

app = typer.Typer(
    help="Establishments (hospitals, clinics, EHPAD…) and their FINESS numbers.",
    no_args_is_help=True,
)

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_FINESS = re.compile(r"^[0-9][0-9AB][0-9]{7}$")


def validate(slug: str, finess: str | None) -> None:
    if not _SLUG.match(slug):
        raise UsageError(f"slug {slug!r} must be lower-case letters, digits and dashes")
    if finess is not None and not _FINESS.match(finess):
        raise UsageError(f"FINESS {finess!r} must have 9 characters (digits; 2A/2B for Corsica)")


@app.command("add")
def add(
    slug: Annotated[str, typer.Argument(help="Short identifier, e.g. ch-demo.")],
    name: Annotated[str, typer.Option(help="Full name.")],
    type_: Annotated[EstablishmentType, typer.Option("--type")] = EstablishmentType.CH,
    finess: Annotated[str | None, typer.Option(help="FINESS number (9 characters).")] = None,
    region: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Add an establishment."""
    validate(slug, finess)
    with STATE.database.session() as session:
        add_establishment(session, Establishment(slug, name, type_, finess, region))
        audit.record(session, "cli", "establishment.create", "establishment", slug)
    typer.echo(f"added establishment {slug}")


@app.command("list")
def list_(
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.TABLE,
) -> None:
    """List establishments with their asset counts."""
    with STATE.database.session() as session:
        counts = asset_counts(session)
        rows = [
            {
                "slug": r.slug,
                "name": r.name,
                "type": r.type,
                "finess": r.finess,
                "region": r.region,
                "assets": counts.get(r.id, {}).get("total", 0),
            }
            for r in list_establishments(session)
        ]
    emit(
        rows,
        fmt,
        ("slug", "name", "type", "finess", "region", "assets"),
        title="Establishments",
        wrapper="establishments",
    )
