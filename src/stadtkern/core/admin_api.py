"""Platform administration over HTTP: tenants and the platform audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from stadtkern.core import audit, tenants
from stadtkern.core.refs import Identity
from stadtkern.core.schemas import RowId, TenantCopy, TenantCreate, TenantPublic, TenantUpdate
from stadtkern.http.deps import PlatformDep, require_platform_admin
from stadtkern.http.problems import responses

router = APIRouter(
    prefix="/admin", tags=["platform administration"], responses=responses(401, 403, 429)
)
AdminDep = Annotated[Identity, Depends(require_platform_admin)]


@router.get("/tenants", summary="List tenants")
def list_tenants(platform: PlatformDep, _admin: AdminDep) -> list[TenantPublic]:
    """Every tenant of the platform."""
    with platform.database.read() as session:
        return [tenants.to_public(t) for t in tenants.list_tenants(session=session)]


@router.post(
    "/tenants",
    status_code=status.HTTP_201_CREATED,
    summary="Create a tenant",
    responses=responses(409),
)
def create_tenant(
    body: TenantCreate, response: Response, platform: PlatformDep, admin: AdminDep
) -> TenantPublic:
    """Create a municipality."""
    with platform.database.write() as session:
        tenant = tenants.create_tenant(
            session=session, tenant_create=body, installed=platform.installed, actor=admin.actor
        )
        public = tenants.to_public(tenant)
    response.headers["Location"] = f"/admin/tenants/{public.slug}"
    return public


@router.post(
    "/tenants/{slug}/copy",
    status_code=status.HTTP_201_CREATED,
    summary="Create a tenant from another tenant's configuration",
    responses=responses(404, 409),
)
def copy_tenant(
    slug: str, body: TenantCopy, response: Response, platform: PlatformDep, admin: AdminDep
) -> TenantPublic:
    """A new town adopts the setup of `slug` (configuration only, no data)."""
    with platform.database.write() as session:
        tenant = tenants.copy_tenant(
            session=session,
            source_slug=slug,
            tenant_copy=body,
            installed=platform.installed,
            actor=admin.actor,
        )
        public = tenants.to_public(tenant)
    response.headers["Location"] = f"/admin/tenants/{public.slug}"
    return public


@router.get("/tenants/{slug}", summary="Show a tenant", responses=responses(404))
def show_tenant(slug: str, platform: PlatformDep, _admin: AdminDep) -> TenantPublic:
    """One tenant, disabled or not."""
    with platform.database.read() as session:
        return tenants.to_public(tenants.get_tenant(session=session, slug=slug))


@router.patch("/tenants/{slug}", summary="Change a tenant", responses=responses(404))
def update_tenant(
    slug: str, body: TenantUpdate, platform: PlatformDep, admin: AdminDep
) -> TenantPublic:
    """Change fields of a tenant, including its modules and module settings."""
    with platform.database.write() as session:
        tenant = tenants.update_tenant(
            session=session,
            slug=slug,
            tenant_update=body,
            installed=platform.installed,
            actor=admin.actor,
        )
        public = tenants.to_public(tenant)
    platform.forget_cached_access()
    return public


@router.post("/tenants/{slug}/disable", summary="Disable a tenant", responses=responses(404))
def disable_tenant(slug: str, platform: PlatformDep, admin: AdminDep) -> TenantPublic:
    """Its routes and topics answer as if it did not exist; its data stays."""
    with platform.database.write() as session:
        tenant = tenants.set_disabled(session=session, slug=slug, disabled=True, actor=admin.actor)
        public = tenants.to_public(tenant)
    platform.forget_cached_access()
    return public


@router.post("/tenants/{slug}/enable", summary="Enable a disabled tenant", responses=responses(404))
def enable_tenant(slug: str, platform: PlatformDep, admin: AdminDep) -> TenantPublic:
    """Undo a disable."""
    with platform.database.write() as session:
        tenant = tenants.set_disabled(session=session, slug=slug, disabled=False, actor=admin.actor)
        public = tenants.to_public(tenant)
    platform.forget_cached_access()
    return public


@router.get("/audit/verify", summary="Verify the audit chain")
def verify_audit(platform: PlatformDep, _admin: AdminDep) -> dict[str, object]:
    """Walk the whole hash chain and report changed, inserted or deleted entries."""
    with platform.database.read() as session:
        report = audit.verify(session)
    return {
        "ok": report.ok,
        "checked": report.checked,
        "head_seq": report.head_seq,
        "head_hash": report.head_hash,
        "problems": [{"seq": p.seq, "kind": p.kind, "detail": p.detail} for p in report.problems],
    }


@router.get("/audit", summary="Platform audit log")
def list_audit(
    platform: PlatformDep,
    _admin: AdminDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_seq: Annotated[RowId | None, Query()] = None,
) -> list[dict[str, object]]:
    """Newest entries first, of every tenant and the platform."""
    with platform.database.read() as session:
        entries = audit.list_entries(session, tenant_slug=None, limit=limit, before_seq=before_seq)
        return [audit_public(entry) for entry in entries]


def audit_public(entry: audit.AuditEntry) -> dict[str, object]:
    """The API representation of an audit entry."""
    return {
        "seq": entry.seq,
        "occurred_at": entry.occurred_at.isoformat(),
        "tenant": entry.tenant_slug,
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "payload_digest": entry.payload_digest,
        "entry_hash": entry.entry_hash,
    }
