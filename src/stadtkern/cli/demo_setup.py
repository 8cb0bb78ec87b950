"""What `stadtkern demo` prepares in the database: schema, towns, demo accounts and keys.

Kaiserslautern is created with its boundary and modules; the district of Kusel is created
from it with `copy_tenant`, the same step as `stadtkern tenant create --from`. Every demo
account gets a key; the keys are kept in a file beside the data (demo only: a real
installation never stores a key) so that a second start prints the same credentials.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from stadtkern.core import keys, tenants
from stadtkern.core.accounts import create_machine_account
from stadtkern.core.models import ApiKey, Principal
from stadtkern.core.roles import ADMIN, OPERATOR, PLATFORM_ADMIN, VIEWER
from stadtkern.core.schemas import TenantCopy, TenantCreate
from stadtkern.db import Database, migrations
from stadtkern.demo.geography import boundary_geojson, load_town
from stadtkern.modules import StadtkernModule
from stadtkern.sensorthings.tenant_settings import set_anonymous_read
from stadtkern.settings import Settings

ACTOR = "demo"
MODULES = ["sensorthings", "warning", "web"]
FIRST_TOWN = "kaiserslautern"
SECOND_TOWN = "kusel"
NAMES = {FIRST_TOWN: "Kaiserslautern", SECOND_TOWN: "Landkreis Kusel"}


@dataclass(frozen=True)
class DemoAccount:
    """A demo login: who it is, in which town, with which roles."""

    name: str
    tenant: str | None
    roles: tuple[str, ...]
    purpose: str


def demo_accounts() -> list[DemoAccount]:
    """The accounts the demo makes: the platform admin, and per town four staff keys."""
    accounts = [DemoAccount("demo-platform-admin", None, (PLATFORM_ADMIN,), "platform admin")]
    for town in (FIRST_TOWN, SECOND_TOWN):
        accounts += [
            DemoAccount("demo-admin", town, (ADMIN,), "town admin"),
            DemoAccount(
                "demo-issuer", town, (OPERATOR, "warning_issuer"), "issues warnings (person 1)"
            ),
            DemoAccount(
                "demo-approver", town, (VIEWER, "warning_approver"), "approves warnings (person 2)"
            ),
            DemoAccount("demo-simulator", town, (OPERATOR,), "the simulated fleet"),
        ]
    return accounts


def reset_database(url: str) -> None:
    """Start from scratch: remove the SQLite file, or empty the PostgreSQL database."""
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path:
            for suffix in ("", "-wal", "-shm"):
                Path(path + suffix).unlink(missing_ok=True)
        return
    database = Database(url)
    try:
        with database.write_engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        database.dispose()


def prepare(
    database: Database,
    settings: Settings,
    installed: list[StadtkernModule],
    credentials_file: Path,
) -> dict[str, str]:
    """Schema, towns and demo keys; the tokens by '<tenant or platform>/<account name>'."""
    migrations.upgrade(database)
    with database.write() as session:
        _towns(session, installed)
    stored = _read(credentials_file)
    tokens: dict[str, str] = {}
    with database.write() as session:
        for account in demo_accounts():
            label = f"{account.tenant or 'platform'}/{account.name}"
            token = stored.get(label)
            if token is not None and keys.verify_token(session, token, settings.token_pepper):
                tokens[label] = token
                continue
            tokens[label] = _issue(session, account, installed, settings.token_pepper)
    _write(credentials_file, tokens)
    return tokens


def _towns(session: Session, installed: list[StadtkernModule]) -> None:
    existing = {tenant.slug for tenant in tenants.list_tenants(session=session)}
    if FIRST_TOWN not in existing:
        town = load_town(FIRST_TOWN)
        created = tenants.create_tenant(
            session=session,
            tenant_create=TenantCreate(
                slug=FIRST_TOWN,
                name=NAMES[FIRST_TOWN],
                ars=town.ars,
                boundary=boundary_geojson(town),
                modules=MODULES,
            ),
            installed=installed,
            actor=ACTOR,
        )
        set_anonymous_read(session, tenants.to_ref(created), True, actor=ACTOR)
    if SECOND_TOWN not in existing:
        town = load_town(SECOND_TOWN)
        copied = tenants.copy_tenant(
            session=session,
            source_slug=FIRST_TOWN,
            tenant_copy=TenantCopy(
                slug=SECOND_TOWN,
                name=NAMES[SECOND_TOWN],
                ars=town.ars,
                boundary=boundary_geojson(town),
            ),
            installed=installed,
            actor=ACTOR,
        )
        set_anonymous_read(session, tenants.to_ref(copied), True, actor=ACTOR)


def _issue(
    session: Session, account: DemoAccount, installed: list[StadtkernModule], pepper: bytes
) -> str:
    """A new key for the account, made on first use; older demo keys of it are revoked."""
    tenant_ref = None
    if account.tenant is not None:
        tenant_ref = tenants.to_ref(tenants.get_tenant(session=session, slug=account.tenant))
    principal = session.scalar(
        select(Principal).where(
            Principal.name == account.name,
            Principal.tenant_id == (tenant_ref.id if tenant_ref else None),
        )
    )
    if principal is None:
        issued = create_machine_account(
            session=session,
            tenant_slug=account.tenant,
            name=account.name,
            roles=list(account.roles),
            installed=installed,
            expires_at=None,
            actor=ACTOR,
            pepper=pepper,
        )
        return issued.token
    for old in session.scalars(
        select(ApiKey).where(ApiKey.principal_id == principal.id, ApiKey.revoked_at.is_(None))
    ):
        keys.revoke_key(session=session, tenant=tenant_ref, key_id=old.key_id, actor=ACTOR)
    return keys.issue_key(
        session=session,
        principal=principal,
        tenant=tenant_ref,
        label=account.name,
        expires_at=None,
        actor=ACTOR,
        pepper=pepper,
    ).token


def _read(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _write(path: Path, tokens: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(tokens, file, indent=2, sort_keys=True)
