"""`stadtkern key create|list|revoke`."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table

from stadtkern.cli.common import CLI_ACTOR, console, database, err, fail, load_settings
from stadtkern.core import keys, tenants
from stadtkern.core.accounts import create_machine_account
from stadtkern.core.roles import PLATFORM_ADMIN
from stadtkern.db.base import utcnow
from stadtkern.errors import StadtkernError
from stadtkern.modules import discover_modules

app = typer.Typer(help="Manage API keys.", no_args_is_help=True)


@app.command("create")
def create(
    tenant: Annotated[
        str | None, typer.Option(help="Tenant slug (omit with --platform-admin)")
    ] = None,
    role: Annotated[list[str] | None, typer.Option(help="Role to grant (repeatable)")] = None,
    name: Annotated[str | None, typer.Option(help="Name of the machine account")] = None,
    platform_admin: Annotated[
        bool, typer.Option("--platform-admin", help="A key that administers all tenants")
    ] = False,
    expires_in_days: Annotated[int | None, typer.Option(min=1, help="Days until expiry")] = None,
) -> None:
    """Create a machine account with the roles and a key for it; the key is shown once."""
    if platform_admin == (tenant is not None):
        err.print("[red]give either --tenant (with --role) or --platform-admin[/red]")
        raise typer.Exit(2)
    roles = [PLATFORM_ADMIN] if platform_admin else list(role or [])
    if not roles:
        err.print("[red]give at least one --role[/red]")
        raise typer.Exit(2)
    expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    account = name or f"key-{'-'.join(roles)}-{utcnow():%Y%m%d%H%M%S}"
    try:
        with database() as db, db.write() as session:
            issued = create_machine_account(
                session=session,
                tenant_slug=tenant,
                name=account,
                roles=roles,
                installed=discover_modules(None),
                expires_at=expires_at,
                actor=CLI_ACTOR,
                pepper=load_settings().token_pepper,
            )
    except StadtkernError as exc:
        raise fail(exc) from exc
    err.print(f"key {issued.key.key_id} for '{account}' ({', '.join(roles)}); shown only now:")
    console.print(issued.token, highlight=False, soft_wrap=True)


@app.command("list")
def list_(tenant: Annotated[str, typer.Option(help="Tenant slug")]) -> None:
    """The tenant's keys (never their secrets)."""
    try:
        with database() as db, db.read() as session:
            ref = tenants.to_ref(tenants.get_tenant(session=session, slug=tenant))
            rows = keys.list_keys(session=session, tenant=ref)
    except StadtkernError as exc:
        raise fail(exc) from exc
    table = Table("key id", "label", "created", "expires", "state")
    for key in rows:
        state = "revoked" if key.revoked_at else "active"
        if key.expires_at and key.expires_at <= utcnow():
            state = "expired"
        table.add_row(
            key.key_id,
            key.label,
            f"{key.created_at:%Y-%m-%d %H:%M}",
            f"{key.expires_at:%Y-%m-%d}" if key.expires_at else "-",
            state,
        )
    console.print(table)


@app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key id (second part of the token)")],
    tenant: Annotated[str | None, typer.Option(help="Tenant slug; omit for a platform key")] = None,
) -> None:
    """Revoke a key at once."""
    try:
        with database() as db, db.write() as session:
            ref = (
                tenants.to_ref(tenants.get_tenant(session=session, slug=tenant)) if tenant else None
            )
            keys.revoke_key(session=session, tenant=ref, key_id=key_id, actor=CLI_ACTOR)
    except StadtkernError as exc:
        raise fail(exc) from exc
    console.print(f"key {key_id} revoked")
