"""`stadtkern simulate`: one town's fleet against a running Stadtkern, until stopped.

Order of a run: provision what is missing (HTTP), start the live reports (MQTT) and the
lanterns' reference firmware, then write the history in the background, so that fresh
values arrive while the past is still being filled in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from stadtkern.demo.backfill import backfill
from stadtkern.demo.client import Platform
from stadtkern.demo.fleet import LANTERN, Fleet, build_fleet
from stadtkern.demo.geography import TOWNS, load_town
from stadtkern.demo.live import Publisher, lanterns_down
from stadtkern.demo.provision import Deployed, discover, lantern_seed, provision
from stadtkern.devices.lantern.runner import LanternRunner
from stadtkern.devices.lantern.simulation import simulated_fleet

logger = logging.getLogger("stadtkern.demo")
STATUS_EVERY_S = 30.0
LANTERN_CHECK_S = 30.0

Say = Callable[[str], None]


@dataclass(frozen=True)
class SimulationPlan:
    """What `stadtkern simulate` was asked to do."""

    url: str
    tenant: str
    token: str
    broker_url: str
    seed: int = 1
    town: str | None = None
    lanterns: int | None = None
    rate: float | None = None
    history: timedelta = timedelta(0)
    provision: bool = True
    firmware: bool = True
    duration_s: float | None = None
    stop_on_stdin_eof: bool = False

    def key_id(self) -> str | None:
        """The key id inside the token (the MQTT user name Mosquitto expects)."""
        return key_id_of(self.token)


def key_id_of(token: str) -> str | None:
    """The key id inside an API key `sk_<key id>_<secret>`, None for another kind of token."""
    parts = token.split("_")
    return parts[1] if len(parts) >= 3 else None


def fleet_of(plan: SimulationPlan) -> Fleet:
    """The fleet the plan simulates (the town defaults to the tenant's, else Kaiserslautern)."""
    town = plan.town or (plan.tenant if plan.tenant in TOWNS else "kaiserslautern")
    return build_fleet(plan.tenant, load_town(town), seed=plan.seed, lanterns=plan.lanterns)


def _printer(tenant: str) -> Say:
    def say(message: str) -> None:
        print(f"[{tenant}] {message}", flush=True)

    return say


def run_simulation(plan: SimulationPlan, say: Say | None = None) -> None:
    """Provision, then run the fleet until stopped (signal, duration, or stdin closed)."""
    say = say or _printer(plan.tenant)
    fleet = fleet_of(plan)
    platform = Platform(plan.url, plan.tenant, plan.token)
    started = time.monotonic()
    if plan.provision:
        deployed = provision(platform, fleet, progress=_progress(say))
        say(f"fleet ready: {len(deployed.things)} devices ({time.monotonic() - started:.1f} s)")
    else:
        deployed = discover(platform)
        say(f"found {len(deployed.things)} devices of the fleet")
    asyncio.run(_live(plan, fleet, deployed, platform, say))


def _progress(say: Say) -> Callable[[str, int, int], None]:
    shown: dict[str, float] = {}

    def report(step: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total or now - shown.get(step, 0.0) > 2.0:
            shown[step] = now
            say(f"creating {step}: {done:,}/{total:,}")

    return report


async def _live(
    plan: SimulationPlan, fleet: Fleet, deployed: Deployed, platform: Platform, say: Say
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    if plan.stop_on_stdin_eof:
        threading.Thread(target=_watch_stdin, args=(loop, stop), daemon=True).start()
    if plan.duration_s is not None:
        loop.call_later(plan.duration_s, stop.set)
    user = plan.key_id()
    publisher = Publisher(
        fleet,
        deployed,
        plan.broker_url,
        username=user,
        password=plan.token,
        rate=plan.rate,
        client_id=f"simulator-{plan.tenant}-{user or 'anonymous'}",
    )
    await asyncio.to_thread(publisher.connect)
    say(f"reporting live: {publisher.streams:,} Datastreams over {plan.broker_url}")
    tasks = [asyncio.create_task(publisher.run(stop))]
    runner = (
        lantern_runner(platform, fleet, plan.broker_url, token=plan.token)
        if plan.firmware
        else None
    )
    if runner is not None:
        await runner.start()
        say(f"{len(runner.lanterns)} lanterns run the reference firmware")
        tasks.append(asyncio.create_task(_track_lanterns(fleet, runner, stop)))
    if plan.history > timedelta(0):
        tasks.append(asyncio.create_task(_history(plan, fleet, deployed, say)))
    tasks.append(asyncio.create_task(_status(publisher, stop, say)))
    try:
        await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if runner is not None:
            await runner.stop()
        await asyncio.to_thread(publisher.close)
        platform.close()
        stats = publisher.stats
        say(f"stopped: {stats.published:,} Observations sent, {stats.acknowledged:,} acknowledged")


def _watch_stdin(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    # The demo starts us with a pipe on stdin: when the demo dies, the pipe closes.
    # os.read, not sys.stdin: a buffered reader's lock held by this daemon thread would stop
    # the interpreter from shutting down.
    while os.read(0, 1024):
        pass
    loop.call_soon_threadsafe(stop.set)


def lantern_runner(
    platform: Platform,
    fleet: Fleet,
    broker_url: str,
    *,
    token: str,
    heartbeat_s: float = 60.0,
    ack_spread_s: float = 1.0,
    time_scale: float = 1.0,
) -> LanternRunner | None:
    """The fleet's lanterns on the reference firmware, provisioned with the town's published
    command keys, on one MQTT session with the key (None: the fleet has no lanterns)."""
    codes = [device.code for device in fleet.devices if device.kind == LANTERN]
    if not codes:
        return None
    published = platform.request("GET", "/warning/keys")
    live = {k["kid"]: k["publicKey"] for k in published if k["channel"] == "live"}
    exercise = {k["kid"]: k["publicKey"] for k in published if k["channel"] == "exercise"}
    lanterns = simulated_fleet(
        fleet.tenant,
        codes,
        live=live,
        exercise=exercise,
        seed=lantern_seed(fleet),
        time_scale=time_scale,
    )
    key_id = key_id_of(token)
    return LanternRunner(
        broker_url,
        fleet.tenant,
        lanterns,
        username=key_id,
        password=token,
        heartbeat_s=heartbeat_s,
        ack_spread_s=ack_spread_s,
        client_id=f"fleet-{fleet.tenant}-{key_id or 'anonymous'}",
    )


async def _track_lanterns(fleet: Fleet, runner: LanternRunner, stop: asyncio.Event) -> None:
    """Lanterns whose gateway is down fall silent, firmware included."""
    codes = list(runner.lanterns)
    while not stop.is_set():
        down = lanterns_down(fleet, codes, datetime.now(UTC))
        for code, lantern in runner.lanterns.items():
            lantern.faults.offline = code in down
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), LANTERN_CHECK_S)


async def _history(plan: SimulationPlan, fleet: Fleet, deployed: Deployed, say: Say) -> None:
    until = datetime.now(UTC)
    shown = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - shown[0] > 3.0 or done >= total:
            shown[0] = now
            say(f"history: {done:,}/{total:,} Observations ({100 * done // max(total, 1)} %)")

    def connect() -> Platform:
        return Platform(plan.url, plan.tenant, plan.token)

    result = await asyncio.to_thread(
        backfill, connect, fleet, deployed, history=plan.history, until=until, progress=progress
    )
    rate = result.observations / max(result.seconds, 1e-9)
    say(
        f"history written: {result.observations:,} Observations in {result.seconds:.1f} s "
        f"({rate:,.0f}/s)"
    )


async def _status(publisher: Publisher, stop: asyncio.Event, say: Say) -> None:
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), STATUS_EVERY_S)
        except TimeoutError:
            stats = publisher.stats
            kinds = ", ".join(f"{kind} {count:,}" for kind, count in sorted(stats.by_kind.items()))
            say(f"sent {stats.published:,} ({stats.acknowledged:,} acknowledged): {kinds}")
