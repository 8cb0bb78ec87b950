"""`stadtkern tenant create|list|show|disable|enable`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.table import Table

from stadtkern.cli.common import CLI_ACTOR, console, database, err, fail
from stadtkern.core import tenants
from stadtkern.core.schemas import TenantCopy, TenantCreate
from stadtkern.errors import StadtkernError
from stadtkern.modules import discover_modules

app = typer.Typer(help="Manage tenants (one per municipality).", no_args_is_help=True)


def _boundary(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        err.print(f"[red]cannot read the boundary file:[/red] {exc}")
        raise typer.Exit(2) from exc
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")
    if not isinstance(data, dict):
        err.print("[red]the boundary file holds no GeoJSON geometry[/red]")
        raise typer.Exit(2)
    return data


def _invalid(exc: ValidationError) -> typer.Exit:
    for error in exc.errors():
        err.print(f"[red]{'.'.join(str(p) for p in error['loc'])}:[/red] {error['msg']}")
    return typer.Exit(2)


@app.command("create")
def create(
    slug: Annotated[str, typer.Argument(help="URL name, e.g. kaiserslautern")],
    name: Annotated[str, typer.Option(help="Display name")],
    ars: Annotated[str, typer.Option(help="Official regional key, 12 digits")],
    source: Annotated[
        str | None, typer.Option("--from", help="Copy the configuration of this tenant")
    ] = None,
    boundary: Annotated[Path | None, typer.Option(help="GeoJSON file of the boundary")] = None,
    timezone: Annotated[str, typer.Option(help="IANA time zone")] = "Europe/Berlin",
    locale: Annotated[str, typer.Option(help="Default locale: de or en")] = "de",
    modules: Annotated[str, typer.Option(help="Comma-separated modules to switch on")] = "",
) -> None:
    """Create a tenant, or with --from adopt another tenant's configuration."""
    installed = discover_modules(None)
    try:
        with database() as db, db.write() as session:
            if source:
                body = TenantCopy(slug=slug, name=name, ars=ars, boundary=_boundary(boundary))
                tenant = tenants.copy_tenant(
                    session=session,
                    source_slug=source,
                    tenant_copy=body,
                    installed=installed,
                    actor=CLI_ACTOR,
                )
            else:
                create_body = TenantCreate(
                    slug=slug,
                    name=name,
                    ars=ars,
                    boundary=_boundary(boundary),
                    timezone=timezone,
                    locale=locale,
                    modules=[m.strip() for m in modules.split(",") if m.strip()],
                )
                tenant = tenants.create_tenant(
                    session=session, tenant_create=create_body, installed=installed, actor=CLI_ACTOR
                )
            slug_created = tenant.slug
    except ValidationError as exc:
        raise _invalid(exc) from exc
    except StadtkernError as exc:
        raise fail(exc) from exc
    console.print(f"[green]tenant '{slug_created}' created[/green]")


@app.command("list")
def list_() -> None:
    """All tenants."""
    with database() as db, db.read() as session:
        rows = tenants.list_tenants(session=session)
        table = Table("slug", "name", "ARS", "modules", "state")
        for tenant in rows:
            table.add_row(
                tenant.slug,
                tenant.name,
                tenant.ars,
                ", ".join(tenant.modules) or "-",
                "disabled" if tenant.disabled else "active",
            )
    console.print(table)


@app.command("show")
def show(slug: Annotated[str, typer.Argument(help="Tenant slug")]) -> None:
    """One tenant as JSON."""
    try:
        with database() as db, db.read() as session:
            public = tenants.to_public(tenants.get_tenant(session=session, slug=slug))
    except StadtkernError as exc:
        raise fail(exc) from exc
    console.print_json(public.model_dump_json())


def _set_disabled(slug: str, disabled: bool) -> None:
    try:
        with database() as db, db.write() as session:
            tenants.set_disabled(session=session, slug=slug, disabled=disabled, actor=CLI_ACTOR)
    except StadtkernError as exc:
        raise fail(exc) from exc
    console.print(f"tenant '{slug}' {'disabled' if disabled else 'enabled'}")


@app.command("disable")
def disable(slug: Annotated[str, typer.Argument(help="Tenant slug")]) -> None:
    """Disable a tenant: it answers as if it did not exist; data stays."""
    _set_disabled(slug, True)


@app.command("enable")
def enable(slug: Annotated[str, typer.Argument(help="Tenant slug")]) -> None:
    """Enable a disabled tenant again."""
    _set_disabled(slug, False)
