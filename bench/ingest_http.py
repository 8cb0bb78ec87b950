"""ingest-http (CreateObservations) and ingest-post (one Observation per POST) against a real
`stadtkern serve`, with the database's bulk ceiling and the generator's ceiling of the run."""

from __future__ import annotations

import subprocess
import time
from typing import Any

from bench import profile_
from bench.backends import create_database, loss_check, measure_ceiling
from bench.common import Options, Result, percentiles, rate
from bench.loadgen import LoadPlan, generator_ceiling, run_load
from bench.platform_ import SLUG, Server, make_streams, running

TARGETS = {
    "ingest-http": {"obs_per_s": 100_000, "ratio_to_ceiling": 0.5, "server_rss_mib": 300},
    "ingest-post": {"requests_per_s": 2_000, "server_rss_mib": 300},
}


def run(options: Options) -> Result:
    """Run one HTTP ingest benchmark; the result (also checked for loss)."""
    mode = "create" if options.name == "ingest-http" else "post"
    result = Result(options.name, options.backend, options.scale, options.duration)
    database = create_database(options.backend, options.work_dir)
    try:
        server = Server(database, options.work_dir)
        key = server.prepare()
        tenant_id = database.tenant_id(SLUG)
        with running(server):
            streams = make_streams(server, key, options.streams)
            plan = LoadPlan(
                port=server.port,
                mode=mode,
                slug=SLUG,
                key=key,
                streams=tuple(streams),
                rows_per_request=options.rows_per_request if mode == "create" else 1,
                duration=options.duration,
                workers=options.workers,
                connections=options.connections,
                base_epoch=int(time.time()) // 86400 * 86400 - 2 * 86400,
                max_rows_per_lane=-(-options.scale // (options.workers * options.connections)),
            )
            spy = _spy(options, server)
            cpu_before = server.cpu_seconds()
            tally = run_load(plan)
            server_cpu = server.cpu_seconds() - cpu_before
            memory = server.memory()
        profile = (
            profile_.finish(spy, options.work_dir / "profile.txt") if options.profile else None
        )
        stored = database.stream_sums(tenant_id)
        checks = loss_check(tally.sums, stored, database.count_observations(tenant_id))
        ceiling = measure_ceiling(database, tenant_id, options.ceiling_rows)
        generator = (
            generator_ceiling(plan, min(options.duration, options.generator_seconds))
            if options.generator_seconds > 0
            else {"obs_per_s": 0.0, "note": "not measured (--generator-seconds 0)"}
        )
    finally:
        if not options.keep:
            database.drop()
    elapsed = tally.elapsed
    observations = rate(tally.rows_acked, elapsed)
    ceiling_figures = ceiling.as_dict()
    figures: dict[str, Any] = {
        "obs_per_s": observations,
        "requests_per_s": rate(tally.requests, elapsed),
        "ratio_to_ceiling": round(observations / ceiling_figures["obs_per_s"], 3),
        "ratio_to_ceiling_with_foreign_keys": round(
            observations / ceiling_figures["obs_per_s_with_foreign_keys"], 3
        ),
        "seconds": round(elapsed, 2),
        "rows_acknowledged": tally.rows_acked,
        "rows_refused": tally.rows_refused,
        "requests": tally.requests,
        "answers_503": tally.retries_503,
        "failed_requests": tally.failed_requests,
        "unanswered_requests": tally.unanswered,
        "statuses": tally.statuses,
        "per_second": tally.sustained(),
        # The server's CPU time over the load (spawning the generator included): per request,
        # it is what bounds one process, and it varies less with the machine's other load.
        "server_cpu_seconds": round(server_cpu, 2),
        "server_cpu_ms_per_request": round(1000 * server_cpu / max(tally.requests, 1), 3),
        "latency": percentiles(tally.latencies),
        "ceiling": ceiling_figures,
        "generator": {
            "processes": options.workers,
            "connections": options.workers * options.connections,
            "rows_per_request": plan.rows_per_request,
            "cpu_seconds_during_run": round(tally.cpu_seconds, 2),
            "cpu_share_of_machine": round(tally.cpu_seconds / (elapsed * (_cores() or 1)), 3),
            "ceiling": generator,
        },
        "datastreams": len(streams),
        **memory,
        "targets": TARGETS[options.name],
    }
    if profile is not None:
        figures["server_profile"] = profile
    if tally.first_error:
        result.notes.append(f"first error: {tally.first_error}")
    result.figures = figures
    result.checks = checks
    unit = "obs/s" if mode == "create" else "req/s"
    headline = observations if mode == "create" else figures["requests_per_s"]
    result.summary = (
        f"{options.name} {options.backend}: {headline:,.0f} {unit} over {elapsed:.0f} s, "
        f"{figures['ratio_to_ceiling']:.0%} of the {ceiling.method} ceiling "
        f"({ceiling_figures['obs_per_s']:,.0f} obs/s); generator ceiling "
        f"{generator['obs_per_s']:,.0f} obs/s; loss {checks['lost']} of "
        f"{checks['acknowledged']} ({'ok' if checks['ok'] else 'MISMATCH'}); "
        f"server RSS peak {memory['server_rss_peak_mib']:.0f} MiB"
    )
    return result


def _spy(options: Options, server: Server) -> subprocess.Popen[bytes] | None:
    """py-spy on the server for the load's duration (when --profile)."""
    if not options.profile or server.process is None:
        return None
    return profile_.start(server.process.pid, options.duration, options.work_dir / "profile.txt")


def _cores() -> int:
    import os

    return os.cpu_count() or 1
