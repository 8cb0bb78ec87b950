"""Fixtures of the lantern tests: channel keys, a provisioned lantern and a command factory."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from stadtkern.devices.lantern.firmware import Lantern, LanternIdentity, Outgoing, Publish, Step
from stadtkern.devices.lantern.protocol import (
    Ack,
    Channel,
    Command,
    device_key_from_seed,
    open_report,
    public_key_text,
    sign_command,
)
from stadtkern.devices.lantern.state import LanternState, StateStore

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
TENANT = "musterstadt"
CODE = "L-0001"


@dataclass
class Keys:
    """The platform's channel keys, a stranger's key and the lantern's device key."""

    live: Ed25519PrivateKey = field(default_factory=lambda: device_key_from_seed(b"live"))
    exercise: Ed25519PrivateKey = field(default_factory=lambda: device_key_from_seed(b"ex"))
    stranger: Ed25519PrivateKey = field(default_factory=lambda: device_key_from_seed(b"evil"))
    device: Ed25519PrivateKey = field(default_factory=lambda: device_key_from_seed(b"device"))

    def channel_key(self, channel: Channel) -> Ed25519PrivateKey:
        """The platform's private key of a channel."""
        return self.live if channel == "live" else self.exercise

    def state(self) -> LanternState:
        """A factory-fresh state trusting the live and exercise keys."""
        return LanternState.provisioned(
            {"live-1": public_key_text(self.live.public_key())},
            {"exercise-1": public_key_text(self.exercise.public_key())},
        )


@pytest.fixture
def anyio_backend() -> str:
    """The runner bridges paho's thread with loop.call_soon_threadsafe: asyncio only."""
    return "asyncio"


@pytest.fixture
def keys() -> Keys:
    """Deterministic keys for every test."""
    return Keys()


@pytest.fixture
def state_file(tmp_path: Path, keys: Keys) -> Path:
    """A provisioned state file."""
    path = tmp_path / "lantern.json"
    StateStore(path).save(keys.state())
    return path


@pytest.fixture
def lantern(state_file: Path, keys: Keys) -> Lantern:
    """A lantern booted from its state file, without ack spread."""
    return boot(state_file, keys)


def boot(state_file: Path, keys: Keys) -> Lantern:
    """Boot (or re-boot after a power cut) the lantern from its state file."""
    identity = LanternIdentity(TENANT, CODE, keys.device)
    return Lantern(identity, StateStore(state_file), rng=random.Random(7))  # noqa: S311 - ack spread


MakeCommand = Callable[..., Command]


@pytest.fixture
def make_command() -> MakeCommand:
    """Factory of valid commands; counters count up unless given."""
    counter = iter(range(1, 1_000_000))

    def make(**overrides: Any) -> Command:
        members: dict[str, Any] = {
            "id": uuid.uuid4().hex,
            "tenant": TENANT,
            "lantern": CODE,
            "channel": "live",
            "counter": next(counter),
            "issued": T0,
            "expires": T0 + timedelta(minutes=10),
            "alert": f"cap-{uuid.uuid4().hex[:8]}",
            "action": "sound",
            "signal": "warning",
            "voice": {"de": "Achtung, Hochwasser.", "en": "Attention, flood."},
            "audio": None,
            "repeat": 1,
            "key": None,
            "retire": (),
        }
        members.update(overrides)
        return Command(**members)

    return make


def signed(command: Command, keys: Keys, kid: str | None = None) -> bytes:
    """The command signed with its channel's key."""
    channel = command.channel
    return sign_command(command, kid=kid or f"{channel}-1", private_key=keys.channel_key(channel))


def acks(outgoing: list[Outgoing], keys: Keys) -> list[Ack]:
    """The verified acknowledgements among a lantern's outgoing items."""
    found = []
    for item in outgoing:
        if isinstance(item, Publish):
            report = open_report(item.envelope, public_key=keys.device.public_key())
            assert isinstance(report, Ack)
            found.append(report)
    return found


def states(outgoing: list[Outgoing], keys: Keys) -> list[tuple[str, str | None]]:
    """(state, reason) of every acknowledgement, in order."""
    return [(ack.state, ack.reason) for ack in acks(outgoing, keys)]


def steps(outgoing: list[Outgoing]) -> list[Step]:
    """The scheduled steps among a lantern's outgoing items."""
    return [item for item in outgoing if isinstance(item, Step)]


def play_through(lantern: Lantern, outgoing: list[Outgoing]) -> list[Outgoing]:
    """Run every step as its time comes, like the runner; return everything produced."""
    produced = list(outgoing)
    pending = steps(outgoing)
    while pending:
        step = pending.pop(0)
        more = lantern.run_step(step, step.at)
        produced += more
        pending += steps(more)
    return produced


def seq_of(outgoing: list[Outgoing]) -> int:
    """The seq of the single report published."""
    (item,) = outgoing
    assert isinstance(item, Publish)
    return item.report.seq
