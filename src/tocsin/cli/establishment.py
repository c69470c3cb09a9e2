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


def _days(option: str, value: str | None, current: int | None) -> int | None:
    """A delay in days from the command line: a number, or "none" for no due date."""
    if value is None:
        return current
    if value.strip().lower() in ("none", "aucun", "-"):
        return None
    try:
        return int(value)
    except ValueError:
        raise UsageError(f"{option} must be a number of days or 'none', not {value!r}") from None


@app.command("policy")
def policy(
    slug: Annotated[str, typer.Argument(help="The establishment.")],
    act_now: Annotated[
        str | None, typer.Option("--act-now-days", help="Days to fix an act-now exposure.")
    ] = None,
    out_of_cycle: Annotated[
        str | None, typer.Option("--out-of-cycle-days", help="Days for out-of-cycle.")
    ] = None,
    scheduled: Annotated[
        str | None, typer.Option("--scheduled-days", help="Days for scheduled.")
    ] = None,
    track: Annotated[
        str | None, typer.Option("--track-days", help="Days for track ('none': no due date).")
    ] = None,
    epss_poc: Annotated[
        float | None,
        typer.Option("--epss-poc", min=0.0, max=1.0, help="EPSS at or above this counts as a PoC."),
    ] = None,
    min_confidence: Annotated[
        float | None,
        typer.Option(
            "--act-now-min-confidence",
            min=0.0,
            max=1.0,
            help="Below this match confidence, never act-now.",
        ),
    ] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.TABLE,
) -> None:
    """Show the establishment's priority policy (due delays per decision); set what is given.

    The delays apply to exposures opened from then on (docs/priority.md).
    """
    from dataclasses import asdict, replace

    from tocsin.watch.triage import get_policy, set_policy

    current = get_policy(STATE.database, slug)
    wanted = replace(
        current,
        act_now_days=_days("--act-now-days", act_now, current.act_now_days),
        out_of_cycle_days=_days("--out-of-cycle-days", out_of_cycle, current.out_of_cycle_days),
        scheduled_days=_days("--scheduled-days", scheduled, current.scheduled_days),
        track_days=_days("--track-days", track, current.track_days),
        epss_poc=current.epss_poc if epss_poc is None else epss_poc,
        act_now_min_confidence=(
            current.act_now_min_confidence if min_confidence is None else min_confidence
        ),
    )
    if wanted != current:
        set_policy(STATE.database, slug, wanted, "cli")
    row = {"establishment": slug, **asdict(wanted)}
    emit([row], fmt, tuple(row), title="Priority policy", wrapper="policies")
