"""`stadtkern mqtt mosquitto-auth`: Mosquitto's password and ACL files from the API keys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stadtkern.cli.common import console, database, err, load_settings
from stadtkern.mqtt.connection import broker_address
from stadtkern.mqtt.credentials import ServiceLogin
from stadtkern.mqtt.mosquitto import build_mosquitto_auth, write_atomically
from stadtkern.sensorthings import tenant_settings

app = typer.Typer(help="MQTT broker administration.", no_args_is_help=True)


@app.command("mosquitto-auth")
def mosquitto_auth(
    password_file: Annotated[Path, typer.Option(help="Mosquitto `password_file` to write")],
    acl_file: Annotated[Path, typer.Option(help="Mosquitto `acl_file` to write")],
    anonymous_read: Annotated[
        list[str] | None,
        typer.Option(
            help="Also let anonymous clients read this tenant's SensorThings topics (besides "
            "the tenants whose SensorThings settings say anonymousRead)"
        ),
    ] = None,
) -> None:
    """Write Mosquitto's password and ACL files for the live tenant keys.

    The platform's own user (from STADTKERN_MQTT__URL) gets full access and `$SYS` reads.
    Run it again after keys are created, revoked or expire, then send Mosquitto SIGHUP
    (`systemctl reload mosquitto` or `kill -HUP <pid>`) so that it reads the files again.
    """
    settings = load_settings()
    address = broker_address(settings.mqtt)
    service = None
    if address.username and address.password:
        service = ServiceLogin(username=address.username, password=address.password)
    else:
        err.print("[yellow]STADTKERN_MQTT__URL names no user: no service user written[/yellow]")
    open_slugs = set(anonymous_read or ())
    with database() as db, db.read() as session:
        open_slugs |= tenant_settings.anonymous_read_slugs(session)
        auth = build_mosquitto_auth(
            session=session, service=service, anonymous_read=open_slugs.__contains__
        )
    write_atomically(password_file, auth.password_file())
    write_atomically(acl_file, auth.acl_file())
    console.print(
        f"{auth.keys} keys written to {password_file} and {acl_file}; "
        "send Mosquitto SIGHUP to load them"
    )
    if auth.without_hash:
        err.print(
            f"[yellow]{len(auth.without_hash)} keys were issued before MQTT logins and have no "
            f"Mosquitto hash; re-issue them for MQTT: {', '.join(auth.without_hash)}[/yellow]"
        )
