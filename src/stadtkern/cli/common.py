"""What every command needs: settings, the database, error output."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from pydantic import ValidationError
from rich.console import Console

from stadtkern.db import Database
from stadtkern.errors import StadtkernError
from stadtkern.settings import Settings

console = Console()
err = Console(stderr=True)
CLI_ACTOR = "cli"


def load_settings() -> Settings:
    """The effective settings, or a readable error and exit code 2."""
    try:
        return Settings()
    except ValidationError as exc:
        err.print("[red]Invalid configuration:[/red]")
        for error in exc.errors():
            location = ".".join(str(part) for part in error["loc"]) or "(root)"
            err.print(f"  STADTKERN_{location.upper().replace('.', '__')}: {error['msg']}")
        raise typer.Exit(2) from exc


@contextmanager
def database() -> Iterator[Database]:
    """The configured database, closed afterwards."""
    db = Database(load_settings().database_url)
    try:
        yield db
    finally:
        db.dispose()


def fail(exc: StadtkernError) -> typer.Exit:
    """Print a domain error and return the exit to raise."""
    err.print(f"[red]{exc.title}:[/red] {exc.detail}")
    return typer.Exit(1)
