"""Ed25519 keys as text: 32 raw bytes in base64url without padding, as they travel and rest."""

from __future__ import annotations

import hashlib
import re
from typing import TypeGuard

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from stadtkern.devices.lantern.envelope import ProtocolError, b64url_decode, b64url_encode

KID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_SEED_LABEL = b"stadtkern-lantern-device-key-v1\x00"


def valid_kid(kid: object) -> TypeGuard[str]:
    """Whether a key id is 1-64 characters of letters, digits and . _ : -."""
    return isinstance(kid, str) and KID.fullmatch(kid) is not None


def public_key_text(key: Ed25519PublicKey) -> str:
    """The public key's 32 raw bytes in base64url without padding."""
    return b64url_encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def public_key_from_text(text: str) -> Ed25519PublicKey:
    """A public key from its text; ProtocolError("malformed") on anything else."""
    raw = b64url_decode(text) if isinstance(text, str) else b""
    if len(raw) != 32:
        raise ProtocolError("malformed", "a public key is 32 bytes")
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:  # pragma: no cover - every 32-byte string loads
        raise ProtocolError("malformed", "not an Ed25519 public key") from exc


def private_key_text(key: Ed25519PrivateKey) -> str:
    """The private key's 32 raw seed bytes in base64url without padding (keep it secret)."""
    return b64url_encode(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))


def private_key_from_text(text: str) -> Ed25519PrivateKey:
    """A private key from its text; ProtocolError("malformed") on anything else."""
    raw = b64url_decode(text) if isinstance(text, str) else b""
    if len(raw) != 32:
        raise ProtocolError("malformed", "a private key is 32 bytes")
    return Ed25519PrivateKey.from_private_bytes(raw)


def device_key_from_seed(seed: bytes) -> Ed25519PrivateKey:
    """A deterministic device key for simulated fleets (never for real devices)."""
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(_SEED_LABEL + seed).digest())
