"""The tenant's command-signing keys: one Ed25519 key set per channel (live, exercise).

Private keys are stored sealed with AES-256-GCM under a key derived (HKDF-SHA-256) from
STADTKERN_SECRET_KEY, with the tenant, channel and key id as associated data, so a sealed key
copied to another row or tenant does not open. Rotation makes a `next` key, announces it to
every lantern in a command signed by the current key, and switches once the operator says so.
"""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from stadtkern.core.refs import TenantRef
from stadtkern.devices.lantern.protocol import (
    CHANNELS,
    Channel,
    private_key_from_text,
    private_key_text,
    public_key_text,
)
from stadtkern.errors import Conflict, NotFound
from stadtkern.warning.models import SigningKey

ACTIVE, NEXT, RETIRED = "active", "next", "retired"
_SEAL_INFO = b"stadtkern-warning-signing-key-v1"


@dataclass(frozen=True)
class Signer:
    """A channel's active key, opened for signing."""

    channel: Channel
    kid: str
    private_key: Ed25519PrivateKey


def _sealing_key(secret: bytes) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_SEAL_INFO).derive(secret)
    return AESGCM(derived)


def _associated(tenant_id: int, channel: str, kid: str) -> bytes:
    return f"{tenant_id}\x00{channel}\x00{kid}".encode()


def seal(secret: bytes, tenant_id: int, channel: str, kid: str, key: Ed25519PrivateKey) -> str:
    """The private key encrypted for storage."""
    nonce = os.urandom(12)
    data = _sealing_key(secret).encrypt(
        nonce, private_key_text(key).encode(), _associated(tenant_id, channel, kid)
    )
    return base64.urlsafe_b64encode(nonce + data).decode()


def unseal(secret: bytes, row: SigningKey) -> Ed25519PrivateKey:
    """The private key of a stored row (fails loudly when the secret key changed)."""
    raw = base64.urlsafe_b64decode(row.private_key_sealed)
    plain = _sealing_key(secret).decrypt(
        raw[:12], raw[12:], _associated(row.tenant_id, row.channel, row.kid)
    )
    return private_key_from_text(plain.decode())


def _new_row(secret: bytes, tenant: TenantRef, channel: Channel, state: str) -> SigningKey:
    key = Ed25519PrivateKey.generate()
    kid = f"{channel}-{secrets.token_hex(4)}"
    return SigningKey(
        tenant_id=tenant.id,
        channel=channel,
        kid=kid,
        public_key=public_key_text(key.public_key()),
        private_key_sealed=seal(secret, tenant.id, channel, kid, key),
        state=state,
    )


def ensure_keys(session: Session, tenant: TenantRef, secret: bytes) -> list[SigningKey]:
    """The tenant's keys, making an active key for each channel that has none."""
    rows = list(
        session.scalars(
            select(SigningKey).where(SigningKey.tenant_id == tenant.id).order_by(SigningKey.id)
        )
    )
    for channel in CHANNELS:
        if not any(row.channel == channel and row.state == ACTIVE for row in rows):
            row = _new_row(secret, tenant, channel, ACTIVE)
            session.add(row)
            rows.append(row)
    session.flush()
    return rows


def signer(session: Session, tenant: TenantRef, channel: Channel, secret: bytes) -> Signer:
    """The channel's active key, ready to sign."""
    rows = ensure_keys(session, tenant, secret)
    row = next(row for row in rows if row.channel == channel and row.state == ACTIVE)
    return Signer(channel, row.kid, unseal(secret, row))


def public_keys(session: Session, tenant: TenantRef, secret: bytes) -> list[dict[str, str]]:
    """The public half of every key that is not retired (for provisioning lanterns)."""
    return [
        {"channel": row.channel, "kid": row.kid, "publicKey": row.public_key, "state": row.state}
        for row in ensure_keys(session, tenant, secret)
        if row.state != RETIRED
    ]


def prepare_rotation(
    session: Session, tenant: TenantRef, channel: Channel, secret: bytes
) -> SigningKey:
    """Make the channel's next key (or return the one already prepared)."""
    rows = ensure_keys(session, tenant, secret)
    pending = [row for row in rows if row.channel == channel and row.state == NEXT]
    if pending:
        return pending[0]
    row = _new_row(secret, tenant, channel, NEXT)
    session.add(row)
    session.flush()
    return row


def complete_rotation(session: Session, tenant: TenantRef, channel: Channel) -> SigningKey:
    """Retire the active key of the channel and make the prepared key active."""
    rows = list(
        session.scalars(
            select(SigningKey).where(
                SigningKey.tenant_id == tenant.id,
                SigningKey.channel == channel,
                SigningKey.state.in_((ACTIVE, NEXT)),
            )
        )
    )
    pending = [row for row in rows if row.state == NEXT]
    if not pending:
        raise NotFound(f"no prepared {channel} key: start a rotation first")
    if len(pending) > 1:
        raise Conflict("more than one prepared key")
    now = datetime.now(UTC)
    for row in rows:
        if row.state == ACTIVE:
            row.state, row.retired_at = RETIRED, now
    pending[0].state = ACTIVE
    session.flush()
    return pending[0]
