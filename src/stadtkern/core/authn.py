"""Who is calling: API keys, OIDC bearer tokens and browser sessions, resolved per tenant."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from stadtkern.core import keys, principals, sessions
from stadtkern.core.models import ApiKey, Principal
from stadtkern.core.oidc import OidcClaims, OidcError, OidcVerifier
from stadtkern.core.ratelimit import FailureLimiter
from stadtkern.core.refs import Identity, TenantRef
from stadtkern.core.roles import ADMIN, PLATFORM_ADMIN, effective_roles
from stadtkern.core.ttl_cache import TtlCache
from stadtkern.db import Database
from stadtkern.db.base import utcnow
from stadtkern.errors import Forbidden, Unauthenticated

log = logging.getLogger(__name__)
LAST_USED_RESOLUTION = timedelta(minutes=10)


@dataclass(frozen=True)
class Credentials:
    """What a request presented, independent of the web framework."""

    client: str
    bearer: str | None = None
    session_cookie: str | None = None
    csrf_token: str | None = None
    unsafe_method: bool = False


class Authenticator:
    """Turns credentials into an Identity for a tenant (or for the platform)."""

    def __init__(
        self,
        *,
        database: Database,
        limiter: FailureLimiter,
        oidc: OidcVerifier | None,
        pepper: bytes,
        cache_seconds: float = 0.0,
    ) -> None:
        self.database = database
        self.pepper = pepper
        self.limiter = limiter
        self.oidc = oidc
        # Verified API keys per (token hash, tenant id): no database read per request.
        self.cache: TtlCache[tuple[bytes, int | None], Identity] = TtlCache(cache_seconds)

    def identify(self, credentials: Credentials, tenant: TenantRef | None) -> Identity | None:
        """The caller's identity, None when anonymous; raises on bad or throttled credentials."""
        if credentials.bearer is None and credentials.session_cookie is None:
            return None
        self.limiter.check(credentials.client)
        try:
            if credentials.bearer is not None:
                return self._bearer(credentials.bearer, tenant)
            assert credentials.session_cookie is not None  # noqa: S101 - narrowed above
            return self._session(credentials, tenant)
        except Unauthenticated:
            self.limiter.fail(credentials.client)
            raise

    def _bearer(self, token: str, tenant: TenantRef | None) -> Identity:
        if keys.split_token(token) is not None:
            return self.identify_key(token, tenant)
        if self.oidc is not None and token.count(".") == 2:
            return self._oidc(token, tenant)
        raise Unauthenticated("the bearer token is not a valid API key or OIDC token")

    def cached_key(self, token: str, tenant: TenantRef | None) -> Identity | None:
        """The identity of an API key verified within the cache's time to live, if any."""
        return self.cache.get(_cache_key(token, tenant))

    def identify_key(self, token: str, tenant: TenantRef | None) -> Identity:
        """The identity behind an API key token; raises Unauthenticated when it is not live."""
        cached = self.cached_key(token, tenant)
        if cached is not None:
            return cached
        with self.database.read() as session:
            found = keys.verify_token(session, token, self.pepper)
            if found is None:
                raise Unauthenticated("the API key is unknown, expired or revoked")
            key, principal = found
            identity = _principal_identity(session, principal, tenant, via="api_key")
            stale = key.last_used_at is None or key.last_used_at < utcnow() - LAST_USED_RESOLUTION
            key_pk = key.id
        if stale:
            # Recorded coarsely so that authenticating does not make every request a write.
            with self.database.write() as session:
                session.execute(
                    update(ApiKey).where(ApiKey.id == key_pk).values(last_used_at=utcnow())
                )
        self.cache.put(_cache_key(token, tenant), identity)
        return identity

    def _oidc(self, token: str, tenant: TenantRef | None) -> Identity:
        assert self.oidc is not None  # noqa: S101 - checked by the caller
        try:
            claims = self.oidc.verify(token)
        except OidcError as exc:
            raise Unauthenticated(f"the OIDC token was refused: {exc}") from exc
        return oidc_identity(claims, tenant)

    def _session(self, credentials: Credentials, tenant: TenantRef | None) -> Identity:
        token = credentials.session_cookie or ""
        with self.database.read() as session:
            found = sessions.find_session(session, token, self.pepper)
            if found is None:
                raise Unauthenticated("the session has expired; please log in again")
            browser_session, principal = found
            if credentials.unsafe_method and not sessions.csrf_matches(
                browser_session, credentials.csrf_token
            ):
                raise Forbidden(f"the {sessions.CSRF_HEADER} header is missing or wrong")
            if tenant is None or browser_session.tenant_id != tenant.id:
                raise Unauthenticated("the session belongs to another tenant")
            identity = _principal_identity(session, principal, tenant, via="session")
            if browser_session.roles is not None:
                identity = replace(identity, roles=effective_roles(set(browser_session.roles)))
            return identity


def oidc_identity(
    claims: OidcClaims, tenant: TenantRef | None, known: Collection[str] | None = None
) -> Identity:
    """The identity of a verified OIDC token in a tenant (bearer tokens and browser logins).

    Roles come from the token's `tenant:role` values for this tenant; `known` (the tenant's
    role catalogue) drops roles the tenant does not have.
    """
    granted = claims.tenant_roles.get(tenant.slug, frozenset()) if tenant else frozenset()
    roles = set(granted) if known is None else set(granted) & set(known)
    if claims.platform_admin:
        roles |= {PLATFORM_ADMIN, ADMIN}
    return Identity(
        actor=f"oidc:{claims.subject}",
        principal_id=None,
        tenant_id=tenant.id if tenant and (roles or claims.platform_admin) else None,
        roles=effective_roles(roles),
        via="oidc",
        platform_admin=claims.platform_admin,
    )


def _principal_identity(
    session: Session, principal: Principal, tenant: TenantRef | None, *, via: str
) -> Identity:
    granted = set(principals.roles_of(session, principal.id))
    platform_admin = principal.tenant_id is None and PLATFORM_ADMIN in granted
    if platform_admin:
        # Platform admins administer every tenant through the core roles, never a module's
        # roles: rules such as the two-person rule of warnings keep working.
        granted.add(ADMIN)
    elif tenant is None or principal.tenant_id != tenant.id:
        granted = set()
    return Identity(
        actor=f"{via}:{principal.id}:{principal.name}",
        principal_id=principal.id,
        tenant_id=principal.tenant_id,
        roles=effective_roles(granted),
        via=via,
        platform_admin=platform_admin,
    )


def _cache_key(token: str, tenant: TenantRef | None) -> tuple[bytes, int | None]:
    return hashlib.sha256(token.encode()).digest(), None if tenant is None else tenant.id
