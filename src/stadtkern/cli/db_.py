"""`stadtkern db upgrade|current`."""

from __future__ import annotations

import typer
from rich.table import Table

from stadtkern.cli.common import console, database
from stadtkern.db import migrations

app = typer.Typer(help="Manage the database schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade() -> None:
    """Apply every pending migration of every installed module."""
    with database() as db:
        migrations.upgrade(db)
        states = migrations.branch_states(db)
    console.print(f"[green]schema current[/green] ({len(states)} module branches)")


@app.command("current")
def current() -> None:
    """Show each module's revision in the database and its newest revision."""
    with database() as db:
        states = migrations.branch_states(db)
    table = Table("module", "database", "newest", "state")
    for state in states:
        table.add_row(
            state.module,
            state.current or "-",
            state.head,
            "[green]current[/green]" if state.is_current else "[red]out of date[/red]",
        )
    console.print(table)
    if not all(state.is_current for state in states):
        raise typer.Exit(1)
