"""MQTT load: many publishers at QoS 1 (one Observation per message, `mqtt_wire`), and a plain
paho subscriber that measures what the bare broker delivers."""

from __future__ import annotations

import multiprocessing
import multiprocessing.sharedctypes
import multiprocessing.synchronize
import resource
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from bench.common import StreamSums
from bench.loadgen import Tally, iso
from bench.mqtt_wire import WirePublisher, publish_packet

WINDOW = 20  # QoS 1 messages a publisher has in flight (paho's default)


@dataclass(frozen=True)
class MqttPlan:
    """Who publishes what, for how long."""

    port: int
    slug: str
    key: str
    prefix: str  # "v1.1" (the platform creates Observations) or "bench" (bare broker)
    streams: tuple[int, ...]  # one per publisher
    duration: float
    workers: int
    base_epoch: int
    max_per_publisher: int = 0  # 0: as many as the duration allows


def _client(plan: MqttPlan, name: str) -> paho.Client:
    client = paho.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"{name}-{secrets.token_hex(4)}",
        protocol=paho.MQTTv311,
    )
    client.username_pw_set(plan.key.split("_")[1], plan.key)
    client.max_inflight_messages_set(WINDOW)
    client.max_queued_messages_set(0)
    return client


def _publisher(plan: MqttPlan, lane: int, start: float, tally: Tally) -> None:
    """One device: publishes its Datastream's Observations until the deadline (or its quota)."""
    stream = plan.streams[lane]
    topic = f"{plan.slug}/{plan.prefix}/Datastreams({stream})/Observations".encode()
    try:
        wire = WirePublisher(
            plan.port, f"pub{lane}-{secrets.token_hex(4)}", plan.key.split("_")[1], plan.key
        )
    except OSError as error:
        tally.first_error = tally.first_error or f"publisher {lane}: {error}"
        return
    pending: dict[int, tuple[int, int]] = {}
    k, mid = 0, 0
    deadline = start + plan.duration
    quota = plan.max_per_publisher or 1 << 62
    drain_until = 0.0
    while True:
        now = time.perf_counter()
        sending = now < deadline and k < quota
        if not sending and not pending:
            break
        if not sending and not drain_until:
            drain_until = now + 30
        if drain_until and now > drain_until:
            break
        packets = []
        while sending and len(pending) < WINDOW and k < quota:
            epoch, x4 = plan.base_epoch + k, (k * 7 + lane) % 4000
            k += 1
            mid = mid % 65535 + 1
            payload = f'{{"phenomenonTime":"{iso(epoch)}","result":{x4 / 4}}}'.encode()
            packets.append(publish_packet(topic, mid, payload))
            pending[mid] = (epoch, x4)
        if packets:
            wire.send(packets)
            tally.requests += len(packets)
        try:
            acked = wire.acks()
        except OSError as error:
            tally.first_error = tally.first_error or f"publisher {lane}: {error}"
            break
        second = int(time.perf_counter() - start)
        for number in acked:
            row = pending.pop(number, None)
            if row is None:
                continue
            epoch, x4 = row
            tally.rows_acked += 1
            old = tally.sums.get(stream, StreamSums())
            tally.sums[stream] = old + StreamSums(1, x4, epoch)
            tally.per_second[second] += 1
    tally.unanswered += len(pending)
    wire.close()


def publisher_worker(
    plan: MqttPlan,
    lanes: list[int],
    barrier: multiprocessing.synchronize.Barrier,
    results: multiprocessing.Queue[Tally],
) -> None:
    """A process of publishers; puts its tally (acknowledged rows and checksums) on the queue."""
    tallies = [Tally() for _ in lanes]
    barrier.wait()
    start = time.perf_counter()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    threads = [
        threading.Thread(target=_publisher, args=(plan, lane, start, tally))
        for lane, tally in zip(lanes, tallies, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    after = resource.getrusage(resource.RUSAGE_SELF)
    total.cpu_seconds = after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime
    total.elapsed = time.perf_counter() - start
    total.statuses = {}
    total.per_second = dict(total.per_second)
    results.put(total)


def publish(plan: MqttPlan) -> tuple[Tally, float]:
    """Run all publishers; their merged tally and the wall-clock (epoch) time they started."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(plan.workers + 1)
    results: multiprocessing.Queue[Tally] = context.Queue()
    lanes = list(range(len(plan.streams)))
    processes = [
        context.Process(
            target=publisher_worker, args=(plan, lanes[index :: plan.workers], barrier, results)
        )
        for index in range(plan.workers)
    ]
    for process in processes:
        process.start()
    barrier.wait(timeout=120)
    started = time.time()
    total = Tally()
    for _ in processes:
        total.merge(results.get(timeout=plan.duration + 300))
    for process in processes:
        process.join(timeout=30)
    return total, started


def subscriber_main(
    plan: MqttPlan,
    ready: multiprocessing.synchronize.Event,
    received: multiprocessing.sharedctypes.Synchronized[int],
    last: multiprocessing.sharedctypes.Synchronized[float],
    stop: multiprocessing.synchronize.Event,
) -> None:
    """A plain paho subscriber of the bare topics at QoS 1: counts messages and their time."""
    client = _client(plan, "bare-sub")
    count = 0

    def on_message(_c: object, _u: object, _m: object) -> None:
        nonlocal count
        count += 1
        last.value = time.time()
        if count % 100 == 0:
            received.value = count

    def on_subscribe(*_args: object) -> None:
        ready.set()

    def on_connect(c: paho.Client, _u: object, _f: object, _r: object, _p: object) -> None:
        c.subscribe(f"{plan.slug}/{plan.prefix}/#", qos=1)

    client.on_message = on_message
    client.on_subscribe = on_subscribe
    client.on_connect = on_connect
    client.connect("127.0.0.1", plan.port, keepalive=60)
    client.loop_start()
    while not stop.wait(0.1):
        if received.value != count:
            received.value = count
    received.value = count
    client.disconnect()
    client.loop_stop()


def bare_broker(plan: MqttPlan) -> dict[str, Any]:
    """The same publishers on topics the platform does not hear, to a plain subscriber."""
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    stop = context.Event()
    received = context.Value("q", 0)
    last = context.Value("d", 0.0)
    subscriber = context.Process(
        target=subscriber_main, args=(plan, ready, received, last, stop), daemon=True
    )
    subscriber.start()
    try:
        if not ready.wait(30):
            raise RuntimeError("the bare subscriber did not subscribe")
        tally, started = publish(plan)
        _settle(lambda: int(received.value), tally.rows_acked, quiet=5.0)
        count, finished = int(received.value), float(last.value)
    finally:
        stop.set()
        subscriber.join(timeout=10)
    seconds = max(finished - started, 1e-9)
    return {
        "published_acknowledged": tally.rows_acked,
        "received": count,
        "seconds": round(seconds, 2),
        "msgs_per_s": round(count / seconds, 1),
        "publish_acks_per_s": round(tally.rows_acked / max(tally.elapsed, 1e-9), 1),
        "publisher_cpu_seconds": round(tally.cpu_seconds, 2),
    }


def _settle(current: Any, target: int, quiet: float) -> None:
    """Wait until `current()` reaches `target` or stops growing for `quiet` seconds."""
    seen, since = -1, time.monotonic()
    while True:
        now = current()
        if now >= target:
            return
        if now != seen:
            seen, since = now, time.monotonic()
        elif time.monotonic() - since > quiet:
            return
        time.sleep(0.05)
