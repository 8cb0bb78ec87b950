"""`stadtkern config check`."""

from __future__ import annotations

import json

import typer

from stadtkern.cli.common import console, err, load_settings
from stadtkern.settings import masked

app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)


@app.command("check")
def check() -> None:
    """Validate the configuration and print it with secrets masked."""
    settings = load_settings()
    console.print_json(json.dumps(masked(settings)))
    reasons = settings.insecure_reasons()
    if reasons and not settings.dev_mode:
        for reason in reasons:
            err.print(f"[red]refused outside dev mode:[/red] {reason}")
        raise typer.Exit(1)
    for reason in reasons:
        err.print(f"[yellow]dev mode only:[/yellow] {reason}")
    console.print("[green]configuration is valid[/green]")
