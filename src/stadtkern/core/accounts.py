"""Machine accounts: a service principal with roles and its first API key, in one step."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from stadtkern.core import keys, principals, tenants
from stadtkern.core.refs import TenantRef
from stadtkern.core.schemas import PrincipalCreate
from stadtkern.modules import StadtkernModule


def create_machine_account(
    *,
    session: Session,
    tenant_slug: str | None,
    name: str,
    roles: Sequence[str],
    installed: Sequence[StadtkernModule],
    expires_at: datetime | None,
    actor: str,
    pepper: bytes,
) -> keys.IssuedKey:
    """Create a service principal (a platform one when tenant_slug is None) and its key."""
    tenant: TenantRef | None = None
    catalogue = principals.platform_catalogue()
    if tenant_slug is not None:
        tenant = tenants.to_ref(tenants.get_tenant(session=session, slug=tenant_slug))
        catalogue = principals.role_catalogue(installed, tenant)
    principal = principals.create_principal(
        session=session,
        tenant=tenant,
        principal_create=PrincipalCreate(name=name, kind="service", roles=list(roles)),
        catalogue=catalogue,
        actor=actor,
    )
    return keys.issue_key(
        session=session,
        principal=principal,
        tenant=tenant,
        label=name,
        expires_at=expires_at,
        actor=actor,
        pepper=pepper,
    )
