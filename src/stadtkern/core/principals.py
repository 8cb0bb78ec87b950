"""Principals (people and machine accounts) and the roles they hold in their tenant."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from stadtkern.core import audit
from stadtkern.core.models import Principal, RoleGrant
from stadtkern.core.refs import TenantRef
from stadtkern.core.roles import PLATFORM_ADMIN
from stadtkern.core.schemas import PrincipalCreate, PrincipalPublic, PrincipalUpdate, RolePublic
from stadtkern.errors import Conflict, InvalidInput, NotFound
from stadtkern.modules import StadtkernModule


def role_catalogue(modules: Iterable[StadtkernModule], tenant: TenantRef) -> dict[str, str]:
    """The roles a tenant can grant: the core's and those of its switched-on modules."""
    catalogue: dict[str, str] = {}
    for module in modules:
        if tenant.has_module(module.name):
            for spec in module.roles:
                catalogue[spec.name] = module.name
    return catalogue


def describe_roles(modules: Iterable[StadtkernModule], tenant: TenantRef) -> list[RolePublic]:
    """The tenant's role catalogue with each role's module and description, by name."""
    specs = {
        spec.name: (module.name, spec.description)
        for module in modules
        if tenant.has_module(module.name)
        for spec in module.roles
    }
    return [
        RolePublic(name=name, module=module, description=description)
        for name, (module, description) in sorted(specs.items())
    ]


def role_holders(*, session: Session, tenant: TenantRef) -> dict[str, list[str]]:
    """Who holds each role in the tenant (granted directly; names in order)."""
    rows = session.execute(
        select(RoleGrant.role, Principal.name)
        .join(Principal, Principal.id == RoleGrant.principal_id)
        .where(Principal.tenant_id == tenant.id)
        .order_by(RoleGrant.role, Principal.name)
    )
    holders: dict[str, list[str]] = {}
    for role, name in rows:
        holders.setdefault(role, []).append(name)
    return holders


def _check_roles(roles: Sequence[str], catalogue: dict[str, str]) -> list[str]:
    unknown = sorted(set(roles) - set(catalogue))
    if unknown:
        raise InvalidInput(f"unknown roles: {', '.join(unknown)}", known=sorted(catalogue))
    return sorted(set(roles))


def roles_of(session: Session, principal_id: int) -> frozenset[str]:
    """The roles granted to a principal."""
    return frozenset(
        session.scalars(select(RoleGrant.role).where(RoleGrant.principal_id == principal_id))
    )


def to_public(session: Session, principal: Principal) -> PrincipalPublic:
    """The API representation of a principal."""
    return PrincipalPublic(
        id=principal.id,
        name=principal.name,
        kind=principal.kind,
        roles=sorted(roles_of(session, principal.id)),
        disabled=principal.disabled,
        created_at=principal.created_at,
    )


def create_principal(
    *,
    session: Session,
    tenant: TenantRef | None,
    principal_create: PrincipalCreate,
    catalogue: dict[str, str],
    actor: str,
    subject: str | None = None,
) -> Principal:
    """Create a principal in a tenant (or a platform principal when tenant is None)."""
    roles = _check_roles(principal_create.roles, catalogue)
    tenant_id = None if tenant is None else tenant.id
    taken = session.scalar(
        select(Principal.id).where(
            Principal.tenant_id.is_(None)
            if tenant_id is None
            else Principal.tenant_id == tenant_id,
            Principal.name == principal_create.name,
        )
    )
    if taken is not None:
        raise Conflict(f"a principal named '{principal_create.name}' exists already")
    principal = Principal(
        tenant_id=tenant_id,
        name=principal_create.name,
        kind=principal_create.kind,
        subject=subject,
        disabled=False,
    )
    session.add(principal)
    session.flush()
    session.add_all(RoleGrant(principal_id=principal.id, role=role) for role in roles)
    audit.record(
        session,
        actor=actor,
        action="principal.create",
        target=f"principal:{principal.id}:{principal.name}",
        tenant_slug=None if tenant is None else tenant.slug,
        payload={"roles": roles, "kind": principal.kind},
    )
    return principal


def platform_catalogue() -> dict[str, str]:
    """The roles a platform principal (no tenant) can hold."""
    return {PLATFORM_ADMIN: "core"}


def get_principal(*, session: Session, tenant: TenantRef, principal_id: int) -> Principal:
    """A principal of this tenant; other tenants' principals do not exist here."""
    principal = session.scalar(
        select(Principal).where(Principal.id == principal_id, Principal.tenant_id == tenant.id)
    )
    if principal is None:
        raise NotFound(f"no principal {principal_id}")
    return principal


def list_principals(*, session: Session, tenant: TenantRef) -> list[Principal]:
    """The tenant's principals by name."""
    return list(
        session.scalars(
            select(Principal).where(Principal.tenant_id == tenant.id).order_by(Principal.name)
        )
    )


def update_principal(
    *,
    session: Session,
    tenant: TenantRef,
    principal_id: int,
    principal_update: PrincipalUpdate,
    catalogue: dict[str, str],
    actor: str,
) -> Principal:
    """Replace a principal's roles and/or (dis)able it."""
    principal = get_principal(session=session, tenant=tenant, principal_id=principal_id)
    payload: dict[str, object] = {}
    if principal_update.roles is not None:
        roles = _check_roles(principal_update.roles, catalogue)
        session.execute(delete(RoleGrant).where(RoleGrant.principal_id == principal.id))
        session.add_all(RoleGrant(principal_id=principal.id, role=role) for role in roles)
        payload["roles"] = roles
    if principal_update.disabled is not None:
        principal.disabled = principal_update.disabled
        payload["disabled"] = principal_update.disabled
    audit.record(
        session,
        actor=actor,
        action="principal.update",
        target=f"principal:{principal.id}:{principal.name}",
        tenant_slug=tenant.slug,
        payload=payload,
    )
    return principal


def find_or_create_subject(
    *, session: Session, tenant: TenantRef, subject: str, name: str, actor: str
) -> Principal:
    """The principal of an OIDC subject in a tenant, created on first login (roles stay in IdP)."""
    principal = session.scalar(
        select(Principal).where(Principal.tenant_id == tenant.id, Principal.subject == subject)
    )
    if principal is not None:
        return principal
    return create_principal(
        session=session,
        tenant=tenant,
        principal_create=PrincipalCreate(name=f"oidc:{name}"[:200], kind="user", roles=[]),
        catalogue={},
        actor=actor,
        subject=subject,
    )
