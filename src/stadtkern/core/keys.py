"""API keys: random, stored only as a hash, shown once, with expiry and revocation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from stadtkern.core import audit, principals
from stadtkern.core.models import ApiKey, Principal
from stadtkern.core.refs import TenantRef
from stadtkern.core.schemas import ApiKeyCreate, ApiKeyPublic
from stadtkern.db.base import utcnow
from stadtkern.errors import InvalidInput, NotFound

PREFIX = "sk"
# Key ids are 12 lower-case hex digits; no other id is looked up (PostgreSQL refuses NUL, say).
KEY_ID = re.compile(r"[0-9a-f]{12}")
# Mosquitto 2.0's `mosquitto_passwd` format: $7$<iterations>$<base64 salt>$<base64 hash>,
# PBKDF2-HMAC-SHA-512 over a 12-byte salt giving 64 bytes; 101 is its default iteration count
# (enough for 256-bit random secrets, which no dictionary can guess).
MOSQUITTO_ITERATIONS = 101


@dataclass(frozen=True)
class IssuedKey:
    """A key just created: the stored row and the token, which is never shown again."""

    key: ApiKey
    token: str


def token_digest(pepper: bytes, secret: str) -> bytes:
    """The stored form of a secret: HMAC-SHA-256 under the platform's secret key.

    The secrets have 256 bits of entropy, so a fast hash suffices (no dictionary to attack);
    the key means that write access to the database alone cannot mint a working key.
    """
    return hmac.new(pepper, secret.encode(), hashlib.sha256).digest()


def mosquitto_hash(password: str, *, salt: bytes | None = None) -> str:
    """The password as Mosquitto's password file stores it (`$7$`, PBKDF2-SHA-512)."""
    salt = secrets.token_bytes(12) if salt is None else salt
    derived = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, MOSQUITTO_ITERATIONS)
    encoded = [base64.b64encode(part).decode() for part in (salt, derived)]
    return f"$7${MOSQUITTO_ITERATIONS}${encoded[0]}${encoded[1]}"


def split_token(token: str) -> tuple[str, str] | None:
    """The key id and secret of a token `sk_<key id>_<secret>`, or None if it is not one."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or not KEY_ID.fullmatch(parts[1]) or not parts[2]:
        return None
    return parts[1], parts[2]


def to_public(key: ApiKey) -> ApiKeyPublic:
    """The API representation of a key, without any secret."""
    return ApiKeyPublic(
        key_id=key.key_id,
        principal_id=key.principal_id,
        label=key.label,
        created_at=key.created_at,
        expires_at=key.expires_at,
        revoked_at=key.revoked_at,
        last_used_at=key.last_used_at,
    )


def issue_key(
    *,
    session: Session,
    principal: Principal,
    tenant: TenantRef | None,
    label: str,
    expires_at: datetime | None,
    actor: str,
    pepper: bytes,
) -> IssuedKey:
    """Create a key for a principal; the returned token is the only copy of the secret."""
    if expires_at is not None and expires_at <= utcnow():
        raise InvalidInput("expires_at lies in the past")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = f"{PREFIX}_{key_id}_{secret}"
    key = ApiKey(
        key_id=key_id,
        secret_hash=token_digest(pepper, secret),
        mqtt_password_hash=mosquitto_hash(token),
        principal_id=principal.id,
        tenant_id=principal.tenant_id,
        label=label,
        expires_at=expires_at,
    )
    session.add(key)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="key.create",
        target=f"key:{key_id}",
        tenant_slug=None if tenant is None else tenant.slug,
        payload={"principal": principal.id, "expires_at": expires_at and expires_at.isoformat()},
    )
    return IssuedKey(key=key, token=token)


def issue_tenant_key(
    *, session: Session, tenant: TenantRef, key_create: ApiKeyCreate, actor: str, pepper: bytes
) -> IssuedKey:
    """A key for a principal of this tenant (another tenant's principal does not exist here)."""
    principal = principals.get_principal(
        session=session, tenant=tenant, principal_id=key_create.principal_id
    )
    return issue_key(
        session=session,
        principal=principal,
        tenant=tenant,
        label=key_create.label,
        expires_at=key_create.expires_at,
        actor=actor,
        pepper=pepper,
    )


def verify_token(session: Session, token: str, pepper: bytes) -> tuple[ApiKey, Principal] | None:
    """The live key and enabled principal behind a token, or None."""
    parts = split_token(token)
    if parts is None:
        return None
    key_id, secret = parts
    row = session.execute(
        select(ApiKey, Principal)
        .join(Principal, Principal.id == ApiKey.principal_id)
        .where(ApiKey.key_id == key_id)
    ).first()
    if row is None:
        token_digest(
            pepper, secret
        )  # same work as a hit, so timing does not reveal which key ids exist
        return None
    key, principal = row
    if not hmac.compare_digest(key.secret_hash, token_digest(pepper, secret)):
        return None
    now = utcnow()
    if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
        return None
    if principal.disabled:
        return None
    return key, principal


def list_keys(*, session: Session, tenant: TenantRef) -> list[ApiKey]:
    """The tenant's keys, newest first."""
    return list(
        session.scalars(
            select(ApiKey).where(ApiKey.tenant_id == tenant.id).order_by(ApiKey.id.desc())
        )
    )


def get_key(*, session: Session, tenant: TenantRef | None, key_id: str) -> ApiKey:
    """A key of this tenant (or a platform key when tenant is None)."""
    if not KEY_ID.fullmatch(key_id):
        raise NotFound(f"no key {key_id}")
    scope = ApiKey.tenant_id.is_(None) if tenant is None else ApiKey.tenant_id == tenant.id
    key = session.scalar(select(ApiKey).where(ApiKey.key_id == key_id, scope))
    if key is None:
        raise NotFound(f"no key {key_id}")
    return key


def revoke_key(*, session: Session, tenant: TenantRef | None, key_id: str, actor: str) -> ApiKey:
    """Revoke a key at once; revoking twice keeps the first time."""
    key = get_key(session=session, tenant=tenant, key_id=key_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record(
            session,
            actor=actor,
            action="key.revoke",
            target=f"key:{key_id}",
            tenant_slug=None if tenant is None else tenant.slug,
        )
    return key
