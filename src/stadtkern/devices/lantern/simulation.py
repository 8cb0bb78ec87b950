"""Simulated lanterns for tests and benchmarks: deterministic device keys, state in memory."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping

from stadtkern.devices.lantern.firmware import Lantern, LanternIdentity
from stadtkern.devices.lantern.keys import device_key_from_seed
from stadtkern.devices.lantern.state import LanternState, StateStore


def simulated_lantern(
    tenant: str,
    code: str,
    *,
    live: Mapping[str, str],
    exercise: Mapping[str, str],
    seed: bytes = b"",
    ack_spread_s: float = 0.0,
    time_scale: float = 1.0,
) -> Lantern:
    """A provisioned lantern whose device key follows from (seed, tenant, code)."""
    store = StateStore(None)
    store.save(LanternState.provisioned(live, exercise))
    key = device_key_from_seed(seed + f"\x00{tenant}\x00{code}".encode())
    return Lantern(
        LanternIdentity(tenant, code, key),
        store,
        rng=random.Random(f"{tenant}/{code}"),  # noqa: S311 - spreads acks, not a secret
        ack_spread_s=ack_spread_s,
        time_scale=time_scale,
    )


def simulated_fleet(
    tenant: str,
    codes: Iterable[str],
    *,
    live: Mapping[str, str],
    exercise: Mapping[str, str],
    seed: bytes = b"",
    ack_spread_s: float = 0.0,
    time_scale: float = 1.0,
) -> list[Lantern]:
    """Provisioned lanterns for many codes (see simulated_lantern)."""
    return [
        simulated_lantern(
            tenant,
            code,
            live=live,
            exercise=exercise,
            seed=seed,
            ack_spread_s=ack_spread_s,
            time_scale=time_scale,
        )
        for code in codes
    ]
