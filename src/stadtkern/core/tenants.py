"""Tenants: one per municipality. Creating, copying, changing and resolving them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from stadtkern.core import audit
from stadtkern.core.models import Tenant
from stadtkern.core.refs import TenantRef
from stadtkern.core.schemas import SLUG, TenantCopy, TenantCreate, TenantPublic, TenantUpdate
from stadtkern.errors import Conflict, InvalidInput, NotFound
from stadtkern.geo import GeometryError, geometry_from_geojson, geometry_to_geojson
from stadtkern.modules import StadtkernModule


def to_ref(tenant: Tenant) -> TenantRef:
    """The immutable reference the service layer passes around."""
    return TenantRef(
        id=tenant.id,
        slug=tenant.slug,
        name=tenant.name,
        timezone=tenant.timezone,
        locale=tenant.locale,
        modules=frozenset(tenant.modules),
    )


def to_public(tenant: Tenant) -> TenantPublic:
    """The API representation of a tenant."""
    return TenantPublic(
        slug=tenant.slug,
        name=tenant.name,
        ars=tenant.ars,
        boundary=None if tenant.boundary is None else geometry_to_geojson(tenant.boundary),
        timezone=tenant.timezone,
        locale=tenant.locale,
        modules=sorted(tenant.modules),
        module_settings=tenant.module_settings,
        disabled=tenant.disabled,
        created_at=tenant.created_at,
    )


def _boundary(data: dict[str, Any] | None) -> BaseGeometry | None:
    if data is None:
        return None
    try:
        return geometry_from_geojson(data, allowed=("MultiPolygon",), promote_to_multi=True)
    except GeometryError as exc:
        raise InvalidInput(f"boundary: {exc}") from exc


def _modules(requested: Sequence[str], installed: Sequence[StadtkernModule]) -> list[str]:
    by_name = {module.name: module for module in installed}
    unknown = sorted(set(requested) - set(by_name))
    if unknown:
        raise InvalidInput(f"unknown modules: {', '.join(unknown)}", known=sorted(by_name))
    chosen = set(requested) | {"core"}
    for name in sorted(chosen & set(by_name)):
        missing = sorted(set(by_name[name].depends_on) - chosen)
        if missing:
            raise InvalidInput(f"module '{name}' needs {', '.join(missing)} switched on too")
    return sorted(chosen - {"core"})


def _module_settings(
    settings: dict[str, dict[str, Any]], installed: Sequence[StadtkernModule]
) -> dict[str, dict[str, Any]]:
    by_name = {module.name: module for module in installed}
    for name, values in settings.items():
        if name not in by_name:
            raise InvalidInput(f"settings given for unknown module '{name}'")
        try:
            by_name[name].settings_model.model_validate(values)
        except ValueError as exc:
            raise InvalidInput(f"settings of module '{name}': {exc}") from exc
    return settings


def _slug_free(session: Session, slug: str) -> None:
    if session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
        raise Conflict(f"a tenant '{slug}' exists already")


def _insert(session: Session, tenant: Tenant) -> None:
    session.add(tenant)
    session.flush()


def _audit(
    session: Session,
    tenant: Tenant,
    actor: str,
    action: str,
    payload: dict[str, Any] | None = None,
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        target=tenant.slug,
        tenant_slug=tenant.slug,
        payload=payload,
    )


def create_tenant(
    *,
    session: Session,
    tenant_create: TenantCreate,
    installed: Sequence[StadtkernModule],
    actor: str,
) -> Tenant:
    """Create a municipality; the slug must be free."""
    _slug_free(session, tenant_create.slug)
    tenant = Tenant(
        slug=tenant_create.slug,
        name=tenant_create.name,
        ars=tenant_create.ars,
        boundary=_boundary(tenant_create.boundary),
        timezone=tenant_create.timezone,
        locale=tenant_create.locale,
        modules=_modules(tenant_create.modules, installed),
        module_settings={},
        disabled=False,
    )
    _insert(session, tenant)
    _audit(session, tenant, actor, "tenant.create", {"ars": tenant.ars, "modules": tenant.modules})
    return tenant


def copy_tenant(
    *,
    session: Session,
    source_slug: str,
    tenant_copy: TenantCopy,
    installed: Sequence[StadtkernModule],
    actor: str,
) -> Tenant:
    """Create a municipality with another's configuration (modules, settings, module setup).

    Only configuration travels: each module copies what it declares as configuration (for
    example defect categories or warning zones) through its copy hook; people, keys and
    data stay with the source town.
    """
    source = get_tenant(session=session, slug=source_slug)
    _slug_free(session, tenant_copy.slug)
    tenant = Tenant(
        slug=tenant_copy.slug,
        name=tenant_copy.name,
        ars=tenant_copy.ars,
        boundary=_boundary(tenant_copy.boundary),
        timezone=source.timezone,
        locale=source.locale,
        modules=list(source.modules),
        module_settings=dict(source.module_settings),
        disabled=False,
    )
    _insert(session, tenant)
    source_ref, target_ref = to_ref(source), to_ref(tenant)
    for module in installed:
        if source_ref.has_module(module.name):
            module.copy_configuration(session, source_ref, target_ref)
    _audit(session, tenant, actor, "tenant.copy", {"from": source.slug, "modules": tenant.modules})
    return tenant


def get_tenant(*, session: Session, slug: str) -> Tenant:
    """The tenant with this slug, disabled or not."""
    # A slug no tenant can have is not looked up: PostgreSQL refuses NUL characters, say.
    if not SLUG.fullmatch(slug):
        raise NotFound(f"no tenant '{slug}'")
    tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise NotFound(f"no tenant '{slug}'")
    return tenant


def find_active(*, session: Session, slug: str) -> TenantRef | None:
    """The reference of an enabled tenant, or None (used once per request and message)."""
    if not SLUG.fullmatch(slug):
        return None
    tenant = session.scalar(select(Tenant).where(Tenant.slug == slug, Tenant.disabled.is_(False)))
    return None if tenant is None else to_ref(tenant)


def list_tenants(*, session: Session, include_disabled: bool = True) -> list[Tenant]:
    """Every tenant, ordered by slug."""
    query = select(Tenant).order_by(Tenant.slug)
    if not include_disabled:
        query = query.where(Tenant.disabled.is_(False))
    return list(session.scalars(query))


def update_tenant(
    *,
    session: Session,
    slug: str,
    tenant_update: TenantUpdate,
    installed: Sequence[StadtkernModule],
    actor: str,
) -> Tenant:
    """Change a tenant's fields; what the update leaves out stays."""
    tenant = get_tenant(session=session, slug=slug)
    changes = tenant_update.model_dump(exclude_unset=True)
    if "name" in changes and changes["name"] is not None:
        tenant.name = changes["name"]
    if "ars" in changes and changes["ars"] is not None:
        tenant.ars = changes["ars"]
    if "boundary" in changes:
        tenant.boundary = _boundary(changes["boundary"])
    if changes.get("timezone") is not None:
        tenant.timezone = changes["timezone"]
    if changes.get("locale") is not None:
        tenant.locale = changes["locale"]
    if changes.get("modules") is not None:
        tenant.modules = _modules(changes["modules"], installed)
    if changes.get("module_settings") is not None:
        tenant.module_settings = _module_settings(changes["module_settings"], installed)
    payload = {key: value for key, value in changes.items() if key != "boundary"}
    _audit(session, tenant, actor, "tenant.update", payload)
    return tenant


def switch_module(
    *,
    session: Session,
    slug: str,
    module: str,
    on: bool,
    installed: Sequence[StadtkernModule],
    actor: str,
) -> Tenant:
    """Switch one module on or off for a tenant, keeping every module's dependencies."""
    tenant = get_tenant(session=session, slug=slug)
    if module == "core":
        raise InvalidInput("the core is always on")
    if not on:
        needing = sorted(
            other.name
            for other in installed
            if other.name in tenant.modules and module in other.depends_on
        )
        if needing:
            raise InvalidInput(f"{', '.join(needing)} needs {module}; switch that off first")
    modules = set(tenant.modules) | {module} if on else set(tenant.modules) - {module}
    return update_tenant(
        session=session,
        slug=slug,
        tenant_update=TenantUpdate(modules=sorted(modules)),
        installed=installed,
        actor=actor,
    )


def set_disabled(*, session: Session, slug: str, disabled: bool, actor: str) -> Tenant:
    """Disable (or re-enable) a tenant: its routes and topics answer as if it did not exist."""
    tenant = get_tenant(session=session, slug=slug)
    tenant.disabled = disabled
    _audit(session, tenant, actor, "tenant.disable" if disabled else "tenant.enable")
    return tenant
