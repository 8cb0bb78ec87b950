"""What the administration pages show, read through the core's services, and their forms'
fields turned into the services' inputs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy.orm import Session

from stadtkern.core import keys, principals
from stadtkern.core.refs import Identity, TenantRef
from stadtkern.core.roles import ADMIN
from stadtkern.core.schemas import ApiKeyPublic, PrincipalPublic
from stadtkern.db.base import utcnow
from stadtkern.errors import InvalidInput
from stadtkern.modules import StadtkernModule

# Switched off here, the page itself would go; the platform administration can do it.
NOT_FROM_THE_CONSOLE = frozenset({"core", "web"})


@dataclass(frozen=True)
class KeyRow:
    """An API key with its owner's name and whether it still opens anything."""

    key: ApiKeyPublic
    owner: str
    state: str  # "live" | "expired" | "revoked"


@dataclass(frozen=True)
class ModuleRow:
    """An installed module and whether the town has it."""

    name: str
    title: str
    on: bool
    depends_on: list[str]
    needed_by: list[str]
    switchable: bool


def people(session: Session, tenant: TenantRef) -> list[PrincipalPublic]:
    """The town's people and machine accounts with their roles, by name."""
    return [
        principals.to_public(session, principal)
        for principal in principals.list_principals(session=session, tenant=tenant)
    ]


def key_rows(session: Session, tenant: TenantRef, principal_id: int | None = None) -> list[KeyRow]:
    """The town's keys (or one person's), newest first, never with a secret."""
    names = {p.id: p.name for p in principals.list_principals(session=session, tenant=tenant)}
    now = utcnow()
    rows = []
    for key in keys.list_keys(session=session, tenant=tenant):
        if principal_id is not None and key.principal_id != principal_id:
            continue
        public = keys.to_public(key)
        state = (
            "revoked"
            if public.revoked_at is not None
            else "expired"
            if public.expires_at is not None and public.expires_at <= now
            else "live"
        )
        rows.append(KeyRow(public, names.get(key.principal_id, "?"), state))
    return rows


def module_rows(installed: Sequence[StadtkernModule], tenant: TenantRef) -> list[ModuleRow]:
    """Every installed module, on or off for the town, with what it needs and who needs it."""
    return [
        ModuleRow(
            name=module.name,
            title=module.title,
            on=tenant.has_module(module.name),
            depends_on=sorted(set(module.depends_on) - {"core"}),
            needed_by=sorted(
                other.name
                for other in installed
                if module.name in other.depends_on and tenant.has_module(other.name)
            ),
            switchable=module.name not in NOT_FROM_THE_CONSOLE,
        )
        for module in sorted(installed, key=lambda m: m.name)
    ]


def chosen_roles(values: Sequence[Any]) -> list[str]:
    """The roles ticked in a form (the service refuses unknown ones)."""
    return sorted({str(value)[:100] for value in values})


def expiry(value: str, tenant: TenantRef) -> datetime | None:
    """The end of the chosen day in the town's time zone; None for a key without expiry."""
    if not value.strip():
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput("the expiry is not a date (YYYY-MM-DD)") from None
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=ZoneInfo(tenant.timezone))


def refuse_own_lockout(
    who: Identity, principal_id: int, *, roles: list[str] | None = None, disabled: bool = False
) -> None:
    """An administrator cannot disable themself or drop their own admin role from here."""
    if who.principal_id != principal_id or who.platform_admin:
        return
    if disabled:
        raise InvalidInput("you cannot disable your own account; ask another administrator")
    if roles is not None and ADMIN not in roles:
        raise InvalidInput("you cannot take away your own role admin; ask another administrator")


def readable(error: ValidationError) -> str:
    """A form's validation problems as one line naming the fields."""
    return "; ".join(
        f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
        for problem in error.errors()
    )


def text(form: Any, name: str, limit: int = 200) -> str:
    """A form field as text, cut to a sane length (the service checks the rest)."""
    return str(form.get(name, ""))[: limit + 1]
