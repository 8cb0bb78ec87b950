"""`stadtkern serve`."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn
from fastapi import FastAPI

from stadtkern.cli.common import console, err, load_settings
from stadtkern.ops import logging_
from stadtkern.settings import Settings


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port to listen on")] = None,
) -> None:
    """Run the platform until SIGINT/SIGTERM, then finish in-flight work and stop."""
    from stadtkern.app import create_app
    from stadtkern.db.migrations import SchemaOutOfDate
    from stadtkern.platform import InsecureSettings

    settings = load_settings()
    updates = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = settings.model_copy(update=updates)
    logging_.configure(level=settings.log_level, json_format=settings.log_format == "json")
    try:
        app = create_app(settings)
    except InsecureSettings as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    url = settings.public_url or f"http://{settings.host}:{settings.port}"
    console.print(
        f"Stadtkern listens on [bold]{url}[/bold]  (health: {url}/healthz)", soft_wrap=True
    )
    try:
        run_app(app, settings)
    except SchemaOutOfDate as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc


def run_app(app: FastAPI, settings: Settings) -> None:
    """Serve the application until SIGINT/SIGTERM, with the platform's own request logging."""
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,  # the platform logs each request itself, with its request id
        server_header=False,  # no "server: uvicorn" on every answer (names the software)
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
    )
