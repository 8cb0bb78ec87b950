"""demo: the demo city's fleet as the load generator, through Mosquitto into the platform.

A real platform (`stadtkern serve`) on its own database and Mosquitto; the tenant
`kaiserslautern` provisioned with the demo fleet over the public API (timed), then the fleet's
live publisher (`stadtkern simulate` without lantern firmware) at a fixed rate for the
duration. Afterwards: how fast the platform stored it, and whether it stored every
Observation the broker acknowledged, each with the value the fleet's model gives for its
Datastream at its phenomenonTime (the fleet is deterministic: that is the checksum).
"""

from __future__ import annotations

import asyncio
import os
import resource
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from bench.backends import BenchDatabase, create_database
from bench.common import Options, Result, rate
from bench.mosquitto_ import new_port, service_url, started
from bench.platform_ import Server, running
from bench.warning_town import ensure_tenant, town_key
from stadtkern.demo.behaviour import sample
from stadtkern.demo.client import Platform
from stadtkern.demo.fleet import Fleet, Stream, build_fleet
from stadtkern.demo.geography import load_town
from stadtkern.demo.live import Publisher, natural_rate
from stadtkern.demo.provision import Deployed, provision

TENANT = "kaiserslautern"
SEED = 1
DEFAULT_LANTERNS = 500
DEFAULT_RATE = 2000.0
STORE_WAIT_S = 60.0  # longest wait after publishing for the platform to store the rest
ACK_DRAIN_S = 15.0  # longest wait for the broker's last acknowledgements
QUIET_S = 2.0  # no new rows for this long once the target is reached: done
SAMPLE_S = 1.0  # the timeline's step
# The probe's phenomenonTime: its row is told apart from the fleet's (which report "now").
PROBE_TIME = datetime(2000, 1, 1, tzinfo=UTC)
# A payload's phenomenonTime is the sampling instant cut to milliseconds: the value is the
# model's at one end of that millisecond or the other.
CUT = timedelta(microseconds=999)


@dataclass
class Run:
    """What happened while the fleet published and the platform caught up."""

    published: int = 0
    acknowledged: int = 0
    skipped_down: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    publish_seconds: float = 0.0
    publisher_cpu_seconds: float = 0.0
    stored_at_publish_end: int = 0
    last_row_after_s: float = 0.0  # from the first publish to the last row seen arriving
    store_wait_timed_out: bool = False  # STORE_WAIT_S passed before every row was stored
    # (seconds since the first publish, published, acknowledged, stored): one per SAMPLE_S
    timeline: list[tuple[float, int, int, int]] = field(default_factory=list)


def run(options: Options) -> Result:
    """Run the demo load benchmark; the result (checked: nothing acknowledged is lost)."""
    lanterns = options.scale or DEFAULT_LANTERNS
    target = options.rate or DEFAULT_RATE
    result = Result(options.name, options.backend, lanterns, options.duration)
    fleet = build_fleet(TENANT, load_town(TENANT), seed=SEED, lanterns=lanterns)
    database = create_database(options.backend, options.work_dir)
    port = new_port()
    try:
        server = Server(database, options.work_dir, mqtt_url=service_url(port))
        key = _prepare(server)
        tenant_id = database.tenant_id(TENANT)
        with started(server, port), running(server):
            platform = Platform(f"http://127.0.0.1:{server.port}", TENANT, key)
            began = time.perf_counter()
            try:
                deployed = provision(platform, fleet)
            finally:
                platform.close()
            provisioning_s = time.perf_counter() - began
            _await_platform(port, key, deployed, fleet, database, tenant_id)
            before = database.count_observations(tenant_id)
            publisher = Publisher(
                fleet,
                deployed,
                f"mqtt://127.0.0.1:{port}",
                username=key.split("_")[1],
                password=key,
                rate=target,
                client_id=f"bench-demo-{secrets.token_hex(4)}",
            )
            load = _publish(publisher, database, tenant_id, before, options.duration)
            memory = server.memory()
        rows = _stored_rows(database, tenant_id)
    finally:
        if not options.keep:
            database.drop()
    checks = _checks(fleet, deployed, rows, load)
    checks["devices_provisioned"] = len(deployed.things)
    checks["devices_in_fleet"] = len(fleet.devices)
    checks["ok"] = checks["ok"] and len(deployed.things) == len(fleet.devices)
    result.figures = _figures(fleet, deployed, publisher, load, provisioning_s, target, checks)
    result.figures |= memory
    if load.store_wait_timed_out:
        result.notes.append(
            f"the platform had not stored every acknowledged row {STORE_WAIT_S:.0f} s after "
            "publishing ended: 'lost' includes rows still queued (broker or platform) then"
        )
    result.checks = checks
    result.summary = _summary(options.backend, lanterns, result.figures, checks)
    return result


def _prepare(server: Server) -> str:
    """Migrate, create the tenant with SensorThings and the warning module; an operator key."""
    ensure_tenant(server, TENANT, "Kaiserslautern")
    return town_key(server, TENANT, "operator")


def _await_platform(
    port: int,
    key: str,
    deployed: Deployed,
    fleet: Fleet,
    database: BenchDatabase,
    tenant_id: int,
) -> None:
    """Publish a probe Observation until the platform stores it: it is subscribed."""
    device, stream = fleet.streams()[0]
    topic = f"{TENANT}/v1.1/Datastreams({deployed.datastream(device, stream)})/Observations"
    payload = f'{{"result": 0, "phenomenonTime": "{PROBE_TIME.isoformat()}"}}'
    client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
    client.username_pw_set(key.split("_")[1], key)
    client.connect("127.0.0.1", port)
    client.loop_start()
    already = database.count_observations(tenant_id)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            client.publish(topic, payload, qos=1)
            time.sleep(0.5)
            if database.count_observations(tenant_id) > already:
                return
        raise RuntimeError("the platform stored no Observation sent over MQTT within 60 s")
    finally:
        client.disconnect()
        client.loop_stop()


def _publish(
    publisher: Publisher, database: BenchDatabase, tenant_id: int, before: int, duration: float
) -> Run:
    """The fleet publishing for `duration` s, then the wait until the platform stored it."""
    load = Run()
    publisher.connect()
    start = time.monotonic()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    try:
        asyncio.run(_publish_for(publisher, database, tenant_id, before, duration, load, start))
    finally:
        load.publish_seconds = time.monotonic() - start
        used = resource.getrusage(resource.RUSAGE_SELF)
        load.publisher_cpu_seconds = round(
            used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime, 2
        )
        load.stored_at_publish_end = database.count_observations(tenant_id) - before
        publisher.close(drain_s=ACK_DRAIN_S)
    stats = publisher.stats
    load.published, load.acknowledged = stats.published, stats.acknowledged
    load.skipped_down, load.by_kind = stats.skipped_down, dict(stats.by_kind)
    _await_stored(publisher, database, tenant_id, before, load, start)
    return load


async def _publish_for(
    publisher: Publisher,
    database: BenchDatabase,
    tenant_id: int,
    before: int,
    duration: float,
    load: Run,
    start: float,
) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(duration, stop.set)
    sampler = asyncio.create_task(_sample(publisher, database, tenant_id, before, load, start))
    try:
        await publisher.run(stop)
    finally:
        sampler.cancel()


async def _sample(
    publisher: Publisher,
    database: BenchDatabase,
    tenant_id: int,
    before: int,
    load: Run,
    start: float,
) -> None:
    """The timeline while publishing: the count runs in a thread, the publisher keeps on."""
    while True:
        await asyncio.sleep(SAMPLE_S)
        stored = await asyncio.to_thread(database.count_observations, tenant_id)
        _mark(load, publisher, time.monotonic() - start, stored - before)


def _mark(load: Run, publisher: Publisher, elapsed: float, stored: int) -> None:
    """One point of the timeline: seconds, published, acknowledged, stored."""
    stats = publisher.stats
    load.timeline.append((round(elapsed, 1), stats.published, stats.acknowledged, stored))


def _await_stored(
    publisher: Publisher,
    database: BenchDatabase,
    tenant_id: int,
    before: int,
    load: Run,
    start: float,
) -> None:
    """Wait until the platform holds every acknowledged row and no more arrive for QUIET_S (a
    redelivered duplicate may reach the count early), at most STORE_WAIT_S."""
    target = load.acknowledged
    deadline = time.monotonic() + STORE_WAIT_S
    seen, changed, sampled = -1, time.monotonic(), 0.0
    while True:
        now = time.monotonic()
        stored = database.count_observations(tenant_id) - before
        if stored != seen:
            seen, changed = stored, now
        if now - sampled >= SAMPLE_S:
            sampled = now
            _mark(load, publisher, now - start, stored)
        if (stored >= target and now - changed >= QUIET_S) or now > deadline:
            load.last_row_after_s = changed - start
            load.store_wait_timed_out = stored < target
            return
        time.sleep(0.1)


# --- the check: what the broker acknowledged, stored once with the fleet's value ------------


@dataclass(frozen=True)
class StoredRow:
    """One stored Observation of the tenant, as the check needs it."""

    datastream: int
    time: datetime
    number: float | None
    boolean: bool | None


def _stored_rows(database: BenchDatabase, tenant_id: int) -> list[StoredRow]:
    mark = "%s" if database.backend == "postgres" else "?"
    columns = "datastream_id, phenomenon_time_start, result_number, result_boolean"
    query = f"SELECT {columns} FROM sta_observation WHERE tenant_id = {mark}"  # noqa: S608
    with database.connect() as conn:
        rows = conn.execute(query, (tenant_id,)).fetchall()
    return [
        StoredRow(int(stream), _aware(moment), number, None if boolean is None else bool(boolean))
        for stream, moment, number, boolean in rows
    ]


def _aware(value: object) -> datetime:
    """A stored phenomenonTime as an aware datetime (SQLite hands back text, naive UTC)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _checks(fleet: Fleet, deployed: Deployed, rows: list[StoredRow], load: Run) -> dict[str, Any]:
    """Stored (distinct per Datastream and time) against acknowledged, and every stored value
    against the model's."""
    streams: dict[int, Stream] = {}
    for device, stream in fleet.streams():
        datastream = deployed.datastream(device, stream)
        if datastream is not None:
            streams[datastream] = stream
    fleet_rows = [row for row in rows if row.time != PROBE_TIME]
    distinct = {(row.datastream, row.time): row for row in fleet_rows}
    wrong = [row for row in distinct.values() if not _as_sent(streams, row, fleet.seed)]
    stored = len(distinct)
    lost = max(0, load.acknowledged - stored)
    return {
        "published": load.published,
        "acknowledged": load.acknowledged,
        "unacknowledged_publishes": load.published - load.acknowledged,
        "stored": stored,
        "lost": lost,
        # the broker may have passed on a message whose acknowledgement never came back
        "stored_but_not_acknowledged": max(0, stored - load.acknowledged),
        "stored_not_published": max(0, stored - load.published),
        "duplicates": len(fleet_rows) - stored,
        "values_checked": stored,
        "values_not_as_sent": len(wrong),
        "values_not_as_sent_examples": [
            f"Datastreams({row.datastream}) {row.time.isoformat()}: "
            f"{row.boolean if row.boolean is not None else row.number}"
            for row in wrong[:5]
        ],
        "ok": lost == 0 and not wrong and stored <= load.published,
    }


def _as_sent(streams: dict[int, Stream], row: StoredRow, seed: int) -> bool:
    """Whether the row holds what the fleet's model reports for its stream at its time."""
    stream = streams.get(row.datastream)
    if stream is None:
        return False
    for moment in (row.time, row.time + CUT):
        value = sample(stream.behaviour, moment, seed=seed)
        if value is None:
            continue
        if isinstance(value, bool):
            if row.boolean is value:
                return True
        elif row.number is not None and float(row.number) == float(value):
            return True
    return False


# --- figures ---------------------------------------------------------------------------------


def _figures(
    fleet: Fleet,
    deployed: Deployed,
    publisher: Publisher,
    load: Run,
    provisioning_s: float,
    target: float,
    checks: dict[str, Any],
) -> dict[str, Any]:
    stored = int(checks["stored"])
    datastreams = sum(len(streams) for streams in deployed.streams.values())
    return {
        "devices": len(deployed.things),
        "datastreams": datastreams,
        "datastreams_publishing": publisher.streams,
        "provisioning_s": round(provisioning_s, 2),
        "provisioning_devices_per_s": rate(len(deployed.things), provisioning_s),
        "natural_rate_obs_per_s": round(natural_rate(fleet), 2),
        "target_rate_obs_per_s": target,
        "speed_up": round(target / natural_rate(fleet), 1),
        "publish_seconds": round(load.publish_seconds, 2),
        "published_obs_per_s": rate(load.published, load.publish_seconds),
        "acknowledged": load.acknowledged,
        "stored": stored,
        "stored_obs_per_s": rate(stored, load.last_row_after_s),
        "seconds_until_all_stored": round(load.last_row_after_s, 2),
        "stored_during_publishing_obs_per_s": rate(
            load.stored_at_publish_end, load.publish_seconds
        ),
        "backlog_at_publish_end": load.published - load.stored_at_publish_end,
        "store_wait_timed_out": load.store_wait_timed_out,
        "longest_store_stall_s": _longest_stall(load.timeline, load.acknowledged),
        "publisher_cpu_seconds": load.publisher_cpu_seconds,
        "skipped_devices_down": load.skipped_down,
        "published_by_kind": dict(sorted(load.by_kind.items())),
        "timeline": {
            "columns": ["s", "published", "acknowledged", "stored"],
            "rows": [list(sample_) for sample_ in load.timeline],
        },
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }


def _longest_stall(timeline: list[tuple[float, int, int, int]], target: int) -> float:
    """Longest stretch of the timeline in which the stored count stood still below target."""
    longest, since = 0.0, None
    for previous, current in pairwise(timeline):
        if current[3] == previous[3] and current[3] < target:
            since = previous[0] if since is None else since
            longest = max(longest, current[0] - since)
        else:
            since = None
    return round(longest, 1)


def _summary(backend: str, lanterns: int, figures: dict[str, Any], checks: dict[str, Any]) -> str:
    return (
        f"demo {backend}, {lanterns:,} lanterns: {figures['devices']:,} devices, "
        f"{figures['datastreams']:,} Datastreams provisioned in {figures['provisioning_s']:.1f} s; "
        f"target {figures['target_rate_obs_per_s']:,.0f} obs/s (natural "
        f"{figures['natural_rate_obs_per_s']:,.1f}), published "
        f"{figures['published_obs_per_s']:,.0f} obs/s, stored {figures['stored_obs_per_s']:,.0f} "
        f"obs/s ({figures['seconds_until_all_stored']:.0f} s); loss {checks['lost']} of "
        f"{checks['acknowledged']:,} ({'ok' if checks['ok'] else 'MISMATCH'}); server RSS peak "
        f"{figures['server_rss_peak_mib']:.0f} MiB"
    )
