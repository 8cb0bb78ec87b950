"""Browser sessions for the web UI: an opaque cookie token plus a CSRF token per session."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from stadtkern.core.keys import token_digest
from stadtkern.core.models import BrowserSession, Principal
from stadtkern.core.refs import TenantRef
from stadtkern.db.base import utcnow

COOKIE_NAME = "stadtkern_session"
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True)
class OpenedSession:
    """A new session: the cookie value (shown once) and the stored row."""

    token: str
    row: BrowserSession


def open_session(
    *,
    session: Session,
    tenant: TenantRef,
    principal: Principal,
    ttl_seconds: int,
    pepper: bytes,
    roles: frozenset[str] | None = None,
) -> OpenedSession:
    """Start a browser session; `roles` fixes the roles of an identity-provider login."""
    token = secrets.token_urlsafe(32)
    row = BrowserSession(
        token_hash=token_digest(pepper, token),
        csrf_token=secrets.token_urlsafe(24),
        principal_id=principal.id,
        tenant_id=tenant.id,
        roles=None if roles is None else sorted(roles),
        expires_at=utcnow() + timedelta(seconds=ttl_seconds),
    )
    session.add(row)
    session.flush()
    return OpenedSession(token=token, row=row)


def find_session(
    session: Session, token: str, pepper: bytes
) -> tuple[BrowserSession, Principal] | None:
    """The live session behind a cookie value and its enabled principal, or None."""
    row = session.execute(
        select(BrowserSession, Principal)
        .join(Principal, Principal.id == BrowserSession.principal_id)
        .where(BrowserSession.token_hash == token_digest(pepper, token))
    ).first()
    if row is None:
        return None
    browser_session, principal = row
    if browser_session.expires_at <= utcnow() or principal.disabled:
        return None
    return browser_session, principal


def csrf_matches(browser_session: BrowserSession, presented: str | None) -> bool:
    """True when the request carries the session's CSRF token."""
    # Bytes: compare_digest refuses str with non-ASCII characters, which a header may carry.
    return presented is not None and hmac.compare_digest(
        browser_session.csrf_token.encode(), presented.encode()
    )


def close_session(session: Session, token: str, pepper: bytes) -> None:
    """End a session (logout)."""
    session.execute(
        delete(BrowserSession).where(BrowserSession.token_hash == token_digest(pepper, token))
    )


def purge_expired(session: Session) -> int:
    """Delete expired sessions; returns how many."""
    result = session.execute(delete(BrowserSession).where(BrowserSession.expires_at <= utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)
