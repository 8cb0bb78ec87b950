"""query: a large Observations table made quickly (and resumably), then p50/p95 of the read
paths of issue 4 through the HTTP API of a running server.

Layout for --scale N: one "year" Datastream with one year of 1-minute data (525,600 rows, or
N/2 when N is small), and `--streams` Datastreams (default 10,000) sharing the rest at
10-minute spacing, all ending now. The rows are written straight into the database (PostgreSQL:
INSERT ... SELECT generate_series in the server, per chunk of Datastreams, one transaction
each; SQLite: executemany), so an interrupted generation resumes where it stopped (--keep).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import psycopg

from bench import profile_
from bench.backends import BenchDatabase, create_database
from bench.common import DEFAULT_OUT_DIR, Options, Result, percentiles
from bench.platform_ import MEASUREMENT, SLUG, Server, running

YEAR_ROWS = 525_600
CHUNK_STREAMS = 100
TARGETS_MS = {"top100_desc": 10, "count_estimate": 100, "aggregate_hourly_year": 200,
              "latest_10000": 50}  # fmt: skip
LATEST_COLUMNS_FROM = {"observation_id": "id"}
ROLLUPS_ON = {"STADTKERN_MODULE_SETTINGS__SENSORTHINGS__AGGREGATE_ROLLUPS": "true"}
HOUR_OF = {
    "postgres": "floor(extract(epoch FROM phenomenon_time_start) / 3600)::bigint * 3600",
    "sqlite": "(CAST(strftime('%s', phenomenon_time_start) AS INTEGER) / 3600) * 3600",
}  # times after 1970 only: the generated ones end now


def run(options: Options) -> Result:
    """Generate (or reuse) the table, start the server, time the queries."""
    result = Result(options.name, options.backend, options.scale, options.duration)
    scale = options.scale or 100_000
    year_rows = min(YEAR_ROWS, scale // 2)
    streams_wanted = min(options.streams, max(5, (scale - year_rows) // 50))
    per_stream, extra = divmod(max(streams_wanted, scale - year_rows), streams_wanted)
    keep_name = f"stadtkern_bench_query_{scale}" if options.keep else None
    directory = (DEFAULT_OUT_DIR / "data") if options.keep else options.work_dir
    directory.mkdir(parents=True, exist_ok=True)
    database = create_database(options.backend, directory, name=keep_name)
    try:
        # $aggregate of whole hours reads the hourly rollups, filled below with the rows
        server = Server(database, options.work_dir, extra_env=dict(ROLLUPS_ON))
        key = server.prepare()
        tenant_id = database.tenant_id(SLUG)
        with running(server):
            year, others, foi = _entities(server, database, key, tenant_id, streams_wanted)
            # the server idles meanwhile: the rows go straight into the database
            started = time.perf_counter()
            generated = _generate(
                database, tenant_id, foi, year, others, year_rows, per_stream, extra
            )
            generation = time.perf_counter() - started
            total = database.count_observations(tenant_id)
            queries = _measure(server, key, year, len(others) + 1, year_rows, options.repeat)
            if options.profile:
                _profile_misses(server, key, queries, options)
    finally:
        if not options.keep:
            database.drop()
    result.figures = {
        "observations": total,
        "year_datastream_rows": year_rows,
        "datastreams": len(others) + 1,
        "rows_per_other_datastream": per_stream,
        "generation": {
            "rows_written_now": generated,
            "seconds": round(generation, 1),
            "rows_per_s": round(generated / generation, 1) if generation > 0 else None,
            "resumed": generated < total,
        },
        "queries": queries,
        "targets_p95_ms": TARGETS_MS,
    }
    result.checks = {
        "ok": all(q.get("correct", True) for q in queries.values()),
        "incorrect": [name for name, q in queries.items() if q.get("correct") is False],
    }
    parts = []
    for name, figures in queries.items():
        if figures.get("available"):
            parts.append(f"{name} p95 {figures['p95_ms']:.1f} ms")
        else:
            parts.append(f"{name} n/a")
    result.summary = f"query {options.backend} on {total:,} observations: " + "; ".join(parts)
    return result


# --- entities: a Sensor, an ObservedProperty, a FeatureOfInterest, Things with Datastreams --


def _entities(
    server: Server, database: BenchDatabase, key: str, tenant_id: int, wanted: int
) -> tuple[int, list[int], int]:
    """The year Datastream, the others and the FeatureOfInterest (made once, then reused)."""
    headers = {"Authorization": f"Bearer {key}"}
    existing = _stream_ids(database, tenant_id)
    if not existing:
        _post(server, "FeaturesOfInterest", headers, {
            "name": "Kaiserslautern", "description": "The town", "encodingType":
            "application/geo+json", "feature": {"type": "Point", "coordinates": [7.77, 49.44]},
        })  # fmt: skip
    sensor = _post(server, "Sensors", headers, {
        "name": "SDS011", "description": "Laser dust sensor", "encodingType": "text/html",
        "metadata": "https://example.org/sds011",
    }) if len(existing) < wanted + 1 else 0  # fmt: skip
    prop = _post(server, "ObservedProperties", headers, {
        "name": "PM10", "definition": "https://example.org/pm10", "description": "PM10",
    }) if len(existing) < wanted + 1 else 0  # fmt: skip
    number = len(existing)
    while number < wanted + 1:
        size = min(1000, wanted + 1 - number)
        requests = [
            {"id": str(i), "method": "post", "url": "Things",
             "body": _thing(number + i, sensor, prop)}
            for i in range(size)
        ]  # fmt: skip
        status, answer = server.request(
            "POST", f"/{SLUG}/v1.1/$batch", {"requests": requests}, headers
        )
        failed = [r for r in (answer or {}).get("responses", []) if r.get("status") != 201]
        if status != 200 or failed:
            raise RuntimeError(f"$batch of Things answered {status}: {str(failed or answer)[:500]}")
        number += size
    streams = _stream_ids(database, tenant_id)
    mark = "%s" if database.backend == "postgres" else "?"
    with database.connect() as conn:
        foi = conn.execute(
            f"SELECT min(id) FROM sta_feature_of_interest WHERE tenant_id = {mark}",  # noqa: S608
            (tenant_id,),
        ).fetchone()[0]
    return streams[0], streams[1 : wanted + 1], int(foi)


def _stream_ids(database: BenchDatabase, tenant_id: int) -> list[int]:
    mark = "%s" if database.backend == "postgres" else "?"
    with database.connect() as conn:
        rows = conn.execute(
            f"SELECT id FROM sta_datastream WHERE tenant_id = {mark} ORDER BY id",  # noqa: S608
            (tenant_id,),
        ).fetchall()
    return [int(row[0]) for row in rows]


def _post(server: Server, path: str, headers: dict[str, str], body: dict[str, Any]) -> int:
    status, answer = server.request("POST", f"/{SLUG}/v1.1/{path}", body, headers)
    if status != 201:
        raise RuntimeError(f"POST {path} answered {status}: {answer}")
    return int(answer["@iot.id"])


def _thing(number: int, sensor: int, prop: int) -> dict[str, Any]:
    return {
        "name": f"Lantern {number}",
        "description": "Smart lantern",
        "properties": {"kind": "lantern"},
        "Locations": [{
            "name": f"Mast {number}", "description": "Lantern mast",
            "encodingType": "application/geo+json",
            "location": {"type": "Point",
                         "coordinates": [7.70 + (number % 100) / 1000, 49.40 + number / 1e6]},
        }],
        "Datastreams": [{
            "name": f"PM10 {number}", "description": "Particulate matter",
            "observationType": MEASUREMENT,
            "unitOfMeasurement": {"name": "µg/m³", "symbol": "µg/m³", "definition": "ugm3"},
            "Sensor": {"@iot.id": sensor}, "ObservedProperty": {"@iot.id": prop},
        }],
    }  # fmt: skip


# --- generation ------------------------------------------------------------------------------


def _generate(
    database: BenchDatabase,
    tenant_id: int,
    foi: int,
    year: int,
    others: list[int],
    year_rows: int,
    per_stream: int,
    extra: int,
) -> int:
    """Write the rows still missing, chunk by chunk; how many were written now.

    The first `extra` of the other streams get one row more, so the table holds exactly
    --scale rows."""
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    have = _counts(database, tenant_id)
    plan: list[tuple[list[int], int, int]] = []
    if have.get(year, 0) != year_rows:
        plan.append(([year], year_rows, 60))
    for group, rows in ((others[:extra], per_stream + 1), (others[extra:], per_stream)):
        todo = [s for s in group if have.get(s, 0) != rows]
        plan += [
            (todo[i : i + CHUNK_STREAMS], rows, 600) for i in range(0, len(todo), CHUNK_STREAMS)
        ]
    written = 0
    with database.connect() as conn:
        if database.backend == "postgres":
            conn.execute("SET synchronous_commit = off")
            # generated rows are valid by construction: skip the per-row FK checks (only a
            # superuser may; otherwise they stay)
            with contextlib.suppress(psycopg.Error):
                conn.execute("SET session_replication_role = replica")
        latest = _latest_columns(conn, database.backend)
        for streams, rows, step in plan:
            if database.backend == "postgres":
                _pg_chunk(conn, tenant_id, foi, streams, rows, step, end, latest)
            else:
                _sqlite_chunk(conn, tenant_id, foi, streams, rows, step, end, latest)
            written += rows * len(streams)
        if database.backend == "postgres" and written:
            conn.execute("VACUUM (ANALYZE) sta_observation")
        elif written:
            conn.execute("ANALYZE")
    return written


def _counts(database: BenchDatabase, tenant_id: int) -> dict[int, int]:
    mark = "%s" if database.backend == "postgres" else "?"
    with database.connect() as conn:
        rows = conn.execute(
            "SELECT datastream_id, count(*) FROM sta_observation "  # noqa: S608
            f"WHERE tenant_id = {mark} GROUP BY datastream_id",
            (tenant_id,),
        ).fetchall()
    return {int(stream): int(count) for stream, count in rows}


def _latest_columns(conn: Any, backend: str) -> list[str]:
    """Columns of the latest-value table (engineer I's), or [] when it does not exist yet."""
    if backend == "postgres":
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = "
            "'sta_latest_observation' ORDER BY ordinal_position"
        ).fetchall()
    else:
        rows = [(r[1],) for r in conn.execute("PRAGMA table_info(sta_latest_observation)")]
    return [str(row[0]) for row in rows]


def _pg_chunk(
    conn: Any,
    tenant_id: int,
    foi: int,
    streams: list[int],
    rows: int,
    step: int,
    end: datetime,
    latest: list[str],
) -> None:
    with conn.transaction():
        conn.execute("DELETE FROM sta_observation WHERE datastream_id = ANY(%s)", (streams,))
        conn.execute(
            "INSERT INTO sta_observation (tenant_id, datastream_id, feature_of_interest_id, "
            "phenomenon_time_start, result_type, result_number) "
            "SELECT %s, d, %s, %s - make_interval(secs => g * %s), 1, ((g * 7 + d) %% 4000) / 4.0 "
            "FROM unnest(%s::bigint[]) AS d, generate_series(0, %s - 1) AS g",
            (tenant_id, foi, end, step, streams, rows),
        )
        conn.execute(
            "UPDATE sta_datastream SET phenomenon_time_start = %s, phenomenon_time_end = %s "
            "WHERE id = ANY(%s)",
            (end - timedelta(seconds=step * (rows - 1)), end, streams),
        )
        conn.execute("DELETE FROM sta_observation_hour WHERE datastream_id = ANY(%s)", (streams,))
        conn.execute(_hours_of("postgres", "datastream_id = ANY(%s)"), (streams,))
        if latest:
            names = ", ".join(latest)
            sources = ", ".join(LATEST_COLUMNS_FROM.get(c, c) for c in latest)
            updates = ", ".join(f"{c} = excluded.{c}" for c in latest if c != "datastream_id")
            conn.execute(
                f"INSERT INTO sta_latest_observation ({names}) "  # noqa: S608
                # the newest row of each stream is the one at `end` (g = 0): an index lookup
                f"SELECT {sources} FROM sta_observation "
                "WHERE datastream_id = ANY(%s) AND phenomenon_time_start = %s "
                f"ON CONFLICT (datastream_id) DO UPDATE SET {updates}",
                (streams, end),
            )


def _sqlite_chunk(
    conn: Any,
    tenant_id: int,
    foi: int,
    streams: list[int],
    rows: int,
    step: int,
    end: datetime,
    latest: list[str],
) -> None:
    stamps = [
        (end - timedelta(seconds=g * step)).strftime("%Y-%m-%d %H:%M:%S.000000")
        for g in range(rows)
    ]
    conn.execute("BEGIN IMMEDIATE")
    marks = ",".join("?" * len(streams))
    conn.execute(f"DELETE FROM sta_observation WHERE datastream_id IN ({marks})", streams)  # noqa: S608
    conn.executemany(
        "INSERT INTO sta_observation (tenant_id, datastream_id, feature_of_interest_id, "
        "phenomenon_time_start, result_type, result_number) VALUES (?, ?, ?, ?, 1, ?)",
        (
            (tenant_id, d, foi, stamps[g], ((g * 7 + d) % 4000) / 4)
            for d in streams
            for g in range(rows)
        ),
    )
    conn.execute(
        f"UPDATE sta_datastream SET phenomenon_time_start = ?, phenomenon_time_end = ? "  # noqa: S608
        f"WHERE id IN ({marks})",
        [stamps[-1], stamps[0], *streams],
    )
    conn.execute(f"DELETE FROM sta_observation_hour WHERE datastream_id IN ({marks})", streams)  # noqa: S608
    conn.execute(_hours_of("sqlite", f"datastream_id IN ({marks})"), streams)
    if latest:
        names = ", ".join(latest)
        sources = ", ".join(LATEST_COLUMNS_FROM.get(c, c) for c in latest)
        conn.executemany(
            f"INSERT OR REPLACE INTO sta_latest_observation ({names}) "  # noqa: S608
            f"SELECT {sources} FROM sta_observation WHERE id = (SELECT id FROM sta_observation "
            "WHERE datastream_id = ? ORDER BY phenomenon_time_start DESC, id DESC LIMIT 1)",
            [(d,) for d in streams],
        )
    conn.execute("COMMIT")


def _hours_of(backend: str, streams: str) -> str:
    """The hourly rollups of the chunk's Datastreams (their old hours are deleted first)."""
    hour = HOUR_OF[backend]
    return (
        "INSERT INTO sta_observation_hour (datastream_id, hour, tenant_id, value_count, "  # noqa: S608
        f"value_sum, value_min, value_max) SELECT datastream_id, {hour}, min(tenant_id), "
        "count(result_number), sum(result_number), min(result_number), max(result_number) "
        f"FROM sta_observation WHERE {streams} AND result_number IS NOT NULL "
        f"GROUP BY datastream_id, {hour}"
    )


# --- measurement -----------------------------------------------------------------------------


class Client:
    """One keep-alive connection to the server, with the operator's key."""

    def __init__(self, port: int, key: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        self.headers = {"Authorization": f"Bearer {key}"}

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def get(self, path: str) -> tuple[int, Any, float]:
        """Status, decoded body and seconds of one GET."""
        started = time.perf_counter()
        self.conn.request("GET", path, headers=self.headers)
        response = self.conn.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - started
        try:
            body = json.loads(data) if data else None
        except ValueError:
            body = data[:300].decode(errors="replace")
        return response.status, body, elapsed


def _measure(
    server: Server, key: str, year: int, streams: int, year_rows: int, repeat: int
) -> dict[str, dict[str, Any]]:
    client = Client(server.port, key)
    base = f"/{SLUG}/v1.1"
    end = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    start = end - timedelta(days=366)
    results: dict[str, dict[str, Any]] = {}
    results["top100_desc"] = _timed(
        client,
        f"{base}/Datastreams({year})/Observations?$top=100&$orderby=phenomenonTime%20desc",
        repeat,
        lambda body: _check_top(body, min(100, year_rows)),
    )
    results["count_estimate"] = _timed(
        client,
        f"{base}/Observations?$count=true&$top=1&countMode=estimate",
        repeat,
        lambda body: isinstance(body.get("@iot.count"), int) and body["@iot.count"] > 0,
        needs=lambda body: "@iot.countMode" in body,
    )
    results["count_estimate"]["mode_answered"] = None
    if results["count_estimate"]["available"]:
        _status, answer, _ = client.get(results["count_estimate"]["path"])
        results["count_estimate"]["mode_answered"] = answer.get("@iot.countMode")
        results["count_estimate"]["count_answered"] = answer.get("@iot.count")
    results["count_exact_reference"] = _timed(
        client, f"{base}/Observations?$count=true&$top=1", min(repeat, 3),
        lambda body: isinstance(body.get("@iot.count"), int),
    )  # fmt: skip
    window = f"from={_iso(start)}&to={_iso(end)}"
    results["aggregate_hourly_year"] = _timed(
        client,
        f"{base}/Datastreams({year})/Observations/$aggregate?interval=PT1H"
        f"&fn=avg,min,max,count&{window}",
        repeat,
        lambda body: sum(int(b.get("count", 0)) for b in body["value"]) == year_rows,
    )
    results["latest_10000"] = _latest(
        client, f"{base}/Datastreams/$latest?$top=10000", repeat, streams
    )
    client.close()
    return results


def _profile_misses(
    server: Server, key: str, queries: dict[str, dict[str, Any]], options: Options
) -> None:
    """py-spy on the server for 10 s of each query that misses its p95 target."""
    if server.process is None:
        return
    client = Client(server.port, key)
    for name, figures in queries.items():
        target = TARGETS_MS.get(name)
        if target is None or not figures.get("available") or figures["p95_ms"] <= target:
            continue
        out = options.work_dir / f"profile-{name}.txt"
        spy = profile_.start(server.process.pid, 10, out)
        until = time.perf_counter() + 10
        while time.perf_counter() < until:
            client.get(figures["path"])
        figures["server_profile"] = profile_.finish(spy, out)
    client.close()


def _iso(moment: datetime) -> str:
    return quote(moment.strftime("%Y-%m-%dT%H:%M:%SZ"))


def _check_top(body: Any, expected: int) -> bool:
    values = body.get("value", [])
    times = [v.get("phenomenonTime", "") for v in values]
    return len(values) == expected and times == sorted(times, reverse=True)


def _timed(
    client: Client, path: str, repeat: int, correct: Any, needs: Any = None
) -> dict[str, Any]:
    """Warm up, then `repeat` timed requests; "not available" when the endpoint is missing."""
    status, body, _ = client.get(path)
    if status != 200 or not isinstance(body, dict) or (needs is not None and not needs(body)):
        return {"available": False, "status": status, "answer": str(body)[:200], "path": path}
    ok = bool(correct(body))
    samples = []
    for _ in range(max(repeat, 1)):
        status, body, elapsed = client.get(path)
        samples.append(elapsed)
        ok = ok and status == 200
    return {"available": True, "correct": ok, "path": path, **percentiles(samples)}


def _latest(client: Client, path: str, repeat: int, streams: int) -> dict[str, Any]:
    """`$top=10000` of the latest values: timed as one request, then checked page by page
    (every Datastream exactly once over the nextLinks)."""
    measured = _timed(
        client, path, repeat, lambda body: len(body.get("value", [])) == min(10_000, streams)
    )
    if not measured["available"]:
        return measured
    seen: list[int] = []
    link = path
    while link:
        _status, body, _ = client.get(link)
        seen += [int(v["Datastream"]["@iot.id"]) for v in body.get("value", [])]
        next_link = body.get("@iot.nextLink")
        link = _relative(next_link) if next_link else ""
    measured["entries_over_all_pages"] = len(seen)
    measured["correct"] = measured["correct"] and len(seen) == len(set(seen)) == streams
    return measured


def _relative(link: str) -> str:
    parts = urlsplit(link)
    return parts.path + (f"?{parts.query}" if parts.query else "")
