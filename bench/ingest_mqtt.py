"""ingest-mqtt: many QoS 1 publishers through an authenticated Mosquitto into the platform,
next to the bare broker (a plain subscriber, same load, same run) and the database's ceiling."""

from __future__ import annotations

import time
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from bench import profile_
from bench.backends import BenchDatabase, create_database, loss_check, measure_ceiling
from bench.common import Options, Result, StreamSums, rate
from bench.mosquitto_ import new_port, service_url, started
from bench.mqtt_load import MqttPlan, bare_broker, publish
from bench.platform_ import SLUG, Server, make_streams, running

TARGETS = {"obs_per_s": 10_000, "ratio_to_bare_broker": 0.8, "server_rss_mib": 300}


def run(options: Options) -> Result:
    """Run the MQTT ingest benchmark; the result (also checked for loss)."""
    result = Result(options.name, options.backend, options.scale, options.duration)
    publishers = options.workers * options.connections
    database = create_database(options.backend, options.work_dir)
    port = new_port()
    try:
        server = Server(database, options.work_dir, mqtt_url=service_url(port))
        key = server.prepare()
        tenant_id = database.tenant_id(SLUG)
        with started(server, port), running(server):
            streams = make_streams(server, key, publishers + 1)
            probe = streams.pop()
            _await_platform(port, key, probe, database, tenant_id)
            plan = MqttPlan(
                port=port,
                slug=SLUG,
                key=key,
                prefix="bench",
                streams=tuple(streams),
                duration=options.duration,
                workers=options.workers,
                base_epoch=int(time.time()) // 86400 * 86400 - 2 * 86400,
                max_per_publisher=-(-options.scale // publishers),
            )
            bare = bare_broker(plan)
            before = database.count_observations(tenant_id)
            plan = MqttPlan(**{**plan.__dict__, "prefix": "v1.1"})
            spy = (
                profile_.start(
                    server.process.pid, options.duration, options.work_dir / "profile.txt"
                )
                if options.profile and server.process is not None
                else None
            )
            tally, began = publish(plan)
            finished = _await_stored(database, tenant_id, before + tally.rows_acked)
            memory = server.memory()
        profile = (
            profile_.finish(spy, options.work_dir / "profile.txt") if options.profile else None
        )
        every = database.stream_sums(tenant_id)
        stored = {s: sums for s, sums in every.items() if s != probe}
        total = database.count_observations(tenant_id) - every.get(probe, StreamSums()).count
        checks = loss_check(tally.sums, stored, total)
        ceiling = measure_ceiling(database, tenant_id, options.ceiling_rows).as_dict()
    finally:
        if not options.keep:
            database.drop()
    seconds = max(finished - began, 1e-9)
    observations = rate(tally.rows_acked, seconds)
    figures: dict[str, Any] = {
        "obs_per_s": observations,
        "seconds_until_all_stored": round(seconds, 2),
        "publishers": publishers,
        "publisher_processes": options.workers,
        "messages_acknowledged_by_broker": tally.rows_acked,
        "publish_acks_per_s": rate(tally.rows_acked, tally.elapsed),
        "publisher_cpu_seconds": round(tally.cpu_seconds, 2),
        "unacknowledged_publishes": tally.unanswered,
        "bare_broker": bare,
        "ratio_to_bare_broker": round(observations / max(bare["msgs_per_s"], 1e-9), 3),
        "ceiling": ceiling,
        "ratio_to_ceiling": round(observations / ceiling["obs_per_s"], 3),
        **memory,
        "targets": TARGETS,
    }
    if profile is not None:
        figures["server_profile"] = profile
    if tally.first_error:
        result.notes.append(f"first error: {tally.first_error}")
    result.figures = figures
    result.checks = checks
    result.summary = (
        f"ingest-mqtt {options.backend}: {observations:,.0f} obs/s stored ({publishers} "
        f"publishers, QoS 1, {seconds:.0f} s), bare broker {bare['msgs_per_s']:,.0f} msg/s "
        f"({figures['ratio_to_bare_broker']:.0%}), DB ceiling {ceiling['obs_per_s']:,.0f} obs/s; "
        f"loss {checks['lost']} of {checks['acknowledged']} "
        f"({'ok' if checks['ok'] else 'MISMATCH'}); server RSS peak "
        f"{memory['server_rss_peak_mib']:.0f} MiB"
    )
    return result


def _await_platform(
    port: int, key: str, probe: int, database: BenchDatabase, tenant_id: int
) -> None:
    """Publish to the probe Datastream until the platform stores it: it is subscribed."""
    client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
    client.username_pw_set(key.split("_")[1], key)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            client.publish(f"{SLUG}/v1.1/Datastreams({probe})/Observations", '{"result": 1}', qos=1)
            time.sleep(0.5)
            if database.count_observations(tenant_id) > 0:
                return
        raise RuntimeError("the platform stored no Observation sent over MQTT within 60 s")
    finally:
        client.disconnect()
        client.loop_stop()


def _await_stored(database: BenchDatabase, tenant_id: int, target: int) -> float:
    """Wait until the tenant holds at least `target` rows and no more arrive for 3 s (a
    redelivered duplicate may reach the count early), or none arrive for 30 s; the time of
    the last row seen arriving."""
    seen, changed = -1, time.time()
    while True:
        count = database.count_observations(tenant_id)
        now = time.time()
        if count != seen:
            seen, changed = count, now
        quiet = now - changed
        if (count >= target and quiet > 3) or quiet > 30:
            return changed
        time.sleep(0.1)
