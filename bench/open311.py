"""open311: GET requests.json with a bbox over a town with --scale reports (default 100,000),
p50/p95 through the HTTP API of the platform (in-process ASGI client), against 30 ms p95.

The reports are spread over a 10 x 10 km square around Kaiserslautern and over the last 80
days, written straight into the database in batches; each request asks for a random
1 x 1 km box (about 1 % of the reports, one page of 50 newest first).
"""

from __future__ import annotations

import random
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from shapely.geometry import Point
from sqlalchemy import insert

from bench.backends import create_database
from bench.common import Options, Result, percentiles

TARGET_P95_MS = 30.0
CENTRE = (7.7689, 49.4447)
SPAN = 0.07  # degrees of longitude (about 5 km) each side; latitude uses SPAN / 1.5
BATCH = 5000


def run(options: Options) -> Result:
    """Make the town and its reports, then time bbox searches."""
    from fastapi.testclient import TestClient

    from stadtkern.app import create_app
    from stadtkern.core import tenants
    from stadtkern.core.schemas import TenantCreate
    from stadtkern.db import Database, migrations
    from stadtkern.maengelmelder.catalogue import create_category
    from stadtkern.maengelmelder.schemas import CategoryCreate
    from stadtkern.modules import discover_modules
    from stadtkern.settings import MqttSettings, Settings

    result = Result(options.name, options.backend, options.scale, options.duration)
    scale = options.scale or 100_000
    bench_db = create_database(options.backend, options.work_dir)
    database = Database(bench_db.url)
    try:
        migrations.upgrade(database)
        with database.write() as session:
            tenants.create_tenant(
                session=session,
                tenant_create=TenantCreate(
                    slug="bench", name="Bench", ars="073120000000", modules=["maengelmelder"]
                ),
                installed=discover_modules(None),
                actor="bench",
            )
            ref = tenants.find_active(session=session, slug="bench")
            assert ref is not None  # noqa: S101 - just created
            category = create_category(
                session=session,
                tenant=ref,
                category_create=CategoryCreate(code="pothole", name="Schlagloch"),
            )
            category_id = category.id
        started = time.perf_counter()
        _fill(database, ref.id, category_id, scale)
        fill_seconds = time.perf_counter() - started
        database.dispose()
        settings = Settings(
            dev_mode=True,
            database_url=bench_db.url,
            mqtt=MqttSettings(url="embedded", embedded_bind=f"127.0.0.1:{_port()}"),
            session_cookie_secure=False,
        )
        with TestClient(create_app(settings)) as client:
            samples, rows = _measure(client, options.repeat)
    finally:
        database.dispose()
        bench_db.drop()
    figures = percentiles(samples)
    result.figures = {
        "reports": scale,
        "fill_seconds": round(fill_seconds, 1),
        "requests": len(samples),
        "mean_rows_per_answer": round(sum(rows) / len(rows), 1),
        "latency_ms": figures,
        "target_p95_ms": TARGET_P95_MS,
    }
    result.checks = {
        "ok": all(0 <= count <= 50 for count in rows) and sum(rows) > 0,
        "p95_within_target": figures["p95_ms"] <= TARGET_P95_MS,
    }
    result.summary = (
        f"open311 {options.backend}: GET requests.json?bbox over {scale:,} reports: "
        f"p50 {figures['p50_ms']:.1f} ms, p95 {figures['p95_ms']:.1f} ms "
        f"(target {TARGET_P95_MS:.0f} ms), {len(samples)} requests"
    )
    return result


def _port() -> int:
    from bench.common import free_port

    return free_port()


def _fill(database: Any, tenant_id: int, category_id: int, scale: int) -> None:
    from stadtkern.maengelmelder.models import Report

    rng = random.Random(1)  # noqa: S311 - test data, not secrets
    now = datetime.now(UTC)
    for start in range(0, scale, BATCH):
        rows = []
        for _ in range(min(BATCH, scale - start)):
            lon = CENTRE[0] + rng.uniform(-SPAN, SPAN)
            lat = CENTRE[1] + rng.uniform(-SPAN / 1.5, SPAN / 1.5)
            moment = now - timedelta(seconds=rng.uniform(0, 80 * 86_400))
            rows.append(
                {
                    "tenant_id": tenant_id, "token": secrets.token_urlsafe(18),
                    "category_id": category_id, "status": "open",
                    "detailed_status": "received", "description": "Loch in der Fahrbahn",
                    "status_notes": "", "service_notice": "", "geom": Point(lon, lat),
                    "lat": lat, "lon": lon, "address": "", "address_id": "", "zipcode": "",
                    "answers": {}, "media_url": "", "requested_at": moment,
                    "updated_at": moment, "assignee": "", "supporters": 0, "source": "bench",
                    "client": "",
                }
            )  # fmt: skip
        with database.write() as session:
            session.execute(insert(Report), rows)


def _measure(client: Any, repeat: int) -> tuple[list[float], list[int]]:
    rng = random.Random(2)  # noqa: S311 - test data
    box = 0.014  # about 1 km of longitude at 49.4° N
    for _ in range(5):  # warm caches and connections
        client.get("/bench/open311/v2/requests.json", params={"bbox": "7.7,49.4,7.71,49.41"})
    samples, rows = [], []
    for _ in range(max(repeat, 20)):
        west = CENTRE[0] + rng.uniform(-SPAN, SPAN - box)
        south = CENTRE[1] + rng.uniform(-SPAN / 1.5, SPAN / 1.5 - box / 1.5)
        bbox = f"{west:.5f},{south:.5f},{west + box:.5f},{south + box / 1.5:.5f}"
        started = time.perf_counter()
        answer = client.get("/bench/open311/v2/requests.json", params={"bbox": bbox})
        samples.append(time.perf_counter() - started)
        if answer.status_code != 200:
            raise RuntimeError(f"{answer.status_code}: {answer.text}")
        rows.append(len(answer.json()))
    return samples, rows
