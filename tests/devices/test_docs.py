"""docs/lantern-protocol.md is the device makers' contract: its example and names must hold."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from stadtkern.devices.lantern.cli import parser
from stadtkern.devices.lantern.firmware import OUTCOME_REASONS, Lantern, LanternIdentity
from stadtkern.devices.lantern.protocol import (
    REASONS,
    Ack,
    Command,
    ProtocolError,
    open_command,
    open_report,
    public_key_text,
    report_body,
    sign_command,
    sign_report,
    unpack_envelope,
)
from stadtkern.devices.lantern.state import LanternState, StateStore
from tests.devices.conftest import Keys, acks

DOC = (Path(__file__).resolve().parents[2] / "docs" / "lantern-protocol.md").read_text("utf-8")


def _section(title: str) -> str:
    start = DOC.index(f"## {title}")
    end = DOC.find("\n## ", start + 1)
    return DOC[start : end if end > 0 else None]


EXAMPLE = _section("14. Worked example")
BLOCKS = [block.encode() for block in re.findall(r"```(?:json|text)\n(.*?)\n```", EXAMPLE, re.S)]
HEX_KEYS = re.findall(r"`([0-9a-f]{64})`", EXAMPLE)


def _key(hex_seed: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(hex_seed))


def test_the_example_keys_are_what_the_text_says() -> None:
    live_seed, live_public, device_seed, device_public = HEX_KEYS
    for seed, public in ((live_seed, live_public), (device_seed, device_public)):
        raw = _key(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        assert raw.hex() == public
    assert f"`{public_key_text(_key(live_seed).public_key())}`" in EXAMPLE


def test_the_example_command_signs_to_the_printed_envelope() -> None:
    body, signature, envelope = BLOCKS[0], BLOCKS[1], BLOCKS[2]
    command = Command.from_body(body)
    assert command.to_body() == body
    assert sign_command(command, kid="live-2025", private_key=_key(HEX_KEYS[0])) == envelope
    assert unpack_envelope(envelope).sig.hex() == signature.decode()
    live = {"live-2025": _key(HEX_KEYS[0]).public_key()}
    assert open_command(envelope, channel="live", keys=live) == command
    with pytest.raises(ProtocolError, match="unknown_key"):
        open_command(envelope, channel="exercise", keys={})


def test_a_lantern_answers_the_example_as_printed(tmp_path: Path) -> None:
    envelope, ack_body, ack_envelope = BLOCKS[2], BLOCKS[3], BLOCKS[4]
    store = StateStore(tmp_path / "state.json")
    state = LanternState.provisioned(
        {"live-2025": public_key_text(_key(HEX_KEYS[0]).public_key())},
        {"exercise-2025": public_key_text(_key("00" * 32).public_key())},
    )
    state.counters["live"] = 41
    store.save(state)
    device = _key(HEX_KEYS[2])
    lantern = Lantern(LanternIdentity("musterstadt", "L-0001", device), store)
    now = datetime(2025, 3, 1, 12, 0, 1, tzinfo=UTC)
    (answered,) = acks(lantern.handle_command("live", envelope, now), Keys(device=device))
    printed = open_report(ack_envelope, public_key=device.public_key())
    assert isinstance(printed, Ack)
    assert report_body(printed) == ack_body
    assert sign_report(printed, private_key=device) == ack_envelope
    assert answered == replace(printed, seq=answered.seq), "the same answer, up to its seq"


def test_every_reason_code_is_documented() -> None:
    missing = [r for r in (*REASONS, *OUTCOME_REASONS) if f"`{r}`" not in DOC]
    assert not missing, f"document these reason codes in docs/lantern-protocol.md: {missing}"


def test_every_command_line_option_is_documented() -> None:
    options = [o for action in parser()._actions for o in action.option_strings]
    missing = [o for o in options if o.startswith("--") and o != "--help" and o not in DOC]
    assert not missing, f"document these options in docs/lantern-protocol.md: {missing}"
