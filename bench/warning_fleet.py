"""The simulated lanterns of the warning benchmark, in processes of their own.

Each process runs the reference firmware (`stadtkern.devices.lantern`) for its share of the
lanterns over one MQTT connection with its own client id, so that verifying, playing and
acknowledging ten thousand commands does not share the platform's GIL. The parent talks to a
process over a pipe: change the ack spread, fetch what the lanterns did, stop.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.connection
import resource
import secrets
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as paho

from stadtkern.devices.lantern.protocol import CHANNELS, command_topic
from stadtkern.devices.lantern.runner import LanternRunner
from stadtkern.devices.lantern.simulation import simulated_fleet

START_TIMEOUT = 120.0


@dataclass(frozen=True)
class FleetPlan:
    """What one fleet process runs."""

    port: int
    slug: str
    key: str  # the operator key: MQTT username is its key id, the password the key
    codes: tuple[str, ...]
    live: dict[str, str]
    exercise: dict[str, str]
    time_scale: float
    client_id: str


@dataclass
class FleetReport:
    """What a fleet process's lanterns did since the last report."""

    started: list[tuple[str, str, float]] = field(default_factory=list)  # code, alert, epoch
    received: list[tuple[str, float]] = field(default_factory=list)  # topic, epoch (paho thread)
    reports_at_broker: list[float] = field(default_factory=list)  # epoch of each report's PUBACK
    cpu_seconds: float = 0.0
    reports_sent: int = 0

    def merge(self, other: FleetReport) -> None:
        """Add another process's report."""
        self.started += other.started
        self.received += other.received
        self.reports_at_broker += other.reports_at_broker
        self.cpu_seconds += other.cpu_seconds
        self.reports_sent += other.reports_sent


class TimedRunner(LanternRunner):
    """The reference runner, noting when paho hands each message over (before the firmware
    sees it), so that the time on the wire and the time in the firmware can be told apart.

    It subscribes to its own lanterns' command topics, as each real lantern does, instead of
    the runner's wildcard for a fleet: with the fleet split over processes, the wildcard would
    bring every process every lantern's command (N x processes deliveries, most ignored).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arrivals: list[tuple[str, float]] = []
        self.reports_acknowledged: list[float] = []  # when the broker took each report

    def _on_publish(self, client: paho.Client, userdata: Any, mid: int, code: Any, p: Any) -> None:
        self.reports_acknowledged.append(time.time())
        super()._on_publish(client, userdata, mid, code, p)

    def _subscriptions(self) -> list[tuple[str, int]]:
        return [
            (f"{self.tenant}/{command_topic(code, channel)}", 1)
            for code in self.lanterns
            for channel in CHANNELS
        ]

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        self.arrivals.append((message.topic, time.time()))  # list.append: safe across threads
        super()._on_message(client, userdata, message)


def fleet_main(plan: FleetPlan, pipe: multiprocessing.connection.Connection) -> None:
    """The process: run the lanterns and answer the parent until it says stop."""
    asyncio.run(_serve(plan, pipe))


async def _serve(plan: FleetPlan, pipe: multiprocessing.connection.Connection) -> None:
    lanterns = simulated_fleet(
        plan.slug, plan.codes, live=plan.live, exercise=plan.exercise, time_scale=plan.time_scale
    )
    runner = TimedRunner(
        f"mqtt://127.0.0.1:{plan.port}",
        plan.slug,
        lanterns,
        username=plan.key.split("_")[1],
        password=plan.key,
        heartbeat_s=None,  # heartbeats would only add load unrelated to the alert
        client_id=plan.client_id,
        connect_timeout_s=60.0,
    )
    await runner.start()
    pipe.send(("ready", len(lanterns)))
    cpu_mark, sent_mark = _cpu(), 0
    try:
        while True:
            request = await asyncio.to_thread(pipe.recv)
            if request[0] == "spread":
                for lantern in lanterns:
                    lantern.ack_spread_s = float(request[1])
                pipe.send(("ok",))
            elif request[0] == "count":
                alerts = set(request[1])
                pipe.send(("count", sum(1 for e in runner.executions if e.alert in alerts)))
            elif request[0] == "report":
                alerts = set(request[1])
                arrivals, runner.arrivals = runner.arrivals, []
                acknowledged, runner.reports_acknowledged = runner.reports_acknowledged, []
                report = FleetReport(
                    started=[
                        (e.code, e.alert, e.started_at.timestamp())
                        for e in runner.executions
                        if e.alert in alerts
                    ],
                    received=arrivals,
                    reports_at_broker=acknowledged,
                    cpu_seconds=_cpu() - cpu_mark,
                    reports_sent=runner.reports_sent - sent_mark,
                )
                cpu_mark, sent_mark = _cpu(), runner.reports_sent
                pipe.send(("report", report))
            else:
                break
    finally:
        await runner.stop()
        pipe.send(("stopped",))


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Fleet:
    """The running fleet processes, seen from the benchmark."""

    pipes: list[multiprocessing.connection.Connection]
    processes: Sequence[multiprocessing.process.BaseProcess]
    client_ids: list[str]

    def spread(self, seconds: float) -> None:
        """Set every lantern's ack spread (uniform random wait before each report)."""
        for pipe in self.pipes:
            pipe.send(("spread", seconds))
        for pipe in self.pipes:
            _answer(pipe, "ok")

    def count(self, alerts: list[str]) -> int:
        """How many signals of these alerts the lanterns have started so far."""
        for pipe in self.pipes:
            pipe.send(("count", alerts))
        return sum(int(_answer(pipe, "count")[1]) for pipe in self.pipes)

    def report(self, alerts: list[str]) -> FleetReport:
        """The signals started for these alerts, the messages received and the CPU used, since
        the last report, over all processes."""
        for pipe in self.pipes:
            pipe.send(("report", alerts))
        total = FleetReport()
        for pipe in self.pipes:
            total.merge(_answer(pipe, "report")[1])
        return total

    def stop(self) -> None:
        """Disconnect the lanterns and end the processes."""
        for pipe in self.pipes:
            try:
                pipe.send(("stop",))
            except OSError:
                continue
        for pipe, process in zip(self.pipes, self.processes, strict=True):
            if pipe.poll(30):
                pipe.recv()
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()


def _answer(pipe: multiprocessing.connection.Connection, kind: str) -> Any:
    if not pipe.poll(START_TIMEOUT):
        raise RuntimeError(f"a fleet process gave no '{kind}' answer in {START_TIMEOUT} s")
    answer = pipe.recv()
    if answer[0] != kind:
        raise RuntimeError(f"a fleet process answered {answer!r} instead of '{kind}'")
    return answer


@contextmanager
def running_fleet(
    *,
    port: int,
    slug: str,
    key: str,
    codes: list[str],
    live: dict[str, str],
    exercise: dict[str, str],
    time_scale: float,
    processes: int,
) -> Iterator[Fleet]:
    """Start `processes` fleet processes sharing the lanterns (every n-th code each), wait
    until every one is connected and subscribed; stop them afterwards."""
    context = multiprocessing.get_context("spawn")
    pipes, started, client_ids = [], [], []
    try:
        for index in range(processes):
            share = tuple(codes[index::processes])
            if not share:
                continue
            client_id = f"bench-fleet-{index}-{secrets.token_hex(3)}"
            plan = FleetPlan(port, slug, key, share, live, exercise, time_scale, client_id)
            ours, theirs = context.Pipe()
            process = context.Process(target=fleet_main, args=(plan, theirs), daemon=True)
            process.start()
            pipes.append(ours)
            started.append(process)
            client_ids.append(client_id)
        fleet = Fleet(pipes, started, client_ids)
        for pipe in pipes:
            _answer(pipe, "ready")
        yield fleet
    finally:
        Fleet(pipes, started, client_ids).stop()
