"""Tenant routes of the core: who am I, browser login, principals, keys, roles, audit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from stadtkern.core import audit, keys, principals, sessions
from stadtkern.core import login as login_service
from stadtkern.core.admin_api import audit_public
from stadtkern.core.admin_api import router as admin_router
from stadtkern.core.refs import Identity
from stadtkern.core.roles import ADMIN, VIEWER
from stadtkern.core.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    LoginRequest,
    PrincipalCreate,
    PrincipalPublic,
    PrincipalUpdate,
    RolePublic,
    RowId,
    SessionPublic,
    WhoAmI,
)
from stadtkern.http.deps import PlatformDep, TenantDep, credentials_of, require
from stadtkern.http.problems import responses

PUBLIC = {"x-stadtkern-public": True}
router = APIRouter(prefix="/{tenant}", tags=["tenant"], responses=responses(401, 403, 404, 429))
AdminDep = Annotated[Identity, Depends(require(ADMIN))]
ViewerDep = Annotated[Identity, Depends(require(VIEWER))]


def routers() -> list[APIRouter]:
    """The core's routers: platform administration and tenant routes."""
    return [admin_router, router]


@router.get("", summary="The tenant's public profile", openapi_extra=PUBLIC)
def tenant_profile(tenant: TenantDep) -> dict[str, object]:
    """Name, locale, time zone and switched-on modules; no login needed."""
    return {
        "slug": tenant.slug,
        "name": tenant.name,
        "locale": tenant.locale,
        "timezone": tenant.timezone,
        "modules": sorted(tenant.modules | {"core"}),
    }


@router.get("/auth/whoami", summary="The caller's identity")
def whoami(identity: ViewerDep, tenant: TenantDep) -> WhoAmI:
    """Who the credentials belong to and which roles they carry here."""
    return WhoAmI(
        actor=identity.actor,
        tenant=tenant.slug,
        roles=sorted(identity.roles),
        via=identity.via,
        platform_admin=identity.platform_admin,
    )


@router.post(
    "/auth/session",
    status_code=status.HTTP_201_CREATED,
    summary="Log in: exchange an API key or OIDC token for a browser session",
    openapi_extra=PUBLIC,
)
def login(
    body: LoginRequest,
    request: Request,
    response: Response,
    platform: PlatformDep,
    tenant: TenantDep,
) -> SessionPublic:
    """Sets an HttpOnly session cookie; writes must then send the returned CSRF token."""
    client = credentials_of(request).client
    logged_in = login_service.log_in(platform, tenant, client, body.token)
    login_service.set_cookie(response, platform, tenant, logged_in.opened.token)
    return SessionPublic(
        actor=logged_in.identity.actor,
        roles=sorted(logged_in.identity.roles),
        csrf_token=logged_in.opened.row.csrf_token,
        expires_at=logged_in.opened.row.expires_at,
    )


@router.delete("/auth/session", status_code=status.HTTP_204_NO_CONTENT, summary="Log out")
def logout(
    request: Request, platform: PlatformDep, identity: ViewerDep, tenant: TenantDep
) -> Response:
    """Ends the browser session of this cookie (needs the CSRF header like every write)."""
    login_service.log_out(
        platform, tenant, request.cookies.get(sessions.COOKIE_NAME), identity.actor
    )
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    login_service.clear_cookie(response, tenant)
    return response


@router.get("/admin/roles", summary="The tenant's role catalogue")
def list_roles(platform: PlatformDep, tenant: TenantDep, _admin: AdminDep) -> list[RolePublic]:
    """Core roles plus the roles of the tenant's switched-on modules."""
    return principals.describe_roles(platform.installed, tenant)


@router.get("/admin/principals", summary="List principals")
def list_principals(
    platform: PlatformDep, tenant: TenantDep, _admin: AdminDep
) -> list[PrincipalPublic]:
    """People and machine accounts of the tenant."""
    with platform.database.read() as session:
        return [
            principals.to_public(session, p)
            for p in principals.list_principals(session=session, tenant=tenant)
        ]


@router.post(
    "/admin/principals",
    status_code=status.HTTP_201_CREATED,
    summary="Add a principal",
    responses=responses(409),
)
def create_principal(
    body: PrincipalCreate,
    response: Response,
    platform: PlatformDep,
    tenant: TenantDep,
    admin: AdminDep,
) -> PrincipalPublic:
    """A person or machine account with roles from the tenant's catalogue."""
    with platform.database.write() as session:
        principal = principals.create_principal(
            session=session,
            tenant=tenant,
            principal_create=body,
            catalogue=principals.role_catalogue(platform.installed, tenant),
            actor=admin.actor,
        )
        public = principals.to_public(session, principal)
    response.headers["Location"] = f"/{tenant.slug}/admin/principals/{public.id}"
    return public


@router.get("/admin/principals/{principal_id}", summary="Show a principal")
def show_principal(
    principal_id: RowId, platform: PlatformDep, tenant: TenantDep, _admin: AdminDep
) -> PrincipalPublic:
    """One principal of the tenant."""
    with platform.database.read() as session:
        principal = principals.get_principal(
            session=session, tenant=tenant, principal_id=principal_id
        )
        return principals.to_public(session, principal)


@router.patch("/admin/principals/{principal_id}", summary="Change roles or disable")
def update_principal(
    principal_id: RowId,
    body: PrincipalUpdate,
    platform: PlatformDep,
    tenant: TenantDep,
    admin: AdminDep,
) -> PrincipalPublic:
    """Replace the roles of a principal or (dis)able it."""
    with platform.database.write() as session:
        principal = principals.update_principal(
            session=session,
            tenant=tenant,
            principal_id=principal_id,
            principal_update=body,
            catalogue=principals.role_catalogue(platform.installed, tenant),
            actor=admin.actor,
        )
        public = principals.to_public(session, principal)
    platform.forget_cached_access()  # roles and disabling apply at once in this process
    return public


@router.get("/admin/keys", summary="List API keys")
def list_keys(platform: PlatformDep, tenant: TenantDep, _admin: AdminDep) -> list[ApiKeyPublic]:
    """The tenant's keys without their secrets."""
    with platform.database.read() as session:
        return [keys.to_public(k) for k in keys.list_keys(session=session, tenant=tenant)]


@router.post("/admin/keys", status_code=status.HTTP_201_CREATED, summary="Create an API key")
def create_key(
    body: ApiKeyCreate,
    response: Response,
    platform: PlatformDep,
    tenant: TenantDep,
    admin: AdminDep,
) -> ApiKeyCreated:
    """The token in the answer is shown this once and stored only as a hash."""
    with platform.database.write() as session:
        issued = keys.issue_tenant_key(
            session=session,
            tenant=tenant,
            key_create=body,
            actor=admin.actor,
            pepper=platform.settings.token_pepper,
        )
        public = keys.to_public(issued.key)
    response.headers["Location"] = f"/{tenant.slug}/admin/keys/{public.key_id}"
    response.headers["Cache-Control"] = "no-store"
    return ApiKeyCreated(**public.model_dump(), token=issued.token)


@router.get("/admin/keys/{key_id}", summary="Show an API key")
def show_key(
    key_id: str, platform: PlatformDep, tenant: TenantDep, _admin: AdminDep
) -> ApiKeyPublic:
    """One key's metadata."""
    with platform.database.read() as session:
        return keys.to_public(keys.get_key(session=session, tenant=tenant, key_id=key_id))


@router.delete("/admin/keys/{key_id}", summary="Revoke an API key")
def revoke_key(
    key_id: str, platform: PlatformDep, tenant: TenantDep, admin: AdminDep
) -> ApiKeyPublic:
    """Revoked keys stop working at once; the record stays for the audit trail."""
    with platform.database.write() as session:
        key = keys.revoke_key(session=session, tenant=tenant, key_id=key_id, actor=admin.actor)
        public = keys.to_public(key)
    platform.forget_cached_access()
    return public


@router.get("/admin/audit", summary="The tenant's audit log")
def tenant_audit(
    platform: PlatformDep,
    tenant: TenantDep,
    _admin: AdminDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_seq: Annotated[RowId | None, Query()] = None,
) -> list[dict[str, object]]:
    """Newest entries first, of this tenant only."""
    with platform.database.read() as session:
        entries = audit.list_entries(
            session, tenant_slug=tenant.slug, limit=limit, before_seq=before_seq
        )
        return [audit_public(entry) for entry in entries]
