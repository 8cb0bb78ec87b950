"""warning: from the approval of a real alert to "signal started" on every lantern.

A real platform (`stadtkern serve`) on its own database and Mosquitto; N lanterns registered
by CSV import; the reference firmware simulating them in separate processes. Per run: a
warm-up exercise to one lantern, the bare baseline (pre-signed commands through the same
broker to the same fleet), then two Actual alerts to every lantern, approved at t0: one with
acknowledgements sent at once (the latency figures) and one with the firmware's default ack
spread (when the platform has stored 99 % of the answers).
"""

from __future__ import annotations

import os
from typing import Any

from bench.backends import create_database
from bench.common import DEFAULT_OUT_DIR, Options, Result
from bench.mosquitto_ import new_port, service_url, started
from bench.platform_ import SLUG, Server, running
from bench.warning_bare import BareKey
from bench.warning_fleet import running_fleet
from bench.warning_phases import Stage, baseline, ed25519_costs, measure_alert, warm_up
from bench.warning_town import (
    command_keys,
    import_lanterns,
    lantern_codes,
    prepare_town,
    signal_seconds,
)
from stadtkern.settings import MqttSettings

DEFAULT_LANTERNS = 1000
ACK_SPREAD_S = 5.0  # the reference firmware's default (`--ack-spread`)
TARGETS = {"started_within_1s_share": 0.95, "started_within_2s_share": 0.99}


def signal_plays(lanterns: int) -> float:
    """Seconds a signal plays in the run (the firmware's time scale shortens the real ~70 s):
    long enough that "finished" answers mostly come after the "started" ones, short enough
    that the run does not wait minutes between its alerts."""
    return min(12.0, 2.0 + lanterns / 1000)


def mqtt_settings(server: Server) -> dict[str, Any]:
    """The platform's MQTT client settings in effect (environment or default), and warning
    module settings given in the environment (they pass through to the server)."""
    defaults = MqttSettings()
    env = server.env
    settings: dict[str, Any] = {
        name: env.get(f"STADTKERN_MQTT__{name.upper()}", getattr(defaults, name))
        for name in ("inflight", "outbox_batch", "inbound_concurrency", "keepalive")
    }
    prefix = "STADTKERN_MODULE_SETTINGS__WARNING__"
    settings |= {
        f"warning.{name.removeprefix(prefix).lower()}": value
        for name, value in env.items()
        if name.startswith(prefix)
    }
    return settings


def run(options: Options) -> Result:
    """Run the warning delivery benchmark; the result (checked: every lantern started once)."""
    lanterns = options.scale or DEFAULT_LANTERNS
    result = Result(options.name, options.backend, lanterns, options.duration)
    # --keep: a database per size, reused next time (its lanterns need no registering again)
    keep_name = f"stadtkern_bench_warning_{lanterns}" if options.keep else None
    directory = DEFAULT_OUT_DIR / "data" if options.keep else options.work_dir
    directory.mkdir(parents=True, exist_ok=True)
    database = create_database(options.backend, directory, name=keep_name)
    port = new_port()
    codes = lantern_codes(lanterns)
    plays = signal_plays(lanterns)
    try:
        server = Server(database, options.work_dir, mqtt_url=service_url(port))
        staff = prepare_town(server)
        settings = mqtt_settings(server)
        with started(server, port) as broker, running(server):
            registration = import_lanterns(server, staff, codes)
            live, exercise = command_keys(server, staff)
            bare_key = BareKey.new()
            with running_fleet(
                port=port,
                slug=SLUG,
                key=staff.operator,
                codes=codes,
                live=live,
                exercise=exercise | bare_key.provisioning,
                time_scale=signal_seconds() / plays,
                processes=options.workers,
            ) as fleet:
                stage = Stage(
                    server, database, staff, fleet, codes, port, broker.process.pid,
                    bare_key, plays, options.duration,
                )  # fmt: skip
                warm = warm_up(stage)
                crypto = ed25519_costs()
                bare = baseline(stage, int(settings["inflight"]))
                profile_to = options.work_dir / "profile.txt" if options.profile else None
                quick = measure_alert(stage, spread=0.0, profile_to=profile_to)
                spread = measure_alert(stage, spread=ACK_SPREAD_S)
                client_ids = fleet.client_ids
            memory = server.memory()
    finally:
        if not options.keep:
            database.drop()
    result.figures = _figures(quick, spread, bare, warm, memory)
    result.figures["crypto_on_this_machine"] = crypto
    result.figures["setup"] = {
        "registration_s": round(registration.seconds, 2),
        "registration_lanterns_per_s": round(lanterns / registration.seconds, 1),
        "registration_created": registration.created,
        "registration_unchanged": registration.unchanged,
        "fleet_processes": len(client_ids),
        "fleet_client_ids": client_ids,
        "signal_plays_s": plays,
        "signal_real_s": signal_seconds(),
        "platform_mqtt": settings,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }
    result.checks = _checks(quick, spread, bare, lanterns)
    result.summary = _summary(options.backend, lanterns, result.figures, result.checks)
    return result


def _figures(
    quick: dict[str, Any],
    spread: dict[str, Any],
    bare: dict[str, Any],
    warm: dict[str, Any],
    memory: dict[str, float],
) -> dict[str, Any]:
    started = quick["signal_started"]
    bare_started = bare["signal_started"]
    return {
        "signal_started": started,
        "ack_recorded": quick["ack_recorded"],
        "approve_request_s": quick["approve_request_s"],
        "outbox_drained_s": quick["outbox_drained_s"],
        "with_ack_spread": {
            "ack_spread_s": spread["ack_spread_s"],
            "signal_started": spread["signal_started"],
            "ack_recorded": spread["ack_recorded"],
            "received_ack_recorded": spread["received_ack_recorded"],
            "approve_request_s": spread["approve_request_s"],
        },
        "bare_broker": bare,
        "ratio_p95_to_bare": _ratio(started, bare_started, "p95_ms"),
        "ratio_p99_to_bare": _ratio(started, bare_started, "p99_ms"),
        "alert": quick,
        "alert_with_spread": spread,
        "warm_up": warm,
        **memory,
        "targets": TARGETS,
    }


def _ratio(measured: dict[str, Any], base: dict[str, Any], name: str) -> float | None:
    if not base.get(name) or not measured.get(name):
        return None
    return round(float(measured[name]) / float(base[name]), 2)


def _checks(
    quick: dict[str, Any], spread: dict[str, Any], bare: dict[str, Any], lanterns: int
) -> dict[str, Any]:
    """Every lantern started each alert's signal exactly once, and the platform stored it."""
    checks: dict[str, Any] = {}
    for name, phase in (("alert", quick), ("alert_with_spread", spread), ("bare", bare)):
        loss = phase["loss"]
        checks[name] = {
            "missing": loss["missing"],
            "duplicates": loss["duplicates"],
            "recorded_started": loss.get("report_started_at_equal_to_lantern", lanterns),
        }
    checks["ok"] = all(
        check["missing"] == 0 and check["duplicates"] == 0 and check["recorded_started"] == lanterns
        for check in checks.values()
    )
    return checks


def _summary(backend: str, lanterns: int, figures: dict[str, Any], checks: dict[str, Any]) -> str:
    started, acked = figures["signal_started"], figures["ack_recorded"]
    bare = figures["bare_broker"]["signal_started"]
    spread = figures["with_ack_spread"]
    return (
        f"warning {backend}, {lanterns:,} lanterns: signal started p50 {_s(started, 'p50_ms')} "
        f"p95 {_s(started, 'p95_ms')} p99 {_s(started, 'p99_ms')} "
        f"(within 1 s {started.get('share_within_1s', 0):.1%}, 2 s "
        f"{started.get('share_within_2s', 0):.1%}); started ack stored p99 {_s(acked, 'p99_ms')}; "
        f"approve request {figures['approve_request_s']:.2f} s; bare broker p95 "
        f"{_s(bare, 'p95_ms')} (x{figures['ratio_p95_to_bare']}); with "
        f"{spread['ack_spread_s']:g} s ack spread 99 % stored after "
        f"{_s(spread['ack_recorded'], 'p99_ms')}; "
        f"{'every lantern started once' if checks['ok'] else 'LOSS OR DUPLICATES'}; "
        f"server RSS peak {figures['server_rss_peak_mib']:.0f} MiB"
    )


def _s(figures: dict[str, Any], name: str) -> str:
    value = figures.get(name)
    return "-" if value is None else f"{value / 1000:.2f} s"
