"""Per-tenant SensorThings settings: whether the town publishes its data for anonymous reading."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from stadtkern.core import audit
from stadtkern.core.models import Tenant
from stadtkern.core.refs import TenantRef
from stadtkern.sensorthings.models import TenantSetting


def anonymous_read(session: Session, tenant_id: int) -> bool:
    """True when anyone may read the tenant's SensorThings data without credentials."""
    found = session.scalar(
        select(TenantSetting.anonymous_read).where(TenantSetting.tenant_id == tenant_id)
    )
    return bool(found)


def anonymous_read_slugs(session: Session) -> set[str]:
    """The slugs of every tenant that publishes its SensorThings data as open data."""
    query = (
        select(Tenant.slug)
        .join(TenantSetting, TenantSetting.tenant_id == Tenant.id)
        .where(TenantSetting.anonymous_read.is_(True))
    )
    return set(session.scalars(query))


def set_anonymous_read(session: Session, tenant: TenantRef, enabled: bool, *, actor: str) -> None:
    """Switch anonymous read access on or off, and record who did it."""
    setting = session.get(TenantSetting, tenant.id)
    if setting is None:
        session.add(TenantSetting(tenant_id=tenant.id, anonymous_read=enabled))
    else:
        setting.anonymous_read = enabled
    audit.record(
        session,
        actor=actor,
        action="sensorthings.settings.update",
        target=f"tenant:{tenant.slug}",
        tenant_slug=tenant.slug,
        payload={"anonymousRead": enabled},
    )
