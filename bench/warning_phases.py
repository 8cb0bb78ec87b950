"""The measured steps of the warning benchmark: warm-up, the bare baseline, one alert.

Every time is epoch seconds of the one machine clock that the platform, the broker and the
fleet processes share; latencies are seconds after t0, the moment just before the approve
request (baseline: before the first publish) is sent.
"""

from __future__ import annotations

import os
import secrets
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench import profile_
from bench.backends import BenchDatabase
from bench.platform_ import SLUG, Server
from bench.warning_bare import BareKey, publish_all, signed_commands
from bench.warning_fleet import Fleet, FleetReport
from bench.warning_town import (
    Staff,
    Watch,
    alert_body,
    alert_id,
    create_alert,
    drained_after,
    recorded_times,
)

WITHIN = (1.0, 2.0)  # the targets' bounds: 95 % within 1 s, 99 % within 2 s


@dataclass(frozen=True)
class Stage:
    """What every step needs: the running parts and the run's constants."""

    server: Server
    database: BenchDatabase
    staff: Staff
    fleet: Fleet
    codes: list[str]
    port: int
    broker_pid: int
    bare_key: BareKey  # the baseline's key, provisioned in the lanterns
    signal_plays_s: float  # how long a signal plays at the fleet's time scale
    timeout: float  # longest wait for every lantern's answer


def distribution(latencies: list[float], expected: int) -> dict[str, Any]:
    """p50/p95/p99/max in ms, and the shares within 1 s and 2 s of the `expected` count (a
    missing answer counts as late)."""
    if not latencies:
        return {"n": 0}
    ordered = sorted(latencies)

    def pick(fraction: float) -> float:
        index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
        return round(ordered[index] * 1000, 1)

    figures: dict[str, Any] = {
        "n": len(ordered),
        "min_ms": round(ordered[0] * 1000, 1),
        "p50_ms": pick(0.50),
        "p95_ms": pick(0.95),
        "p99_ms": pick(0.99),
        "max_ms": round(ordered[-1] * 1000, 1),
    }
    for bound in WITHIN:
        within = sum(1 for value in ordered if value <= bound)
        figures[f"share_within_{bound:g}s"] = round(within / max(expected, 1), 4)
    return figures


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = ticks[3] + ticks[4]
    hz = os.sysconf("SC_CLK_TCK")
    return (sum(ticks) - idle) / hz, sum(ticks) / hz


def ed25519_costs(rounds: int = 300) -> dict[str, float]:
    """Microseconds per Ed25519 signature and verification of a command-sized message on this
    machine now: every command is signed once and every report verified once by the platform,
    and the reverse by each lantern, so these set the floor of the whole run."""
    key = Ed25519PrivateKey.generate()
    message = secrets.token_bytes(700)
    started = time.perf_counter()
    for _ in range(rounds):
        signature = key.sign(message)
    signed = time.perf_counter()
    public = key.public_key()
    for _ in range(rounds):
        public.verify(signature, message)
    verified = time.perf_counter()
    return {
        "ed25519_sign_us": round((signed - started) / rounds * 1e6, 1),
        "ed25519_verify_us": round((verified - signed) / rounds * 1e6, 1),
    }


def warm_up(stage: Stage) -> dict[str, Any]:
    """An exercise to the first lantern only: the platform is connected and subscribed, the
    lantern answers, and the code paths of a dispatch have run once."""
    body = alert_body("Exercise", f"warm-up {secrets.token_hex(3)}", radius_km=0.01)
    body |= {"signal": "none", "speak": False}
    started = time.time()
    identifier = create_alert(stage.server, stage.staff, body)
    watch = Watch(stage.database, alert_id(stage.database, identifier))
    watch.start()
    try:
        if not watch.wait(lambda s: s.finished >= 1, timeout=60):
            raise RuntimeError("the warm-up exercise was not acknowledged within 60 s")
    finally:
        watch.stop()
    stage.fleet.report([identifier])
    return {"seconds": round(time.time() - started, 3), "lanterns": 1}


def baseline(stage: Stage, window: int) -> dict[str, Any]:
    """Pre-signed commands straight through the broker to the same fleet (see warning_bare)."""
    alert = f"bench-bare-{secrets.token_hex(4)}"
    packets = signed_commands(SLUG, stage.codes, stage.bare_key, alert)
    stage.fleet.report([])  # forget earlier arrivals
    marks = _marks(stage)
    published = publish_all(stage.port, stage.staff.operator, packets, window)
    deadline = time.monotonic() + stage.timeout
    while stage.fleet.count([alert]) < len(stage.codes) and time.monotonic() < deadline:
        time.sleep(0.05)
    report = stage.fleet.report([alert])
    cpu = _cpu_since(stage, marks, report)
    t0, n = published.t0, len(stage.codes)
    time.sleep(stage.signal_plays_s + 1)  # the signals end before the next step
    return {
        "method": "pre-signed exercise commands, one raw-socket QoS 1 publisher, "
        f"{window} in flight, same broker and fleet",
        "window": window,
        "publish_seconds": round(published.all_acknowledged - t0, 3),
        "signal_started": distribution([at - t0 for _c, _a, at in report.started], n),
        "command_arrived": distribution(_first_arrivals(report, t0), n),
        "loss": _loss(report, n),
        "cpu_seconds": cpu,
    }


def measure_alert(stage: Stage, *, spread: float, profile_to: Path | None = None) -> dict[str, Any]:
    """Issue an Actual alert to every lantern, approve it at t0 and follow it until every
    lantern's started and finished answers are stored."""
    n = len(stage.codes)
    stage.fleet.spread(spread)
    body = alert_body("Actual", f"spread {spread:g}, {secrets.token_hex(3)}")
    identifier = create_alert(stage.server, stage.staff, body)
    # Each look counts the alert's rows: fine-grained for small fleets, cheaper for large ones.
    interval = 0.02 if n <= 2000 else 0.05
    watch = Watch(stage.database, alert_id(stage.database, identifier), interval)
    watch.start()
    spy = None
    if profile_to is not None and stage.server.process is not None:
        spy = profile_.start(stage.server.process.pid, 5 + n / 250, profile_to)
        time.sleep(1.0)  # py-spy attaches
    try:
        watch.wait(lambda s: True, timeout=10)
        stage.fleet.report([])  # forget earlier arrivals
        marks = _marks(stage)
        t0 = time.time()
        status, answer = stage.server.request(
            "POST",
            f"/{SLUG}/warning/alerts/{identifier}/approve",
            None,
            Staff.bearer(stage.staff.approver),
        )
        answered = time.time()
        if status != 200:
            raise RuntimeError(f"approve answered {status}: {answer}")
        all_started = watch.wait(lambda s: s.started >= n, timeout=stage.timeout)
        report = stage.fleet.report([identifier])
        cpu = _cpu_since(stage, marks, report)
        watch.wait(
            lambda s: s.finished >= n and s.outbox == 0,
            timeout=stage.signal_plays_s + spread + stage.timeout,
        )
    finally:
        watch.stop()
    profile = profile_.finish(spy, profile_to) if profile_to is not None else None
    samples = watch.samples
    finished = recorded_times(samples, "finished", t0)
    figures: dict[str, Any] = {
        "alert": identifier,
        "ack_spread_s": spread,
        "approve_request_s": round(answered - t0, 3),
        "signal_started": distribution([at - t0 for _c, _a, at in report.started], n),
        "command_arrived": distribution(_first_arrivals(report, t0), n),
        # every report (received, started; finished when the signal ended meanwhile) whose
        # PUBACK the fleet got before all starts were stored: when the broker had it
        "report_at_broker": distribution([at - t0 for at in report.reports_at_broker], 2 * n),
        "ack_recorded": distribution(recorded_times(samples, "started", t0), n),
        "received_ack_recorded": distribution(recorded_times(samples, "received", t0), n),
        "outbox_drained_s": _round(drained_after(samples, t0, answered)),
        "all_finished_recorded_s": round(finished[-1], 3) if len(finished) >= n else None,
        "watch_interval_ms": round(watch.interval * 1000),
        "loss": _loss(report, n) | _stored(stage, identifier, report, all_started),
        "cpu_seconds": cpu,
        "fleet_reports_sent": report.reports_sent,
    }
    if profile is not None:
        figures["server_profile"] = profile
    return figures


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _first_arrivals(report: FleetReport, t0: float) -> list[float]:
    """Seconds after t0 at which each command topic first got a message (a resend by the
    platform, or a redelivery by the broker, arrives again later)."""
    first: dict[str, float] = {}
    for topic, at in report.received:
        first.setdefault(topic, at)
    return [at - t0 for at in first.values()]


def _loss(report: FleetReport, expected: int) -> dict[str, Any]:
    """Every lantern must have started the signal exactly once."""
    per_lantern = Counter(code for code, _alert, _at in report.started)
    topics = {topic for topic, _at in report.received}
    return {
        "targeted": expected,
        "lanterns_started": len(per_lantern),
        "missing": expected - len(per_lantern),
        "duplicates": sum(count - 1 for count in per_lantern.values()),
        "commands_arrived": len(topics),
        "commands_arrived_again": len(report.received) - len(topics),
    }


def _stored(
    stage: Stage, identifier: str, report: FleetReport, all_started: bool
) -> dict[str, Any]:
    """What the platform holds: its coverage and the per-lantern report, compared with what
    the lanterns themselves did."""
    headers = Staff.bearer(stage.staff.operator)
    path = f"/{SLUG}/warning/alerts/{identifier}"
    status, alert = stage.server.request("GET", path, None, headers)
    coverage = alert.get("coverage") if status == 200 and isinstance(alert, dict) else None
    fleet_times = {code: at for code, _alert, at in report.started}
    rows: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        page_path = f"{path}/deliveries?limit=10000" + (f"&after={after}" if after else "")
        status, page = stage.server.request("GET", page_path, None, headers)
        if status != 200 or not page:
            break
        rows += page
        after = page[-1]["lantern"]
    matching = sum(
        1
        for row in rows
        if row["startedAt"] is not None
        and row["lantern"] in fleet_times
        and abs(datetime.fromisoformat(row["startedAt"]).timestamp() - fleet_times[row["lantern"]])
        < 0.001
    )
    return {
        "all_started_recorded_in_time": all_started,
        "coverage": coverage,
        "report_rows": len(rows),
        "report_started_at_equal_to_lantern": matching,
    }


@dataclass(frozen=True)
class _Marks:
    platform: float
    broker: float
    machine: tuple[float, float]
    at: float


def _marks(stage: Stage) -> _Marks:
    pid = stage.server.process.pid if stage.server.process is not None else 0
    return _Marks(cpu_seconds(pid), cpu_seconds(stage.broker_pid), machine_busy(), time.time())


def _cpu_since(stage: Stage, marks: _Marks, report: FleetReport) -> dict[str, float]:
    """CPU seconds each part used since the marks, and how busy the machine was."""
    now = _marks(stage)
    busy = now.machine[0] - marks.machine[0]
    total = now.machine[1] - marks.machine[1]
    return {
        "wall": round(now.at - marks.at, 3),
        "platform": round(now.platform - marks.platform, 3),
        "broker": round(now.broker - marks.broker, 3),
        "fleet": round(report.cpu_seconds, 3),
        "machine_busy_share": round(busy / total, 3) if total > 0 else 0.0,
    }
