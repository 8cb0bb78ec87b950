"""Command line of the reference lantern: provision a state file, then run against a broker."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from stadtkern.devices.lantern.firmware import Lantern, LanternIdentity
from stadtkern.devices.lantern.keys import private_key_from_text, private_key_text, public_key_text
from stadtkern.devices.lantern.runner import LanternRunner
from stadtkern.devices.lantern.state import LanternState, StateError, StateStore

PASSWORD_VARIABLE = "LANTERN_MQTT_PASSWORD"  # noqa: S105 - the name, not the password


def _key_pair(text: str) -> tuple[str, str]:
    kid, separator, key = text.partition("=")
    if not separator:
        raise argparse.ArgumentTypeError("a key is given as KID=PUBLIC_KEY")
    return kid, key


def parser() -> argparse.ArgumentParser:
    """The options of the lantern command."""
    p = argparse.ArgumentParser(prog="python -m stadtkern.devices.lantern", description=__doc__)
    p.add_argument("--state", required=True, type=Path, help="state file (keys, counters)")
    p.add_argument("--provision", action="store_true", help="write a new state file and exit")
    p.add_argument("--live-key", action="append", type=_key_pair, default=[], metavar="KID=KEY")
    p.add_argument("--exercise-key", action="append", type=_key_pair, default=[], metavar="KID=KEY")
    p.add_argument("--broker", help="mqtt://host:port or mqtts://host:port")
    p.add_argument("--tenant", help="tenant slug, the topic prefix")
    p.add_argument("--code", help="this lantern's code")
    p.add_argument("--username")
    p.add_argument("--password", help=f"better: the environment variable {PASSWORD_VARIABLE}")
    p.add_argument("--time-scale", type=float, default=1.0, help="divide signal durations")
    p.add_argument("--heartbeat", type=float, default=60.0, help="seconds between heartbeats")
    p.add_argument("--ack-spread", type=float, default=5.0, help="spread acks over seconds")
    return p


def provision(state_file: Path, live: dict[str, str], exercise: dict[str, str]) -> str:
    """Write a factory-fresh state with a new device key; return the device's public key."""
    if state_file.exists():
        # A fresh state forgets the counters, which would let old commands play again.
        raise StateError(f"{state_file} exists; a lantern is provisioned only once")
    device_key = Ed25519PrivateKey.generate()
    state = LanternState.provisioned(live, exercise, device_key=private_key_text(device_key))
    StateStore(state_file).save(state)
    return public_key_text(device_key.public_key())


async def _run(runner: LanternRunner) -> None:
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(stop_signal, runner.request_stop)
    await runner.run()


def main(argv: Sequence[str] | None = None) -> int:
    """Provision or run one lantern; the exit status is 0 on success."""
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        if args.provision:
            if not args.live_key or not args.exercise_key:
                parser().error("--provision needs --live-key and --exercise-key")
            print(provision(args.state, dict(args.live_key), dict(args.exercise_key)))
            return 0
        if not (args.broker and args.tenant and args.code):
            parser().error("running needs --broker, --tenant and --code")
        state = StateStore(args.state).load()
        if state is None or state.device_key is None:
            raise StateError(f"{args.state} is not provisioned (use --provision)")
        identity = LanternIdentity(args.tenant, args.code, private_key_from_text(state.device_key))
        store = StateStore(args.state)
        spread, scale = args.ack_spread, args.time_scale
        lantern = Lantern(identity, store, ack_spread_s=spread, time_scale=scale)
        runner = LanternRunner(
            args.broker,
            args.tenant,
            [lantern],
            username=args.username,
            password=args.password or os.environ.get(PASSWORD_VARIABLE),
            heartbeat_s=args.heartbeat,
        )
        asyncio.run(_run(runner))
    except (StateError, ValueError, ConnectionError, OSError) as exc:
        print(f"lantern: {exc}", file=sys.stderr)
        return 1
    return 0
