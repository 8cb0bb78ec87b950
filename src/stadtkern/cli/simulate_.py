"""`stadtkern simulate`: run a town's simulated fleet against any running Stadtkern."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from stadtkern.cli.common import err
from stadtkern.demo.backfill import parse_duration
from stadtkern.demo.client import ApiError
from stadtkern.demo.simulation import SimulationPlan, run_simulation

TOKEN_VARIABLE = "STADTKERN_SIMULATOR_KEY"  # noqa: S105 - the name of the variable


def simulate(
    tenant: Annotated[str, typer.Option(help="Tenant (town) to simulate, e.g. kaiserslautern")],
    broker: Annotated[
        str, typer.Option(help="MQTT broker, mqtt://host:port or mqtts://host:port")
    ] = "mqtt://127.0.0.1:1884",
    url: Annotated[str, typer.Option(help="Base URL of the platform")] = "http://127.0.0.1:8000",
    rate: Annotated[
        float | None,
        typer.Option(help="Observations per second of the whole fleet (default: its own pace)"),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same city")] = 1,
    town: Annotated[
        str | None, typer.Option(help="Geography to use: kaiserslautern or kusel (default: tenant)")
    ] = None,
    lanterns: Annotated[
        int | None, typer.Option(min=0, help="Number of lanterns (default: the town's fleet)")
    ] = None,
    history: Annotated[
        str, typer.Option(help="Backfill this much history first, e.g. 7d (0: none)")
    ] = "0",
    provision: Annotated[
        bool, typer.Option(help="Create the devices that are missing in the tenant")
    ] = True,
    firmware: Annotated[
        bool, typer.Option(help="Run the lanterns' reference firmware (warning commands)")
    ] = True,
    duration: Annotated[
        float | None, typer.Option(min=0, help="Stop after this many seconds")
    ] = None,
    stop_on_stdin_eof: Annotated[bool, typer.Option(hidden=True)] = False,
) -> None:
    """Provision the fleet if needed, then report live over MQTT until stopped.

    The API key (a key of the tenant with the role operator) is read from the environment
    variable STADTKERN_SIMULATOR_KEY, so that it never shows in the process list.
    """
    token = os.environ.get(TOKEN_VARIABLE, "")
    if not token:
        err.print(f"[red]set {TOKEN_VARIABLE} to an operator key of the tenant[/red]")
        raise typer.Exit(2)
    try:
        past = parse_duration(history)
    except ValueError as exc:
        err.print(f"[red]--history:[/red] {exc}")
        raise typer.Exit(2) from exc
    plan = SimulationPlan(
        url=url,
        tenant=tenant,
        token=token,
        broker_url=broker,
        seed=seed,
        town=town,
        lanterns=lanterns,
        rate=rate,
        history=past,
        provision=provision,
        firmware=firmware,
        duration_s=duration,
        stop_on_stdin_eof=stop_on_stdin_eof,
    )
    try:
        run_simulation(plan)
    except (ApiError, ConnectionError, OSError, ValueError) as exc:
        err.print(f"[red]simulation stopped:[/red] {exc}")
        raise typer.Exit(1) from exc
