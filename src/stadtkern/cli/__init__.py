"""The `stadtkern` command line."""

from __future__ import annotations

import typer

from stadtkern.cli import (
    audit_,
    bootstrap,
    config_,
    db_,
    demo_,
    key,
    modules_,
    mqtt_auth,
    serve,
    simulate_,
    tenant,
)

app = typer.Typer(
    name="stadtkern",
    help="Stadtkern, the open-source smart-city platform for municipalities.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("serve", help="Run the platform (HTTP API, MQTT service, modules).")(serve.serve)
app.command("demo", help="Run the platform with a simulated demo city (two towns).")(demo_.demo)
app.command("simulate", help="Run a town's simulated fleet against a running Stadtkern.")(
    simulate_.simulate
)
app.command("modules", help="List installed modules and whether they are loaded.")(
    modules_.list_modules
)
app.command("bootstrap", help="Create the first platform administrator and print its key.")(
    bootstrap.bootstrap
)
app.add_typer(config_.app, name="config")
app.add_typer(db_.app, name="db")
app.add_typer(tenant.app, name="tenant")
app.add_typer(key.app, name="key")
app.add_typer(audit_.app, name="audit")
app.add_typer(mqtt_auth.app, name="mqtt")


def main() -> None:
    """Entry point of the console script."""
    app()
