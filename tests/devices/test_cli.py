"""`python -m stadtkern.devices.lantern`: provisioning, and one lantern run as its own process."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sys
from pathlib import Path

import pytest

from stadtkern.devices.lantern.cli import main
from stadtkern.devices.lantern.protocol import (
    Ack,
    private_key_from_text,
    public_key_from_text,
    public_key_text,
)
from stadtkern.devices.lantern.state import StateStore
from tests.devices.conftest import Keys
from tests.devices.town import WAIT, eventually, live_command, platform


def _key_options(keys: Keys) -> list[str]:
    return [
        f"--live-key=live-1={public_key_text(keys.live.public_key())}",
        f"--exercise-key=exercise-1={public_key_text(keys.exercise.public_key())}",
    ]


def test_provisioning_writes_a_state_once(
    tmp_path: Path, keys: Keys, capsys: pytest.CaptureFixture[str]
) -> None:
    state_file = tmp_path / "lantern.json"
    assert main(["--provision", "--state", str(state_file), *_key_options(keys)]) == 0
    printed = capsys.readouterr().out.strip()
    state = StateStore(state_file).load()
    assert state is not None
    assert state.device_key is not None
    device = private_key_from_text(state.device_key)
    assert public_key_text(device.public_key()) == printed
    assert public_key_from_text(printed)
    assert state.counters == {"live": 0, "exercise": 0}
    # Provisioning again would reset the counters and let old commands play again.
    assert main(["--provision", "--state", str(state_file), *_key_options(keys)]) == 1
    assert "provisioned only once" in capsys.readouterr().err


def test_wrong_use_is_explained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--provision", "--state", str(tmp_path / "x.json")])
    assert "--live-key" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--state", str(tmp_path / "x.json")])
    assert "--broker" in capsys.readouterr().err
    missing = ["--state", str(tmp_path / "x.json"), "--broker", "mqtt://h", "--tenant", "t"]
    assert main([*missing, "--code", "c"]) == 1
    assert "not provisioned" in capsys.readouterr().err


@pytest.mark.anyio
@pytest.mark.mosquitto
async def test_a_lantern_process_plays_and_stops_on_sigterm(
    mosquitto_url: str, tmp_path: Path, keys: Keys
) -> None:
    state_file = tmp_path / "lantern.json"
    assert main(["--provision", "--state", str(state_file), *_key_options(keys)]) == 0
    state = StateStore(state_file).load()
    assert state is not None
    assert state.device_key is not None
    keys.device = private_key_from_text(state.device_key)
    tenant = f"t-{secrets.token_hex(4)}"
    options = ["--broker", mosquitto_url, "--tenant", tenant, "--code", "L-7"]
    options += ["--state", str(state_file), "--time-scale", "1000", "--heartbeat", "0.2"]
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "stadtkern.devices.lantern", *options, "--ack-spread", "0"],
        env={**os.environ, "LANTERN_MQTT_PASSWORD": "unused"},
    )
    try:
        with platform(mosquitto_url, tenant, {"L-7": keys.device.public_key()}) as town:
            await eventually(lambda: bool(town.heartbeats()), "the process connected")
            town.send("L-7", live_command(tenant, "L-7", 3, "cap-cli"), keys)
            await eventually(
                lambda: any(a.state == "finished" for a in town.acks()), "the signal finished"
            )
            assert not town.errors
            assert all(isinstance(a, Ack) for a in town.acks())
    finally:
        process.send_signal(signal.SIGTERM)
        returncode = await asyncio.wait_for(process.wait(), WAIT)
    assert returncode == 0
    reloaded = StateStore(state_file).load()
    assert reloaded is not None
    assert reloaded.counters["live"] == 3
