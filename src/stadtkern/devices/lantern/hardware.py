"""The lantern's physical side: who it is, and the faults a simulation can switch on."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


@dataclass(frozen=True)
class LanternIdentity:
    """Who a lantern is: its tenant, its code and its device signing key."""

    tenant: str
    code: str
    device_key: Ed25519PrivateKey


@dataclass
class Faults:
    """Hardware trouble a simulation can switch on; the firmware reports what it sees."""

    offline: bool = False
    speaker_fault: bool = False
    battery: float | None = 100.0
    mains: bool = True
    tamper: bool = False
