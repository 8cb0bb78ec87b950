"""Logging in and out of a browser session: the service behind the API and the console."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import Response
from sqlalchemy.orm import Session

from stadtkern.core import audit, principals, sessions
from stadtkern.core.authn import Credentials, oidc_identity
from stadtkern.core.models import Principal
from stadtkern.core.oidc import OidcClaims
from stadtkern.core.refs import Identity, TenantRef
from stadtkern.errors import Unauthenticated

if TYPE_CHECKING:
    from stadtkern.platform import Platform


@dataclass(frozen=True)
class LoggedIn:
    """A new browser session: who, and the session (its cookie token shown once)."""

    identity: Identity
    opened: sessions.OpenedSession


def log_in(platform: Platform, tenant: TenantRef, client: str, token: str) -> LoggedIn:
    """Check an API key or OIDC token of the tenant and open a session; audit both outcomes."""
    try:
        identity = platform.authenticator.identify(Credentials(client=client, bearer=token), tenant)
        if identity is None or (not identity.platform_admin and identity.tenant_id != tenant.id):
            platform.authenticator.limiter.fail(client)
            raise Unauthenticated("these credentials do not belong to this tenant")
    except Unauthenticated:
        _record_failure(platform, tenant, client)
        raise
    return _open(platform, tenant, identity)


def log_in_oidc(platform: Platform, tenant: TenantRef, client: str, claims: OidcClaims) -> LoggedIn:
    """Open a session for a person the identity provider vouched for (browser login).

    Only roles of the tenant's catalogue count; a person with none of them in this tenant
    (and no platform administrator) is refused like a wrong key.
    """
    identity = oidc_identity(claims, tenant, principals.role_catalogue(platform.installed, tenant))
    try:
        if not identity.platform_admin and identity.tenant_id != tenant.id:
            raise Unauthenticated("the identity provider grants you no role in this town")
        return _open(platform, tenant, identity)
    except Unauthenticated:
        refuse_login(platform, tenant, client)
        raise


def refuse_login(platform: Platform, tenant: TenantRef, client: str) -> None:
    """Count and audit a failed login (the same throttle as wrong keys)."""
    platform.authenticator.limiter.fail(client)
    _record_failure(platform, tenant, client)


def _record_failure(platform: Platform, tenant: TenantRef, client: str) -> None:
    with platform.database.write() as session:
        audit.record(
            session,
            actor=f"client:{client}",
            action="login.failure",
            target="session",
            tenant_slug=tenant.slug,
        )


def _open(platform: Platform, tenant: TenantRef, identity: Identity) -> LoggedIn:
    with platform.database.write() as session:
        principal = _login_principal(session, identity, tenant)
        if principal.disabled:  # an administrator locked this person out of the town
            raise Unauthenticated("your account is disabled in this town")
        opened = sessions.open_session(
            session=session,
            tenant=tenant,
            principal=principal,
            ttl_seconds=platform.settings.session_ttl_seconds,
            pepper=platform.settings.token_pepper,
            roles=identity.roles if identity.via == "oidc" else None,
        )
        audit.record(
            session,
            actor=identity.actor,
            action="login.success",
            target=f"session:{opened.row.id}",
            tenant_slug=tenant.slug,
            payload={"via": identity.via},
        )
    return LoggedIn(identity, opened)


def log_out(platform: Platform, tenant: TenantRef, cookie: str | None, actor: str) -> None:
    """End the session of a cookie value and record it."""
    with platform.database.write() as session:
        if cookie:
            sessions.close_session(session, cookie, platform.settings.token_pepper)
        audit.record(
            session, actor=actor, action="logout", target="session", tenant_slug=tenant.slug
        )


def set_cookie(response: Response, platform: Platform, tenant: TenantRef, token: str) -> None:
    """The session cookie: HttpOnly, SameSite=Lax, only for the tenant's paths."""
    response.set_cookie(
        sessions.COOKIE_NAME,
        token,
        max_age=platform.settings.session_ttl_seconds,
        path=f"/{tenant.slug}",
        secure=platform.settings.session_cookie_secure,
        httponly=True,
        samesite="lax",
    )


def clear_cookie(response: Response, tenant: TenantRef) -> None:
    """Remove the session cookie."""
    response.delete_cookie(sessions.COOKIE_NAME, path=f"/{tenant.slug}")


def _login_principal(session: Session, identity: Identity, tenant: TenantRef) -> Principal:
    if identity.principal_id is not None:
        principal = session.get(Principal, identity.principal_id)
        assert principal is not None  # noqa: S101 - it authenticated a moment ago
        return principal
    subject = identity.actor.removeprefix("oidc:")
    return principals.find_or_create_subject(
        session=session, tenant=tenant, subject=subject, name=subject, actor=identity.actor
    )
