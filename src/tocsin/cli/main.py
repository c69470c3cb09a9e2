"""Entry point of the ``tocsin`` command; maps errors to the exit codes of DESIGN.md."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence
from typing import Annotated

import click
import typer

from tocsin import __version__
from tocsin.cli import db as db_cli
from tocsin.cli import demo as demo_cli
from tocsin.cli import detect as detect_cli
from tocsin.cli import establishment as establishment_cli
from tocsin.cli import init as init_cli
from tocsin.cli import inventory as inventory_cli
from tocsin.cli import phish as phish_cli
from tocsin.cli import serve as serve_cli
from tocsin.cli import user as user_cli
from tocsin.cli import watch as watch_cli
from tocsin.cli.state import STATE
from tocsin.errors import TocsinError

app = typer.Typer(
    name="tocsin",
    help="Tocsin: cyber watch and resilience for healthcare organisations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tocsin {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    STATE.debug = debug


app.command("init")(init_cli.init)
app.command("serve")(serve_cli.serve)
app.command("demo")(demo_cli.demo)
app.add_typer(inventory_cli.app, name="inventory")
app.add_typer(establishment_cli.app, name="establishment")
app.add_typer(user_cli.app, name="user")
app.add_typer(db_cli.app, name="db")
app.add_typer(watch_cli.app, name="watch")
app.add_typer(detect_cli.app, name="detect")
app.add_typer(phish_cli.app, name="phish")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (tests call this directly)."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    STATE.reset()
    try:
        result = app(args=args, prog_name="tocsin", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except (typer.Exit, click.exceptions.Exit) as exc:
        return int(exc.exit_code)
    except (typer.Abort, click.exceptions.Abort):
        print("aborted", file=sys.stderr)  # noqa: T201 - the CLI is where we print
        return 130
    except (typer.TyperException, click.exceptions.ClickException) as exc:
        # Usage errors (unknown command or option, bad value, missing argument): exit 2.
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            print(f"error: {exc}", file=sys.stderr)  # noqa: T201
        return int(getattr(exc, "exit_code", 2))
    except TocsinError as exc:
        if debug:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    finally:
        STATE.close()


def run() -> None:
    sys.exit(main())
