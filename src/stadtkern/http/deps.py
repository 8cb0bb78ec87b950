"""FastAPI dependencies: the platform, the tenant of the path, the caller and its roles."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated

import anyio.to_thread
from fastapi import Depends, Path, Request

from stadtkern.core.authn import Credentials
from stadtkern.core.refs import Identity, TenantRef
from stadtkern.core.sessions import COOKIE_NAME, CSRF_HEADER
from stadtkern.errors import Forbidden, NotFound, Unauthenticated

if TYPE_CHECKING:
    from stadtkern.platform import Platform

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_platform(request: Request) -> Platform:
    """The running platform (async: no thread hop for a lookup)."""
    platform: Platform = request.app.state.platform
    return platform


PlatformDep = Annotated["Platform", Depends(get_platform)]


def credentials_of(request: Request) -> Credentials:
    """The credentials a request presents."""
    authorization = request.headers.get("authorization", "")
    bearer = _presented_key(authorization) if authorization else None
    return Credentials(
        client=request.client.host if request.client else "unknown",
        bearer=bearer,
        session_cookie=request.cookies.get(COOKIE_NAME) if bearer is None else None,
        csrf_token=request.headers.get(CSRF_HEADER),
        unsafe_method=request.method not in SAFE_METHODS,
    )


def _presented_key(authorization: str) -> str:
    """The key of a Bearer header, or the password of a Basic one (clients offering only Basic,
    such as the SensorThings clients, send the API key as the password; the user is ignored).
    """
    scheme, _, value = authorization.partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return value
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        _user, colon, password = decoded.partition(":")
        if colon and password:
            return password
    raise Unauthenticated(
        "only 'Authorization: Bearer <key>' or Basic with the key as the password is accepted"
    )


async def get_tenant(
    platform: PlatformDep,
    tenant: Annotated[str, Path(description="Tenant slug, e.g. kaiserslautern", max_length=40)],
) -> TenantRef:
    """The enabled tenant named in the path, resolved once per request (and remembered)."""
    ref = await platform.resolve_tenant(tenant)
    if ref is None:
        raise NotFound(f"no tenant '{tenant}'")
    return ref


TenantDep = Annotated[TenantRef, Depends(get_tenant)]


async def get_identity(
    request: Request, platform: PlatformDep, tenant: TenantDep
) -> Identity | None:
    """The caller within the tenant of the path; None when anonymous.

    A key verified moments ago is answered from memory, without a worker thread; anything
    else is checked against the database in a worker thread.
    """
    credentials = credentials_of(request)
    authenticator = platform.authenticator
    if credentials.bearer is not None:
        cached = authenticator.cached_key(credentials.bearer, tenant)
        if cached is not None:
            return cached
    return await anyio.to_thread.run_sync(authenticator.identify, credentials, tenant)


def get_platform_identity(request: Request, platform: PlatformDep) -> Identity | None:
    """The caller on platform routes (no tenant in the path)."""
    return platform.authenticator.identify(credentials_of(request), None)


def require(role: str) -> Callable[..., Awaitable[Identity]]:
    """A dependency that admits callers holding `role` in the path's tenant.

    A caller of another tenant gets 404, as if the tenant's objects did not exist; an
    anonymous caller gets 401; a member of the tenant without the role gets 403.
    """

    async def dependency(
        identity: Annotated[Identity | None, Depends(get_identity)], tenant: TenantDep
    ) -> Identity:
        if identity is None:
            raise Unauthenticated("this resource needs an API key, OIDC token or session")
        if not identity.platform_admin and identity.tenant_id != tenant.id:
            raise NotFound(f"no tenant '{tenant.slug}'")
        if not identity.has_role(role):
            raise Forbidden(f"this action needs the role '{role}'")
        return identity

    dependency.__name__ = f"require_{role}"
    return dependency


async def require_platform_admin(
    identity: Annotated[Identity | None, Depends(get_platform_identity)],
) -> Identity:
    """Admit only platform administrators (tenant management)."""
    if identity is None:
        raise Unauthenticated("this resource needs a platform administrator's credentials")
    if not identity.platform_admin:
        raise Forbidden("this action needs the role 'platform_admin'")
    return identity


def module_enabled(name: str) -> Callable[..., Awaitable[None]]:
    """Hide a module's tenant routes from tenants that have not switched it on."""

    async def dependency(tenant: TenantDep) -> None:
        if not tenant.has_module(name):
            raise NotFound(f"the module '{name}' is not switched on for '{tenant.slug}'")

    dependency.__name__ = f"module_{name}_enabled"
    return dependency
